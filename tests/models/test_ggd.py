import copy
import math

import pytest
import torch
import torch.nn.functional as F

from graphcl.corruptions import Compose, EdgeDrop, FeatureMask, FeatureShuffle
from graphcl.eval import linear_probe
from graphcl.experiment import run_experiment
from graphcl.models import build_method, get_method, method_settings
from graphcl.models.ggd import GGD, METHOD, build_ggd
from graphcl.nn import GCNEncoder, ProjectionHead
from graphs import sparse_feature_graph


def make_graph(n=50, f=30, density=0.1, undirected=True, weighted=False,
               seed=0):
    return sparse_feature_graph(n, f, density, undirected, weighted, seed)


def make_model(f, hidden=8, layers=1, act='prelu', mask=0.3, seed=0,
               fast=True, power=3, proj_layers=1):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(123)
    enc = GCNEncoder(f, hidden, num_layers=layers, act=act)
    proj = torch.nn.Linear(hidden, hidden) if proj_layers == 1 else \
        torch.nn.Sequential(*[torch.nn.Linear(hidden, hidden)
                              for _ in range(proj_layers)])
    aug = FeatureMask(mask, generator=gen) if mask else None
    return GGD(enc, proj, FeatureShuffle(generator=gen), aug, power=power,
               fast_path=fast)


def loss_and_grads(model, data):
    model.zero_grad()
    loss = model.objective(data)
    loss.backward()
    return loss.detach(), {k: p.grad.clone()
                           for k, p in model.named_parameters()}


def assert_same_step(fast, plain, data, tol=1e-5):
    l1, g1 = loss_and_grads(fast, data)
    l2, g2 = loss_and_grads(plain, data)
    assert torch.allclose(l1, l2, atol=tol, rtol=tol)
    for k in g1:
        assert torch.allclose(g1[k], g2[k], atol=tol, rtol=1e-4), k


# The loss ------------------------------------------------------------------

def test_loss_hand_computed():
    # Projector W = [[1, 0], [2, -1]], b = [0.5, -0.5]: the summed logit is
    # s(h) = 3 h_1 - h_2 (the biases cancel).
    proj = torch.nn.Linear(2, 2)
    with torch.no_grad():
        proj.weight.copy_(torch.tensor([[1., 0.], [2., -1.]]))
        proj.bias.copy_(torch.tensor([0.5, -0.5]))
    model = GGD(GCNEncoder(3, 2), proj)
    pos = torch.tensor([[1., 1.], [0., 1.]])     # s = 2, -1
    neg = torch.tensor([[1., 0.], [.5, .5]])     # s = 3, 1
    assert torch.allclose(model.score(pos), torch.tensor([2., -1.]))
    assert torch.allclose(model.score(neg), torch.tensor([3., 1.]))
    # -1/4 [log s(2) + log s(-1) + log(1 - s(3)) + log(1 - s(1))]
    expected = (math.log(1 + math.exp(-2)) + math.log(1 + math.exp(1))
                + math.log(1 + math.exp(3)) + math.log(1 + math.exp(1))) / 4
    assert model.loss(pos, neg).item() == pytest.approx(expected, rel=1e-6)
    bce = F.binary_cross_entropy_with_logits(
        torch.tensor([2., -1., 3., 1.]), torch.tensor([1., 1., 0., 0.]))
    assert model.loss(pos, neg).item() == pytest.approx(bce.item(), rel=1e-6)


@pytest.mark.parametrize('proj_layers', [1, 3])
def test_closed_form_score_is_the_projector_summed(proj_layers):
    model = make_model(6, hidden=5, proj_layers=proj_layers)
    assert model._linear_chain() is not None
    h1 = torch.randn(7, 5, requires_grad=True)
    h2 = h1.detach().clone().requires_grad_()
    s1 = model.score(h1)
    s2 = model.projector(h2).sum(-1)
    assert torch.allclose(s1, s2, atol=1e-5)
    w = torch.randn(7)
    g1 = torch.autograd.grad((s1 * w).sum(), [h1] + list(
        model.projector.parameters()))
    g2 = torch.autograd.grad((s2 * w).sum(), [h2] + list(
        model.projector.parameters()))
    for a, b in zip(g1, g2):
        assert torch.allclose(a, b, atol=1e-5)


def test_other_projectors_are_applied_as_they_are():
    head = ProjectionHead(4, 6, 3)
    model = GGD(GCNEncoder(5, 4), head)
    assert model._linear_chain() is None
    h = torch.randn(9, 4)
    assert torch.equal(model.score(h), head(h).sum(-1))
    # A hooked Linear is run by its own forward, so the hook sees it.
    lin = torch.nn.Linear(4, 4)
    seen = []
    lin.register_forward_hook(lambda *args: seen.append(1))
    model = GGD(GCNEncoder(5, 4), lin)
    model.score(h)
    assert seen


# The propagation -----------------------------------------------------------

def dense_propagation(edge_index, n, edge_weight=None):
    # Â = D^-1/2 (A + I) D^-1/2 with A[i, j] the weight of the edges j -> i
    # and D the in-degrees of A + I (GCN's normalisation).
    a = torch.zeros(n, n, dtype=torch.float64)
    w = torch.ones(edge_index.size(1), dtype=torch.float64) \
        if edge_weight is None else edge_weight.double()
    a.index_put_((edge_index[1], edge_index[0]), w, accumulate=True)
    a = a + torch.eye(n, dtype=torch.float64)
    d = a.sum(1).pow(-0.5)
    return d.view(-1, 1) * a * d.view(1, -1)


@pytest.mark.parametrize('power', [0, 1, 3, 10])
@pytest.mark.parametrize('undirected,weighted', [(True, False),
                                                 (False, False),
                                                 (True, True)])
def test_propagation_against_dense_matrix_power(power, undirected,
                                                weighted):
    data = make_graph(n=30, undirected=undirected, weighted=weighted)
    model = make_model(data.num_features, power=power)
    h = torch.randn(30, 8)
    adj = dense_propagation(data.edge_index, 30,
                            getattr(data, 'edge_weight', None))
    expected = torch.linalg.matrix_power(adj, power) @ h.double()
    out = model.propagate(h, data.edge_index,
                          getattr(data, 'edge_weight', None))
    assert torch.allclose(out.double(), expected, atol=1e-5)


def test_embed_is_local_plus_propagated(small_graph):
    model = make_model(small_graph.num_features, power=5)
    h = model.encoder(small_graph.x, small_graph.edge_index).detach()
    adj = dense_propagation(small_graph.edge_index, small_graph.num_nodes)
    expected = h.double() + torch.linalg.matrix_power(adj, 5) @ h.double()
    z = model.embed(small_graph)
    assert z.shape == h.shape
    assert torch.allclose(z.double(), expected, atol=1e-5)
    assert model.training  # embed restores the mode


# The fast path -------------------------------------------------------------

@pytest.mark.parametrize('density', [0.05, 0.6])
@pytest.mark.parametrize('undirected', [True, False])
@pytest.mark.parametrize('weighted', [False, True])
@pytest.mark.parametrize('layers,mask', [(1, 0.3), (2, 0.3), (1, 0.0)])
def test_fast_path_equals_plain_path(density, undirected, weighted, layers,
                                     mask):
    data = make_graph(density=density, undirected=undirected,
                      weighted=weighted)
    fast = make_model(data.num_features, layers=layers, mask=mask)
    plain = make_model(data.num_features, layers=layers, mask=mask,
                       fast=False)
    inputs = (data.x, data.edge_index) + (
        (data.edge_weight, ) if weighted else ())
    assert fast.fast_path_refusal(inputs) is None
    assert plain.fast_path_refusal(inputs) == 'the fast path is turned off'
    for _ in range(3):  # the same masks and permutations, step after step
        assert_same_step(fast, plain, data)
    assert torch.allclose(fast.embed(data), plain.embed(data), atol=1e-5)


def test_fused_prelu_score_gradcheck():
    from graphcl.models.ggd import _PReLUScore
    g = torch.Generator().manual_seed(0)
    u = torch.randn(6, 4, generator=g, dtype=torch.double,
                    requires_grad=True)
    for a in (torch.rand(4, generator=g, dtype=torch.double),
              torch.rand(1, generator=g, dtype=torch.double)):
        a.requires_grad_()
        v = torch.randn(4, generator=g, dtype=torch.double,
                        requires_grad=True)
        c = torch.randn((), generator=g, dtype=torch.double,
                        requires_grad=True)
        assert torch.autograd.gradcheck(_PReLUScore.apply, (u, a, v, c))
        ref = F.prelu(u, a) @ v + c
        assert torch.allclose(_PReLUScore.apply(u, a, v, c), ref)


@pytest.mark.parametrize('act', ['prelu', 'elu', 'prelu1', 'selu',
                                 'softplus', 'hardtanh'])
def test_fast_path_with_and_without_the_fused_head(act):
    # Any deterministic element-wise activation the DGI fast path applies
    # (its SAFE_ACTIVATIONS) is applied by GGD's too, with the same step.
    modules = dict(prelu1=torch.nn.PReLU(), selu=torch.nn.SELU(),
                   softplus=torch.nn.Softplus(), hardtanh=torch.nn.Hardtanh())
    data = make_graph()
    models = []
    for fast in (True, False):
        model = make_model(30, act='prelu' if act in modules else act,
                           fast=fast)
        if act in modules:  # prelu1: one shared slope (GGD-citation's)
            model.encoder.acts[0] = copy.deepcopy(modules[act])
        models.append(model)
    assert models[0].fast_path_refusal(
        (data.x, data.edge_index)) is None
    fused = models[0]._fused_head()
    assert (fused is None) == (act not in ('prelu', 'prelu1'))
    assert_same_step(*models, data)


def test_overridden_score_is_honoured_on_the_fast_path():
    class Doubled(GGD):
        def score(self, h):
            return 2 * super().score(h)

    data = make_graph()
    models = []
    for cls in (Doubled, GGD):
        model = make_model(30)
        model.__class__ = cls
        models.append(model)
    assert models[0]._fused_head() is None
    assert models[1]._fused_head() is not None
    l_doubled = models[0].objective(data)
    l_plain = make_model(30, fast=False)
    l_plain.__class__ = Doubled
    assert torch.allclose(l_doubled, l_plain.objective(data), atol=1e-6)
    assert not torch.allclose(l_doubled, models[1].objective(data))


def test_fast_path_follows_fresh_graphs_and_in_place_edits():
    fast = make_model(30)
    plain = make_model(30, fast=False)
    for seed in range(4):  # fresh graphs of the same shapes
        assert_same_step(fast, plain, make_graph(seed=seed))
    data = make_graph(seed=7)
    assert_same_step(fast, plain, data)
    data.edge_index[1, :5] = data.edge_index[1, 5:10].clone()
    data.x.mul_(2)
    assert_same_step(fast, plain, data)


def test_non_finite_features_refused_on_both_paths():
    # Even with every column dropped (where the plain path would zero the
    # inf): every method refuses non-finite features before encoding.
    data = make_graph()
    data.x[3, 2] = float('inf')
    for model in (make_model(30, mask=1.0),
                  make_model(30, mask=1.0, fast=False)):
        with pytest.raises(ValueError, match='infinite'):
            model.objective(data)
        with pytest.raises(ValueError, match='infinite'):
            model.embed(data)


def test_fast_path_refusals():
    data = make_graph()
    inputs = (data.x, data.edge_index)

    class MyEncoder(GCNEncoder):
        def forward(self, x, edge_index, edge_weight=None):
            return super().forward(x, edge_index, edge_weight) * 2

    model = make_model(30)
    model.encoder = MyEncoder(30, 8)
    assert 'GCNEncoder' in model.fast_path_refusal(inputs)
    model = make_model(30)
    model.augment = Compose([EdgeDrop(0.2), FeatureMask(0.2)])
    assert 'FeatureMask' in model.fast_path_refusal(inputs)
    model = make_model(30)
    model.encoder.convs[0].flow = 'target_to_source'
    assert 'flow' in model.fast_path_refusal(inputs)
    model = make_model(30)
    model.encoder.register_forward_hook(lambda *args: None)
    assert 'hooks' in model.fast_path_refusal(inputs)
    model = make_model(30)
    assert 'x' in model.fast_path_refusal((data.x.double(),
                                           data.edge_index))
    # Refused inputs take the plain path: the same loss as with it off.
    model = make_model(30)
    model.encoder.convs[0].flow = 'target_to_source'
    plain = make_model(30, fast=False)
    plain.encoder.convs[0].flow = 'target_to_source'
    assert_same_step(model, plain, data)


def test_edge_dropping_augmentation_runs_plain():
    data = make_graph()
    model = build_ggd(30, 'gcn', 8, 1, 'prelu', 1, 0.2, 0.3, 2, seed=0)
    assert isinstance(model.augment, Compose)
    loss = model.objective(data)
    loss.backward()
    assert torch.isfinite(loss)


# Parts, settings and options ----------------------------------------------

def test_built_from_the_parts():
    model = build_method('ggd', 12, seed=0)
    assert type(model.encoder) is GCNEncoder
    assert model.encoder.hidden_channels == 512
    assert type(model.projector) is torch.nn.Linear
    assert type(model.corruption) is FeatureShuffle
    assert type(model.augment) is FeatureMask and model.augment.p == 0.2
    assert model.power == 5 and not model.supports_minibatch
    assert 'GGD(' in repr(model) and 'power=5' in repr(model)
    vec = torch.nn.utils.parameters_to_vector(model.parameters())
    assert vec.numel() == sum(p.numel() for p in model.parameters())
    model.reset_parameters()
    two = build_method('ggd', 12, seed=0, proj_layers=2, hidden=16)
    assert type(two.projector) is torch.nn.Sequential
    assert len(two.projector) == 2


def test_same_seed_same_loss(small_graph):
    losses = []
    for _ in range(2):
        torch.manual_seed(0)
        model = build_method('ggd', small_graph.num_features, seed=3,
                             hidden=16)
        losses.append(model.objective(small_graph).item())
    assert losses[0] == losses[1]


def test_presets_come_from_the_official_code():
    assert 'Graph-Group-Discrimination' in METHOD.source
    assert 'execute.py' in METHOD.source
    assert 'train_coauthor.py' in METHOD.source
    computers = method_settings('ggd', 'Amazon-Computers')
    assert (computers['hidden'], computers['lr'], computers['epochs'],
            computers['patience'], computers['power']) == \
        (1024, 1e-4, 1500, 500, 10)
    photo = method_settings('ggd', 'amazon-photo')
    assert (photo['hidden'], photo['lr'], photo['epochs'],
            photo['power']) == (512, 5e-4, 2000, 10)
    cora = method_settings('ggd', 'Cora')
    assert (cora['hidden'], cora['lr'], cora['epochs'], cora['patience'],
            cora['power'], cora['feature_mask']) == \
        (512, 1e-3, 500, 0, 5, 0.2)
    # A flag overrides the preset.
    assert method_settings('ggd', 'Amazon-Computers', power=3,
                           lr=0.01)['power'] == 3
    assert method_settings('ggd', 'Amazon-Computers', power=3,
                           lr=0.01)['lr'] == 0.01
    assert set(METHOD.presets) >= {'Cora', 'CiteSeer', 'PubMed',
                                   'Amazon-Computers', 'Amazon-Photo'}


@pytest.mark.parametrize('option,value', [
    ('feature_mask', 1.5), ('feature_mask', -0.1), ('edge_drop', 2.0),
    ('edge_drop', float('nan')), ('power', -1), ('power', 1.5),
    ('proj_layers', 0)])
def test_bad_options_name_the_option(option, value):
    with pytest.raises(ValueError, match=option):
        build_method('ggd', 8, **{option: value})


def test_bad_power_on_the_class():
    with pytest.raises(ValueError, match="'power'"):
        GGD(GCNEncoder(4, 4), torch.nn.Linear(4, 4), power=-2)


def test_bad_options_fail_before_training(monkeypatch):
    import graphcl.data
    monkeypatch.setattr(graphcl.data, 'load_dataset', lambda *a, **k:
                        pytest.fail('data loaded before the options were '
                                    'checked'))
    with pytest.raises(ValueError, match='power'):
        run_experiment('ggd', 'Cora', power=-1, progress=False,
                       verbose=False)
    with pytest.raises(ValueError, match='feature_mask'):
        run_experiment('ggd', 'Cora', feature_mask=7, progress=False,
                       verbose=False)
    with pytest.raises(ValueError, match='mini-batches'):
        run_experiment('ggd', 'Cora', batch_size=64, progress=False,
                       verbose=False)


def test_cli_help_shows_ggd_options(capsys):
    from graphcl.cli import main
    with pytest.raises(SystemExit):
        main(['train', 'ggd', '--help'])
    out = capsys.readouterr().out
    for option in ('--power', '--feature-mask', '--proj-layers'):
        assert option in out


def test_run_experiment_config_shows_preset_and_given_options(shared_root):
    metrics = run_experiment('ggd', 'Cora', root=str(shared_root),
                             epochs=2, hidden=32, progress=False,
                             verbose=False)
    config = metrics['config']
    assert config['epochs'] == 2 and config['hidden'] == 32  # given win
    assert config['power'] == 5 and config['lr'] == 1e-3  # preset
    assert config['patience'] == 0 and config['feature_mask'] == 0.2
    assert config['preset'] == METHOD.presets['Cora']
    assert 'Graph-Group-Discrimination' in config['preset_source']
    assert metrics['epochs'] == [2]


def test_short_cora_run_beats_a_random_encoder(shared_root):
    # 60 epochs at width 256: the trained embeddings (propagation
    # included) must be clearly better than the same model's at
    # initialisation (also propagated).
    from graphcl.data import load_dataset
    data = load_dataset('Cora', root=shared_root)
    data.x = data.x / data.x.sum(1, keepdim=True).clamp_min(1e-12)
    torch.manual_seed(0)
    random_model = build_method('ggd', data.num_features, seed=0,
                                hidden=256)
    before = linear_probe(random_model.embed(data), data.y,
                          data.train_mask, data.val_mask, data.test_mask)
    metrics = run_experiment('ggd', 'Cora', root=str(shared_root),
                             epochs=60, hidden=256, progress=False,
                             verbose=False)
    assert metrics['test_acc_mean'] > 100 * before.test_acc + 2.5
    assert metrics['test_acc_mean'] > 80


def test_registered_by_name():
    spec = get_method('ggd')
    assert spec is METHOD and not spec.minibatch
    model = copy.deepcopy(build_method('ggd', 8, seed=0, hidden=8))
    assert isinstance(model, GGD)


def test_fast_path_on_awkward_graphs_in_float64():
    # Duplicate edges, self-loops already there (gcn_norm keeps their
    # weights), directed edges, isolated nodes, edge weights edited in place
    # between steps, a shared PReLU slope on the fused head, float64: the
    # fast path (refusing none of it) equals the plain one, loss, gradients
    # and embeddings.
    data = make_graph(n=40, density=0.05, undirected=False, weighted=True)
    extra = torch.tensor([[0, 0, 3, 7, 7], [5, 0, 3, 9, 9]])
    data.edge_index = torch.cat([data.edge_index, extra], dim=1)
    data.edge_weight = torch.cat([data.edge_weight,
                                  torch.tensor([.5, 2., 1., .3, .7])])
    data.x = torch.cat([data.x, torch.rand(4, 30)]).double()  # 4 isolated
    data.edge_weight = data.edge_weight.double()
    models = []
    for fast in (True, False):
        model = make_model(30, layers=2, fast=fast).double()
        model.encoder.acts[-1] = torch.nn.PReLU().double()
        models.append(model)
    inputs = (data.x, data.edge_index, data.edge_weight)
    assert models[0].fast_path_refusal(inputs) is None
    assert models[0]._fused_head() is not None
    for step in range(3):
        assert_same_step(*models, data, tol=1e-10)
        data.edge_weight[step::3].mul_(1.5)  # in place: a new graph
    assert torch.allclose(models[0].embed(data), models[1].embed(data),
                          atol=1e-10)
