import json

import pytest
import torch

from graphcl.cli import main
from graphcl.data import synthetic_sbm
from graphcl.experiment import METRIC_KEYS, run_experiment


@pytest.fixture(scope='module')
def graph_file(tmp_path_factory):
    path = tmp_path_factory.mktemp('graph') / 'sbm.pt'
    torch.save(synthetic_sbm(500, avg_degree=5, num_features=12, seed=0),
               path)
    return path


def test_cli_minibatch_run(graph_file, tmp_path, capsys):
    out = tmp_path / 'run'
    code = main(['train', 'dgi', '--dataset', str(graph_file), '--batch-size',
                 '128', '--fanout', '4,3', '--hidden', '16', '--epochs', '3',
                 '--inference-batch-size', '100', '--out', str(out),
                 '--quiet'])
    assert code == 0
    assert 'test accuracy' in capsys.readouterr().out
    metrics = json.loads((out / 'metrics.json').read_text())
    assert tuple(metrics) == METRIC_KEYS  # same keys as full batch
    config = metrics['config']
    assert config['encoder'] == 'sage' and config['layers'] == 2
    assert config['fanout'] == [4, 3] and config['batch_size'] == 128
    assert config['world_size'] == 1
    assert torch.load(out / 'embeddings.pt').shape == (500, 16)


def test_minibatch_defaults_and_explicit_encoder(graph_file):
    kw = dict(epochs=1, progress=False, verbose=False, hidden=8)
    m = run_experiment('dgi', str(graph_file), batch_size=256, **kw)
    assert m['config']['fanout'] == [10, 10, 25]
    assert m['config']['layers'] == 3 and m['config']['encoder'] == 'sage'
    m = run_experiment('dgi', str(graph_file), batch_size=256, layers=2,
                       encoder='gcn', **kw)
    assert m['config']['fanout'] == [10, 10]
    assert m['config']['encoder'] == 'gcn'
    full = run_experiment('dgi', str(graph_file), **kw)  # full batch as before
    assert full['config']['encoder'] == 'gcn' and full['config']['layers'] == 1
    assert 'batch_size' not in full['config']


def test_ogb_metric_in_minibatch_mode(tmp_path, monkeypatch):
    data = synthetic_sbm(300, avg_degree=4, num_features=8, seed=0)
    data.ogb_name = 'ogbn-arxiv'
    path = tmp_path / 'ogb_like.pt'
    torch.save(data, path)
    import graphcl.data
    calls = []
    real = graphcl.data.ogb_node_metric

    def spy(name):
        metric = real(name)

        def wrapped(y_true, y_pred):
            calls.append(name)
            return metric(y_true, y_pred)
        return wrapped

    monkeypatch.setattr(graphcl.data, 'ogb_node_metric', spy)
    run_experiment('dgi', str(path), batch_size=100, fanout='3,3', epochs=1,
                   hidden=8, progress=False, verbose=False)
    assert calls and set(calls) == {'ogbn-arxiv'}


@pytest.mark.parametrize('args,needle', [
    (['--batch-size', '0'], '--batch-size must be a positive integer'),
    (['--batch-size', '-5'], '--batch-size must be a positive integer'),
    (['--batch-size', '64', '--fanout', '5,5', '--layers', '3'],
     '--fanout 5,5 gives 2 hop(s) but the encoder has 3 layer(s)'),
    (['--batch-size', '64', '--fanout', '5,x'], 'comma-separated integers'),
    (['--batch-size', '64', '--fanout', '0'], 'positive integers'),
    (['--fanout', '5,5'], 'add --batch-size'),
    (['--num-workers', '2'], 'add --batch-size'),
    (['--batch-size', '64', '--num-workers', '-1'], '--num-workers'),
])
def test_bad_minibatch_options(graph_file, args, needle, capsys):
    code = main(['train', 'dgi', '--dataset', str(graph_file), '--epochs',
                 '1', '--quiet'] + args)
    assert code == 2
    assert needle in capsys.readouterr().err


def test_unknown_ogb_name(capsys):
    code = main(['train', 'dgi', '--dataset', 'ogbn-arxiv2', '--batch-size',
                 '64', '--quiet'])
    assert code == 2
    assert "Unknown dataset 'ogbn-arxiv2'" in capsys.readouterr().err
