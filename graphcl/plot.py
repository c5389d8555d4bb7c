r"""Pictures of a run: what ``graphcl plot RUN_DIR`` draws.

From a run folder (:mod:`graphcl.rundir`) :func:`plot_run` writes three
PNGs:

* ``losses.png``: the pretraining loss per epoch, one line per seed
  (:func:`plot_losses`);
* ``probe.png``: the linear probe's validation and test accuracy over its
  weight-decay grid, per seed or as mean :math:`\pm` std across seeds
  (:func:`plot_probe_grid`);
* ``embeddings.png``: a 2-D map of the first seed's embeddings coloured
  by label, t-SNE up to ``max_points_tsne`` nodes and PCA above
  (:func:`plot_embeddings`).

matplotlib is the optional ``plot`` extra (``pip install graphcl[plot]``),
imported only when a plot is drawn. Figures are built with the Agg canvas
directly (:class:`matplotlib.figure.Figure`, never :mod:`matplotlib.pyplot`):
no display is needed, and the caller's pyplot backend and figure list are
left alone.
"""
import json
import textwrap
import warnings
from pathlib import Path
from typing import (Any, Dict, List, Mapping, Optional, Sequence, Tuple,
                    Union)

import torch
from torch import Tensor

__all__ = ['plot_run', 'plot_losses', 'plot_probe_grid', 'plot_embeddings',
           'project_2d', 'PlotWarning', 'PLOT_FILES']

#: The files :func:`plot_run` writes.
PLOT_FILES = ('losses.png', 'probe.png', 'embeddings.png')

#: At most this many points are drawn on an embedding map (a random
#: subset above it, said in the title); the projection uses every node.
MAX_POINTS_DRAWN = 200_000

#: Classes up to this count get a legend and a qualitative colour map.
MAX_LEGEND_CLASSES = 20

_INSTALL = "pip install graphcl[plot]"


class PlotWarning(UserWarning):
    r"""A plot :func:`plot_run` skipped or drew with less than asked (no
    seeds finished, no probe, no embeddings, labels not loadable)."""


def _figure(width: float = 6.4, height: float = 4.4):
    # A Figure on the Agg canvas, without pyplot's global state.
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(f"Plotting needs matplotlib, the optional 'plot' "
                          f"extra: {_INSTALL}") from None
    fig = Figure(figsize=(width, height), dpi=100, layout='constrained')
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Optional[Union[str, Path]]):
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format='png')


def plot_losses(losses: Mapping[int, Sequence[float]],
                path: Optional[Union[str, Path]] = None,
                title: Optional[str] = None):
    r"""Draws the pretraining loss per epoch, one line per seed.

    Args:
        losses (Mapping[int, Sequence[float]]): ``{seed: [loss of epoch 1,
            epoch 2, ...]}`` (``losses`` of a seed's results).
        path (str or Path, optional): Where to write the PNG.
            (default: :obj:`None`, not written)
        title (str, optional): The figure's title.

    Returns:
        :class:`matplotlib.figure.Figure`
    """
    if not losses:
        raise ValueError("plot_losses() got no seeds: pass {seed: [loss per "
                         "epoch, ...]} with at least one seed")
    for seed, values in losses.items():
        if len(values) == 0:
            raise ValueError(f"Seed {seed} has no losses: it trained for no "
                             f"epoch")
    fig = _figure()
    ax = fig.add_subplot()
    for seed in sorted(losses):
        values = [float(v) for v in losses[seed]]
        ax.plot(range(1, len(values) + 1), values, label=f'seed {seed}',
                linewidth=1.2, marker='.' if len(values) < 30 else None)
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.ticklabel_format(axis='y', useOffset=False)
    ax.set_xlabel('epoch')
    ax.set_ylabel('pretraining loss')
    ax.grid(alpha=0.3)
    if len(losses) <= 12:
        ax.legend(fontsize='small')
    ax.set_title(title or f'Pretraining loss ({len(losses)} seed'
                 f'{"s" if len(losses) != 1 else ""})')
    _save(fig, path)
    return fig


def _check_grid(seed: Any, grid: Sequence[Sequence[float]]):
    if len(grid) == 0:
        raise ValueError(f"Seed {seed}'s probe grid is empty")
    for row in grid:
        if len(row) != 3:
            raise ValueError(f"Seed {seed}'s probe grid has a row {row!r}; "
                             f"expected [weight_decay, val_acc, test_acc]")


def plot_probe_grid(grids: Mapping[int, Sequence[Sequence[float]]],
                    path: Optional[Union[str, Path]] = None,
                    title: Optional[str] = None,
                    aggregate: Optional[bool] = None):
    r"""Draws the linear probe's validation and test accuracy over its
    weight-decay grid (the ``grid`` of a :class:`graphcl.eval.ProbeResult`).

    The weight decays are placed evenly in grid order (the grid holds
    :math:`0`, so no log axis); the chosen one (best validation accuracy,
    first on ties) is marked.

    Args:
        grids (Mapping[int, Sequence[Sequence[float]]]): ``{seed:
            [[weight_decay, val_acc, test_acc], ...]}``, accuracies in
            :math:`[0, 1]` (drawn in percent).
        path (str or Path, optional): Where to write the PNG.
            (default: :obj:`None`, not written)
        title (str, optional): The figure's title.
        aggregate (bool, optional): Draw mean :math:`\pm` std across
            seeds (population std) instead of one line per seed; needs the
            same weight decays in every seed. (default: :obj:`None`: when
            there are more than three seeds with the same weight decays)

    Returns:
        :class:`matplotlib.figure.Figure`
    """
    if not grids:
        raise ValueError("plot_probe_grid() got no seeds: pass {seed: "
                         "[[weight_decay, val_acc, test_acc], ...]}")
    for seed, grid in grids.items():
        _check_grid(seed, grid)
    seeds = sorted(grids)
    wds = [tuple(float(r[0]) for r in grids[s]) for s in seeds]
    same = all(w == wds[0] for w in wds)
    if aggregate is None:
        aggregate = same and len(seeds) > 3
    if aggregate and not same:
        raise ValueError("aggregate=True needs the same weight decays in "
                         "every seed's grid; these seeds differ: pass "
                         "aggregate=False")
    fig = _figure()
    ax = fig.add_subplot()
    if same:
        ticks = list(wds[0])
    else:  # the union of the grids, in increasing order
        ticks = sorted({w for ws in wds for w in ws})
    pos = {w: i for i, w in enumerate(ticks)}
    if aggregate:
        acc = torch.tensor([[[100 * float(r[1]), 100 * float(r[2])]
                             for r in grids[s]] for s in seeds])
        mean = acc.mean(dim=0)
        std = acc.std(dim=0, correction=0)
        x = list(range(len(ticks)))
        for k, (name, colour) in enumerate((('validation', 'C0'),
                                            ('test', 'C1'))):
            ax.plot(x, mean[:, k].tolist(), color=colour, marker='o',
                    label=f'{name} (mean ± std, {len(seeds)} seeds)')
            ax.fill_between(x, (mean[:, k] - std[:, k]).tolist(),
                            (mean[:, k] + std[:, k]).tolist(),
                            color=colour, alpha=0.2, linewidth=0)
        best = int(mean[:, 0].argmax())
        ax.axvline(best, color='grey', linestyle=':', linewidth=1,
                   label=f'best mean validation: {ticks[best]:g}')
    else:
        for j, s in enumerate(seeds):
            rows = grids[s]
            x = [pos[float(r[0])] for r in rows]
            val = [100 * float(r[1]) for r in rows]
            test = [100 * float(r[2]) for r in rows]
            suffix = f' (seed {s})' if len(seeds) > 1 else ''
            ax.plot(x, val, color='C0', marker='o', alpha=0.8,
                    label='validation' + suffix if j < 6 else None,
                    linestyle=('-', '--', ':', '-.')[j % 4])
            ax.plot(x, test, color='C1', marker='s', alpha=0.8,
                    label='test' + suffix if j < 6 else None,
                    linestyle=('-', '--', ':', '-.')[j % 4])
            best = max(range(len(rows)), key=lambda i: val[i])
            ax.plot([x[best]], [val[best]], marker='*', markersize=12,
                    color='C0', linestyle='none')
    ax.set_xticks(range(len(ticks)), [f'{w:g}' for w in ticks])
    ax.set_xlabel('probe weight decay (L2)')
    ax.set_ylabel('accuracy (%)')
    ax.grid(alpha=0.3)
    ax.legend(fontsize='small')
    ax.set_title(title or 'Linear probe over its weight-decay grid')
    _save(fig, path)
    return fig


def _as_matrix(z: Any) -> Tensor:
    z = torch.as_tensor(z)
    if z.dim() != 2:
        raise ValueError(f"Embeddings must be a matrix [num_nodes, dim], "
                         f"got shape {list(z.shape)}")
    if z.size(0) == 0:
        raise ValueError("The embeddings have no rows (no nodes)")
    z = z.detach().cpu().double()
    if not bool(torch.isfinite(z).all()):
        raise ValueError("The embeddings hold NaN or infinite values; they "
                         "cannot be projected")
    return z


def project_2d(z: Any, max_points_tsne: int = 5000,
               seed: int = 0) -> Tuple[Tensor, str]:
    r"""Projects embeddings to two dimensions: t-SNE (scikit-learn, after
    PCA to at most 50 dimensions) for up to :obj:`max_points_tsne` rows,
    PCA above (t-SNE's time grows too fast for large graphs).

    Args:
        z (Tensor or array): Embeddings :math:`[N, D]`.
        max_points_tsne (int, optional): The largest :math:`N` projected
            with t-SNE; ``0`` always uses PCA. (default: ``5000``)
        seed (int, optional): t-SNE's random state. (default: ``0``)

    Returns:
        ``(xy, method)``: the :math:`[N, 2]` coordinates and ``'t-SNE'`` or
        ``'PCA'``.
    """
    if isinstance(max_points_tsne, bool) or not isinstance(
            max_points_tsne, int) or max_points_tsne < 0:
        raise ValueError(f"max_points_tsne must be an int >= 0, got "
                         f"{max_points_tsne!r}")
    z = _as_matrix(z)
    n, d = z.shape
    z = z - z.mean(dim=0)
    from sklearn.decomposition import PCA

    def pca(k):
        k = min(k, n, d)
        if k < 1 or float(z.abs().max()) == 0.0:  # all rows equal
            return torch.zeros(n, 0, dtype=torch.float64)
        return torch.from_numpy(PCA(n_components=k, random_state=seed)
                                .fit_transform(z.numpy()))

    # t-SNE needs a few points (perplexity < n); below that PCA is shown.
    if n <= max_points_tsne and n >= 5:
        from sklearn.manifold import TSNE
        from threadpoolctl import threadpool_limits  # sklearn's dependency
        inp = pca(50)
        if inp.size(1) >= 1:
            perplexity = float(min(30.0, (n - 1) / 3))
            # scikit-learn's Barnes-Hut gradient takes every core through
            # OpenMP; on a busy machine that was 300x slower (12 s for 40
            # points). It gets the threads PyTorch was given (--threads).
            with threadpool_limits(limits=torch.get_num_threads(),
                                   user_api='openmp'):
                xy = TSNE(n_components=2, perplexity=perplexity,
                          init='pca', random_state=seed
                          ).fit_transform(inp.numpy())
            return torch.from_numpy(xy), 't-SNE'
    xy = pca(2)
    if xy.size(1) < 2:  # fewer than two directions of variance
        xy = torch.cat([xy, torch.zeros(n, 2 - xy.size(1),
                                        dtype=xy.dtype)], dim=1)
    return xy, 'PCA'


def _labels(labels: Any, n: int) -> Tuple[Optional[Tensor], Optional[str]]:
    # Class labels as a long vector [n], or None with the reason.
    y = torch.as_tensor(labels)
    if y.dim() == 2 and y.size(1) == 1:  # OGB's [N, 1]
        y = y.view(-1)
    if y.dim() != 1:
        return None, (f"labels of shape {list(y.shape)} are not one class "
                      f"per node: uncoloured")
    if y.numel() != n:
        return None, (f"{y.numel()} labels for {n} embedded nodes: "
                      f"uncoloured")
    if y.is_floating_point():
        if not bool((y == y.round()).all()):
            return None, "labels are not classes: uncoloured"
    return y.long(), None


def plot_embeddings(z: Any, path: Optional[Union[str, Path]] = None,
                    labels: Any = None, max_points_tsne: int = 5000,
                    title: Optional[str] = None, note: Optional[str] = None,
                    seed: int = 0):
    r"""Draws a 2-D map of node embeddings (:func:`project_2d`: t-SNE up to
    :obj:`max_points_tsne` nodes, PCA above; the title says which),
    coloured by class.

    Args:
        z (Tensor or array): Embeddings :math:`[N, D]`.
        path (str or Path, optional): Where to write the PNG.
            (default: :obj:`None`, not written)
        labels (Tensor or array, optional): One class per node,
            :math:`[N]` (or :math:`[N, 1]`); negative values (unlabelled
            nodes) are drawn grey. Without them, or when they do not fit,
            the map is uncoloured and says why. (default: :obj:`None`)
        max_points_tsne (int, optional): See :func:`project_2d`.
            (default: ``5000``)
        title (str, optional): Text before the projection's name.
        note (str, optional): A line under the title (e.g. why the map is
            uncoloured).
        seed (int, optional): t-SNE's random state and the subset drawn
            above :data:`MAX_POINTS_DRAWN` points. (default: ``0``)

    Returns:
        :class:`matplotlib.figure.Figure`
    """
    z = _as_matrix(z)
    n = z.size(0)
    fig = _figure(6.4, 5.6)  # fail early without matplotlib
    y, why = (None, note) if labels is None else _labels(labels, n)
    if why and note and why != note:
        why = f'{note}; {why}'
    xy, method = project_2d(z, max_points_tsne, seed=seed)
    idx = torch.arange(n)
    drawn = ''
    if n > MAX_POINTS_DRAWN:
        gen = torch.Generator().manual_seed(seed)
        idx = torch.randperm(n, generator=gen)[:MAX_POINTS_DRAWN].sort()[0]
        drawn = f', {MAX_POINTS_DRAWN:,} of {n:,} nodes drawn'
    pts = xy[idx].numpy()
    size = max(1.0, min(30.0, 4000.0 / len(idx)))
    ax = fig.add_subplot()
    if y is None:
        ax.scatter(pts[:, 0], pts[:, 1], s=size, color='C0', alpha=0.7,
                   linewidths=0)
    else:
        yy = y[idx]
        classes = sorted(int(c) for c in yy.unique() if int(c) >= 0)
        unl = yy < 0
        if bool(unl.any()):
            ax.scatter(pts[unl.numpy(), 0], pts[unl.numpy(), 1], s=size,
                       color='lightgrey', alpha=0.6, linewidths=0,
                       label='unlabelled')
        if len(classes) <= MAX_LEGEND_CLASSES:
            cmap = 'tab10' if len(classes) <= 10 else 'tab20'
            from matplotlib import colormaps
            colours = colormaps[cmap]
            for i, c in enumerate(classes):
                m = (yy == c).numpy()
                ax.scatter(pts[m, 0], pts[m, 1], s=size, color=colours(i),
                           alpha=0.8, linewidths=0, label=str(c))
            scale = max(1.0, 20.0 / size) ** 0.5
            ax.legend(title='class', fontsize='small', markerscale=scale,
                      loc='best')
        else:
            lab = ~unl
            sc = ax.scatter(pts[lab.numpy(), 0], pts[lab.numpy(), 1], s=size,
                            c=yy[lab].numpy(), cmap='nipy_spectral',
                            alpha=0.8, linewidths=0)
            fig.colorbar(sc, ax=ax, label=f'class ({len(classes)} classes)')
    ax.set_xticks([])
    ax.set_yticks([])
    lines = [title] if title else []
    lines.append(f'{method} of {n:,} node embeddings ({z.size(1)}-d)'
                 f'{drawn}')
    if why:
        lines.extend(textwrap.wrap(why, 72))
    ax.set_title('\n'.join(lines), fontsize='medium')
    _save(fig, path)
    return fig


# Run folders -------------------------------------------------------------

def _warn(msg: str):
    warnings.warn(msg, PlotWarning, stacklevel=3)


def _read_run(run_dir: Path) -> Dict[str, Any]:
    status_file = run_dir / 'run.json'
    if not run_dir.is_dir() or not status_file.is_file():
        what = 'does not exist' if not run_dir.exists() else (
            'is not a folder' if not run_dir.is_dir() else
            'holds no run.json')
        raise ValueError(
            f"'{run_dir}' {what}: expected a run folder written by "
            f"`graphcl train METHOD --dataset D --out DIR` (run.json, "
            f"seeds/seed_<n>.json, embeddings.pt)")
    try:
        status = json.loads(status_file.read_text())
        config = status['config']
        if not isinstance(config, dict):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):
        raise ValueError(f"'{status_file}' is unreadable or has no config; "
                         f"it is not a graphcl run folder's run.json") \
            from None
    return status


def _read_seeds(run_dir: Path) -> Dict[int, Dict[str, Any]]:
    out = {}
    folder = run_dir / 'seeds'
    if not folder.is_dir():
        return out
    for f in sorted(folder.glob('seed_*.json')):
        try:
            seed = int(f.stem[len('seed_'):])
            out[seed] = json.loads(f.read_text())
        except (OSError, ValueError):
            _warn(f"'{f}' is unreadable: left out of the plots")
    return out


def _is_object_repr(dataset: str) -> bool:
    # run_experiment records str(dataset): a Data or networkx object
    # passed in Python leaves its repr, not a name or a path.
    return '(' in dataset and dataset.rstrip().endswith(')') and \
        not dataset.endswith(('.pt', '.pth'))


def _run_name(config: Dict[str, Any]) -> str:
    dataset = str(config.get('dataset', '?'))
    if _is_object_repr(dataset):
        dataset = 'a graph object'
    elif dataset.endswith(('.pt', '.pth')) or '/' in dataset:
        dataset = Path(dataset).name
    name = f"{config.get('method', '?')} on {dataset}"
    return name if len(name) <= 50 else name[:47] + '...'


def _run_labels(config: Dict[str, Any], data: Any
                ) -> Tuple[Optional[Any], Optional[str]]:
    # The run's labels: from the graph given, else by loading the
    # dataset its config names.
    if data is not None:
        y = getattr(data, 'y', None)
        return (y, None) if y is not None else (
            None, 'the graph given has no labels (data.y): uncoloured')
    dataset = config.get('dataset')
    if not isinstance(dataset, str):
        return None, 'no dataset in run.json: uncoloured'
    if _is_object_repr(dataset):
        return None, ('uncoloured: the run was given a graph object, pass '
                      'plot_run(..., data=graph) for its labels')
    from .data import load_dataset
    root = config.get('root') or config.get('data_root')
    try:
        loaded = load_dataset(dataset, root=root)
    except Exception as e:  # noqa: BLE001 (any reason: plot without)
        return None, (f"uncoloured: the labels could not be loaded "
                      f"({type(e).__name__})")
    y = getattr(loaded, 'y', None)
    if y is None:
        return None, 'the graph has no labels (data.y): uncoloured'
    return y, None


def plot_run(run_dir: Union[str, Path], out: Optional[Union[str, Path]] = None,
             max_points_tsne: int = 5000, data: Any = None) -> List[Path]:
    r"""Draws a run folder's pictures (see the module description) and
    returns the paths of the PNGs written.

    A plot whose inputs are missing (no finished seed, no probe, no
    ``embeddings.pt``) is skipped with a :class:`PlotWarning`; labels that
    cannot be loaded leave the embedding map uncoloured, with a note in
    its title.

    Args:
        run_dir (str or Path): The run folder (``graphcl train ... --out
            DIR``).
        out (str or Path, optional): Where to write the PNGs
            (:data:`PLOT_FILES`). (default: :obj:`None`, the run folder)
        max_points_tsne (int, optional): t-SNE up to this many nodes, PCA
            above (:func:`project_2d`). (default: ``5000``)
        data (torch_geometric.data.Data, optional): The graph whose labels
            ``data.y`` colour the embedding map, for a run whose dataset
            cannot be loaded again from ``run.json`` (a graph passed as an
            object to :func:`graphcl.run_experiment`). (default: the
            dataset the run's config names, from its data root)

    Raises:
        ValueError: If :obj:`run_dir` holds no run (no readable
            ``run.json``).
        ImportError: If matplotlib is not installed.
    """
    run_dir = Path(run_dir)
    status = _read_run(run_dir)  # refusals first, before any work
    _figure()  # the ImportError, before reading anything else
    config = status['config']
    out_dir = run_dir if out is None else Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = _run_name(config)
    if status.get('status') != 'complete':
        _warn(f"The run in '{run_dir}' is {status.get('status')!r}, not "
              f"complete: plotting what it has saved")
    written: List[Path] = []
    seeds = _read_seeds(run_dir)
    if not seeds:
        _warn(f"'{run_dir / 'seeds'}' holds no finished seed: the loss and "
              f"probe plots are skipped")
    losses = {s: r['losses'] for s, r in seeds.items() if r.get('losses')}
    if seeds and not losses:
        _warn("No seed recorded losses: the loss plot is skipped")
    if losses:
        path = out_dir / 'losses.png'
        plot_losses(losses, path, title=f'Pretraining loss: {name}')
        written.append(path)
    grids = {s: r['probe']['grid'] for s, r in seeds.items()
             if isinstance(r.get('probe'), dict) and r['probe'].get('grid')}
    if seeds and not grids:
        _warn("No linear probe ran in this run (--no-probe, or a graph "
              "without labels): the probe plot is skipped")
    if grids:
        path = out_dir / 'probe.png'
        plot_probe_grid(grids, path, title=f'Linear probe: {name}')
        written.append(path)
    emb_file = run_dir / 'embeddings.pt'
    if not emb_file.is_file():
        _warn(f"'{emb_file}' is missing (the first seed has not finished): "
              f"the embedding map is skipped")
    else:
        try:
            z = torch.load(emb_file, map_location='cpu', weights_only=True)
        except Exception as e:  # noqa: BLE001 (any unreadable file)
            _warn(f"'{emb_file}' is unreadable ({type(e).__name__}): the "
                  f"embedding map is skipped")
            z = None
        if z is not None:
            labels, note = _run_labels(config, data)
            order = config.get('seeds')  # embeddings: the first seed's
            first = order[0] if isinstance(order, list) and order else None
            path = out_dir / 'embeddings.png'
            plot_embeddings(z, path, labels=labels, note=note,
                            max_points_tsne=max_points_tsne,
                            title=name + ('' if first is None
                                          else f', seed {first}'))
            written.append(path)
    return written
