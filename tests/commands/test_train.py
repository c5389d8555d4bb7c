r"""``graphcl train METHOD`` through :func:`graphcl.cli.main`."""
import json

import pytest
import torch

from graphcl.cli import main

EXPECTED_KEYS = {'method', 'dataset', 'seeds', 'epochs', 'seconds_per_epoch',
                 'pretrain_seconds', 'probe_seconds', 'val_acc',
                 'val_acc_mean', 'test_acc', 'test_acc_mean', 'test_acc_std',
                 'probe_weight_decay', 'probe_grid', 'probe_protocol',
                 'peak_rss_mb', 'config'}


@pytest.fixture
def graph_file(small_graph, tmp_path):
    path = tmp_path / 'small.pt'
    torch.save(small_graph, path)
    return path


def test_train(graph_file, tmp_path, capsys):
    out = tmp_path / 'out'
    code = main(['train', 'dgi', '--dataset', str(graph_file), '--epochs',
                 '5', '--seeds', '2', '--hidden', '16', '--out', str(out),
                 '--quiet'])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert 'dgi on small: test accuracy' in captured.out
    assert 'over 2 seeds' in captured.out
    with open(out / 'metrics.json') as f:
        metrics = json.load(f)
    assert set(metrics) == EXPECTED_KEYS
    assert metrics['seeds'] == [0, 1] and len(metrics['test_acc']) == 2
    assert metrics['config']['hidden'] == 16
    assert metrics['config']['epochs'] == 5
    assert metrics['config']['disc_init'] == 'xavier'
    assert metrics['config']['probe_selection'] == 'per-seed'
    assert len(metrics['probe_weight_decay']) == 2
    z = torch.load(out / 'embeddings.pt', weights_only=True)
    assert z.shape == (40, 16)
    state = torch.load(out / 'encoder.pt', weights_only=True)
    assert all(torch.is_tensor(v) for v in state.values())


@pytest.mark.parametrize('keep', [False, True])
def test_train_flushes_denormals_unless_told(keep, graph_file, tmp_path,
                                             capsys):
    # A process-wide setting, applied by the command on the CPU (not by
    # run_experiment): subnormal floats become 0 unless --keep-denormals.
    from graphcl.perf import denormals_flushed, flush_denormals
    args = ['train', 'dgi', '--dataset', str(graph_file), '--epochs', '2',
            '--hidden', '8', '--quiet', '--no-probe']
    assert main(args + (['--keep-denormals'] if keep else [])) == 0, \
        capsys.readouterr().err
    flushed = denormals_flushed()
    supported = flush_denormals()  # (the conftest fixture restores it)
    assert flushed is (supported and not keep)


def test_train_pooled_probe_selection(graph_file, tmp_path, capsys):
    out = tmp_path / 'out'
    code = main(['train', 'dgi', '--dataset', str(graph_file), '--epochs',
                 '3', '--seeds', '2', '--hidden', '8', '--out', str(out),
                 '--quiet', '--probe-selection', 'pooled'])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert 'chosen on the validation accuracy averaged over 2 seeds' in \
        captured.err
    with open(out / 'metrics.json') as f:
        metrics = json.load(f)
    assert metrics['config']['probe_selection'] == 'pooled'
    assert isinstance(metrics['probe_weight_decay'], float)


def run_bad(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2
    assert 'graphcl: error: ' in captured.err
    return captured.err


def test_bad_data_file(bad_case, tmp_path, capsys):
    case, data, needle = bad_case
    path = tmp_path / 'bad.pt'
    torch.save(data, path)
    err = run_bad(['train', 'dgi', '--dataset', str(path), '--epochs', '2',
                   '--quiet'], capsys)
    assert needle in err


@pytest.mark.parametrize('args,needle', [
    (['--dataset', 'Coraa'], "Unknown dataset 'Coraa'"),
    (['--corruption', 'scramble'], "Unknown corruption 'scramble'"),
    (['--encoder', 'mlp'], "Unknown encoder 'mlp'"),
    (['--loss', 'hinge'], "Unknown loss 'hinge'"),
    (['--epochs', '0'], 'epochs'),
])
def test_bad_options(graph_file, args, needle, capsys):
    argv = ['train', 'dgi', '--dataset', str(graph_file), '--epochs', '2',
            '--quiet'] + args
    assert needle in run_bad(argv, capsys)


def test_unknown_method(graph_file, capsys):
    with pytest.raises(SystemExit) as exc:
        main(['train', 'grace9', '--dataset', str(graph_file), '--quiet'])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'grace9'" in err and "'dgi'" in err


def test_file_without_labels_pretrains(small_graph, tmp_path, capsys):
    del small_graph.y
    path = tmp_path / 'unlabelled.pt'
    torch.save(small_graph, path)
    out = tmp_path / 'run'
    code = main(['train', 'dgi', '--dataset', str(path), '--quiet',
                 '--epochs', '2', '--hidden', '8', '--out', str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert 'no probe' in captured.out
    assert 'linear probe is skipped (the graph has no labels' in captured.err
    assert torch.load(out / 'embeddings.pt', weights_only=True).shape == \
        (small_graph.num_nodes, 8)


def test_no_probe_flag(graph_file, capsys):
    code = main(['train', 'dgi', '--dataset', str(graph_file), '--quiet',
                 '--epochs', '2', '--hidden', '8', '--no-probe'])
    captured = capsys.readouterr()
    assert code == 0 and 'no probe' in captured.out
    assert 'skipped (--no-probe)' in captured.err


def test_missing_file(tmp_path, capsys):
    err = run_bad(['train', 'dgi', '--dataset', str(tmp_path / 'x.pt'),
                   '--quiet'], capsys)
    assert 'does not exist' in err


def test_not_a_graph_file(tmp_path, capsys):
    path = tmp_path / 'tensor.pt'
    torch.save(torch.zeros(3), path)
    err = run_bad(['train', 'dgi', '--dataset', str(path), '--quiet'],
                  capsys)
    assert 'torch_geometric.data.Data' in err


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(['train', 'dgi'])  # --dataset is required
    assert e.value.code == 2
    assert '--dataset' in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(['train', 'dgi', '--dataset', 'Cora', '--epochs', 'many'])
    assert e.value.code == 2
    capsys.readouterr()
    for seeds in ('0', '1,1'):
        with pytest.raises(SystemExit) as e:
            main(['train', 'dgi', '--dataset', 'Cora', '--seeds', seeds])
        assert e.value.code == 2
        assert 'argument --seeds' in capsys.readouterr().err


def test_disc_init_option(graph_file, tmp_path, capsys):
    out = tmp_path / 'out'
    code = main(['train', 'dgi', '--dataset', str(graph_file), '--epochs',
                 '2', '--hidden', '8', '--disc-init', 'pyg', '--out',
                 str(out), '--quiet'])
    assert code == 0, capsys.readouterr().err
    with open(out / 'metrics.json') as f:
        assert json.load(f)['config']['disc_init'] == 'pyg'


def test_keep_option(graph_file, tmp_path, capsys):
    out = tmp_path / 'out'
    code = main(['train', 'dgi', '--dataset', str(graph_file), '--epochs',
                 '2', '--hidden', '8', '--keep', 'last', '--out', str(out),
                 '--quiet'])
    assert code == 0, capsys.readouterr().err
    with open(out / 'metrics.json') as f:
        assert json.load(f)['config']['keep'] == 'last'
    with pytest.raises(SystemExit) as e:
        main(['train', 'dgi', '--dataset', str(graph_file), '--keep',
              'final'])
    assert e.value.code == 2
    assert "invalid choice: 'final'" in capsys.readouterr().err


def test_help_lists_options(capsys):
    with pytest.raises(SystemExit) as e:
        main(['train', 'dgi', '--help'])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for option in ('--dataset', '--seeds', '--epochs', '--patience',
                   '--hidden', '--corruption', '--loss', '--out', '--quiet',
                   '--threads', '--batch-size'):
        assert option in out
    assert 'dgi options' in out and '(default: 512)' in out


def test_train_help_lists_methods(capsys):
    with pytest.raises(SystemExit) as e:
        main(['train', '--help'])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert 'dgi' in out and 'grace' in out and 'ggd' in out


def test_seeds_list_and_threads(graph_file, tmp_path, capsys):
    out = tmp_path / 'out'
    before = torch.get_num_threads()
    try:
        code = main(['train', 'dgi', '--dataset', str(graph_file),
                     '--epochs', '2', '--seeds', '2,5', '--hidden', '8',
                     '--out', str(out), '--quiet', '--threads', '1'])
        assert code == 0, capsys.readouterr().err
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with open(out / 'metrics.json') as f:
        assert json.load(f)['seeds'] == [2, 5]
    assert (out / 'seeds' / 'seed_5.json').is_file()
