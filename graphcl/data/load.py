r"""Entry points: :func:`load_dataset` (node level) and
:func:`load_graph_dataset` (graph level)."""
import copy
import os
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

from torch import Tensor
from torch_geometric.data import Data

from .checks import check_node_data
from .registry import get_spec
from .root import PathLike
from .splits import random_node_split
from .user import from_networkx, load_data_file

__all__ = ['load_dataset', 'load_graph_dataset']

_MASKS = ('train_mask', 'val_mask', 'test_mask')


def _is_networkx(obj: Any) -> bool:
    try:
        import networkx as nx
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, nx.Graph)


def _is_file(obj: Any) -> bool:
    if isinstance(obj, Path):
        return True
    if not isinstance(obj, str):
        return False
    return obj.endswith(('.pt', '.pth')) or os.path.isfile(obj)


def _finish_user_data(data: Data, name: str, seed: int) -> Data:
    check_node_data(data)
    data = copy.copy(data)
    if not isinstance(getattr(data, 'name', None), str):
        data.name = name
    has_masks = [data.get(key) is not None for key in _MASKS]
    if data.y is not None and not any(has_masks):
        data = random_node_split(data, train=0.1, val=0.1, seed=seed)
    elif not isinstance(getattr(data, 'split', None), str):
        data.split = 'given' if all(has_masks) else 'none'
    return data


def _load_registered(name: str, root: Optional[PathLike], seed: int,
                     download: bool) -> Data:
    spec = get_spec(name, level='node')
    if spec.family == 'ogbn':
        from .ogb import load_ogb_node
        data = load_ogb_node(spec.pyg_name, root, download=download)
    else:
        from .pyg_node import load_pyg_node
        data = load_pyg_node(spec, root, seed=seed, download=download)
    check_node_data(data, require_labels=True, require_splits=True)
    return data


def load_dataset(
    name_or_path_or_data: Union[str, PathLike, Data, Any],
    root: Optional[PathLike] = None,
    seed: int = 0,
    download: bool = False,
) -> Data:
    r"""Loads a node-level graph as a :class:`~torch_geometric.data.Data`
    with float features ``x`` ``[num_nodes, num_features]`` (raw, not
    normalised), ``edge_index`` ``[2, num_edges]``, labels ``y``
    ``[num_nodes]`` (long), bool ``train_mask``/``val_mask``/``test_mask``
    ``[num_nodes]`` and string attributes ``name`` and ``split``.

    Accepts

    * a registered name (case-insensitive, with aliases; see
      :func:`list_datasets`): Cora/CiteSeer/PubMed with the public split
      (``split='public'``); Amazon Photo/Computers and Coauthor CS/Physics
      with a random 10/10/80 split drawn from :obj:`seed`
      (``split='random 10/10/80 (seed=0)'``); ``ogbn-arxiv``,
      ``ogbn-products``, ``ogbn-papers100M`` with the official split
      (``split='ogb official'``, plus ``ogb_name`` and ``split_idx``),
    * a :class:`~torch_geometric.data.Data` (validated, returned as a
      shallow copy),
    * a networkx graph with node attributes ``x`` and ``y``
      (see :func:`from_networkx`),
    * a path to a ``.pt`` file holding a saved ``Data``.

    Users' graphs with labels but no split masks get the random 10/10/80
    split of :obj:`seed`; unlabelled ones get ``split='none'``.

    Args:
        name_or_path_or_data: The dataset name, graph or file.
        root (str or os.PathLike, optional): The data root; if :obj:`None`,
            ``GRAPHCL_DATA`` or ``./datasets``. Read-only dataset folders are
            processed in a cache (see :mod:`graphcl.data.root`).
            (default: :obj:`None`)
        seed (int, optional): Seed of random splits. (default: :obj:`0`)
        download (bool, optional): Let PyG/ogb download missing raw files
            into the (writable) root instead of raising a
            :class:`DatasetNotFoundError`. (default: :obj:`False`)

    Raises:
        ValueError: For an unknown name, a graph-level dataset or an invalid
            graph.
        DataFileError: A :class:`ValueError` with a one-line message, for a
            ``.pt`` file that is empty, truncated, text or needs unsafe
            unpickling, or a corrupt raw dataset file (named).
        DatasetNotFoundError: If the raw files are missing.
        NotWritableError: If a read-only dataset folder must be processed
            in a cache that cannot be written.
    """
    obj = name_or_path_or_data
    if isinstance(obj, Data):
        return _finish_user_data(obj, 'custom', seed)
    if _is_networkx(obj):
        return _finish_user_data(from_networkx(obj),
                                 obj.graph.get('name') or 'networkx', seed)
    if _is_file(obj):
        path = Path(os.fspath(obj))
        return _finish_user_data(load_data_file(path), path.stem, seed)
    if isinstance(obj, str):
        return _load_registered(obj, root, seed, download)
    raise TypeError(f"load_dataset() takes a dataset name, a path to a .pt "
                    f"file, a torch_geometric.data.Data or a networkx graph, "
                    f"got {type(obj).__name__}")


def load_graph_dataset(
    name: str,
    root: Optional[PathLike] = None,
    download: bool = False,
) -> Tuple[Any, Optional[Dict[str, Tensor]]]:
    r"""Loads a graph-level dataset and its official split.

    Returns ``(dataset, split_idx)``: for TU datasets (MUTAG, PROTEINS, NCI1,
    IMDB-BINARY; the last with one-hot degree features) a
    :class:`~torch_geometric.datasets.TUDataset` and :obj:`None` (TU
    datasets have no official split); for OGB datasets (``ogbg-molbace``,
    ``ogbg-molbbbp`` or any other ``ogbg-*``) a
    :class:`~ogb.graphproppred.PygGraphPropPredDataset` and its
    ``get_idx_split()`` (keys :obj:`"train"`, :obj:`"valid"`,
    :obj:`"test"`; evaluate with :func:`ogb_graph_metric`).

    Args:
        name (str): The dataset name (case-insensitive, with aliases).
        root (str or os.PathLike, optional): The data root. (default:
            :obj:`None`)
        download (bool, optional): Let PyG/ogb download missing raw files.
            (default: :obj:`False`)
    """
    if not isinstance(name, str):
        raise TypeError(f"load_graph_dataset() takes a dataset name, got "
                        f"{type(name).__name__}")
    if name.lower().startswith('ogbg'):
        from .ogb import load_ogb_graph
        return load_ogb_graph(name, root, download=download)
    spec = get_spec(name, level='graph')
    if spec.family == 'ogbg':
        from .ogb import load_ogb_graph
        return load_ogb_graph(spec.pyg_name, root, download=download)
    from .tu import load_tu
    return load_tu(spec, root, download=download), None
