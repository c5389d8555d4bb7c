r"""GRACE on the engine: its loss by hand, blocked against dense, its
options and their errors, the CLI, run_experiment (full batch and
mini-batch) and a short run on Cora against a random encoder."""
import json
import math

import numpy as np
import pytest
import torch

from graphcl import run_experiment
from graphcl.cli import main
from graphcl.corruptions import Compose, EdgeDrop, FeatureMask
from graphcl.eval import linear_probe
from graphcl.models import build_method, get_method, method_settings
from graphcl.models.grace import (GRACE, RRELU_EVAL_SLOPE, GRACEEncoder,
                                  build_grace)
from graphcl.nn import ProjectionHead, SAGEEncoder
from graphs import two_view_graph


def grace_loss_numpy(h1, h2, tau):
    r"""GRACE's loss written as its reference code computes it (model.py:
    ``semi_loss`` per view with ``refl_sim`` and ``between_sim``, then the
    mean of the two), in float64 numpy."""
    def unit(h):
        return h / np.linalg.norm(h, axis=1, keepdims=True)

    def semi(a, b):
        refl = np.exp(unit(a) @ unit(a).T / tau)
        between = np.exp(unit(a) @ unit(b).T / tau)
        return -np.log(np.diag(between) / (refl.sum(1) + between.sum(1)
                                           - np.diag(refl)))

    return float(((semi(h1, h2) + semi(h2, h1)) / 2).mean())


def identity_grace(tau, block_size):
    return GRACE(torch.nn.Identity(), torch.nn.Identity(), EdgeDrop(0.0),
                 EdgeDrop(0.0), tau=tau, block_size=block_size)


# --- the loss ------------------------------------------------------------

H1 = [[1.0, 0.0], [0.6, 0.8], [-1.0, 1.0]]
H2 = [[0.8, 0.6], [0.0, 1.0], [-1.0, -1.0]]


def test_loss_hand_computed_n3_d2():
    # By hand for tau = 0.5 from the cosine similarities of the six unit
    # rows u_i (view 1) and v_i (view 2), e.g. u_0 = (1, 0), v_0 =
    # (0.8, 0.6): row u_0 has the positive e^{1.6} over e^{1.6} + e^{0} +
    # e^{-sqrt 2} (inter-view: v_0, v_1, v_2) + e^{1.2} + e^{-sqrt 2}
    # (intra-view: u_1, u_2).
    s = 1 / math.sqrt(2)
    cos = {  # cos(u_i, v_k), cos(u_i, u_k), cos(v_i, v_k)
        'uv': [[0.8, 0.0, -s], [0.96, 0.8, -1.4 * s], [-0.2 * s, s, 0.0]],
        'uu': [[1.0, 0.6, -s], [0.6, 1.0, 0.2 * s], [-s, 0.2 * s, 1.0]],
        'vv': [[1.0, 0.6, -1.4 * s], [0.6, 1.0, -s], [-1.4 * s, -s, 1.0]],
    }
    tau = 0.5
    total = 0.0
    for i in range(3):
        for inter, intra in ((cos['uv'][i], cos['uu'][i]),
                             ([cos['uv'][k][i] for k in range(3)],
                              cos['vv'][i])):
            den = sum(math.exp(c / tau) for c in inter) + sum(
                math.exp(c / tau) for k, c in enumerate(intra) if k != i)
            total += -math.log(math.exp(inter[i] / tau) / den)
    by_hand = total / 6
    h1 = torch.tensor(H1, dtype=torch.float64)
    h2 = torch.tensor(H2, dtype=torch.float64)
    assert by_hand == pytest.approx(grace_loss_numpy(np.array(H1),
                                                     np.array(H2), tau))
    for block_size in (0, 1, 2, 4):
        out = identity_grace(tau, block_size).loss(h1, h2)
        assert out.item() == pytest.approx(by_hand, rel=1e-12)


@pytest.mark.parametrize('dtype,tol', [(torch.float64, 1e-12),
                                       (torch.float32, 1e-5)])
def test_blocked_equals_dense_with_gradients(dtype, tol):
    gen = torch.Generator().manual_seed(0)
    g = GRACE(GRACEEncoder(5, 4), ProjectionHead(4, 6, 4), EdgeDrop(0.0),
              EdgeDrop(0.0), tau=0.3, block_size=7).to(dtype)
    z1 = torch.randn(23, 4, generator=gen, dtype=dtype)
    z2 = torch.randn(23, 4, generator=gen, dtype=dtype)

    def run(block_size):
        g.block_size = block_size
        g.zero_grad()
        loss = g.loss(z1, z2)
        loss.backward()
        return loss.detach(), [p.grad.clone()
                               for p in g.projector.parameters()]

    dense, dense_grads = run(0)
    for block_size in (1, 5, 7, 46, 1000):
        loss, grads = run(block_size)
        assert torch.allclose(loss, dense, rtol=tol, atol=tol)
        for a, b in zip(grads, dense_grads):
            assert torch.allclose(a, b, rtol=tol, atol=tol)


# --- parts and options ---------------------------------------------------

def test_built_from_the_parts():
    g = build_grace(10, hidden=8, proj_hidden=6, layers=2, act='rrelu',
                    edge_drop_1=0.1, edge_drop_2=0.2, feature_mask_1=0.3,
                    feature_mask_2=0.4, tau=0.5, block_size=64, seed=0)
    assert isinstance(g.view1, Compose) and isinstance(g.view2, Compose)
    e1, f1 = g.view1.corruptions
    e2, f2 = g.view2.corruptions
    assert isinstance(e1, EdgeDrop) and isinstance(f1, FeatureMask)
    assert (e1.p, f1.p, e2.p, f2.p) == (0.1, 0.3, 0.2, 0.4)
    # GRACE's encoder: inner layer 2D wide, output D; fc1-ELU-fc2 head
    assert [c.out_channels for c in g.encoder.convs] == [16, 8]
    assert g.encoder.out_channels == 8
    assert isinstance(g.projector, ProjectionHead)
    assert g.projector.lin1.out_features == 6
    assert g.projector.lin2.out_features == 8
    assert isinstance(g.projector.act, torch.nn.ELU)
    act = g.encoder.acts[0]
    assert isinstance(act, torch.nn.LeakyReLU)
    assert act.negative_slope == pytest.approx(RRELU_EVAL_SLOPE)
    # F.rrelu in GCA's code (training=False by default) is this map
    x = torch.randn(50)
    assert torch.allclose(torch.nn.functional.rrelu(x), act(x))


def test_encoder_shapes_and_layerwise_inference(small_graph):
    from graphcl.inference import layerwise_inference
    enc = GRACEEncoder(6, 4, num_layers=3, act='prelu')
    assert [c.out_channels for c in enc.convs] == [8, 8, 4]
    assert [a.weight.numel() for a in enc.acts] == [8, 8, 4]
    z = enc(small_graph.x, small_graph.edge_index)
    assert z.shape == (40, 4)
    assert torch.allclose(layerwise_inference(enc, small_graph, 16), z,
                          atol=1e-5)
    assert repr(enc) == 'GRACEEncoder(6, 4, num_layers=3)'


def test_same_seed_same_loss(small_graph):
    losses = []
    for _ in range(2):
        torch.manual_seed(0)
        g = build_method('grace', 6, seed=3, hidden=8, proj_hidden=8)
        losses.append([g.objective(small_graph).item() for _ in range(3)])
    assert losses[0] == losses[1]
    assert len(set(losses[0])) == 3  # fresh views every step


def test_parameters_to_vector():
    g = build_method('grace', 6, hidden=8, proj_hidden=4)
    vec = torch.nn.utils.parameters_to_vector(g.parameters())
    assert vec.numel() == sum(p.numel() for p in g.parameters())


def test_presets_name_their_source():
    spec = get_method('grace')
    assert 'config.yaml' in spec.source and 'param' in spec.source
    for name in ('Cora', 'CiteSeer', 'Amazon-Computers', 'Amazon-Photo',
                 'Coauthor-CS', 'Coauthor-Physics'):
        preset = spec.preset(name)
        assert preset['patience'] == 0, name
        for key in ('hidden', 'proj_hidden', 'act', 'edge_drop_1',
                    'edge_drop_2', 'feature_mask_1', 'feature_mask_2', 'tau',
                    'lr', 'weight_decay', 'epochs'):
            assert key in preset, (name, key)
    cora = method_settings('grace', 'Cora')
    assert (cora['hidden'], cora['tau'], cora['epochs'], cora['lr']) == \
        (128, 0.4, 200, 5e-4)
    computers = method_settings('grace', 'Amazon-Computers')
    assert (computers['act'], computers['edge_drop_1'],
            computers['epochs']) == ('rrelu', 0.6, 2000)


@pytest.mark.parametrize('option', ['edge_drop_1', 'edge_drop_2',
                                    'feature_mask_1', 'feature_mask_2'])
@pytest.mark.parametrize('value', [-0.1, 1.5, float('nan'), '0.2'])
def test_bad_rate_names_the_option(option, value):
    with pytest.raises(ValueError, match=f"'{option}' must be a "
                       f"probability in \\[0, 1\\]"):
        build_method('grace', 6, **{option: value})


@pytest.mark.parametrize('tau', [0.0, -0.5, float('nan'), float('inf')])
def test_bad_temperature_names_the_option(tau):
    with pytest.raises(ValueError, match="'tau'"):
        build_method('grace', 6, tau=tau)
    with pytest.raises(ValueError, match="'tau'"):
        identity_grace(tau, 0)


@pytest.mark.parametrize('option', ['hidden', 'proj_hidden', 'layers'])
@pytest.mark.parametrize('value', [0, -1, 2.5])
def test_bad_widths_name_the_option(option, value):
    with pytest.raises(ValueError, match=f"'{option}' must be a positive "
                       f"integer"):
        build_method('grace', 6, **{option: value})


@pytest.mark.parametrize('block_size', [-1, 2.5, True])
def test_bad_block_size(block_size):
    with pytest.raises(ValueError, match="'block_size'"):
        build_method('grace', 6, block_size=block_size)


def test_bad_options_fail_before_training(small_graph, monkeypatch):
    import graphcl.experiment as experiment

    def no_training(*args, **kwargs):
        raise AssertionError('trained despite a bad option')

    monkeypatch.setattr(experiment, 'pretrain', no_training)
    with pytest.raises(ValueError, match="'edge_drop_2'"):
        run_experiment('grace', small_graph, edge_drop_2=2.0,
                       progress=False, verbose=False)
    with pytest.raises(ValueError, match="'tau'"):
        run_experiment('grace', small_graph, tau=0, progress=False,
                       verbose=False)
    with pytest.raises(ValueError, match='Unknown option'):
        run_experiment('grace', small_graph, corruption='shuffle',
                       progress=False, verbose=False)


# --- the engine ----------------------------------------------------------

def test_run_experiment_writes_metrics(small_graph, tmp_path):
    metrics = run_experiment('grace', small_graph, seeds=2, epochs=3,
                             hidden=8, proj_hidden=8, out=str(tmp_path),
                             progress=False, verbose=False)
    with open(tmp_path / 'metrics.json') as f:
        saved = json.load(f)
    assert saved['method'] == 'grace' and saved['seeds'] == [0, 1]
    assert saved['epochs'] == [3, 3]
    assert saved['config']['tau'] == 0.4
    assert saved['test_acc_mean'] == pytest.approx(metrics['test_acc_mean'])
    assert (tmp_path / 'encoder.pt').exists()


def test_run_experiment_minibatch(small_graph):
    metrics = run_experiment('grace', small_graph, epochs=2, hidden=8,
                             proj_hidden=8, batch_size=16, fanout=[3, 3],
                             progress=False, verbose=False)
    assert metrics['config']['fanout'] == [3, 3]
    assert metrics['config']['layers'] == 2
    assert 0 <= metrics['test_acc_mean'] <= 100


def test_minibatch_hop_counts_follow_the_views(small_graph):
    # With an encoder that trims exactly (SAGE), the views' per-hop edge
    # counts are recounted after edge dropping: the loss equals the one
    # computed on the untrimmed subgraph, with the same draws.
    from graphcl.sampling import make_neighbor_sampler, neighbor_loader
    sampler = make_neighbor_sampler(small_graph, [3, 3])
    batch = next(iter(neighbor_loader(small_graph, batch_size=8,
                                      sampler=sampler, shuffle=False)))

    def loss(trim):
        torch.manual_seed(0)
        g = GRACE(SAGEEncoder(6, 8, num_layers=2), ProjectionHead(8, 8, 8),
                  Compose([EdgeDrop(0.5, generator=1),
                           FeatureMask(0.3, generator=2)]),
                  Compose([EdgeDrop(0.3, generator=3),
                           FeatureMask(0.2, generator=4)]), tau=0.5)
        b = batch.clone()
        if not trim:
            del b.num_sampled_nodes, b.num_sampled_edges
        return g.minibatch_objective(b)

    assert torch.allclose(loss(True), loss(False), atol=1e-6)


def test_kept_hop_counts():
    from graphcl.models.two_view import _kept_hops
    hops = ([2, 3, 4], [5, 6])  # edges 0-4 in hop 0, 5-10 in hop 1
    kept = torch.tensor([0, 3, 4, 5, 9, 10])
    assert _kept_hops(hops, kept) == ([2, 3, 4], [3, 3])
    assert _kept_hops(hops, torch.tensor([], dtype=torch.long)) == \
        ([2, 3, 4], [0, 0])
    assert _kept_hops(hops, torch.tensor([3, 0])) is None  # reordered
    assert _kept_hops(None, kept) is None


def test_cli_help_shows_grace_options(capsys):
    with pytest.raises(SystemExit) as e:
        main(['train', 'grace', '--help'])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for option in ('--hidden', '--proj-hidden', '--layers', '--act',
                   '--edge-drop-1', '--edge-drop-2', '--feature-mask-1',
                   '--feature-mask-2', '--tau', '--block-size', '--epochs',
                   '--batch-size'):
        assert option in out, option
    assert 'grace options' in out and 'config.yaml' in out
    assert '--corruption' not in out


def test_cli_train(small_graph, tmp_path, capsys):
    path = tmp_path / 'g.pt'
    torch.save(small_graph, path)
    code = main(['train', 'grace', '--dataset', str(path), '--epochs', '2',
                 '--hidden', '8', '--proj-hidden', '8', '--tau', '0.5',
                 '--out', str(tmp_path / 'run'), '--quiet'])
    assert code == 0, capsys.readouterr().err
    with open(tmp_path / 'run' / 'metrics.json') as f:
        assert json.load(f)['config']['tau'] == 0.5


def test_short_cora_run_beats_a_random_encoder(shared_root):
    # A few epochs at a small width: GRACE's embeddings must be clearly
    # better than the same encoder's at initialisation.
    from graphcl.data import load_dataset
    data = load_dataset('Cora', root=shared_root)
    data.x = data.x / data.x.sum(1, keepdim=True).clamp_min(1e-12)
    torch.manual_seed(0)
    random_encoder = build_method('grace', data.num_features, seed=0,
                                  hidden=32, proj_hidden=32)
    before = linear_probe(random_encoder.embed(data), data.y,
                          data.train_mask, data.val_mask, data.test_mask)
    metrics = run_experiment('grace', 'Cora', root=str(shared_root),
                             epochs=15, lr=0.01, hidden=32, proj_hidden=32,
                             progress=False, verbose=False)
    assert metrics['test_acc_mean'] > 100 * before.test_acc + 15
    assert metrics['test_acc_mean'] > 65


# --- the fast path (graphcl.models.gcn_views) ------------------------------

def fast_grace(in_channels, act='prelu', seed=0):
    torch.manual_seed(seed)
    return build_grace(in_channels, hidden=8, proj_hidden=8, layers=2,
                       act=act, edge_drop_1=0.3, edge_drop_2=0.2,
                       feature_mask_1=0.2, feature_mask_2=0.3, tau=0.5,
                       block_size=16, seed=seed)


fast_graph = two_view_graph


@pytest.fixture
def fast_calls(monkeypatch):
    # Counts the layers' trips through the CSR path.
    import graphcl.models.gcn_views as gcn_views
    calls = []
    forward = gcn_views.gcn_view_forward

    def counting(*args):
        calls.append(1)
        return forward(*args)

    monkeypatch.setattr(gcn_views, 'gcn_view_forward', counting)
    return calls


def loss_and_grads(g, data, fast, seed=7):
    g.fast_path = fast
    g.view1.corruptions[0].generator.manual_seed(seed)  # shared by the views
    g.zero_grad()
    loss = g.objective(data)
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in g.named_parameters()}


def assert_same(a, b):
    (loss_a, grads_a), (loss_b, grads_b) = a, b
    assert torch.allclose(loss_a, loss_b, atol=1e-5, rtol=1e-5)
    assert grads_a.keys() == grads_b.keys()
    for name in grads_a:
        assert torch.allclose(grads_a[name], grads_b[name], atol=1e-5,
                              rtol=1e-4), name


@pytest.mark.parametrize('act', ['prelu', 'rrelu', 'relu'])
@pytest.mark.parametrize('features', ['dense', 'sparse'])
@pytest.mark.parametrize('weighted', [False, True])
def test_fast_path_equals_the_plain_path(act, features, weighted,
                                         fast_calls):
    data = fast_graph(features, weighted)
    g = fast_grace(data.num_features, act)
    assert (g._feature_rows(data.x) is not None) == (features == 'sparse')
    fast = loss_and_grads(g, data, True)
    assert len(fast_calls) == 2  # one call per view
    plain = loss_and_grads(g, data, False)
    assert len(fast_calls) == 2
    assert_same(fast, plain)
    assert any(v.abs().sum() > 0 for v in fast[1].values())


@pytest.mark.parametrize('features', ['dense', 'sparse'])
def test_fast_views_are_the_plain_views(features):
    # The same draws: each fast view's features and normalised adjacency are
    # those of the plain view (the adjacency PyG's gcn_norm gives it).
    from torch_geometric.nn.conv.gcn_conv import gcn_norm
    from graphcl.models.gcn_views import draw_gcn_views
    from graphcl.sampling.features import densify
    data = fast_graph(features, weighted=True)
    g = fast_grace(data.num_features)
    inputs = (data.x, data.edge_index, data.edge_weight)
    drawn = {}
    for fast in (True, False):
        g.fast_path = fast
        g.view1.corruptions[0].generator.manual_seed(3)
        drawn[fast] = draw_gcn_views((g.view1, g.view2), inputs,
                                     g.fast_path_refusal, g.encoder,
                                     g._feature_rows if fast else None)[0]
    n = data.num_nodes
    for fast, plain in zip(drawn[True], drawn[False]):
        (x_fast, (a, _)), (x, edge_index, edge_weight) = fast, plain
        assert x_fast.layout == (torch.sparse_csr if features == 'sparse'
                                 else torch.strided)
        assert torch.equal(densify(x_fast), x)
        ei, w = gcn_norm(edge_index, edge_weight, n, add_self_loops=True)
        dense = torch.zeros(n, n).index_put_((ei[1], ei[0]), w,
                                             accumulate=True)
        assert torch.allclose(a.to_dense(), dense, atol=1e-6)
    assert not torch.equal(drawn[False][0][1], drawn[False][1][1])


class ScaledEncoder(GRACEEncoder):
    def forward(self, x, edge_index, edge_weight=None):
        return 2 * super().forward(x, edge_index, edge_weight)


def _normalize_off(g):
    from torch_geometric.nn import GCNConv
    g.encoder.convs[1] = GCNConv(16, 8, normalize=False)


def _output_hook(g):
    g.encoder.convs[0].register_forward_hook(lambda m, i, out: 3 * out)


def _scaled_encoder(g):
    enc = ScaledEncoder(g.encoder.in_channels, 8, act='prelu')
    enc.load_state_dict(g.encoder.state_dict())
    g.encoder = enc


@pytest.mark.parametrize('features', ['dense', 'sparse'])
@pytest.mark.parametrize('change,reason', [
    (_scaled_encoder, 'forward/layer'), (_normalize_off, 'normalize=False'),
    (_output_hook, 'hook'), (None, 'gradients'), (None, 'fast_path is off')])
def test_refused_views_take_the_plain_path(features, change, reason,
                                           fast_calls):
    # Each of these changes what the encoder computes (or needs the plain
    # path's autograd): the fast path must refuse it and the loss must be
    # the plain path's.
    data = fast_graph(features)
    g = fast_grace(data.num_features)
    if change is not None:
        change(g)
    if reason == 'gradients':
        data.x.requires_grad_()
    fast_on = reason != 'fast_path is off'
    g.fast_path = fast_on
    assert reason in g.fast_path_refusal((data.x, data.edge_index))
    fast = loss_and_grads(g, data, fast_on)
    plain = loss_and_grads(g, data, False)
    assert fast_calls == []
    assert_same(fast, plain)
    if change is not None:  # the change matters: without it, another loss
        h = fast_grace(data.num_features)
        h.fast_path = False
        h.view1.corruptions[0].generator.manual_seed(7)
        assert not torch.allclose(h.objective(data), fast[0], atol=1e-4)


@pytest.mark.parametrize('features', ['dense', 'sparse'])
def test_fresh_graphs_get_their_own_loss(features, fast_calls):
    # A stream of new graphs of one shape (and one edited in place): no
    # cache may answer with an earlier graph's features or adjacency.
    g = fast_grace(6 if features == 'dense' else 200)
    graphs = []
    for seed in range(3):
        data = fast_graph(features, seed=seed)
        perm = torch.randperm(data.num_nodes,
                              generator=torch.Generator().manual_seed(seed))
        data.edge_index = perm[data.edge_index]  # same E, other edges
        graphs.append(data)
    fast = [loss_and_grads(g, data, True) for data in graphs]
    graphs[0].x.mul_(3)
    fast.append(loss_and_grads(g, graphs[0], True))
    assert len(fast_calls) == 4 * 2
    graphs[0].x.div_(3)
    plain = [loss_and_grads(g, data, False) for data in graphs]
    graphs[0].x.mul_(3)
    plain.append(loss_and_grads(g, graphs[0], False))
    for a, b in zip(fast, plain):
        assert_same(a, b)
    assert len({round(loss.item(), 6) for loss, _ in fast}) == 4


def test_fast_path_is_not_an_option():
    # Off by an attribute only: no config or checkpoint changes.
    g = build_method('grace', 6, hidden=8, proj_hidden=8)
    assert g.fast_path is True
    assert 'fast_path' not in get_method('grace').defaults
    assert not any('feature_rows' in k or 'fast' in k
                   for k in g.state_dict())
