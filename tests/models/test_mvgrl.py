r"""MVGRL on the engine: its loss by hand, the matrix-product views against
PyG's message passing, options and their errors, presets, the memory hook
(Coauthor-Physics within 24 GiB on the approximate diffusion), the CLI,
run_experiment, and a short run on Cora against a random encoder."""
import json
import math

import pytest
import torch
import torch.nn.functional as F

from graphcl import run_experiment
from graphcl.cli import main
from graphcl.diffusion import PPRDiffusion, ppr_topk
from graphcl.eval import linear_probe
from graphcl.memory import GraphStats, estimate_full_batch
from graphcl.models import build_method, get_method, method_settings
from graphcl.models.mvgrl import MVGRL, MVGRLEncoder, build_mvgrl
from graphcl.nn import BilinearDiscriminator, SigmoidMeanReadout


def small_mvgrl(in_channels=6, hidden=8, **options):
    return build_method('mvgrl', in_channels, seed=0, hidden=hidden,
                        **options)


# --- the loss ------------------------------------------------------------

def test_loss_hand_computed():
    # N = 2, D = 2, critic W = I: s_v = sigmoid(mean of view v's rows);
    # positives h2 . s1 and h1 . s2, negatives h2~ . s1 and h1~ . s2; the
    # loss is the mean of -log sigma(pos) and -log(1 - sigma(neg)) over
    # the 4N = 8 logits.
    h1 = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    h2 = torch.tensor([[0.5, 0.5], [-1.0, 1.0]], dtype=torch.float64)
    h1n = torch.tensor([[0.0, -1.0], [2.0, 0.0]], dtype=torch.float64)
    h2n = torch.tensor([[1.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    s1 = [sig(0.5), sig(1.0)]    # mean of h1's rows: (0.5, 1.0)
    s2 = [sig(-0.25), sig(0.75)]  # mean of h2's rows: (-0.25, 0.75)
    dot = lambda a, b: a[0] * b[0] + a[1] * b[1]  # noqa: E731
    pos = [dot(r, s1) for r in h2.tolist()] + \
        [dot(r, s2) for r in h1.tolist()]
    neg = [dot(r, s1) for r in h2n.tolist()] + \
        [dot(r, s2) for r in h1n.tolist()]
    by_hand = (sum(-math.log(sig(v)) for v in pos) +
               sum(-math.log(1 - sig(v)) for v in neg)) / 8
    model = small_mvgrl(hidden=2).double()
    with torch.no_grad():
        model.discriminator.weight.copy_(torch.eye(2))
    out = model.loss(h1, h2, h1n, h2n)
    assert out.item() == pytest.approx(by_hand, rel=1e-12)
    # the reference code: BCEWithLogitsLoss on cat(sc_1..sc_4), labels
    # 1 (2N) then 0 (2N)
    logits = torch.tensor(pos + neg, dtype=torch.float64)
    labels = torch.cat([torch.ones(4), torch.zeros(4)]).double()
    assert out.item() == pytest.approx(
        F.binary_cross_entropy_with_logits(logits, labels).item(),
        rel=1e-12)


# --- the views -------------------------------------------------------------

def _edges(matrix):
    coo = (matrix.to_sparse_coo() if matrix.layout != torch.sparse_coo
           else matrix).coalesce()
    return coo.indices().flip(0), coo.values()


@pytest.mark.parametrize('options', [
    dict(),                                           # exact, dense
    dict(eps=0.05, diffusion_scale='minmax'),         # exact, CSR
    dict(exact_max_nodes=10, topk=5),                 # approximate, CSR
])
@pytest.mark.parametrize('sparse_x', [False, True])
def test_views_equal_pyg_message_passing(small_graph, options, sparse_x):
    model = small_mvgrl(**options)
    enc = model.encoder
    x = small_graph.x.clone()
    if sparse_x:  # mostly zero: the CSR copy of the features is used
        x[:, 0] = 0.0
        x[x < 0.9] = 0.0
        assert enc.sparse_features(x) is not None
    ei = small_graph.edge_index
    perm = torch.randperm(40, generator=torch.Generator().manual_seed(1))
    h1, h2, h1n, h2n = enc.views(x, ei, perm=perm)
    s = enc.diffusion.matrix(ei, 40)
    s_ei, s_ew = _edges(s)
    ref1 = enc.adj_encoder(x, ei)
    ref2 = enc.diff_encoder(x, s_ei, s_ew)
    for got, ref in ((h1, ref1), (h2, ref2),
                     (h1n, enc.adj_encoder(x[perm], ei)),
                     (h2n, enc.diff_encoder(x[perm], s_ei, s_ew))):
        assert torch.allclose(got, ref, atol=1e-5)
    assert torch.allclose(enc(x, ei), ref1 + ref2, atol=1e-5)
    assert torch.allclose(model.embed(small_graph),
                          enc.adj_encoder(small_graph.x, ei) +
                          enc.diff_encoder(small_graph.x, s_ei, s_ew),
                          atol=1e-5)


@pytest.mark.parametrize('options', [dict(), dict(eps=0.05)])
@pytest.mark.parametrize('sparse_x', [False, True])
def test_gradients_equal_pyg_message_passing(small_graph, options,
                                             sparse_x):
    model = small_mvgrl(**options).double()
    x, ei = small_graph.x.double(), small_graph.edge_index
    if sparse_x:
        x[:, 0] = 0.0
        x[x < 0.9] = 0.0
        assert model.encoder.sparse_features(x) is not None
    perm = torch.randperm(40, generator=torch.Generator().manual_seed(2))

    def grads(plain):
        model.zero_grad()
        enc = model.encoder
        if plain:
            s_ei, s_ew = _edges(enc.diffusion.matrix(ei, 40, dtype=x.dtype))
            hs = (enc.adj_encoder(x, ei), enc.diff_encoder(x, s_ei, s_ew),
                  enc.adj_encoder(x[perm], ei),
                  enc.diff_encoder(x[perm], s_ei, s_ew))
        else:
            hs = enc.views(x, ei, perm=perm)
        model.loss(*hs).backward()
        return [p.grad.clone() for p in model.parameters()]

    for a, b in zip(grads(False), grads(True)):
        assert torch.allclose(a, b, atol=1e-10)


def test_built_from_the_parts():
    model = small_mvgrl(alpha=0.15, eps=0.01, topk=7,
                        diffusion_scale='minmax', exact_max_nodes=100)
    assert isinstance(model, MVGRL)
    assert isinstance(model.encoder, MVGRLEncoder)
    assert isinstance(model.discriminator, BilinearDiscriminator)
    assert model.discriminator.init == 'xavier'
    assert isinstance(model.readout, SigmoidMeanReadout)
    d = model.encoder.diffusion
    assert (d.alpha, d.eps, d.topk, d.scale, d.exact_max_nodes) == \
        (0.15, 0.01, 7, 'minmax', 100)
    conv = model.encoder.diff_encoder.convs[0]
    assert not conv.normalize and not conv.add_self_loops
    assert model.encoder.adj_encoder.convs[0].normalize
    assert [e.convs[0].out_channels for e in (
        model.encoder.adj_encoder, model.encoder.diff_encoder)] == [8, 8]
    with pytest.raises(TypeError, match='FeatureShuffle'):
        MVGRL(model.encoder, corruption=torch.nn.Identity())


def test_same_seed_same_losses(small_graph):
    losses = []
    for _ in range(2):
        torch.manual_seed(0)
        model = small_mvgrl()
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        run = []
        for _ in range(3):
            opt.zero_grad()
            loss = model.objective(small_graph)
            loss.backward()
            opt.step()
            run.append(loss.item())
        losses.append(run)
    assert losses[0] == losses[1]
    assert len(set(losses[0])) == 3


def test_directed_graph_on_the_approximation(small_graph):
    model = small_mvgrl(exact_max_nodes=10)
    g = small_graph.clone()
    g.edge_index = g.edge_index[:, :40]  # one direction only
    with pytest.raises(ValueError, match='ToUndirected'):
        model.objective(g)


# --- options, presets, memory ----------------------------------------------

@pytest.mark.parametrize('option,value', [
    ('alpha', 0.0), ('alpha', 1.5), ('diffusion', 'heat'), ('eps', -1.0),
    ('topk', 0), ('diffusion_scale', 'zscore'), ('exact_max_nodes', 0),
    ('ppr_tol', 0.0), ('hidden', 0)])
def test_bad_option_names_the_option(option, value):
    name = 'diffusion_scale' if option == 'diffusion_scale' else option
    with pytest.raises(ValueError, match=f"'{name}'"):
        build_method('mvgrl', 6, **{option: value})


def test_bad_options_fail_before_training(small_graph, monkeypatch):
    import graphcl.experiment as experiment

    def no_training(*args, **kwargs):
        raise AssertionError('trained despite a bad option')

    monkeypatch.setattr(experiment, 'pretrain', no_training)
    for option, value in (('alpha', 1.0), ('topk', -3), ('eps', -0.5)):
        with pytest.raises(ValueError, match=f"'{option}'"):
            run_experiment('mvgrl', small_graph, progress=False,
                           verbose=False, **{option: value})
    with pytest.raises(ValueError, match='Unknown option'):
        run_experiment('mvgrl', small_graph, tau=0.5, progress=False,
                       verbose=False)


def test_presets_and_overrides():
    spec = get_method('mvgrl')
    assert 'kavehhassani/mvgrl' in spec.source and 'dgl' in spec.source
    cora = method_settings('mvgrl', 'Cora')
    assert (cora['hidden'], cora['alpha'], cora['eps'], cora['lr'],
            cora['patience'], cora['diffusion_scale']) == \
        (512, 0.2, 0.0, 1e-3, 20, 'none')
    citeseer = method_settings('mvgrl', 'CiteSeer')
    assert (citeseer['eps'], citeseer['diffusion_scale'],
            citeseer['weight_decay'], citeseer['epochs']) == \
        (0.01, 'minmax', 1e-3, 200)
    given = method_settings('mvgrl', 'CiteSeer', eps=0.05, epochs=7)
    assert (given['eps'], given['epochs']) == (0.05, 7)


PHYSICS = GraphStats(34_493, 495_924, 8_415, feature_nnz=1_137_311,
                     name='Coauthor-Physics')


def test_physics_fits_24_gib_on_the_approximation():
    est = estimate_full_batch(PHYSICS, 'mvgrl', {})
    assert est.total < 24 * 2**30
    assert any('CSR, 64 per node' in k for k in est.constants)
    exact = estimate_full_batch(PHYSICS, 'mvgrl', dict(
        diffusion='exact', exact_max_nodes=10**5))
    assert any('dense 34,493' in k for k in exact.constants)
    assert exact.total > est.total + 4 * 2**30  # 4.4 GiB matrix, 3 times
    with pytest.raises(ValueError, match="diffusion='auto'"):
        estimate_full_batch(PHYSICS, 'mvgrl', dict(diffusion='exact'))


def test_exact_on_a_large_graph_fails_before_training(small_graph,
                                                      monkeypatch):
    import graphcl.experiment as experiment

    def no_training(*args, **kwargs):
        raise AssertionError('trained despite an impossible diffusion')

    monkeypatch.setattr(experiment, 'pretrain', no_training)
    with pytest.raises(ValueError, match="'approx'"):
        run_experiment('mvgrl', small_graph, diffusion='exact',
                       exact_max_nodes=20, progress=False, verbose=False)


def test_run_experiment_on_the_approximation(small_graph, tmp_path):
    # 40 nodes over exact_max_nodes=20: trained on the sparse diffusion.
    metrics = run_experiment('mvgrl', small_graph, seeds=2, epochs=3,
                             hidden=8, exact_max_nodes=20, topk=6,
                             out=str(tmp_path), progress=False,
                             verbose=False)
    with open(tmp_path / 'metrics.json') as f:
        saved = json.load(f)
    assert saved['method'] == 'mvgrl' and saved['epochs'] == [3, 3]
    assert saved['config']['topk'] == 6
    assert saved['test_acc_mean'] == pytest.approx(metrics['test_acc_mean'])
    model = build_mvgrl(6, 8, 'prelu', 0.2, 'auto', 0.0, 6, 'none', 20,
                        1e-4)
    s = model.encoder.diffusion.matrix(small_graph.edge_index, 40)
    ei, ew = ppr_topk(small_graph.edge_index, 40, topk=6)
    ref = torch.zeros(40, 40)
    ref[ei[1], ei[0]] = ew
    assert torch.equal(s.to_dense(), ref)  # (dense: 15 % non-zero)


def test_cli(small_graph, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(['train', 'mvgrl', '--help'])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for option in ('--alpha', '--diffusion', '--eps', '--topk',
                   '--diffusion-scale', '--exact-max-nodes', '--ppr-tol'):
        assert option in out, option
    path = tmp_path / 'g.pt'
    torch.save(small_graph, path)
    code = main(['train', 'mvgrl', '--dataset', str(path), '--epochs', '2',
                 '--hidden', '8', '--alpha', '0.3', '--out',
                 str(tmp_path / 'run'), '--quiet'])
    assert code == 0, capsys.readouterr().err
    with open(tmp_path / 'run' / 'metrics.json') as f:
        assert json.load(f)['config']['alpha'] == 0.3
    code = main(['embed', '--encoder', str(tmp_path / 'run'), '--dataset',
                 str(path), '--out', str(tmp_path / 'z.pt'), '--quiet'])
    assert code == 0, capsys.readouterr().err
    z = torch.load(tmp_path / 'z.pt')
    saved = torch.load(tmp_path / 'run' / 'embeddings.pt')
    assert torch.allclose(z, saved, atol=1e-5)


def test_short_cora_run_beats_a_random_encoder(shared_root):
    # 15 epochs at width 64 (the exact, dense diffusion of Cora): measured
    # 59.4 % at initialisation, 76.1 % after.
    from graphcl.data import load_dataset
    data = load_dataset('Cora', root=shared_root)
    data.x = data.x / data.x.sum(1, keepdim=True).clamp_min(1e-12)
    torch.manual_seed(0)
    model = build_method('mvgrl', data.num_features, seed=0, hidden=64)
    before = linear_probe(model.embed(data), data.y, data.train_mask,
                          data.val_mask, data.test_mask)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(15):
        opt.zero_grad()
        model.objective(data).backward()
        opt.step()
    after = linear_probe(model.embed(data), data.y, data.train_mask,
                         data.val_mask, data.test_mask)
    assert after.test_acc > before.test_acc + 0.08
    assert after.test_acc > 0.70


# --- the diffusion cache and weighted graphs ---------------------------------

def test_weighted_undirected_graph_on_the_approximation(small_graph):
    # Symmetric edge weights (ToUndirected sums both directions): the
    # approximation used to refuse the graph as directed (the normalised
    # weights of (i, j) and (j, i) differed in the last bit).
    from torch_geometric.utils import to_undirected
    g = small_graph.clone()
    w = torch.rand(g.edge_index.size(1),
                   generator=torch.Generator().manual_seed(4)) + 0.5
    g.edge_index, g.edge_weight = to_undirected(g.edge_index, w,
                                                num_nodes=40)
    model = small_mvgrl(exact_max_nodes=10, topk=6)
    assert torch.isfinite(model.objective(g))
    enc = model.encoder
    s_ei, s_ew = _edges(enc.diffusion.matrix(g.edge_index, 40,
                                             g.edge_weight))
    ref = enc.adj_encoder(g.x, g.edge_index, g.edge_weight) + \
        enc.diff_encoder(g.x, s_ei, s_ew)
    assert torch.allclose(model.embed(g), ref, atol=1e-5)


def test_changed_diffusion_options_reach_the_views(small_graph):
    # The same graph tensors, the diffusion's alpha changed between steps:
    # the diffusion view must use the new matrix, not the cached one.
    model = small_mvgrl()
    enc = model.encoder
    x, ei = small_graph.x, small_graph.edge_index
    model.objective(small_graph)
    enc.diffusion.alpha = 0.5
    s_ei, s_ew = _edges(PPRDiffusion(alpha=0.5).matrix(ei, 40))
    ref = enc.adj_encoder(x, ei) + enc.diff_encoder(x, s_ei, s_ew)
    assert torch.allclose(model.embed(small_graph), ref, atol=1e-5)
