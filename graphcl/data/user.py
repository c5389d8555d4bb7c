r"""Users' own graphs: networkx graphs and saved :class:`Data` files."""
import os
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import torch
from torch_geometric.data import Data

from .root import PathLike
from .serialization import DataFileError, safe_torch_load

__all__ = ['from_networkx', 'load_data_file']


def from_networkx(
    G: Any,
    group_node_attrs: Optional[Union[Sequence[str], str]] = None,
) -> Data:
    r"""Converts a networkx graph into a :class:`~torch_geometric.data.Data`
    with PyG's :func:`torch_geometric.utils.from_networkx`.

    Node attribute ``x`` (a feature vector or scalar per node) becomes the
    float feature matrix ``data.x`` of shape ``[num_nodes, num_features]``,
    and node attribute ``y`` (an integer class per node) the long label
    vector ``data.y`` of shape ``[num_nodes]``. Nodes are numbered in
    ``G.nodes`` order; an undirected graph gets both edge directions.

    Args:
        G (networkx.Graph or networkx.DiGraph): The graph.
        group_node_attrs (List[str] or "all", optional): Node attributes to
            concatenate into ``data.x`` instead of an ``x`` attribute, as in
            PyG. (default: :obj:`None`)
    """
    import networkx as nx
    from torch_geometric.utils import from_networkx as pyg_from_networkx
    if not isinstance(G, (nx.Graph, nx.DiGraph)):
        raise TypeError(f"Expected a networkx graph, got {type(G).__name__}")
    if G.number_of_nodes() == 0:
        raise ValueError("The networkx graph has no nodes")
    try:
        data = pyg_from_networkx(G, group_node_attrs=group_node_attrs)
    except ValueError as e:
        raise ValueError(f"Could not convert the networkx graph: {e}. Every "
                         f"node needs the same attributes (e.g. "
                         f"G.nodes[n]['x'] = [...] and G.nodes[n]['y'] = "
                         f"class for every node n)") from e
    if data.x is not None:
        x = torch.as_tensor(data.x)
        data.x = (x.view(-1, 1) if x.dim() == 1 else x).float()
    if data.y is not None:
        y = torch.as_tensor(data.y)
        if y.is_floating_point() and not bool((y == y.round()).all()):
            raise ValueError("Node attribute 'y' must hold integer class "
                             "labels, got non-integer values")
        data.y = y.view(-1).long()
    return data


_SAVE = 'save your graph again with torch.save(data, path)'
_FIX = {
    'empty': _SAVE,
    'truncated': _SAVE,
    'corrupt': _SAVE,
    'text': ('build a torch_geometric.data.Data from its content and save '
             'that with torch.save(data, path)'),
    'unsafe': ('graphcl never loads files with weights_only=False. If you '
               'trust the file, re-save it safely with plain tensors, e.g. '
               'data = torch.load(path, weights_only=False); '
               'torch.save(Data(x=data.x, edge_index=data.edge_index, '
               'y=data.y), path)'),
}


def load_data_file(path: PathLike) -> Data:
    r"""Loads a graph saved with ``torch.save(data, path)``, using
    ``torch.load(path, weights_only=True)`` with PyG's data classes
    allow-listed (never unpickling arbitrary code, and never retrying with
    ``weights_only=False``).

    Args:
        path (str or os.PathLike): The file (usually ``*.pt``).

    Raises:
        FileNotFoundError: If the file does not exist.
        DataFileError: A :class:`ValueError` with a one-line message naming
            the file and the fix, if the file is empty, truncated, text,
            needs unsafe unpickling (*e.g.*, it holds objects of your own
            classes), or does not hold a single
            :class:`~torch_geometric.data.Data`.
    """
    path = Path(os.fspath(path)).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"Graph file '{path}' does not exist")
    try:
        obj = safe_torch_load(path)
    except DataFileError as e:
        raise DataFileError(
            f"Cannot load graph file '{path}': it {e.problem}; "
            f"{_FIX[e.kind]}", path, e.kind, e.problem) from None
    if not isinstance(obj, Data):
        problem = f'holds a {type(obj).__name__}, not a ' \
            f'torch_geometric.data.Data'
        raise DataFileError(
            f"'{path}' {problem}; save your graph with torch.save(data, "
            f"path) where data is a Data", path, 'content', problem)
    return obj
