import json

import pytest
import torch
from torch_geometric.data import Data

from graphcl import run_experiment
from graphcl.experiment import METRIC_KEYS
from graphcl.experiment_graph import GRAPH_METRIC_KEYS, embed_graphs
from graphcl.models import build_method

SMALL = dict(hidden=8, layers=2, epochs=2, batch_size=16, progress=False,
             verbose=False)


def two_kinds(n_per_class=20, labelled=True, seed=0):
    # Class 0: cycles; class 1: stars; 4-9 nodes, constant features.
    gen = torch.Generator().manual_seed(seed)
    out = []
    for label in (0, 1):
        for _ in range(n_per_class):
            n = int(torch.randint(4, 10, (1,), generator=gen))
            if label == 0:
                src = torch.arange(n)
                dst = (src + 1) % n
            else:
                src = torch.zeros(n - 1, dtype=torch.long)
                dst = torch.arange(1, n)
            ei = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
            d = Data(x=torch.ones(n, 2), edge_index=ei)
            if labelled:
                d.y = torch.tensor([label])
            out.append(d)
    return out


def test_kinds_must_match_both_ways():
    with pytest.raises(ValueError, match="'dgi' is node-level.*'MUTAG' is a "
                       "graph-level dataset.*infograph"):
        run_experiment('dgi', 'MUTAG')
    with pytest.raises(ValueError, match="'infograph' is graph-level.*"
                       "'Cora' is a node-level dataset"):
        run_experiment('infograph', 'Cora')
    with pytest.raises(ValueError, match='one Data graph'):
        run_experiment('infograph', two_kinds()[0], **SMALL)


def test_node_only_settings_and_bad_settings_fail_before_loading(
        monkeypatch):
    import graphcl.data.graphs as graphs
    monkeypatch.setattr(graphs, 'load_graphs', lambda *a, **k: 1 / 0)
    with pytest.raises(ValueError, match='--fanout applies to node-level'):
        run_experiment('infograph', 'MUTAG', fanout='10,10')
    with pytest.raises(ValueError, match='--batch-size'):
        run_experiment('infograph', 'MUTAG', batch_size=1)
    with pytest.raises(ValueError, match="'hidden'"):
        run_experiment('infograph', 'MUTAG', hidden=0)
    with pytest.raises(ValueError, match='Unknown option'):
        run_experiment('infograph', 'MUTAG', tau=0.5)


def test_run_writes_metrics_embeddings_and_resumes(tmp_path):
    data = two_kinds()
    out = tmp_path / 'run'
    m = run_experiment('infograph', data, seeds=2, out=str(out), **SMALL)
    assert set(METRIC_KEYS) | set(GRAPH_METRIC_KEYS) <= set(m)
    assert m['epochs'] == [2, 2] and len(m['test_acc']) == 2
    assert all(len(f) == 10 for f in m['fold_scores'])
    assert m['test_acc'][0] == pytest.approx(
        sum(m['fold_scores'][0]) / 10)
    assert m['metric'] == 'accuracy' and 'SVM' in m['protocol']
    assert m['config']['batch_size'] == 16 and m['config']['keep'] == 'last'
    saved = json.loads((out / 'metrics.json').read_text())
    assert saved['test_acc'] == m['test_acc']
    z = torch.load(out / 'embeddings.pt')
    assert z.shape == (40, 2 * 8)  # one row per graph: layers x hidden
    info = json.loads((out / 'model.json').read_text())
    assert info['level'] == 'graph' and info['in_channels'] == 2
    # The first seed's embeddings are the encoder's, in dataset order.
    torch.manual_seed(0)
    model = build_method('infograph', 2, hidden=8, layers=2)
    model.encoder.load_state_dict(torch.load(out / 'encoder.pt'))
    assert torch.allclose(embed_graphs(model, data), z, atol=1e-5)
    # Seeds finished are read back, with the same metrics.
    again = run_experiment('infograph', data, seeds=2, out=str(out),
                           resume=True, **SMALL)
    assert again['test_acc'] == m['test_acc']
    assert again['fold_scores'] == m['fold_scores']


def test_same_seed_same_result(tmp_path):
    data = two_kinds()
    runs = [tmp_path / 'a', tmp_path / 'b']
    for out in runs:
        run_experiment('infograph', data, seeds=[3], probe=False,
                       out=str(out), **SMALL)
    a, b = (json.loads((out / 'seeds' / 'seed_3.json').read_text())
            for out in runs)
    assert a['losses'] == b['losses']
    assert torch.equal(torch.load(runs[0] / 'embeddings.pt'),
                       torch.load(runs[1] / 'embeddings.pt'))


def test_unlabelled_graphs_pretrain_only():
    m = run_experiment('infograph', two_kinds(labelled=False), **SMALL)
    assert m['test_acc_mean'] is None and m['fold_scores'] is None
    assert m['epochs'] == [2]


@pytest.mark.parametrize('bad,match', [
    (lambda gs: gs[:1], 'at least two'),
    (lambda gs: gs[:5] + [Data(x=torch.ones(0, 2), edge_index=torch.empty(
        2, 0, dtype=torch.long), y=torch.tensor([0]))] + gs[5:],
     'Graph 5 .* no nodes'),
    (lambda gs: gs[:3] + [Data(edge_index=torch.empty(2, 0,
                                                      dtype=torch.long),
                               num_nodes=3, y=torch.tensor([0]))],
     'no node features'),
    (lambda gs: gs[:3] + [Data(x=torch.ones(3, 5), edge_index=torch.empty(
        2, 0, dtype=torch.long), y=torch.tensor([0]))], 'same feature width'),
    (lambda gs: gs[:3] + [Data(x=torch.ones(3, 2), edge_index=torch.tensor(
        [[0], [7]]), y=torch.tensor([0]))], 'outside'),
    (lambda gs: gs[:3] + [Data(x=torch.ones(3, 2), edge_index=torch.empty(
        2, 0, dtype=torch.long))], 'have no label'),
])
def test_bad_datasets_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        run_experiment('infograph', bad(two_kinds()), **SMALL)


def test_official_split_uses_the_linear_probe():
    from graphcl.data.graphs import prepare_graphs
    from graphcl.eval import ProbeResult
    from graphcl.experiment_graph import evaluate_graphs
    gs = two_kinds()
    perm = torch.randperm(40, generator=torch.Generator().manual_seed(0))
    split = dict(train=perm[:20], valid=perm[20:30], test=perm[30:])
    data = prepare_graphs(gs, 'toy', split_idx=split)
    # Embeddings that carry the label: the probe separates them.
    z = torch.cat([data.y.float(), torch.randn(40, 3)], 1)
    fit = evaluate_graphs(z, data)
    assert isinstance(fit, ProbeResult) and fit.test_acc == 1.0


def test_no_graphs_to_embed():
    model = build_method('infograph', 2, hidden=4, layers=1)
    with pytest.raises(ValueError, match='No graphs'):
        embed_graphs(model, [])


def test_one_hot_columns():
    from graphcl.data.graphs import one_hot_columns
    x = torch.tensor([[0, 2], [1, 0]])
    assert one_hot_columns(x, [2, 3]).tolist() == [[1, 0, 0, 0, 1],
                                                   [0, 1, 1, 0, 0]]
    with pytest.raises(ValueError, match='outside'):
        one_hot_columns(x, [2, 2])


@pytest.mark.slow
def test_ogb_molecules_use_the_scaffold_split_and_rocauc(shared_root):
    m = run_experiment('infograph', 'ogbg-molbace', root=shared_root,
                       epochs=1, hidden=8, layers=2, progress=False,
                       verbose=False)
    assert m['dataset'] == 'ogbg-molbace' and m['metric'] == 'rocauc'
    assert m['fold_scores'] is None and 'official split' in m['protocol']
    assert 0 < m['test_acc'][0] <= 100 and m['probe_weight_decay'][0] >= 0


def test_graph_methods_configure_their_optimizer(monkeypatch):
    from graphcl.models.base import GraphMethod
    seen = []
    configure = GraphMethod.configure_optimizer

    def spy(self, lr, weight_decay=0.0):
        seen.append((type(self).__name__, lr, weight_decay))
        return configure(self, lr=lr, weight_decay=weight_decay)

    monkeypatch.setattr(GraphMethod, 'configure_optimizer', spy)
    run_experiment('graphcl', two_kinds(), seeds=[0], lr=0.002, probe=False,
                   **SMALL)
    assert seen == [('GraphCL', 0.002, 0.0)]
