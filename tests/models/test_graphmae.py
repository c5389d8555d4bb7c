r"""GraphMAE on the engine: the scaled cosine error by hand, masking with
the token and random replacement, re-masking, the loss on masked nodes
only, the aggregate-first decoder against PyG's GATConv, the cosine
learning-rate schedule, seeding, options and their errors, settings and
flags, the memory estimate, and a short run on Cora against a random
encoder."""
import math

import pytest
import torch
from torch_geometric.nn import GATConv

from graphcl import run_experiment
from graphcl.eval import linear_probe
from graphcl.losses import scaled_cosine_error
from graphcl.models import build_method, get_method, method_settings
from graphcl.models.graphmae import GraphMAE, build_graphmae
from graphcl.nn.graphmae_gat import (GraphMAEGAT, aggregate_first,
                                     can_aggregate_first)

OPTIONS = dict(hidden=8, heads=2, layers=2, act='prelu', in_drop=0.2,
               attn_drop=0.1, norm='none', residual=False,
               negative_slope=0.2, mask_rate=0.5, replace_rate=0.25,
               alpha=3.0, edge_drop=0.0, lr_schedule='cosine')


def small_graph(n=20, f=7, e=60, seed=0):
    from torch_geometric.data import Data
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, f, generator=g)
    edge_index = torch.randint(0, n, (2, e), generator=g)
    return Data(x=x, edge_index=edge_index)


def model(f=7, seed=0, **options):
    torch.manual_seed(seed)
    return build_graphmae(f, **{**OPTIONS, **options}, seed=seed)


# --- the scaled cosine error ------------------------------------------------

def test_sce_hand_computed():
    # Row 1: x = (1, 0), y = (2, 0): cos 1, error 0. Row 2: x = (1, 1),
    # y = (0, 3): cos 1/sqrt 2. Row 3: x = (3, 4), y = (-4, 3): cos 0.
    x = torch.tensor([[1., 0.], [1., 1.], [3., 4.]])
    y = torch.tensor([[2., 0.], [0., 3.], [-4., 3.]])
    e = 1 - 1 / math.sqrt(2)
    for alpha in (1.0, 2.0, 3.0):
        expected = (0 + e ** alpha + 1) / 3
        assert scaled_cosine_error(x, y, alpha).item() == \
            pytest.approx(expected, rel=1e-6)
    # alpha = 3 is GraphMAE's Cora setting: (0 + 0.0251 + 1) / 3
    assert scaled_cosine_error(x, y, 3).item() == pytest.approx(0.341708,
                                                                abs=1e-6)


def test_sce_gradient_and_zero_rows():
    x = torch.tensor([[1., 2.], [0., 0.]], requires_grad=True)
    y = torch.tensor([[1., 2.], [1., 0.]])
    loss = scaled_cosine_error(x, y, 2.0)
    assert loss.item() == pytest.approx(0.5)  # a zero row: cosine 0
    loss.backward()
    assert torch.isfinite(x.grad).all()
    # Rounding that puts the cosine above 1 does not make a NaN.
    z = torch.randn(50, 9)
    assert torch.isfinite(scaled_cosine_error(z, z * 3, 2.5))


@pytest.mark.parametrize('alpha', [0, -1, float('nan'), True, '3'])
def test_sce_bad_alpha(alpha):
    with pytest.raises(ValueError, match="'alpha'"):
        scaled_cosine_error(torch.ones(2, 3), torch.ones(2, 3), alpha)


def test_sce_bad_shapes():
    with pytest.raises(ValueError, match='one shape'):
        scaled_cosine_error(torch.ones(2, 3), torch.ones(3, 3))
    with pytest.raises(ValueError, match='at least one row'):
        scaled_cosine_error(torch.ones(0, 3), torch.ones(0, 3))


# --- masking, re-masking, the loss on masked nodes ---------------------------

def test_mask_token_and_random_replacement():
    m = model(replace_rate=0.25)
    with torch.no_grad():
        m.mask_token.copy_(torch.arange(7.) + 100)
    x = torch.rand(40, 7)
    out, masked, token, noise = m.mask_nodes(x)
    assert masked.numel() == 20                         # int(0.5 * 40)
    assert noise.numel() == 5                           # int(0.25 * 20)
    assert token.numel() == 15
    assert sorted(torch.cat([token, noise]).tolist()) == \
        sorted(masked.tolist())
    assert torch.equal(out[token], m.mask_token.expand(15, 7))
    for i in noise.tolist():                           # another node's x
        assert (out[i] == x).all(1).any()
        assert not (out[i] >= 100).any()
    rest = torch.ones(40, dtype=torch.bool)
    rest[masked] = False
    assert torch.equal(out[rest], x[rest])
    assert torch.equal(x, x.clone())                   # x not modified


def test_no_replacement_gives_every_masked_node_the_token():
    m = model(replace_rate=0.0)
    out, masked, token, noise = m.mask_nodes(torch.rand(11, 7))
    assert masked.numel() == 5 and noise.numel() == 0
    assert torch.equal(token, masked)
    assert torch.equal(out[masked], m.mask_token.expand(5, 7))


def test_mask_token_gets_gradient():
    m = model()
    m.objective(small_graph()).backward()
    assert m.mask_token.grad is not None
    assert m.mask_token.grad.abs().sum() > 0


def test_decoder_input_is_remasked_and_loss_is_on_masked_nodes():
    data = small_graph()
    m = model()
    m.eval()  # no dropout: the plain recomputation below is deterministic
    seen = {}
    m.decoder.register_forward_pre_hook(
        lambda mod, args, kwargs: seen.update(rep=args[0], **kwargs),
        with_kwargs=True)
    gen_state = m.generator.get_state()
    loss = m.objective(data)
    rep, masked = seen['rep'], seen['rows']
    assert masked.numel() == 10
    # Re-masked: the masked rows are zero, the others are W_ED h.
    m.generator.set_state(gen_state)
    x_masked, masked2, _, _ = m.mask_nodes(data.x)
    assert torch.equal(masked, masked2)
    h = m.encoder(x_masked, data.edge_index)
    full = m.encoder_to_decoder(h)
    keep = torch.ones(20, dtype=torch.bool)
    keep[masked] = False
    assert (rep[masked] == 0).all()
    assert torch.allclose(rep[keep], full[keep], atol=1e-6)
    # The loss: SCE of the plain decoder's masked rows against x's.
    m.decoder.fast_path = False
    recon = m.decoder(full.index_fill(0, masked, 0.0), data.edge_index)
    expected = scaled_cosine_error(recon[masked], data.x[masked], 3.0)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    # Changing the reconstruction targets of unmasked nodes changes
    # nothing: their rows are not in the loss.
    other = data.x.clone()
    other[keep] = torch.rand(int(keep.sum()), 7)
    assert scaled_cosine_error(recon[masked], other[masked], 3.0).item() \
        == pytest.approx(expected.item(), rel=1e-6)


def test_edge_drop_reaches_the_encoder_only():
    data = small_graph()
    m = model(edge_drop=0.5)
    seen = {}
    m.encoder.register_forward_pre_hook(
        lambda mod, args: seen.update(enc=args[1]))
    m.decoder.register_forward_pre_hook(
        lambda mod, args: seen.update(dec=args[1]))
    m.objective(data)
    assert seen['enc'].size(1) < data.edge_index.size(1)
    assert torch.equal(seen['dec'], data.edge_index)


# --- the aggregate-first GAT layer -------------------------------------------

@pytest.mark.parametrize('heads,out,residual,concat', [
    (1, 24, False, True), (3, 30, True, True), (2, 20, False, False)])
@pytest.mark.parametrize('rows', [False, True])
def test_aggregate_first_equals_gatconv(heads, out, residual, concat, rows):
    torch.manual_seed(0)
    x = torch.randn(30, 5)
    edge_index = torch.randint(0, 30, (2, 90))
    conv = GATConv(5, out, heads=heads, dropout=0.4, residual=residual,
                   concat=concat)
    with torch.no_grad():
        conv.bias.normal_()
    assert can_aggregate_first(conv, x)
    conv.train()
    idx = torch.tensor([3, 0, 17, 29, 4]) if rows else None
    xs = [x.clone().requires_grad_() for _ in range(2)]
    torch.manual_seed(1)
    fast = aggregate_first(conv, xs[0], edge_index, idx)
    torch.manual_seed(1)  # the same attention-dropout mask
    plain = conv(xs[1], edge_index)
    plain = plain if idx is None else plain[idx]
    assert torch.allclose(fast, plain, atol=1e-5)
    w = torch.randn_like(fast)
    g1 = torch.autograd.grad((fast * w).sum(), [xs[0]] +
                             list(conv.parameters()))
    g2 = torch.autograd.grad((plain * w).sum(), [xs[1]] +
                             list(conv.parameters()))
    for a, b in zip(g1, g2):
        assert torch.allclose(a, b, atol=1e-5)


def test_aggregate_first_refuses_what_it_cannot_reproduce():
    x = torch.randn(4, 5)
    assert not can_aggregate_first(GATConv(5, 3, heads=2), x)  # narrower
    conv = GATConv(5, 30)
    conv.register_forward_hook(lambda *args: None)
    assert not can_aggregate_first(conv, x)
    assert not can_aggregate_first(GATConv(5, 30, edge_dim=2), x)

    class Mine(GATConv):
        pass
    assert not can_aggregate_first(Mine(5, 30), x)


def test_graphmae_fast_paths_equal_the_plain_path():
    # The decoder's masked rows aggregated first, W_ED on kept rows only:
    # the same loss and gradients as every layer run by PyG's GATConv.
    data = small_graph(f=40)
    m1 = model(f=40, seed=3)
    m2 = model(f=40, seed=3)
    m2.load_state_dict(m1.state_dict())
    m2.encoder.fast_path = m2.decoder.fast_path = False
    grads = []
    for m in (m1, m2):
        m.generator.manual_seed(7)
        torch.manual_seed(11)
        loss = m.objective(data)
        loss.backward()
        grads.append((loss.detach(), {k: p.grad.clone()
                                      for k, p in m.named_parameters()}))
    assert torch.allclose(grads[0][0], grads[1][0], atol=1e-6)
    for k in grads[0][1]:
        assert torch.allclose(grads[0][1][k], grads[1][1][k], atol=1e-5), k


def test_rows_under_batch_norm_use_every_row():
    torch.manual_seed(0)
    enc = GraphMAEGAT(5, 8, 1, heads=2, norm='batchnorm')
    x, edge_index = torch.randn(12, 5), torch.randint(0, 12, (2, 30))
    rows = torch.tensor([1, 5])
    assert torch.allclose(enc(x, edge_index, rows=rows),
                          enc(x, edge_index)[rows])


def test_encoder_layers_and_decoder():
    m = model(f=7, hidden=8, heads=2, layers=3, norm='layernorm',
              residual=True)
    assert [c.heads for c in m.encoder.convs] == [2, 2, 2]
    assert all(c.res is not None for c in m.encoder.convs)
    assert all(isinstance(n, torch.nn.LayerNorm) for n in m.encoder.norms)
    assert all(a.weight.numel() == 1 for a in m.encoder.acts)  # nn.PReLU()
    assert m.encoder.convs[0].dropout == 0.1 and m.encoder.dropout == 0.2
    (conv,) = m.decoder.convs
    assert conv.heads == 1 and conv.out_channels == 7 and conv.res is None
    assert isinstance(m.decoder.acts[0], torch.nn.Identity)
    assert m.encoder_to_decoder.bias is None
    assert m.embed(small_graph()).shape == (20, 8)


# --- the learning-rate schedule ----------------------------------------------

def test_cosine_schedule_and_resume():
    data = small_graph()
    m = model()
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    m.begin_training(opt, epochs=8)
    lrs = []
    for _ in range(5):
        lrs.append(opt.param_groups[0]['lr'])
        opt.zero_grad()
        m.objective(data).backward()
        opt.step()
        m.on_step()
    expected = [0.01 * (1 + math.cos(math.pi * t / 8)) / 2 for t in range(5)]
    assert lrs == pytest.approx(expected)
    # A resumed run (a new optimiser loading the saved state) continues.
    opt2 = torch.optim.Adam(m.parameters(), lr=0.01)
    m.begin_training(opt2, epochs=8)
    opt2.load_state_dict(opt.state_dict())
    opt2.zero_grad()
    m.objective(data).backward()
    opt2.step()
    m.on_step()
    assert opt2.param_groups[0]['lr'] == pytest.approx(
        0.01 * (1 + math.cos(math.pi * 6 / 8)) / 2)


def test_constant_schedule_leaves_the_rate():
    m = model(lr_schedule='constant')
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    m.begin_training(opt, epochs=3)
    opt.zero_grad()
    m.objective(small_graph()).backward()
    opt.step()
    m.on_step()
    assert opt.param_groups[0]['lr'] == 0.01


# --- seeding ---------------------------------------------------------------

def losses(seed, steps=3):
    data = small_graph()
    m = model(seed=seed)
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss = m.objective(data)
        loss.backward()
        opt.step()
        out.append(loss.item())
    return out


def test_same_seed_same_run():
    assert losses(0) == losses(0)
    assert losses(0) != losses(1)


def test_seed_seeds_the_masks():
    a, b = (build_method('graphmae', 7, seed=5) for _ in range(2))
    c = build_method('graphmae', 7, seed=6)
    x = torch.rand(30, 7)
    assert torch.equal(a.mask_nodes(x)[1], b.mask_nodes(x)[1])
    assert not torch.equal(a.mask_nodes(x)[1], c.mask_nodes(x)[1])


# --- options, settings, errors ---------------------------------------------

@pytest.mark.parametrize('option,value', [
    ('mask_rate', 0.0), ('mask_rate', 1.0), ('mask_rate', 1.5),
    ('replace_rate', 1.0), ('replace_rate', -0.1), ('alpha', 0),
    ('in_drop', 1.0), ('attn_drop', 2.0), ('edge_drop', 1.5),
    ('norm', 'groupnorm'), ('lr_schedule', 'step'), ('hidden', 0),
    ('heads', 0), ('layers', 0), ('residual', 'yes')])
def test_bad_options_name_the_option(option, value):
    with pytest.raises(ValueError, match=f"'{option}'"):
        build_method('graphmae', 7, **{option: value})


def test_hidden_must_divide_into_heads():
    with pytest.raises(ValueError, match="'hidden'.*'heads'"):
        build_method('graphmae', 7, hidden=10, heads=4)


def test_mask_rate_too_small_for_the_graph():
    m = model(mask_rate=0.01)
    with pytest.raises(ValueError, match="raise 'mask_rate'"):
        m.objective(small_graph())


def test_bad_options_fail_before_training(monkeypatch):
    import graphcl.experiment as experiment

    def no_training(*args, **kwargs):
        raise AssertionError('trained despite a bad option')

    monkeypatch.setattr(experiment, 'pretrain', no_training)
    with pytest.raises(ValueError, match="'mask_rate'"):
        run_experiment('graphmae', small_graph(), mask_rate=2.0,
                       progress=False, verbose=False, probe=False)
    with pytest.raises(ValueError, match='Unknown option'):
        run_experiment('graphmae', small_graph(), tau=0.5,
                       progress=False, verbose=False, probe=False)


def test_settings_load_and_flags_override():
    spec = get_method('graphmae')
    assert 'configs.yml' in spec.source and 'THUDM/GraphMAE' in spec.source
    cora = method_settings('graphmae', 'Cora')
    assert (cora['hidden'], cora['heads'], cora['layers'], cora['lr'],
            cora['weight_decay'], cora['epochs'], cora['mask_rate'],
            cora['replace_rate'], cora['alpha'], cora['in_drop'],
            cora['attn_drop'], cora['act'], cora['keep'],
            cora['lr_schedule']) == (512, 4, 2, 1e-3, 2e-4, 1500, 0.5,
                                     0.05, 3.0, 0.2, 0.1, 'prelu', 'last',
                                     'cosine')
    cite = method_settings('graphmae', 'citeseer')
    assert (cite['heads'], cite['weight_decay'], cite['epochs'],
            cite['replace_rate'], cite['alpha']) == (2, 2e-5, 300, 0.1, 1.0)
    pubmed = method_settings('graphmae', 'PubMed')
    assert (pubmed['hidden'], pubmed['mask_rate']) == (1024, 0.75)
    given = method_settings('graphmae', 'CiteSeer', alpha=2.0, epochs=5,
                            heads=4)
    assert (given['alpha'], given['epochs'], given['heads']) == (2.0, 5, 4)
    assert given['weight_decay'] == 2e-5  # the rest of the preset stays


def test_cli_lists_the_options(capsys):
    from graphcl.cli import main
    with pytest.raises(SystemExit):
        main(['train', 'graphmae', '--help'])
    out = capsys.readouterr().out
    for flag in ('--mask-rate', '--replace-rate', '--alpha', '--heads',
                 '--attn-drop', '--lr-schedule'):
        assert flag in out


def test_memory_estimate_fits_coauthor_physics():
    from graphcl.memory import GraphStats, estimate_full_batch
    stats = GraphStats(34493, 495924, 8415, feature_nnz=34493 * 30,
                       name='Coauthor-Physics')
    est = estimate_full_batch(stats, 'graphmae',
                              method_settings('graphmae',
                                              'Coauthor-Physics'))
    assert est.total < 24 * 2 ** 30
    assert est.total > 2 * 34493 * 8415 * 4  # x and its masked copy


# --- it learns -------------------------------------------------------------

def test_engine_run_uses_schedule_and_keeps_last(
        small_graph_labelled, monkeypatch):
    # The engine tells the method the run's length: the learning rate of
    # every step follows the cosine decay.
    rates = []
    on_step = GraphMAE.on_step

    def record(self):
        on_step(self)
        rates.append(self._schedule[0].param_groups[0]['lr'])

    monkeypatch.setattr(GraphMAE, 'on_step', record)
    metrics = run_experiment('graphmae', small_graph_labelled, epochs=4,
                             lr=0.01, hidden=8, heads=2, progress=False,
                             verbose=False)
    assert rates == pytest.approx(
        [0.01 * (1 + math.cos(math.pi * t / 4)) / 2 for t in (1, 2, 3, 4)])
    assert metrics['config']['keep'] == 'last'
    assert metrics['config']['lr_schedule'] == 'cosine'


@pytest.fixture
def small_graph_labelled():
    data = small_graph(n=60, f=7, e=200)
    data.y = torch.arange(60) % 3
    data.train_mask = torch.arange(60) < 30
    data.val_mask = (torch.arange(60) >= 30) & (torch.arange(60) < 45)
    data.test_mask = torch.arange(60) >= 45
    return data


def test_short_cora_run_beats_a_random_encoder(shared_root):
    # 30 epochs at width 64: GraphMAE's embeddings must be clearly better
    # than the same encoder's at initialisation.
    from graphcl.data import load_dataset
    data = load_dataset('Cora', root=shared_root)
    data.x = data.x / data.x.sum(1, keepdim=True).clamp_min(1e-12)
    small = dict(hidden=64, heads=4)
    torch.manual_seed(0)
    random_encoder = build_method('graphmae', data.num_features, seed=0,
                                  **small)
    before = linear_probe(random_encoder.embed(data), data.y,
                          data.train_mask, data.val_mask, data.test_mask)
    metrics = run_experiment('graphmae', 'Cora', root=str(shared_root),
                             epochs=30, lr=0.01, progress=False,
                             verbose=False, **small)
    assert metrics['test_acc_mean'] > 100 * before.test_acc + 5
    assert metrics['test_acc_mean'] > 70


# --- subclassed, hooked or replaced parts on the fast paths -----------------

def test_rows_honour_a_subclass_layer_and_forward():
    # A decoder whose layer() is its own: its masked rows are that layer's
    # (the rows shortcut re-implemented the base layer); one whose forward
    # takes no rows is called without them.
    class Shifted(GraphMAEGAT):
        def layer(self, i, x, edge_index, edge_weight=None):
            return super().layer(i, x, edge_index, edge_weight) + 1.0

    torch.manual_seed(0)
    dec = Shifted(8, 40, 1, heads=1, act=None)
    x, edge_index = torch.randn(20, 8), torch.randint(0, 20, (2, 60))
    rows = torch.tensor([1, 4, 7])
    assert can_aggregate_first(dec.convs[0], x)
    assert torch.allclose(dec(x, edge_index, rows=rows),
                          dec(x, edge_index)[rows])

    class PlusOne(GraphMAEGAT):
        def forward(self, x, edge_index, edge_weight=None):
            return super().forward(x, edge_index) + 1.0

    data = small_graph(f=40)
    m = model(f=40, in_drop=0.0, attn_drop=0.0)
    m.decoder = PlusOne(8, 40, 1, heads=1, act=None)
    m.generator.manual_seed(5)
    loss = m.objective(data)
    m.generator.manual_seed(5)  # the same masks, by hand
    x_masked, masked, _, _ = m.mask_nodes(data.x)
    rep = m.remask(m.encoder(x_masked, data.edge_index), masked)
    recon = m.decoder(rep, data.edge_index)[masked]
    assert torch.allclose(loss, scaled_cosine_error(recon, data.x[masked],
                                                    m.alpha))


def test_aggregate_first_honours_hooks_on_the_projection():
    # aggregate_first reads conv.lin.weight without calling conv.lin: a
    # hook there (or a replaced forward) sends the layer down PyG's path.
    torch.manual_seed(0)
    x, edge_index = torch.randn(10, 4), torch.randint(0, 10, (2, 30))
    fast = GraphMAEGAT(4, 12, 1, heads=1, act=None)
    plain = GraphMAEGAT(4, 12, 1, heads=1, act=None, fast_path=False)
    plain.load_state_dict(fast.state_dict())
    assert can_aggregate_first(fast.convs[0], x)
    for dec in (fast, plain):
        dec.convs[0].lin.register_forward_hook(lambda m, i, o: 2 * o + 1)
    assert not can_aggregate_first(fast.convs[0], x)
    rows = torch.tensor([0, 3, 9])
    assert torch.allclose(fast(x, edge_index), plain(x, edge_index))
    assert torch.allclose(fast(x, edge_index, rows=rows),
                          plain(x, edge_index)[rows])
    conv = GATConv(4, 12)
    conv.lin.forward = lambda h: torch.zeros(h.size(0), 12)
    assert not can_aggregate_first(conv, x)


def test_remask_with_a_projection_that_mixes_rows():
    # Projecting only the kept rows is the same only for a row-wise map;
    # with a batch norm the statistics are over all rows, as in the code
    # (project, then zero the masked rows).
    m = model(f=7)
    m.encoder_to_decoder = torch.nn.Sequential(torch.nn.Linear(8, 8),
                                               torch.nn.BatchNorm1d(8))
    h, masked = torch.randn(10, 8), torch.tensor([1, 3, 5])
    ref = m.encoder_to_decoder(h).clone()
    ref[masked] = 0.0
    assert torch.allclose(m.remask(h, masked), ref)
