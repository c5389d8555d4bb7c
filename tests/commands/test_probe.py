r"""``graphcl probe`` through :func:`graphcl.cli.main`: on a run's saved
embeddings it reports the numbers the run reported for that seed."""
import json

import numpy as np
import pytest
import torch

from graphcl.cli import main


@pytest.fixture
def run(small_graph, tmp_path, capsys):
    path = tmp_path / 'graph.pt'
    torch.save(small_graph, path)
    out = tmp_path / 'run'
    # seeds 3 and 4: the split of a graph without masks is drawn from the
    # seed, and embeddings.pt holds the first seed's (3)
    code = main(['train', 'dgi', '--dataset', str(path), '--epochs', '3',
                 '--hidden', '8', '--seeds', '3,4', '--out', str(out),
                 '--quiet'])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    return path, out


def probe(capsys, *argv):
    code = main(['probe', *map(str, argv)])
    return code, capsys.readouterr()


def test_probe_on_saved_embeddings_gives_the_runs_numbers(run, tmp_path,
                                                          capsys):
    path, out = run
    code, captured = probe(capsys, '--embeddings', out / 'embeddings.pt',
                           '--dataset', path, '--out', tmp_path / 'p.json')
    assert code == 0, captured.err
    assert "split seed 3: the first seed of the run" in captured.err
    seed = json.loads((out / 'seeds' / 'seed_3.json').read_text())['probe']
    result = json.loads((tmp_path / 'p.json').read_text())
    assert {k: result[k] for k in seed} == seed  # the very same numbers
    metrics = json.loads((out / 'metrics.json').read_text())
    assert f"test accuracy {metrics['test_acc'][0]:.2f} %" in captured.out
    assert f"validation accuracy {metrics['val_acc'][0]:.2f} %" in \
        captured.out


def test_probe_on_npy_from_embed(run, tmp_path, capsys):
    path, out = run
    assert main(['embed', '--encoder', str(out), '--dataset', str(path),
                 '--out', str(tmp_path / 'z.npy'), '--quiet']) == 0
    capsys.readouterr()
    code, captured = probe(capsys, '--embeddings', tmp_path / 'z.npy',
                           '--dataset', path, '--split-seed', '3', '--out',
                           tmp_path / 'p.json')
    assert code == 0, captured.err
    seed = json.loads((out / 'seeds' / 'seed_3.json').read_text())['probe']
    result = json.loads((tmp_path / 'p.json').read_text())
    assert {k: result[k] for k in seed} == seed


def test_bad_inputs(run, small_graph, graph_factory, tmp_path, capsys):
    path, out = run
    emb = out / 'embeddings.pt'
    code, captured = probe(capsys, '--embeddings', tmp_path / 'z.npz',
                           '--dataset', path)
    assert code == 2 and "did you mean '.npy'?" in captured.err
    code, captured = probe(capsys, '--embeddings', tmp_path / 'none.pt',
                           '--dataset', path)
    assert code == 2 and 'does not exist' in captured.err
    other = tmp_path / 'other.pt'
    torch.save(graph_factory(num_nodes=30), other)
    code, captured = probe(capsys, '--embeddings', emb, '--dataset', other)
    assert code == 2
    assert 'holds 40 rows but the graph has 30 nodes' in captured.err
    del small_graph.y
    unlabelled = tmp_path / 'u.pt'
    torch.save(small_graph, unlabelled)
    code, captured = probe(capsys, '--embeddings', emb, '--dataset',
                           unlabelled)
    assert code == 2 and 'has no labels' in captured.err
    np.save(tmp_path / 'v.npy', np.zeros(40))
    code, captured = probe(capsys, '--embeddings', tmp_path / 'v.npy',
                           '--dataset', path)
    assert code == 2 and 'not embeddings [num_nodes, dim]' in captured.err
    code, captured = probe(capsys, '--embeddings', emb, '--dataset', path,
                           '--out', tmp_path / 'p.txt')
    assert code == 2 and "unknown file type '.txt'" in captured.err


def test_npy_of_any_byte_order_and_dtype_gives_the_pt_result(
        small_graph, tmp_path, capsys):
    # A big-endian .npy (written on another machine, or '>f4' by choice)
    # was refused as "unreadable"; float64 / float16 .npy files and the
    # .pt of the same matrix give one result.
    path = tmp_path / 'graph.pt'
    torch.save(small_graph, path)
    z = np.random.default_rng(0).standard_normal((40, 4)).astype(np.float32)
    torch.save(torch.from_numpy(z), tmp_path / 'z.pt')
    np.save(tmp_path / 'le.npy', z)
    np.save(tmp_path / 'be.npy', z.astype('>f4'))
    np.save(tmp_path / 'f64.npy', z.astype(np.float64))
    results = {}
    for name in ('z.pt', 'le.npy', 'be.npy', 'f64.npy'):
        code, captured = probe(capsys, '--embeddings', tmp_path / name,
                               '--dataset', path, '--out',
                               tmp_path / f'{name}.json')
        assert code == 0, captured.err
        r = json.loads((tmp_path / f'{name}.json').read_text())
        results[name] = (r['val_acc'], r['test_acc'], r['grid'])
    assert results['le.npy'] == results['be.npy'] == results['z.pt'] == \
        results['f64.npy']
    np.save(tmp_path / 'f16.npy', z.astype(np.float16))
    code, captured = probe(capsys, '--embeddings', tmp_path / 'f16.npy',
                           '--dataset', path)
    assert code == 0, captured.err
