r"""CCA-SSG on the engine: its loss by hand and against the reference
code's arithmetic, its parts and options, the fast path against the plain
one, the CLI, run_experiment (full batch and mini-batch) and a short run on
Cora against a random encoder."""
import json

import numpy as np
import pytest
import torch

from graphcl import run_experiment
from graphcl.cli import main
from graphcl.corruptions import Compose, EdgeDrop, FeatureMask
from graphcl.eval import linear_probe
from graphcl.losses import cca_ssg_loss
from graphcl.models import build_method, get_method
from graphcl.models.cca_ssg import CCASSG, CCASSGEncoder, build_cca_ssg
from graphcl.nn import MLPEncoder
from graphs import two_view_graph


def cca_loss_numpy(h1, h2, lambd):
    r"""The loss as CCA-SSG's main.py computes it (standardise each view
    per column with the sample std, then c, c1, c2 over N), float64."""
    n = h1.shape[0]
    z1 = (h1 - h1.mean(0)) / h1.std(0, ddof=1)
    z2 = (h2 - h2.mean(0)) / h2.std(0, ddof=1)
    c, c1, c2 = z1.T @ z2 / n, z1.T @ z1 / n, z2.T @ z2 / n
    iden = np.eye(c.shape[0])
    return float(-np.trace(c) + lambd * (((iden - c1) ** 2).sum() +
                                         ((iden - c2) ** 2).sum()))


# --- the loss ------------------------------------------------------------

def test_loss_hand_computed_n3_d2():
    # Columns (1, 0, -1) and (0, 1, -1): mean 0, sample std 1, so Z = H.
    # With both views equal, C = Z^T Z / 3 = [[2, 1], [1, 2]] / 3:
    # -tr C = -4/3 and ||I - C||_F^2 = 4 / 9 per view, so the loss is
    # -4/3 + lambda * 8/9 (-8/9 for lambda = 1/2).
    h = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]],
                     dtype=torch.float64)
    assert cca_ssg_loss(h, h, 0.5).item() == pytest.approx(-8 / 9)
    assert cca_ssg_loss(h, h, 0.0).item() == pytest.approx(-4 / 3)
    # Standardised per column: an affine map of each column changes nothing
    h2 = h * torch.tensor([2.0, 0.5], dtype=torch.float64) + 5
    assert cca_ssg_loss(h, h2, 0.5).item() == pytest.approx(-8 / 9)


@pytest.mark.parametrize('lambd', [0.0, 1e-3, 0.7])
def test_loss_equals_the_reference_arithmetic(lambd):
    g = torch.Generator().manual_seed(0)
    h1 = torch.randn(20, 5, generator=g, dtype=torch.float64)
    h2 = h1 + 0.5 * torch.randn(20, 5, generator=g, dtype=torch.float64)
    assert cca_ssg_loss(h1, h2, lambd).item() == pytest.approx(
        cca_loss_numpy(h1.numpy(), h2.numpy(), lambd), rel=1e-12)
    # float32 agrees to float tolerance
    assert cca_ssg_loss(h1.float(), h2.float(), lambd).item() == \
        pytest.approx(cca_loss_numpy(h1.numpy(), h2.numpy(), lambd),
                      rel=1e-5, abs=1e-5)


def test_loss_gradients():
    g = torch.Generator().manual_seed(1)
    h1 = torch.randn(7, 3, generator=g, dtype=torch.float64,
                     requires_grad=True)
    h2 = torch.randn(7, 3, generator=g, dtype=torch.float64,
                     requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, b: cca_ssg_loss(a, b, 0.3), (h1, h2))


@pytest.mark.parametrize('lambd', [-1e-3, float('nan'), float('inf'), True,
                                   '0.001'])
def test_bad_lambda_names_the_option(lambd):
    h = torch.randn(4, 2)
    with pytest.raises(ValueError, match="'lambd'"):
        cca_ssg_loss(h, h, lambd)
    with pytest.raises(ValueError, match="'lambd'"):
        build_method('cca_ssg', 6, lambd=lambd)


def test_loss_bad_shapes():
    with pytest.raises(ValueError, match=r'\[N, D\].*\(4, 2\) and \(4, 3\)'):
        cca_ssg_loss(torch.randn(4, 2), torch.randn(4, 3))
    with pytest.raises(ValueError, match='at least 2 rows, got 1'):
        cca_ssg_loss(torch.randn(1, 2), torch.randn(1, 2))


# --- the parts and options -------------------------------------------------

def test_built_from_the_parts():
    m = build_cca_ssg(10, encoder='gcn', hidden=8, layers=3, act='relu',
                      edge_drop=0.4, feature_mask=0.1, lambd=5e-4, seed=0)
    assert isinstance(m, CCASSG) and m.lambd == 5e-4
    for view in (m.view1, m.view2):
        assert isinstance(view, Compose)
        e, f = view.corruptions
        assert isinstance(e, EdgeDrop) and isinstance(f, FeatureMask)
        assert (e.p, f.p) == (0.4, 0.1)
    # one private generator for both views
    assert m.view1.corruptions[0].generator is \
        m.view2.corruptions[1].generator
    assert isinstance(m.encoder, CCASSGEncoder)
    assert [c.out_channels for c in m.encoder.convs] == [8, 8, 8]
    # ReLU between layers, none after the last (the reference GCN)
    assert [type(a).__name__ for a in m.encoder.acts] == \
        ['ReLU', 'ReLU', 'Identity']
    assert m.supports_minibatch
    mlp = build_cca_ssg(10, encoder='mlp', hidden=8, layers=2, act='relu',
                        edge_drop=0.2, feature_mask=0.2, lambd=1e-3)
    assert isinstance(mlp.encoder, MLPEncoder)
    assert isinstance(mlp.encoder.norm, torch.nn.BatchNorm1d)
    assert not mlp.supports_minibatch
    assert repr(m) == 'CCASSG(CCASSGEncoder(10, 8, num_layers=3), ' \
        'lambd=0.0005)'


def test_encoder_output_has_no_last_activation(small_graph):
    from graphcl.inference import layerwise_inference
    enc = CCASSGEncoder(6, 8, num_layers=2)
    z = enc(small_graph.x, small_graph.edge_index)
    assert (z < 0).any()  # no ReLU on the output
    assert torch.allclose(layerwise_inference(enc, small_graph, 16), z,
                          atol=1e-5)


def test_mlp_encoder_ignores_the_graph(small_graph):
    enc = MLPEncoder(6, 8, 4).eval()
    z = enc(small_graph.x, small_graph.edge_index)
    assert torch.equal(z, enc(small_graph.x))
    assert z.shape == (40, 4)


@pytest.mark.parametrize('option', ['edge_drop', 'feature_mask'])
@pytest.mark.parametrize('value', [-0.1, 1.5, float('nan')])
def test_bad_rate_names_the_option(option, value):
    with pytest.raises(ValueError, match=f"'{option}'"):
        build_method('cca_ssg', 6, **{option: value})


@pytest.mark.parametrize('encoder', ['gcn', 'mlp'])
@pytest.mark.parametrize('option,value', [('hidden', 0), ('layers', 0),
                                          ('hidden', 2.5), ('layers', True)])
def test_bad_widths_name_the_option(encoder, option, value):
    with pytest.raises(ValueError, match=f"'{option}' must be a positive "
                       f"integer"):
        build_method('cca_ssg', 6, encoder=encoder, **{option: value})


def test_unknown_encoder():
    with pytest.raises(ValueError, match=r"'encoder' must be one of "
                       r"\['gcn', 'mlp'\], got 'gat'"):
        build_method('cca_ssg', 6, encoder='gat')


def test_same_seed_same_loss(small_graph):
    losses = []
    for _ in range(2):
        torch.manual_seed(0)
        m = build_method('cca_ssg', 6, seed=3, hidden=8)
        losses.append([m.objective(small_graph).item() for _ in range(3)])
    assert losses[0] == losses[1]
    assert len(set(losses[0])) == 3  # fresh views every step


def test_parameters_to_vector():
    for encoder in ('gcn', 'mlp'):
        m = build_method('cca_ssg', 6, hidden=8, encoder=encoder)
        vec = torch.nn.utils.parameters_to_vector(m.parameters())
        assert vec.numel() == sum(p.numel() for p in m.parameters()) > 0


def test_presets_follow_the_readme():
    spec = get_method('cca_ssg')
    assert 'hengruizhang98/CCA-SSG' in spec.source
    assert spec.preset('Cora') == dict(epochs=50, lambd=1e-3,
                                       feature_mask=0.1, edge_drop=0.4,
                                       layers=2, encoder='gcn')
    assert spec.preset('CiteSeer')['layers'] == 1
    assert spec.preset('CiteSeer')['epochs'] == 20
    assert spec.preset('Coauthor-CS')['encoder'] == 'mlp'
    assert spec.train_defaults['keep'] == 'last'
    assert spec.train_defaults['patience'] == 0


# --- the fast path -----------------------------------------------------------

def loss_and_grads(m, data, fast, seed=7):
    m.fast_path = fast
    m.view1.corruptions[0].generator.manual_seed(seed)
    m.zero_grad()
    loss = m.objective(data)
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in m.named_parameters()}


@pytest.mark.parametrize('features', ['dense', 'sparse'])
@pytest.mark.parametrize('weighted', [False, True])
def test_fast_path_equals_the_plain_path(features, weighted, monkeypatch):
    import graphcl.models.gcn_views as gcn_views
    calls = []
    forward = gcn_views.gcn_view_forward
    monkeypatch.setattr(gcn_views, 'gcn_view_forward',
                        lambda *a: calls.append(1) or forward(*a))
    data = two_view_graph(features, weighted)
    torch.manual_seed(0)
    m = build_cca_ssg(data.num_features, encoder='gcn', hidden=8, layers=2,
                      act='relu', edge_drop=0.3, feature_mask=0.2,
                      lambd=1e-2, seed=0)
    loss_f, grads_f = loss_and_grads(m, data, True)
    assert len(calls) == 2  # one call per view
    loss_p, grads_p = loss_and_grads(m, data, False)
    assert len(calls) == 2
    assert torch.allclose(loss_f, loss_p, atol=1e-5, rtol=1e-5)
    for name in grads_f:
        assert torch.allclose(grads_f[name], grads_p[name], atol=1e-5,
                              rtol=1e-4), name
    assert any(v.abs().sum() > 0 for v in grads_f.values())


def test_fresh_graphs_get_their_own_loss():
    # A stream of fresh same-shape graphs: the fast path's loss is each
    # graph's own (the plain path's with the same draws).
    torch.manual_seed(0)
    m = build_cca_ssg(6, encoder='gcn', hidden=8, layers=2, act='relu',
                      edge_drop=0.3, feature_mask=0.2, lambd=1e-2, seed=0)
    for seed in range(3):
        data = two_view_graph('dense', seed=seed)
        fast = loss_and_grads(m, data, True)[0]
        plain = loss_and_grads(m, data, False)[0]
        assert torch.allclose(fast, plain, atol=1e-5, rtol=1e-5)


# --- the engine ----------------------------------------------------------

def test_run_experiment_writes_metrics(small_graph, tmp_path):
    metrics = run_experiment('cca_ssg', small_graph, seeds=2, epochs=3,
                             hidden=8, out=str(tmp_path), progress=False,
                             verbose=False)
    with open(tmp_path / 'metrics.json') as f:
        saved = json.load(f)
    assert saved['method'] == 'cca_ssg' and saved['seeds'] == [0, 1]
    assert saved['epochs'] == [3, 3]
    assert saved['config']['lambd'] == 1e-3
    assert saved['test_acc_mean'] == pytest.approx(metrics['test_acc_mean'])


def test_run_experiment_minibatch(small_graph):
    metrics = run_experiment('cca_ssg', small_graph, epochs=2, hidden=8,
                             batch_size=16, fanout=[3, 3], progress=False,
                             verbose=False)
    assert metrics['config']['fanout'] == [3, 3]
    assert 0 <= metrics['test_acc_mean'] <= 100


def test_mlp_encoder_refuses_minibatch(small_graph):
    with pytest.raises(ValueError, match='cannot be trained on sampled '
                       'mini-batches; drop --batch-size'):
        run_experiment('cca_ssg', small_graph, epochs=2, hidden=8,
                       encoder='mlp', batch_size=16, fanout=[3, 3],
                       progress=False, verbose=False)


def test_mlp_encoder_trains_full_batch(small_graph):
    metrics = run_experiment('cca_ssg', small_graph, epochs=3, hidden=8,
                             encoder='mlp', progress=False, verbose=False)
    assert metrics['config']['encoder'] == 'mlp'
    assert 0 <= metrics['test_acc_mean'] <= 100


def test_bad_options_fail_before_training(small_graph, monkeypatch):
    import graphcl.experiment as experiment

    def no_training(*args, **kwargs):
        raise AssertionError('trained despite a bad option')

    monkeypatch.setattr(experiment, 'pretrain', no_training)
    with pytest.raises(ValueError, match="'edge_drop'"):
        run_experiment('cca_ssg', small_graph, edge_drop=2.0,
                       progress=False, verbose=False)
    with pytest.raises(ValueError, match="'lambd'"):
        run_experiment('cca_ssg', small_graph, lambd=-1, progress=False,
                       verbose=False)
    with pytest.raises(ValueError, match='Unknown option'):
        run_experiment('cca_ssg', small_graph, tau=0.5, progress=False,
                       verbose=False)


def test_cli_help_shows_the_options(capsys):
    with pytest.raises(SystemExit) as e:
        main(['train', 'cca_ssg', '--help'])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for option in ('--encoder', '--hidden', '--layers', '--act',
                   '--edge-drop', '--feature-mask', '--lambd', '--epochs',
                   '--batch-size'):
        assert option in out, option
    assert 'CCA-SSG' in out
    assert '--tau' not in out


def test_cli_train(small_graph, tmp_path, capsys):
    path = tmp_path / 'g.pt'
    torch.save(small_graph, path)
    code = main(['train', 'cca_ssg', '--dataset', str(path), '--epochs',
                 '2', '--hidden', '8', '--lambd', '0.01', '--out',
                 str(tmp_path / 'run'), '--quiet'])
    assert code == 0, capsys.readouterr().err
    with open(tmp_path / 'run' / 'metrics.json') as f:
        assert json.load(f)['config']['lambd'] == 0.01


def test_short_cora_run_beats_a_random_encoder(shared_root):
    # Cora's preset at a small width and 15 epochs: the embeddings must be
    # clearly better than the same encoder's at initialisation.
    from graphcl.data import load_dataset
    data = load_dataset('Cora', root=shared_root)
    data.x = data.x / data.x.sum(1, keepdim=True).clamp_min(1e-12)
    torch.manual_seed(0)
    random_encoder = build_method('cca_ssg', data.num_features, seed=0,
                                  hidden=64)
    before = linear_probe(random_encoder.embed(data), data.y,
                          data.train_mask, data.val_mask, data.test_mask)
    metrics = run_experiment('cca_ssg', 'Cora', root=str(shared_root),
                             epochs=15, hidden=64, progress=False,
                             verbose=False)
    assert metrics['test_acc_mean'] > 100 * before.test_acc + 10
    assert metrics['test_acc_mean'] > 70


@pytest.mark.parametrize('method', ['cca_ssg', 'grace'])
def test_a_last_batch_of_one_seed_is_skipped(method, small_graph, tmp_path,
                                             capsys):
    # 40 nodes in batches of 39: each epoch ends with a batch of one seed,
    # on which the two-view losses are undefined; it is skipped and
    # counted, not a crash after the work of the epoch.
    run_experiment(method, small_graph, epochs=2, hidden=8, batch_size=39,
                   fanout=[3, 3], out=str(tmp_path), progress=False)
    assert '2 mini-batch(es) of fewer than 2 seed nodes skipped' in \
        capsys.readouterr().err
    seed = json.loads(next(tmp_path.rglob('seed_0.json')).read_text())
    assert seed['skipped_batches'] == 2
    assert seed['epochs'] == 2
