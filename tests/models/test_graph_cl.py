import json
import math

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch, Data

from graphs import mutag_held_out

from graphcl.graph_augment import (EdgePerturbation, GraphRandomChoice,
                                   NodeDropping, Subgraph)
from graphcl.models import build_method, get_method
from graphcl.models.graph_cl import (GraphCL, build_graphcl,
                                     inter_view_nt_xent)


def reference_loss(x: np.ndarray, x_aug: np.ndarray, T: float) -> float:
    # A numpy transcription of simclr.loss_cal in GraphCL's
    # unsupervised_TU/gsimclr.py.
    batch_size = x.shape[0]
    x_abs = np.linalg.norm(x, axis=1)
    x_aug_abs = np.linalg.norm(x_aug, axis=1)
    sim_matrix = np.einsum('ik,jk->ij', x, x_aug) / np.einsum(
        'i,j->ij', x_abs, x_aug_abs)
    sim_matrix = np.exp(sim_matrix / T)
    pos_sim = sim_matrix[range(batch_size), range(batch_size)]
    loss = pos_sim / (sim_matrix.sum(axis=1) - pos_sim)
    return float(-np.log(loss).mean())


def test_loss_by_hand():
    # cos: row 0 -> (1, 1/sqrt 2), row 1 -> (0, 1/sqrt 2); tau = 0.5:
    # l_0 = -1/tau + (1/sqrt 2)/tau = -2 + sqrt 2,
    # l_1 = -(1/sqrt 2)/tau + 0/tau = -sqrt 2; mean -1.
    z1 = torch.tensor([[1., 0.], [0., 1.]])
    z2 = torch.tensor([[1., 0.], [1., 1.]])
    assert inter_view_nt_xent(z1, z2, 0.5).item() == pytest.approx(-1.0)
    # Three rows: l_i = -s_ii/tau + log(sum_{k != i} exp(s_ik / tau)).
    z1 = torch.tensor([[1., 0.], [0., 2.], [3., 4.]])
    z2 = torch.tensor([[2., 0.], [0., -1.], [4., 3.]])
    cos = [[1, 0, .8], [0, -1, .6], [.6, -.8, .96]]
    tau = 0.2
    expected = np.mean([
        -cos[i][i] / tau + math.log(sum(math.exp(cos[i][k] / tau)
                                        for k in range(3) if k != i))
        for i in range(3)])
    assert inter_view_nt_xent(z1, z2, tau).item() == pytest.approx(
        expected, rel=1e-6)
    assert expected == pytest.approx(reference_loss(
        z1.numpy(), z2.numpy(), tau), rel=1e-6)


def test_loss_matches_reference_code_and_its_negatives():
    g = torch.Generator().manual_seed(0)
    z1 = torch.randn(17, 8, generator=g, dtype=torch.float64)
    z2 = torch.randn(17, 8, generator=g, dtype=torch.float64)
    for tau in (0.2, 0.5, 1.0):
        assert inter_view_nt_xent(z1, z2, tau).item() == pytest.approx(
            reference_loss(z1.numpy(), z2.numpy(), tau), rel=1e-10)
    # Only view 2's rows are negatives: row 0's gradient does not depend on
    # the other rows of view 1 (no intra-view negatives, and row 0 is no
    # negative of theirs).
    grads = []
    for rest in (z1[1:], torch.randn(16, 8, generator=g,
                                     dtype=torch.float64)):
        first = z1[:1].clone().requires_grad_()
        inter_view_nt_xent(torch.cat([first, rest]), z2, 0.2).backward()
        grads.append(first.grad)
    assert torch.allclose(grads[0], grads[1], rtol=1e-12, atol=0)


def test_loss_bad_input():
    with pytest.raises(ValueError, match='at least 2'):
        inter_view_nt_xent(torch.ones(1, 4), torch.ones(1, 4))
    with pytest.raises(ValueError, match='temperature'):
        inter_view_nt_xent(torch.ones(3, 4), torch.ones(3, 4), 0.0)
    with pytest.raises(ValueError, match='equal shape'):
        inter_view_nt_xent(torch.ones(3, 4), torch.ones(2, 4))


def graphs(count: int = 12, features: int = 5, seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(count):
        n = 4 + i % 9
        src = torch.randint(n, (2 * n, ), generator=g)
        dst = torch.randint(n, (2 * n, ), generator=g)
        ei = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], 1)
        out.append(Data(x=torch.randn(n, features, generator=g),
                        edge_index=ei, y=torch.tensor([i % 2])))
    return Batch.from_data_list(out)


def test_parts_are_the_reference_ones():
    model = build_graphcl(5, hidden=32, layers=3, seed=0)
    gnn = model.encoder.gnn
    assert gnn.num_layers == 3 and gnn.hidden_channels == 32
    assert gnn.norm == 'after'
    assert model.encoder.out_channels == 96
    lin1, lin2 = model.projector.lin1, model.projector.lin2
    assert (lin1.in_features, lin1.out_features, lin2.out_features) == (
        96, 96, 96)
    assert isinstance(model.projector.act, torch.nn.ReLU)
    assert model.view1 is None and model.tau == 0.2
    assert [type(a) for a in model.view2.augmentations] == [NodeDropping,
                                                            Subgraph]
    for m in model.modules():  # init_emb: zero biases
        if isinstance(m, torch.nn.Linear):
            assert bool((m.bias == 0).all())


def test_objective_and_embed():
    batch = graphs()
    model = build_graphcl(5, hidden=8, layers=2, aug2='random4', seed=0)
    loss = model.objective(batch)
    loss.backward()
    assert loss.dim() == 0 and torch.isfinite(loss)
    assert all(p.grad is not None for p in model.encoder.parameters())
    z = model.embed(batch)
    assert z.shape == (12, 16) and model.training
    # embed: eval mode, no augmentation, so the same every time.
    assert torch.equal(z, model.embed(batch))
    # The embeddings of a graph do not depend on its batch.
    sub = Batch.from_data_list(batch.to_data_list()[3:7])
    assert torch.allclose(model.embed(sub), z[3:7], atol=1e-5)


def test_seeded_views_are_reproducible():
    batch = graphs()
    losses = []
    for _ in range(2):
        torch.manual_seed(0)
        model = build_graphcl(5, hidden=8, layers=2, seed=3)
        losses.append([model.objective(batch).item() for _ in range(3)])
    assert losses[0] == losses[1]
    assert len(set(losses[0])) == 3  # fresh views every step


def test_two_augmented_views():
    batch = graphs()
    model = GraphCL(build_graphcl(5, hidden=8, layers=2).encoder,
                    torch.nn.Linear(16, 16),
                    view1=NodeDropping(0.2, generator=0),
                    view2=GraphRandomChoice([
                        Subgraph(0.5, generator=1),
                        EdgePerturbation(0.2, generator=2)], generator=3))
    assert torch.isfinite(model.objective(batch))


def test_bad_batches():
    model = build_graphcl(5, hidden=8, layers=2, seed=0)
    one = Batch.from_data_list(graphs().to_data_list()[:1])
    with pytest.raises(ValueError, match='batch of 1 graph.*at least 2'):
        model.objective(one)
    assert model.embed(one).shape == (1, 16)  # embedding one graph is fine
    single = graphs().to_data_list()[0]  # a Data, not a Batch
    assert torch.allclose(model.embed(single), model.embed(one), atol=1e-6)
    with pytest.raises(ValueError, match='batch of 1 graph'):
        model.objective(single)
    empty = Batch.from_data_list(graphs().to_data_list()[:3] + [Data(
        x=torch.empty(0, 5), edge_index=torch.empty(2, 0, dtype=torch.long),
        y=torch.tensor([0]))])
    with pytest.raises(ValueError, match='graphs without nodes'):
        model.objective(empty)
    nan = graphs()
    nan.x[3, 1] = float('nan')
    with pytest.raises(ValueError, match='NaN'):
        model.objective(nan)
    # Graphs without edges and with one node are fine.
    bare = Batch.from_data_list([Data(x=torch.randn(n, 5),
                                      edge_index=torch.empty(
                                          2, 0, dtype=torch.long))
                                 for n in (1, 1, 3, 5)])
    assert torch.isfinite(model.objective(bare))


def test_bad_options_name_the_option():
    for options, match in ((dict(tau=0), "'tau'"),
                           (dict(aug2='random5'), "'aug2'"),
                           (dict(aug_ratio=1.5), "'aug_ratio'"),
                           (dict(subgraph_ratio=-1), "'subgraph_ratio'"),
                           (dict(hidden=0), "'hidden'"),
                           (dict(add_edges='yes'), "'add_edges'")):
        with pytest.raises(ValueError, match=match):
            build_graphcl(5, **options)


def test_registration():
    spec = get_method('graphcl')
    assert spec.level == 'graph'
    assert spec.train_defaults['epochs'] == 20
    assert spec.train_defaults['lr'] == 0.01
    assert spec.train_defaults['batch_size'] == 128
    assert spec.preset('NCI1') == {'aug2': 'random2'}
    assert spec.preset('imdb-binary') == {'aug2': 'random4'}
    assert 'Shen-Lab/GraphCL' in spec.source
    model = build_method('graphcl', 7, seed=0, aug2='random3')
    assert isinstance(model, GraphCL)


def labelled_graphs(count: int = 24):
    out = graphs(count).to_data_list()
    for i, d in enumerate(out):
        d.y = torch.tensor([i % 2])
    return out


def test_engine_run_writes_its_settings(tmp_path):
    from graphcl import run_experiment
    out = tmp_path / 'run'
    m = run_experiment('graphcl', labelled_graphs(), seeds=1, out=str(out),
                       hidden=8, layers=2, epochs=2, batch_size=8,
                       aug2='random3', probe=False, progress=False,
                       verbose=False)
    saved = json.loads((out / 'metrics.json').read_text())
    assert saved['config']['aug2'] == 'random3'
    assert saved['config']['tau'] == 0.2 and saved['config']['lr'] == 0.01
    assert saved['config']['epochs'] == 2 == m['config']['epochs']


def test_bad_options_fail_before_training(monkeypatch):
    import graphcl.experiment as experiment
    import graphcl.experiment_graph as experiment_graph
    from graphcl import run_experiment

    def never(*args, **kwargs):
        raise AssertionError('pretrain must not run')
    monkeypatch.setattr(experiment_graph, 'pretrain', never)
    monkeypatch.setattr(experiment, 'pretrain', never)
    for options, match in ((dict(tau=-1), "'tau'"),
                           (dict(aug1='shuffle'), "'aug1'"),
                           (dict(aug_ratio=2), "'aug_ratio'")):
        with pytest.raises(ValueError, match=match):
            run_experiment('graphcl', labelled_graphs(), verbose=False,
                           progress=False, **options)


@pytest.mark.slow
def test_mutag_reaches_the_issue_target(shared_root):
    # One seed of the benchmark's run (measured: 86.2-88.3 over seeds 0-4;
    # an untrained encoder scores about as well on MUTAG, see
    # benchmarks/results/graphcl.md).
    from graphcl import run_experiment
    torch.set_num_threads(1)
    m = run_experiment('graphcl', 'MUTAG', seeds=[0], root=str(shared_root),
                       progress=False, verbose=False)
    assert m['test_acc_mean'] >= 85.5


def test_cli_help_shows_graphcl_options(capsys):
    from graphcl.cli import main
    with pytest.raises(SystemExit) as e:
        main(['train', 'graphcl', '--help'])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for option in ('--hidden', '--layers', '--aug1', '--aug2',
                   '--aug-ratio', '--subgraph-ratio', '--no-add-edges',
                   '--tau', '--batch-size', '--epochs'):
        assert option in out, option
    assert 'Shen-Lab/GraphCL' in out


def test_cli_train_then_embed_on_mutag(shared_root, tmp_path, capsys):
    from graphcl.cli import main
    out = tmp_path / 'run'
    assert main(['train', 'graphcl', '--dataset', 'MUTAG', '--root',
                 str(shared_root), '--epochs', '1', '--hidden', '4',
                 '--layers', '2', '--aug2', 'random4', '--no-probe',
                 '--threads', '1', '--quiet', '--out', str(out)]) == 0
    config = json.loads((out / 'metrics.json').read_text())['config']
    assert config['aug2'] == 'random4' and config['hidden'] == 4
    z = torch.load(out / 'embeddings.pt')
    assert z.shape == (188, 8)
    # graphcl embed rebuilds the method: the same graph embeddings.
    assert main(['embed', '--encoder', str(out), '--dataset', 'MUTAG',
                 '--root', str(shared_root), '--out',
                 str(tmp_path / 'z.pt'), '--quiet']) == 0
    assert torch.allclose(torch.load(tmp_path / 'z.pt'), z, atol=1e-5)


def test_short_mutag_run_beats_a_random_encoder(shared_root):
    # Pretrained on 150 of MUTAG's graphs for 10 epochs, GraphCL tells a
    # held-out graph's augmented view from the other held-out graphs'
    # views better than the same encoder at initialisation: its NT-Xent
    # loss on the 38 held-out graphs (the same 5 pairs of views before and
    # after) falls. Measured: 3.03 at init, 2.57 trained (augmentation
    # seeds 1 and 2: 3.02 -> 2.59, 2.77 -> 2.41). MUTAG's SVM
    # accuracy is not the yardstick here: an untrained GIN already scores
    # about 86%, within the seed noise of a trained one
    # (benchmarks/results/graph_methods.md has both).
    from graphcl.experiment_graph import _graph_loader
    from graphcl.train import pretrain
    data, train, held_out = mutag_held_out(shared_root)

    torch.manual_seed(0)
    model = build_method('graphcl', data.num_features, seed=0)
    # five pairs of views of the held-out graphs, drawn once
    views = [(model._view(model.view1, held_out),
              model._view(model.view2, held_out))
             for _ in range(5)]

    def held_out_loss(model):
        model.train()  # batch statistics, as the objective sees them
        with torch.no_grad():
            return sum(model.loss(model._encode(v1), model._encode(v2))
                       .item() for v1, v2 in views) / len(views)

    before = held_out_loss(model)
    loader = _graph_loader(train, 32, shuffle=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    pretrain(model, model.objective, opt, epochs=10, patience=0,
             batches=lambda: loader, batch_size=lambda b: b.num_graphs,
             min_batch_size=2, restore_best=False)
    after = held_out_loss(model)
    print(f'held-out NT-Xent: {before:.3f} at init, {after:.3f} trained')
    assert after < before - 0.2
