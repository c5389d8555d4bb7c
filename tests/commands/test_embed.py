r"""``graphcl embed`` through :func:`graphcl.cli.main`: a saved run's encoder
applied to a graph gives the run's own embeddings; bad run folders, widths
and file types are refused naming what is wrong."""
import json

import numpy as np
import pytest
import torch

from graphcl.cli import main
from graphcl.models.registry import BUILTIN_METHODS, get_method

# Node-level methods embed a graph file's nodes; graph-level ones
# (tests/commands/test_graph_level.py) embed the graphs of a dataset.
NODE_METHODS = sorted(m for m in BUILTIN_METHODS
                      if get_method(m).level == 'node')


def train(graph, tmp_path, capsys, method='dgi', extra=()):
    path = tmp_path / 'graph.pt'
    torch.save(graph, path)
    run = tmp_path / f'run_{method}'
    code = main(['train', method, '--dataset', str(path), '--epochs', '3',
                 '--hidden', '8', '--out', str(run), '--quiet',
                 *extra])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    return path, run


def embed(run, dataset, out, capsys, extra=()):
    code = main(['embed', '--encoder', str(run), '--dataset', str(dataset),
                 '--out', str(out), '--quiet', *extra])
    captured = capsys.readouterr()
    return code, captured


@pytest.mark.parametrize('method', NODE_METHODS)
def test_unlabelled_pretraining_then_embed_gives_the_runs_embeddings(
        method, small_graph, tmp_path, capsys):
    del small_graph.y  # pretraining without labels
    path, run = train(small_graph, tmp_path, capsys, method)
    record = json.loads((run / 'model.json').read_text())
    assert record['method'] == method and record['in_channels'] == 6
    assert record['options']['hidden'] == 8
    code, captured = embed(run, path, tmp_path / 'z', capsys)
    assert code == 0, captured.err
    assert 'embedded 40 nodes into' in captured.out
    saved = torch.load(run / 'embeddings.pt', weights_only=True)
    z = torch.load(tmp_path / 'z.pt', weights_only=True)
    assert torch.equal(z, saved)
    assert np.array_equal(np.load(tmp_path / 'z.npy'), saved.numpy())


def test_suffix_chooses_the_format(small_graph, tmp_path, capsys):
    path, run = train(small_graph, tmp_path, capsys)
    assert embed(run, path, tmp_path / 'a.npy', capsys)[0] == 0
    assert (tmp_path / 'a.npy').is_file() and not (tmp_path / 'a.pt').exists()
    assert embed(run / 'encoder.pt', path, tmp_path / 'b.pt', capsys)[0] == 0
    assert torch.load(tmp_path / 'b.pt', weights_only=True).shape == (40, 8)
    code, captured = embed(run, path, tmp_path / 'c.npz', capsys)
    assert code == 2
    assert "unknown file type '.npz' (did you mean '.npy'?)" in captured.err


def test_layerwise_equals_full_batch(small_graph, tmp_path, capsys):
    path, run = train(small_graph, tmp_path, capsys)
    assert embed(run, path, tmp_path / 'full.pt', capsys)[0] == 0
    code, captured = embed(run, path, tmp_path / 'lw.pt', capsys,
                           ['--batch-size', '7'])
    assert code == 0, captured.err
    full = torch.load(tmp_path / 'full.pt', weights_only=True)
    lw = torch.load(tmp_path / 'lw.pt', weights_only=True)
    assert torch.allclose(full, lw, atol=1e-5)


def test_layerwise_refused_where_the_embedding_is_not_the_encoders(
        small_graph, tmp_path, capsys):
    path, run = train(small_graph, tmp_path, capsys, 'ggd')
    code, captured = embed(run, path, tmp_path / 'z.pt', capsys,
                           ['--batch-size', '7'])
    assert code == 2 and 'drop --batch-size' in captured.err


def test_minibatch_run_then_layerwise_embed(small_graph, tmp_path, capsys):
    path, run = train(small_graph, tmp_path, capsys, 'dgi',
                      ['--batch-size', '16', '--fanout', '5'])
    code, captured = embed(run, path, tmp_path / 'z.pt', capsys,
                           ['--batch-size', '16'])
    assert code == 0, captured.err
    saved = torch.load(run / 'embeddings.pt', weights_only=True)
    z = torch.load(tmp_path / 'z.pt', weights_only=True)
    assert torch.allclose(z, saved, atol=1e-5)


def test_feature_width_mismatch(small_graph, graph_factory, tmp_path,
                                capsys):
    _, run = train(small_graph, tmp_path, capsys)
    wide = tmp_path / 'wide.pt'
    torch.save(graph_factory(num_features=9), wide)
    code, captured = embed(run, wide, tmp_path / 'z.pt', capsys)
    assert code == 2
    assert 'has 9 features per node' in captured.err
    assert 'was trained on 6' in captured.err
    assert not (tmp_path / 'z.pt').exists()


@pytest.mark.parametrize('remove', ['model.json', 'encoder.pt'])
def test_missing_run_files_are_named(remove, small_graph, tmp_path, capsys):
    path, run = train(small_graph, tmp_path, capsys)
    (run / remove).unlink()
    code, captured = embed(run, path, tmp_path / 'z.pt', capsys)
    assert code == 2 and f'has no {remove}' in captured.err


def test_files_from_another_method_are_named(small_graph, tmp_path, capsys):
    path, run = train(small_graph, tmp_path, capsys)
    model = run / 'model.json'
    record = json.loads(model.read_text())
    # model.json of GRACE beside DGI's encoder.pt and run.json
    grace = dict(record, method='grace', options=dict(hidden=8))
    model.write_text(json.dumps(grace))
    code, captured = embed(run, path, tmp_path / 'z.pt', capsys)
    assert code == 2
    assert 'run.json' in captured.err and 'model.json' in captured.err
    assert "from method 'grace'" in captured.err
    # without run.json, the encoder's weights do not fit GRACE's encoder
    (run / 'run.json').unlink()
    code, captured = embed(run, path, tmp_path / 'z.pt', capsys)
    assert code == 2
    assert 'encoder.pt' in captured.err
    assert "does not hold the encoder of method 'grace'" in captured.err
    # a file that is not a state dict
    model.write_text(json.dumps(record))
    torch.save(torch.zeros(3), run / 'encoder.pt')
    code, captured = embed(run, path, tmp_path / 'z.pt', capsys)
    assert code == 2 and "encoder.pt' does not hold" in captured.err


def test_not_a_run_folder(small_graph, tmp_path, capsys):
    path = tmp_path / 'g.pt'
    torch.save(small_graph, path)
    code, captured = embed(tmp_path / 'nowhere', path, tmp_path / 'z.pt',
                           capsys)
    assert code == 2 and 'is not a run folder' in captured.err


def test_sparse_features_embed_as_the_dense_ones(small_graph, tmp_path,
                                                 capsys):
    path, run = train(small_graph, tmp_path, capsys, 'grace')
    sparse = small_graph.clone()
    sparse.x = sparse.x.to_sparse()
    torch.save(sparse, tmp_path / 'sparse.pt')
    code, captured = embed(run, tmp_path / 'sparse.pt', tmp_path / 'z.pt',
                           capsys)
    assert code == 0, captured.err
    saved = torch.load(run / 'embeddings.pt', weights_only=True)
    assert torch.equal(torch.load(tmp_path / 'z.pt', weights_only=True),
                       saved)
