r"""``graphcl plot RUN_DIR`` through :func:`graphcl.cli.main`."""
import importlib.util

import pytest
import torch

from graphcl.cli import main

HAVE_PLOTS = (importlib.util.find_spec('matplotlib') is not None and
              importlib.util.find_spec('graphcl.plot') is not None)


@pytest.mark.skipif(not HAVE_PLOTS, reason='needs matplotlib (pip install '
                    'graphcl[plot]) and graphcl.plot')
def test_plot_writes_pngs(small_graph, tmp_path, capsys):
    path = tmp_path / 'g.pt'
    torch.save(small_graph, path)
    run = tmp_path / 'run'
    assert main(['train', 'dgi', '--dataset', str(path), '--epochs', '3',
                 '--hidden', '8', '--seeds', '2', '--out', str(run),
                 '--quiet']) == 0
    capsys.readouterr()
    pictures = tmp_path / 'pictures'
    code = main(['plot', str(run), '--out', str(pictures)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    written = sorted(pictures.glob('*.png'))
    assert written and all(p.stat().st_size > 0 for p in written)
    for p in written:
        assert f'wrote {p}' in captured.out


def test_plot_refuses_a_folder_without_a_run(tmp_path, capsys):
    assert main(['plot', str(tmp_path / 'missing')]) == 2
    assert 'is not a folder' in capsys.readouterr().err
    if HAVE_PLOTS:
        assert main(['plot', str(tmp_path)]) == 2
        assert 'run.json' in capsys.readouterr().err
