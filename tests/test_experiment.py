import json
import math

import pytest
import torch

from graphcl.eval import PROBE_PROTOCOL
from graphcl.experiment import METRIC_KEYS, PROBE_KEYS, run_experiment
from graphcl.nn import GCNEncoder

EXPECTED_KEYS = {'method', 'dataset', 'seeds', 'epochs', 'seconds_per_epoch',
                 'pretrain_seconds', 'probe_seconds', 'val_acc',
                 'val_acc_mean', 'test_acc', 'test_acc_mean', 'test_acc_std',
                 'probe_weight_decay', 'probe_grid', 'probe_protocol',
                 'peak_rss_mb', 'config'}
QUIET = dict(progress=False, verbose=False)


def check_metrics(metrics, num_seeds, epochs):
    assert set(metrics) == EXPECTED_KEYS == set(METRIC_KEYS)
    assert metrics['method'] == 'dgi'
    assert isinstance(metrics['dataset'], str)
    assert metrics['seeds'] == list(range(num_seeds))
    assert len(metrics['epochs']) == num_seeds
    assert all(1 <= e <= epochs for e in metrics['epochs'])
    assert len(metrics['test_acc']) == num_seeds
    assert all(0.0 <= a <= 100.0 for a in metrics['test_acc'])
    accs = metrics['test_acc']
    mean = sum(accs) / len(accs)
    assert metrics['test_acc_mean'] == pytest.approx(mean)
    std = math.sqrt(sum((a - mean) ** 2 for a in accs) / len(accs))
    assert metrics['test_acc_std'] == pytest.approx(std)
    assert 0.0 <= metrics['val_acc_mean'] <= 100.0
    assert metrics['val_acc_mean'] == pytest.approx(
        sum(metrics['val_acc']) / num_seeds)
    # Per-seed selection (the default): each seed's accuracies are the row
    # of its grid at its own weight decay, the first with the best
    # validation accuracy.
    assert metrics['config']['probe_selection'] == 'per-seed'
    assert metrics['probe_protocol'] == PROBE_PROTOCOL
    assert len(metrics['probe_grid']) == len(metrics['probe_weight_decay'])
    for grid, wd, val, test in zip(metrics['probe_grid'],
                                   metrics['probe_weight_decay'],
                                   metrics['val_acc'], metrics['test_acc']):
        assert max(grid, key=lambda row: row[1]) == [wd, val, test]
    for key in ('seconds_per_epoch', 'pretrain_seconds', 'probe_seconds',
                'peak_rss_mb'):
        assert isinstance(metrics[key], float) and metrics[key] > 0, key
    assert metrics['config']['epochs'] == epochs
    assert metrics['config']['seeds'] == list(range(num_seeds))


def test_run_experiment_writes_everything(small_graph, tmp_path):
    x_before = small_graph.x.clone()
    out = tmp_path / 'run'
    metrics = run_experiment('dgi', small_graph, seeds=2, epochs=5,
                             hidden=16, out=str(out), **QUIET)
    check_metrics(metrics, 2, 5)
    assert metrics['config']['hidden'] == 16
    assert torch.equal(small_graph.x, x_before)  # the input is not modified

    with open(out / 'metrics.json') as f:
        saved = json.load(f)
    assert saved == json.loads(json.dumps(metrics))

    z = torch.load(out / 'embeddings.pt', weights_only=True)
    assert z.shape == (small_graph.num_nodes, 16)
    assert torch.isfinite(z).all()
    state = torch.load(out / 'encoder.pt', weights_only=True)
    encoder = GCNEncoder(small_graph.num_features, 16)
    encoder.load_state_dict(state)  # strict: same architecture


def test_probe_selection_pooled_and_per_seed(small_graph):
    common = dict(seeds=3, epochs=3, hidden=8, **QUIET)
    pooled = run_experiment('dgi', small_graph, probe_selection='pooled',
                            **common)
    per_seed = run_experiment('dgi', small_graph, **common)
    assert pooled['config']['probe_selection'] == 'pooled'
    assert per_seed['config']['probe_selection'] == 'per-seed'
    # Same pretraining, so the same grids; only the choice differs.
    assert pooled['probe_grid'] == per_seed['probe_grid']
    grids = pooled['probe_grid']
    decays = [row[0] for row in grids[0]]
    mean_val = [sum(g[j][1] for g in grids) / 3 for j in range(len(decays))]
    assert pooled['probe_weight_decay'] == \
        decays[mean_val.index(max(mean_val))]
    for grid, val, test in zip(grids, pooled['val_acc'], pooled['test_acc']):
        assert [row[1:] for row in grid
                if row[0] == pooled['probe_weight_decay']] == [[val, test]]
    # Each seed's own best validation score bounds the pooled one.
    assert per_seed['val_acc_mean'] >= pooled['val_acc_mean']
    with pytest.raises(ValueError, match='probe selection'):
        run_experiment('dgi', small_graph, probe_selection='test', **common)


def test_same_seed_same_result(small_graph):
    a = run_experiment('dgi', small_graph, seeds=[3], epochs=3, hidden=8,
                       **QUIET)
    b = run_experiment('dgi', small_graph, seeds=[3], epochs=3, hidden=8,
                       **QUIET)
    assert a['test_acc'] == b['test_acc'] and a['seeds'] == [3]


def test_networkx_graph(graph_factory):
    import networkx as nx
    data = graph_factory(num_nodes=30)
    G = nx.Graph()
    for i in range(data.num_nodes):
        G.add_node(i, x=data.x[i].tolist(), y=int(data.y[i]))
    G.add_edges_from(data.edge_index.t().tolist())
    metrics = run_experiment('dgi', G, epochs=2, hidden=8, **QUIET)
    assert set(metrics) == EXPECTED_KEYS
    assert metrics['dataset'] == 'networkx'


def test_saved_file(small_graph, tmp_path):
    path = tmp_path / 'ring.pt'
    torch.save(small_graph, path)
    metrics = run_experiment('dgi', str(path), epochs=2, hidden=8, **QUIET)
    assert metrics['dataset'] == 'ring'


def test_bad_data(bad_case):
    case, data, needle = bad_case
    with pytest.raises(ValueError, match='Invalid node data') as e:
        run_experiment('dgi', data, epochs=2, hidden=8, **QUIET)
    assert needle in str(e.value)


@pytest.mark.parametrize('keep', [None, 'best', 'last'])
def test_keep_best_or_last_state(small_graph, keep, monkeypatch):
    import graphcl.experiment as experiment
    seen = []

    def spy(*args, **kwargs):
        seen.append(kwargs['restore_best'])
        return pretrain(*args, **kwargs)

    pretrain = experiment.pretrain
    monkeypatch.setattr(experiment, 'pretrain', spy)
    m = run_experiment('dgi', small_graph, seeds=[0], epochs=3, hidden=8,
                       keep=keep, **QUIET)
    assert seen == [keep != 'last']
    assert m['config']['keep'] == (keep or 'best')
    # GRACE evaluates its last state, as its reference code does
    m = run_experiment('grace', small_graph, seeds=[0], epochs=2, hidden=8,
                       proj_hidden=8, **QUIET)
    assert m['config']['keep'] == 'last' and seen[-1] is False


def test_the_method_configures_its_optimizer(small_graph, monkeypatch):
    # The engine trains with the optimiser the method's
    # configure_optimizer returns, given the run's lr and weight decay.
    from graphcl.models.base import GraphMethod
    seen = []
    configure = GraphMethod.configure_optimizer

    def spy(self, lr, weight_decay=0.0):
        seen.append((type(self).__name__, lr, weight_decay))
        opt = configure(self, lr=lr, weight_decay=weight_decay)
        seen.append(opt)
        return opt

    monkeypatch.setattr(GraphMethod, 'configure_optimizer', spy)
    run_experiment('dgi', small_graph, seeds=[0], epochs=2, hidden=8,
                   lr=0.003, weight_decay=1e-4, **QUIET)
    assert seen[0] == ('DeepGraphInfomax', 0.003, 1e-4)
    assert type(seen[1]) is torch.optim.Adam and seen[1].state


@pytest.mark.parametrize('kwargs,match', [
    (dict(method='graphmae9'), "Unknown method 'graphmae9'"),
    (dict(dataset='Coraa'), "Unknown dataset 'Coraa'"),
    (dict(corruption='scramble'), "Unknown corruption 'scramble'"),
    (dict(encoder='mlp'), "Unknown encoder 'mlp'"),
    (dict(loss='hinge'), "Unknown loss 'hinge'"),
    (dict(hiden=8), r"Unknown option\(s\) \['hiden'\]"),
    (dict(epochs=0), 'epochs'),
    (dict(seeds=[]), 'seeds'),
    (dict(patience=-1), 'patience'),
    (dict(keep='final'), "'keep' is 'final'; use one of \\['best', 'last'\\]"),
])
def test_bad_options(small_graph, kwargs, match, monkeypatch):
    # Refused before any training starts.
    import graphcl.experiment as experiment

    def no_training(*args, **kw):
        raise AssertionError('training started')

    monkeypatch.setattr(experiment, 'pretrain', no_training)
    args = dict(method='dgi', dataset=small_graph, epochs=2, hidden=8)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        run_experiment(args.pop('method'), args.pop('dataset'), **args,
                       **QUIET)


def test_bad_data_refused_before_training(small_graph, monkeypatch):
    import graphcl.experiment as experiment

    def no_training(*args, **kw):
        raise AssertionError('training started')

    monkeypatch.setattr(experiment, 'pretrain', no_training)
    small_graph.x[0, 0] = float('nan')
    with pytest.raises(ValueError, match='NaN'):
        run_experiment('dgi', small_graph, epochs=2, hidden=8, **QUIET)


def test_file_without_labels_pretrains(small_graph, tmp_path, capsys):
    for key in ('y', 'train_mask', 'val_mask', 'test_mask'):
        delattr(small_graph, key)
    path = tmp_path / 'unlabelled.pt'
    torch.save(small_graph, path)
    m = run_experiment('dgi', str(path), epochs=2, hidden=8, progress=False,
                       out=str(tmp_path / 'run'))
    assert 'linear probe is skipped' in capsys.readouterr().err
    assert set(m) == set(METRIC_KEYS) and m['epochs'] == [2]
    assert all(m[key] is None for key in PROBE_KEYS)
    z = torch.load(tmp_path / 'run' / 'embeddings.pt', weights_only=True)
    assert z.shape == (small_graph.num_nodes, 8)
    assert (tmp_path / 'run' / 'encoder.pt').exists()


def test_no_probe_on_labelled_data(small_graph):
    m = run_experiment('dgi', small_graph, epochs=2, hidden=8, probe=False,
                       **QUIET)
    assert m['test_acc'] is None and m['config']['probe'] is False


def test_config_records_data_root_and_version(small_graph, monkeypatch,
                                              tmp_path):
    import graphcl
    from graphcl.experiment import _data_root
    m = run_experiment('dgi', small_graph, epochs=1, hidden=8, **QUIET)
    assert m['config']['version'] == graphcl.__version__
    assert m['config']['data_root'] is None  # an object, not a name
    monkeypatch.setenv('GRAPHCL_DATA', str(tmp_path))
    assert _data_root('Cora', None) == str(tmp_path)
    assert _data_root('Cora', '/elsewhere') == '/elsewhere'


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        run_experiment('dgi', str(tmp_path / 'nope.pt'), epochs=2, **QUIET)


def test_cuda_unavailable(small_graph):
    if torch.cuda.is_available():
        pytest.skip('CUDA is available here')
    with pytest.raises(ValueError, match='CUDA'):
        run_experiment('dgi', small_graph, device='cuda', epochs=2, **QUIET)


@pytest.mark.parametrize('layout', ['sparse_csr', 'sparse_coo',
                                    'sparse_csc'])
@pytest.mark.parametrize('method', ['dgi', 'grace'])
def test_sparse_features_train_as_the_dense_ones(method, layout,
                                                 small_graph, capsys):
    # A user's graph with sparse node features (e.g. bag-of-words built as
    # a torch sparse tensor) trains as its dense twin, with a note; before,
    # the row normalisation failed inside PyTorch.
    dense = run_experiment(method, small_graph, epochs=2, hidden=8,
                           progress=False, verbose=False)
    sparse = small_graph.clone()
    sparse.x = {'sparse_csr': sparse.x.to_sparse_csr,
                'sparse_coo': sparse.x.to_sparse,
                'sparse_csc': sparse.x.to_sparse_csc}[layout]()
    got = run_experiment(method, sparse, epochs=2, hidden=8,
                         progress=False)
    assert got['test_acc'] == dense['test_acc']
    assert f'data.x is {layout}: made dense (40 x 6' in capsys.readouterr(
        ).err
    assert sparse.x.layout != torch.strided  # the caller's graph untouched


def test_summary_keeps_seed_order_and_population_std():
    # _summarise on hand-made per-seed results (no training): each seed's
    # numbers stay in seed order, the std is the population one that
    # config['std'] names, and 'pooled' reports every seed at one decay
    # chosen on the mean validation score, never on test.
    from graphcl.eval import ProbeResult
    from graphcl.experiment import _probe_from_json, _summarise
    from graphcl.stats import STD_CONVENTION

    def run(seed, grid):
        best = max(grid, key=lambda g: g[1])
        return dict(seed=seed, dataset='toy', epochs=1, seconds=1.0,
                    seconds_per_epoch=1.0, probe_seconds=0.0,
                    probe=ProbeResult(best[1], best[2], best[0],
                                      tuple(grid)))
    runs = [run(7, [(0.0, 0.50, 0.40), (1e-3, 0.60, 0.30)]),
            run(2, [(0.0, 0.70, 0.90), (1e-3, 0.65, 0.10)]),
            run(5, [(0.0, 0.55, 0.80), (1e-3, 0.58, 0.20)])]
    # A seed read back from its seeds/seed_N.json (resume) is the same.
    runs[1]['probe'] = _probe_from_json(dict(
        val_acc=0.70, test_acc=0.90, weight_decay=0.0,
        grid=[[0.0, 0.70, 0.90], [1e-3, 0.65, 0.10]]))
    config = dict(std=STD_CONVENTION)
    m = _summarise('dgi', [7, 2, 5], runs, 'per-seed', config, False)
    assert m['seeds'] == [7, 2, 5]
    assert m['test_acc'] == pytest.approx([30.0, 90.0, 20.0])
    assert m['val_acc'] == pytest.approx([60.0, 70.0, 58.0])
    assert m['probe_weight_decay'] == [1e-3, 0.0, 1e-3]
    mean = (30 + 90 + 20) / 3
    assert m['test_acc_mean'] == pytest.approx(mean)
    assert m['test_acc_std'] == pytest.approx(math.sqrt(
        ((30 - mean) ** 2 + (90 - mean) ** 2 + (20 - mean) ** 2) / 3))
    assert 'population' in m['config']['std']
    # Pooled: mean validation 0.5833 at 0.0 against 0.61 at 1e-3.
    p = _summarise('dgi', [7, 2, 5], runs, 'pooled', config, False)
    assert p['probe_weight_decay'] == 1e-3
    assert p['test_acc'] == pytest.approx([30.0, 10.0, 20.0])
    assert p['probe_grid'] == m['probe_grid']
