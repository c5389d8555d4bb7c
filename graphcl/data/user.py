r"""Users' own graphs: networkx graphs and saved :class:`Data` files."""
import os
import pickle
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import torch
from torch_geometric.data import Data

from .root import PathLike
from .serialization import pyg_safe_globals

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


def load_data_file(path: PathLike) -> Data:
    r"""Loads a graph saved with ``torch.save(data, path)``, using
    ``torch.load(path, weights_only=True)`` with PyG's data classes
    allow-listed (never unpickling arbitrary code).

    Args:
        path (str or os.PathLike): The file (usually ``*.pt``).

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If the file does not hold a single
            :class:`~torch_geometric.data.Data`.
    """
    path = Path(os.fspath(path)).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"Graph file '{path}' does not exist")
    try:
        with pyg_safe_globals():
            obj = torch.load(path, map_location='cpu', weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as e:
        raise ValueError(
            f"Could not load '{path}' as a PyG graph with weights_only=True "
            f"({type(e).__name__}: {str(e).splitlines()[0]}). The file must "
            f"hold one torch_geometric.data.Data saved with "
            f"torch.save(data, path)") from e
    if not isinstance(obj, Data):
        raise ValueError(f"'{path}' holds a {type(obj).__name__}, not a "
                         f"torch_geometric.data.Data; save your graph with "
                         f"torch.save(data, path) where data is a Data")
    return obj
