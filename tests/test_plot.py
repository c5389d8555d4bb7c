import importlib.util
import json
import sys
import warnings

import pytest
import torch

from graphcl.experiment import run_experiment
from graphcl.plot import (PLOT_FILES, PlotWarning, plot_embeddings,
                          plot_losses, plot_probe_grid, plot_run, project_2d)

needs_mpl = pytest.mark.skipif(
    importlib.util.find_spec('matplotlib') is None,
    reason='matplotlib (the plot extra) is not installed: '
           'pip install graphcl[plot]')
PNG = b'\x89PNG\r\n\x1a\n'
QUIET = dict(progress=False, verbose=False)
GRID = [[0.0, 0.5, 0.4], [1e-4, 0.7, 0.6], [1e-2, 0.6, 0.65]]


def check_png(path):
    assert path.is_file()
    blob = path.read_bytes()
    assert blob[:8] == PNG and len(blob) > 1000


def title(fig) -> str:
    return fig.axes[0].get_title()


@needs_mpl
def test_plot_run_on_a_real_run(small_graph, tmp_path):
    graph = tmp_path / 'graph.pt'  # a file: run.json names it, labels load
    torch.save(small_graph, graph)
    run = tmp_path / 'run'
    run_experiment('dgi', str(graph), seeds=2, epochs=3, hidden=8,
                   out=str(run), **QUIET)
    with warnings.catch_warnings():
        warnings.simplefilter('error', PlotWarning)  # nothing is skipped
        paths = plot_run(run)
    assert [p.name for p in paths] == list(PLOT_FILES)
    assert all(p.parent == run for p in paths)
    for p in paths:
        check_png(p)

    # Elsewhere, with PCA; the run folder is not touched again.
    before = sorted(p.name for p in run.iterdir())
    paths = plot_run(str(run), out=tmp_path / 'pics', max_points_tsne=0)
    assert [p.parent for p in paths] == [tmp_path / 'pics'] * 3
    for p in paths:
        check_png(p)
    assert sorted(p.name for p in run.iterdir()) == before


def write_run(folder, seeds=None, embeddings=None, status='complete',
              dataset='no-such-dataset'):
    folder.mkdir(parents=True, exist_ok=True)
    config = dict(method='dgi', dataset=dataset, root=None, data_root=None,
                  seeds=sorted(seeds or [0]))
    (folder / 'run.json').write_text(json.dumps(dict(status=status,
                                                     config=config)))
    for seed, result in (seeds or {}).items():
        (folder / 'seeds').mkdir(exist_ok=True)
        (folder / 'seeds' / f'seed_{seed}.json').write_text(
            json.dumps(result))
    if embeddings is not None:
        torch.save(embeddings, folder / 'embeddings.pt')
    return folder


@pytest.mark.parametrize('case', ['empty', 'missing', 'file', 'bad json'])
def test_plot_run_refuses_a_folder_without_a_run(tmp_path, case):
    folder = tmp_path / 'dir'
    if case == 'empty':
        folder.mkdir()
        needle = 'holds no run.json'
    elif case == 'missing':
        needle = 'does not exist'
    elif case == 'file':
        folder.write_text('x')
        needle = 'is not a folder'
    else:
        folder.mkdir()
        (folder / 'run.json').write_text('{not json')
        needle = 'unreadable'
    with pytest.raises(ValueError, match=needle) as info:
        plot_run(folder)
    assert str(folder) in str(info.value)
    if case != 'bad json':
        assert 'graphcl train' in str(info.value)  # what is expected
    assert not (folder.is_dir() and any(folder.glob('*.png')))


@needs_mpl
def test_plot_run_skips_missing_parts_with_warnings(tmp_path):
    # No seed finished and no embeddings: nothing drawn, every skip said.
    run = write_run(tmp_path / 'a', status='running')
    with pytest.warns(PlotWarning) as record:
        assert plot_run(run) == []
    text = ' '.join(str(w.message) for w in record)
    assert 'running' in text and 'no finished seed' in text
    assert 'embeddings.pt' in text

    # Pretraining only (probe null), embeddings present, labels not
    # loadable: losses and an uncoloured map with its reason.
    run = write_run(tmp_path / 'b', seeds={
        0: dict(losses=[1.0, 0.9, 0.8], probe=None),
        1: dict(losses=[1.1, 0.7], probe=None)},
        embeddings=torch.randn(12, 4))
    with pytest.warns(PlotWarning, match='probe plot is skipped'):
        paths = plot_run(run, max_points_tsne=0)
    assert [p.name for p in paths] == ['losses.png', 'embeddings.png']
    for p in paths:
        check_png(p)


@needs_mpl
def test_plot_run_colours_with_the_given_graph(small_graph, tmp_path):
    run = write_run(tmp_path / 'r', seeds={0: dict(losses=[1.0], probe=dict(
        grid=GRID))}, embeddings=torch.randn(small_graph.num_nodes, 4),
        dataset=str(small_graph))  # run.json of a graph passed as object
    with warnings.catch_warnings():
        warnings.simplefilter('error', PlotWarning)
        paths = plot_run(run, data=small_graph, max_points_tsne=0)
    assert len(paths) == 3


@needs_mpl
def test_tsne_up_to_max_points_tsne_then_pca():
    z = torch.randn(30, 5, generator=torch.Generator().manual_seed(0))
    xy, method = project_2d(z, max_points_tsne=30)
    assert method == 't-SNE' and xy.shape == (30, 2)
    assert bool(torch.isfinite(xy).all())
    assert project_2d(z, max_points_tsne=29)[1] == 'PCA'
    assert project_2d(z, max_points_tsne=0)[1] == 'PCA'
    # Too few points for t-SNE's perplexity, or one dimension: PCA, padded.
    assert project_2d(z[:3], max_points_tsne=100)[1] == 'PCA'
    xy, method = project_2d(z[:, :1], max_points_tsne=0)
    assert method == 'PCA' and xy.shape == (30, 2)
    # The title says which.
    assert 't-SNE' in title(plot_embeddings(z, max_points_tsne=30))
    assert 'PCA' in title(plot_embeddings(z, max_points_tsne=10))


@needs_mpl
def test_plot_embeddings_labels(tmp_path):
    z = torch.randn(20, 3)
    y = torch.arange(20) % 3
    y[0] = -1  # unlabelled node
    fig = plot_embeddings(z, tmp_path / 'e.png', labels=y, max_points_tsne=0)
    check_png(tmp_path / 'e.png')
    assert 'uncoloured' not in title(fig)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ['unlabelled', '0', '1', '2']
    # [N, 1] labels (OGB) are one class per node.
    fig = plot_embeddings(z, labels=y.view(-1, 1), max_points_tsne=0)
    assert 'uncoloured' not in title(fig)
    # Labels that do not fit: uncoloured, with the reason.
    assert '19 labels for 20' in title(plot_embeddings(z, labels=y[:19],
                                                       max_points_tsne=0))
    assert 'uncoloured' in title(plot_embeddings(
        z, labels=torch.zeros(20, 4), max_points_tsne=0))
    # Many classes: a colour bar instead of a legend.
    fig = plot_embeddings(torch.randn(60, 3), labels=torch.arange(60) % 30,
                          max_points_tsne=0)
    assert fig.axes[0].get_legend() is None and len(fig.axes) == 2


@pytest.mark.parametrize('z, needle', [
    (torch.randn(5), 'matrix'), (torch.randn(0, 3), 'no rows'),
    (torch.tensor([[0.0, float('nan')]]), 'NaN')])
def test_plot_embeddings_bad_input(z, needle):
    with pytest.raises(ValueError, match=needle):
        project_2d(z)


def test_project_2d_bad_max_points():
    with pytest.raises(ValueError, match='max_points_tsne'):
        project_2d(torch.randn(4, 2), max_points_tsne=-1)


@needs_mpl
def test_plot_losses(tmp_path):
    fig = plot_losses({1: [0.7, 0.5, 0.4], 0: [0.69, 0.6]}, tmp_path / 'l.png')
    check_png(tmp_path / 'l.png')
    lines = fig.axes[0].get_lines()
    assert [ln.get_label() for ln in lines] == ['seed 0', 'seed 1']
    assert list(lines[1].get_xdata()) == [1, 2, 3]  # epochs from 1
    with pytest.raises(ValueError, match='no seeds'):
        plot_losses({})
    with pytest.raises(ValueError, match='Seed 3 has no losses'):
        plot_losses({3: []})


@needs_mpl
def test_plot_probe_grid(tmp_path):
    per_seed = plot_probe_grid({0: GRID, 1: GRID}, tmp_path / 'p.png')
    check_png(tmp_path / 'p.png')
    labels = [ln.get_label() for ln in per_seed.axes[0].get_lines()]
    assert 'validation (seed 0)' in labels and 'test (seed 1)' in labels
    # In percent, in grid order.
    val = per_seed.axes[0].get_lines()[0]
    assert list(val.get_ydata()) == pytest.approx([50.0, 70.0, 60.0])
    ticks = [t.get_text() for t in per_seed.axes[0].get_xticklabels()]
    assert ticks == ['0', '0.0001', '0.01']

    grids = {s: [[w, v + 0.01 * s, t] for w, v, t in GRID] for s in range(4)}
    agg = plot_probe_grid(grids)  # more than three seeds: mean ± std
    mean_val = agg.axes[0].get_lines()[0]
    assert 'mean ± std, 4 seeds' in mean_val.get_label()
    assert list(mean_val.get_ydata()) == pytest.approx([51.5, 71.5, 61.5])

    with pytest.raises(ValueError, match='same weight decays'):
        plot_probe_grid({0: GRID, 1: GRID[:2]}, aggregate=True)
    plot_probe_grid({0: GRID, 1: GRID[:2]})  # different grids: per seed
    with pytest.raises(ValueError, match='weight_decay, val_acc, test_acc'):
        plot_probe_grid({0: [[0.0, 0.5]]})
    with pytest.raises(ValueError, match='no seeds'):
        plot_probe_grid({})


def test_missing_matplotlib_says_how_to_install(monkeypatch, tmp_path):
    for name in ('matplotlib', 'matplotlib.figure',
                 'matplotlib.backends.backend_agg'):
        monkeypatch.setitem(sys.modules, name, None)  # import fails
    with pytest.raises(ImportError, match=r'pip install graphcl\[plot\]'):
        plot_losses({0: [1.0]})
    run = write_run(tmp_path / 'r', embeddings=torch.randn(4, 2))
    with pytest.raises(ImportError, match=r'pip install graphcl\[plot\]'):
        plot_run(run)
