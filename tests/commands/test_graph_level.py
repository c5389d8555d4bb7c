import json

import pytest
import torch

from graphcl.cli import main


def train_mutag(shared_root, out, capsys):
    code = main(['train', 'infograph', '--dataset', 'MUTAG', '--root',
                 str(shared_root), '--epochs', '1', '--hidden', '4',
                 '--layers', '2', '--batch-size', '64', '--threads', '1',
                 '--quiet', '--out', str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert 'infograph on MUTAG: SVM accuracy (10-fold CV)' in printed
    metrics = json.loads((out / 'metrics.json').read_text())
    assert len(metrics['fold_scores'][0]) == 10
    assert metrics['config']['batch_size'] == 64
    return metrics


def test_train_and_embed_on_mutag(shared_root, tmp_path, capsys):
    out = tmp_path / 'run'
    train_mutag(shared_root, out, capsys)
    z = torch.load(out / 'embeddings.pt')
    assert z.shape == (188, 8)
    # graphcl embed rebuilds the encoder: the same per-graph embeddings.
    assert main(['embed', '--encoder', str(out), '--dataset', 'MUTAG',
                 '--root', str(shared_root), '--out',
                 str(tmp_path / 'z.pt'), '--quiet']) == 0
    assert torch.allclose(torch.load(tmp_path / 'z.pt'), z, atol=1e-5)


@pytest.mark.slow
def test_probe_of_a_graph_run_reports_its_numbers(shared_root, tmp_path,
                                                  capsys):
    out = tmp_path / 'run'
    metrics = train_mutag(shared_root, out, capsys)
    capsys.readouterr()
    assert main(['probe', '--embeddings', str(out / 'embeddings.pt'),
                 '--dataset', 'MUTAG', '--root', str(shared_root),
                 '--out', str(tmp_path / 'p.json'), '--quiet']) == 0
    probe = json.loads((tmp_path / 'p.json').read_text())
    assert 100 * probe['test_acc'] == pytest.approx(metrics['test_acc'][0])


def test_kind_mismatch_messages(shared_root, capsys):
    assert main(['train', 'dgi', '--dataset', 'MUTAG', '--quiet']) != 0
    err = capsys.readouterr().err
    assert "'dgi' is node-level" in err and 'graph-level dataset' in err
    assert main(['train', 'infograph', '--dataset', 'Cora', '--quiet']) != 0
    err = capsys.readouterr().err
    assert "'infograph' is graph-level" in err and 'node-level dataset' in err
    with pytest.raises(SystemExit):  # node-level flags are not offered
        main(['train', 'infograph', '--dataset', 'MUTAG', '--fanout', '10'])
    assert 'unrecognized' in capsys.readouterr().err


def test_graph_method_help_lists_graph_options(capsys):
    with pytest.raises(SystemExit):
        main(['train', 'infograph', '--help'])
    text = capsys.readouterr().out
    assert 'graphs per mini-batch' in text and '--fanout' not in text
