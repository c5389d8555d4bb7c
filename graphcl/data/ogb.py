r"""OGB datasets (``ogbn-*`` node and ``ogbg-*`` graph property prediction)
through ogb's own PyG loaders, with the official splits and evaluators.

``ogb`` is an optional dependency (``pip install graphcl[ogb]``), imported
only when an OGB dataset or metric is used. Two problems of ogb 1.3.6 are
handled here:

* With PyTorch >= 2.6, ogb cannot read back its own processed files because
  :func:`torch.load` defaults to ``weights_only=True`` (and with older
  PyTorch, or ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` set, it would unpickle
  anything). graphcl uses the subclasses of
  :mod:`graphcl.data.ogb_datasets`, which read processed and split files
  with :func:`~graphcl.data.serialization.safe_torch_load` (the PyG classes
  and NumPy scalars those files hold allow-listed, ``weights_only`` always
  on) and rebuild processed files when the raw files changed or cannot be
  loaded safely.
* ogb asks interactive questions (:func:`input`) when a dataset folder lacks
  its release marker ``RELEASE_v<version>.txt`` or before large downloads.
  The files are checked first, and :func:`input` is replaced during the call
  by one that raises, so a run never blocks on stdin.
"""
import builtins
import importlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from .registry import get_spec
from .root import (
    DatasetNotFoundError,
    PathLike,
    prepare_dataset_dir,
    resolve_root,
)
from .splits import masks_from_index

__all__ = [
    'load_ogb_node', 'load_ogb_graph', 'ogb_node_metric', 'ogb_graph_metric',
    'ogb_expected_files'
]

OGB_FOLDER = 'ogb'
Metric = Callable[[Any, Any], float]


def import_ogb(what: str) -> Any:
    r"""Imports :mod:`ogb`, or raises an :class:`ImportError` naming the
    extra that installs it."""
    try:
        import ogb
    except ImportError as e:
        raise ImportError(f"{what} needs the optional dependency 'ogb': "
                          f"install it with pip install graphcl[ogb] (or "
                          f"pip install ogb)") from e
    return ogb


def _master(level: str) -> Any:
    import pandas as pd
    import_ogb(f'OGB {level} datasets')
    sub = 'nodeproppred' if level == 'node' else 'graphproppred'
    path = Path(importlib.import_module(f'ogb.{sub}').__file__).parent
    return pd.read_csv(path / 'master.csv', index_col=0,
                       keep_default_na=False)


def _meta(name: str, level: str) -> Dict[str, str]:
    master = _master(level)
    if name not in master:
        prefix = 'ogbn-' if level == 'node' else 'ogbg-'
        known = ', '.join(k for k in master.keys() if k.startswith(prefix))
        raise ValueError(f"'{name}' is not an OGB {level} property "
                         f"prediction dataset; ogb knows: {known}")
    return dict(master[name])


def ogb_expected_files(meta: Dict[str, str], level: str) -> List[str]:
    r"""Returns the files, relative to the dataset folder, that ogb needs to
    process a dataset without downloading, from its ``master.csv`` entry.

    Args:
        meta (Dict[str, str]): The dataset's column of ogb's ``master.csv``.
        level (str): :obj:`"node"` or :obj:`"graph"`.
    """
    target = 'node-label' if level == 'node' else 'graph-label'
    if meta['binary'] == 'True':
        raw = ['data.npz', f'{target}.npz']
    else:
        raw = ['edge', 'num-node-list', 'num-edge-list', target]
        if meta['has_node_attr'] == 'True':
            raw.append('node-feat')
        if meta['has_edge_attr'] == 'True':
            raw.append('edge-feat')
        for key in ('additional node files', 'additional edge files'):
            if meta[key] != 'None':
                raw.extend(meta[key].split(','))
        raw = [f'{f}.csv.gz' for f in raw]
    split = [f"split/{meta['split']}/{s}.csv.gz"
             for s in ('train', 'valid', 'test')]
    return [f'raw/{f}' for f in raw] + split + [_marker(meta)]


def _marker(meta: Dict[str, str]) -> str:
    return f"RELEASE_v{meta['version']}.txt"


def _no_input(prompt: str = '') -> str:
    raise RuntimeError(f"ogb asked an interactive question ({prompt.strip()!r}"
                       f"); graphcl never waits for input. Check that the "
                       f"dataset folder holds the complete raw files and "
                       f"its RELEASE_v*.txt marker")


@contextmanager
def _ogb_call() -> Iterator[None]:
    original = builtins.input
    builtins.input = _no_input
    try:
        yield
    finally:
        builtins.input = original


def _prepare(name: str, level: str, root: Optional[PathLike],
             download: bool) -> Tuple[Path, Dict[str, str]]:
    meta = _meta(name, level)
    leaf = name.replace('-', '_')
    data_root = resolve_root(root)
    if (data_root / OGB_FOLDER / f'{leaf}_pyg').is_dir():
        leaf += '_pyg'  # ogb prefers its own "<name>_pyg" folder if present.
    folder = f'{OGB_FOLDER}/{leaf}'
    files = ogb_expected_files(meta, level)
    src, marker = data_root / folder, _marker(meta)
    if (src / 'raw').is_dir() and not (src / marker).is_file():
        raise DatasetNotFoundError(
            f"OGB dataset '{name}' in '{src}' lacks the release marker "
            f"'{marker}', so ogb would ask whether to delete and download it "
            f"again. If the files are from OGB release v{meta['version']}, "
            f"create the empty file '{src / marker}'; otherwise replace the "
            f"folder with the current release")
    base = prepare_dataset_dir(name, folder, files, root, download=download)
    return base / OGB_FOLDER, meta


def _canonical(name: str, level: str) -> str:
    try:
        return get_spec(name, level=level).pyg_name
    except ValueError:
        if level == 'graph' and name.lower().startswith('ogbg-'):
            return name.lower()  # Any ogbg dataset known to ogb.
        raise


def load_ogb_node(
    name: str,
    root: Optional[PathLike] = None,
    download: bool = False,
) -> Data:
    r"""Loads an OGB node property prediction dataset (``ogbn-arxiv``,
    ``ogbn-products``, ``ogbn-papers100M``) with ogb's
    :class:`~ogb.nodeproppred.PygNodePropPredDataset` from
    ``<root>/ogb/<name with _>`` (*e.g.*, ``ogb/ogbn_arxiv``).

    The official split is stored as boolean ``train_mask``/``val_mask``/
    ``test_mask`` and as ``data.split_idx`` (ogb's dictionary with keys
    :obj:`"train"`, :obj:`"valid"`, :obj:`"test"`). Labels are flattened to
    shape ``[num_nodes]`` (unlabelled nodes, as in ``ogbn-papers100M``, get
    ``-1``), and directed graphs (arxiv, papers100M) are made undirected, as
    in the OGB examples. Also sets ``data.name``, ``data.ogb_name`` and
    ``data.split = 'ogb official'``.

    Args:
        name (str): The OGB name (or a registered alias such as
            :obj:`"arxiv"`).
        root (str or os.PathLike, optional): The data root, see
            :func:`graphcl.data.resolve_root`. (default: :obj:`None`)
        download (bool, optional): Let ogb download missing files.
            (default: :obj:`False`)
    """
    name = _canonical(name, 'node')
    base, meta = _prepare(name, 'node', root, download)
    from .ogb_datasets import SafeNodePropPredDataset
    with _ogb_call():
        dataset = SafeNodePropPredDataset(name, root=str(base))
        split_idx = dataset.get_idx_split()
    data = dataset[0]
    data.x = data.x.float()
    y = data.y.view(-1)
    if y.is_floating_point():
        y = torch.nan_to_num(y, nan=-1.0)
    data.y = y.long()
    if meta['add_inverse_edge'] != 'True':
        data.edge_index = to_undirected(data.edge_index,
                                        num_nodes=data.num_nodes)
    data = masks_from_index(data, split_idx)
    data.split_idx = split_idx
    data.name = data.ogb_name = name
    data.split = 'ogb official'
    return data


def load_ogb_graph(
    name: str,
    root: Optional[PathLike] = None,
    download: bool = False,
) -> Tuple[Any, Dict[str, Tensor]]:
    r"""Loads an OGB graph property prediction dataset (*e.g.*,
    ``ogbg-molbace``) with ogb's
    :class:`~ogb.graphproppred.PygGraphPropPredDataset` (as
    :class:`~graphcl.data.ogb_datasets.SafeGraphPropPredDataset`) from
    ``<root>/ogb/<name with _>``, and returns it with its official split
    (:meth:`~ogb.graphproppred.PygGraphPropPredDataset.get_idx_split`,
    keys :obj:`"train"`, :obj:`"valid"`, :obj:`"test"`). Node features stay as ogb gives them (integer atom
    features for molecules: embed them with
    :class:`ogb.graphproppred.mol_encoder.AtomEncoder` or cast them).

    Args:
        name (str): The OGB name or a registered alias (:obj:`"molbace"`).
        root (str or os.PathLike, optional): The data root. (default:
            :obj:`None`)
        download (bool, optional): Let ogb download missing files.
            (default: :obj:`False`)
    """
    name = _canonical(name, 'graph')
    base, _ = _prepare(name, 'graph', root, download)
    from .ogb_datasets import SafeGraphPropPredDataset
    with _ogb_call():
        dataset = SafeGraphPropPredDataset(name, root=str(base))
        split_idx = dataset.get_idx_split()
    return dataset, split_idx


def _as_2d(value: Any) -> Tensor:
    value = torch.as_tensor(value).detach().cpu()
    return value.view(-1, 1) if value.dim() <= 1 else value


def _make_metric(evaluator: Any, name: str) -> Metric:
    key = evaluator.eval_metric

    def metric(y_true: Any, y_pred: Any) -> float:
        y_true, y_pred = _as_2d(y_true), _as_2d(y_pred)
        if key == 'acc':
            if y_pred.size(1) > 1 and y_pred.size(1) != y_true.size(1):
                y_pred = y_pred.argmax(dim=1, keepdim=True)  # Logits.
            y_true, y_pred = y_true.long(), y_pred.long()
        else:
            if (evaluator.num_tasks == 1 and y_pred.size(1) == 2
                    and key in ('rocauc', 'ap')):
                # Two-class logits: their difference ranks like P(class 1).
                y_pred = (y_pred[:, 1] - y_pred[:, 0]).view(-1, 1)
            y_true, y_pred = y_true.float(), y_pred.float()
        out = evaluator.eval({'y_true': y_true, 'y_pred': y_pred})
        return float(out[key])

    metric.__name__ = key
    metric.__qualname__ = f'{name}:{key}'
    return metric


def ogb_node_metric(name: str) -> Metric:
    r"""Returns the official OGB metric of a node dataset (accuracy for
    ``ogbn-arxiv``, ``ogbn-products``, ``ogbn-papers100M``) as a function
    ``(y_true, y_pred) -> float`` built on
    :class:`ogb.nodeproppred.Evaluator`.

    ``y_true`` holds class indices of shape ``[N]`` or ``[N, 1]``; ``y_pred``
    holds predicted classes (``[N]`` or ``[N, 1]``) or logits ``[N, C]``.
    """
    name = _canonical(name, 'node')
    _meta(name, 'node')
    from ogb.nodeproppred import Evaluator
    return _make_metric(Evaluator(name), name)


def ogb_graph_metric(name: str) -> Metric:
    r"""Returns the official OGB metric of a graph dataset (ROC-AUC for
    ``ogbg-molbace`` and ``ogbg-molbbbp``) as a function
    ``(y_true, y_score) -> float`` built on
    :class:`ogb.graphproppred.Evaluator`.

    ``y_true`` holds labels of shape ``[N]`` or ``[N, num_tasks]`` (NaN for
    missing ones); ``y_score`` holds scores of the same shape, or two-class
    logits ``[N, 2]`` for a single binary task.
    """
    name = _canonical(name, 'graph')
    _meta(name, 'graph')
    from ogb.graphproppred import Evaluator
    return _make_metric(Evaluator(name), name)
