r"""Graph-level datasets as the graph-level engine trains on them: a list of
:class:`~torch_geometric.data.Data` graphs with float node features,
checked once (:func:`prepare_graphs`)."""
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data

__all__ = ['GraphDataset', 'prepare_graphs', 'one_hot_columns',
           'load_graphs']


@dataclass
class GraphDataset:
    r"""Graphs ready for training and evaluation.

    Attributes:
        name (str): The dataset's name.
        graphs (list of Data): The graphs, in the dataset's order, with
            float features ``x``.
        y (Tensor, optional): One label row per graph (:obj:`None`: the
            dataset has no labels).
        split_idx (dict, optional): OGB's official split (:obj:`"train"`,
            :obj:`"valid"`, :obj:`"test"` graph indices), :obj:`None` for
            TU datasets (evaluated by cross-validation).
        ogb_name (str, optional): The OGB name, for its Evaluator.
        features (str): How the node features were made.
    """
    name: str
    graphs: List[Data]
    y: Optional[Tensor]
    split_idx: Optional[Dict[str, Tensor]] = None
    ogb_name: Optional[str] = None
    features: str = 'as given'

    @property
    def num_features(self) -> int:
        return int(self.graphs[0].x.size(1))

    def __len__(self) -> int:
        return len(self.graphs)


def one_hot_columns(x: Tensor, sizes: Sequence[int]) -> Tensor:
    r"""One-hot encodes every column of an integer matrix and concatenates
    them: column :math:`j` with values in :math:`[0, \mathrm{sizes}_j)`
    becomes :math:`\mathrm{sizes}_j` indicator columns (OGB's atom
    features, ``get_atom_feature_dims()``, become 174 columns)."""
    if x.dim() != 2 or x.size(1) != len(sizes):
        raise ValueError(f"'x' must have {len(sizes)} integer columns, got "
                         f"shape {tuple(x.shape)}")
    x = x.long()
    for j, size in enumerate(sizes):
        col = x[:, j]
        if col.numel() and (int(col.min()) < 0 or int(col.max()) >= size):
            raise ValueError(f"Column {j} holds values outside [0, {size}):"
                             f" [{int(col.min())}, {int(col.max())}]")
    return torch.cat([torch.nn.functional.one_hot(x[:, j], size)
                      for j, size in enumerate(sizes)], dim=1).float()


def prepare_graphs(dataset: Any, name: str,
                   split_idx: Optional[Dict[str, Tensor]] = None,
                   ogb_name: Optional[str] = None) -> GraphDataset:
    r"""Materialises a graph-level dataset (any sequence of
    :class:`~torch_geometric.data.Data`, e.g. a
    :class:`~torch_geometric.datasets.TUDataset` with its transform
    applied) as a :class:`GraphDataset` and checks it.

    Node features become float. OGB molecules (:obj:`ogb_name`
    ``ogbg-mol*``) have integer atom features, which are one-hot encoded
    per column (:func:`one_hot_columns`, OGB's feature sizes), so that
    every method sees plain float features.

    Raises:
        ValueError: For fewer than two graphs, a graph without node
            features, without nodes, or with edge indices out of range,
            features of different widths, or labels on some graphs only.
    """
    graphs = [dataset[i] for i in range(len(dataset))]
    if len(graphs) < 2:
        raise ValueError(f"'{name}' holds {len(graphs)} graph(s); graph-level "
                         f"self-supervision contrasts graphs with each other:"
                         f" give at least two")
    features = 'as given'
    sizes = None
    if ogb_name is not None and ogb_name.startswith('ogbg-mol'):
        from ogb.utils.features import get_atom_feature_dims
        sizes = get_atom_feature_dims()
        features = (f'one-hot atom features ({sum(sizes)} columns from '
                    f'{len(sizes)} integer ones)')
    out = []
    width = None
    labelled = [g.get('y') is not None for g in graphs]
    if any(labelled) and not all(labelled):
        raise ValueError(f"'{name}': {labelled.count(False)} of {len(graphs)}"
                         f" graphs have no label (y); label all or none")
    for i, g in enumerate(graphs):
        x = g.get('x')
        if g.num_nodes is None or g.num_nodes == 0:
            raise ValueError(f"Graph {i} of '{name}' has no nodes; remove it "
                             f"(a graph without nodes has no embedding)")
        if x is None:
            raise ValueError(f"Graph {i} of '{name}' has no node features "
                             f"(x); add some, e.g. one-hot degrees with "
                             f"torch_geometric.transforms.OneHotDegree")
        if x.dim() != 2 or x.size(0) != g.num_nodes:
            raise ValueError(f"Graph {i} of '{name}': 'x' must have shape "
                             f"[{g.num_nodes}, F], got {tuple(x.shape)}")
        x = one_hot_columns(x, sizes) if sizes is not None else x.float()
        if not bool(torch.isfinite(x).all()):
            raise ValueError(f"Graph {i} of '{name}' has NaN or infinite "
                             f"node features")
        if width is None:
            width = x.size(1)
        elif x.size(1) != width:
            raise ValueError(f"Graph {i} of '{name}' has {x.size(1)} node "
                             f"features, graph 0 has {width}; all graphs "
                             f"need the same feature width")
        ei = g.edge_index
        if ei is None:
            ei = torch.empty(2, 0, dtype=torch.long)
        if ei.numel() and (int(ei.min()) < 0 or
                           int(ei.max()) >= g.num_nodes):
            raise ValueError(f"Graph {i} of '{name}' has edge indices "
                             f"outside [0, {g.num_nodes})")
        kept = Data(x=x, edge_index=ei.long(), num_nodes=g.num_nodes)
        if labelled[0]:
            kept.y = g.y.view(1, -1)
        out.append(kept)
    y = torch.cat([g.y for g in out], 0) if labelled[0] else None
    return GraphDataset(name, out, y, split_idx, ogb_name, features)


def load_graphs(dataset: Any, root: Optional[Any] = None) -> GraphDataset:
    r"""A registered graph-level dataset by name (MUTAG, PROTEINS, NCI1,
    IMDB-BINARY, ``ogbg-molbace``, ``ogbg-molbbbp``, ...), through
    :func:`graphcl.data.load_graph_dataset`, or a sequence of
    :class:`~torch_geometric.data.Data` graphs (a
    :class:`~torch_geometric.data.Dataset` or a list), as a checked
    :class:`GraphDataset` (:func:`prepare_graphs`)."""
    if isinstance(dataset, str) and dataset.endswith(('.pt', '.pth')):
        raise ValueError(f"'{dataset}' is a file; graph-level methods take "
                         f"a registered graph dataset (MUTAG, PROTEINS, "
                         f"NCI1, IMDB-BINARY, ogbg-molbace, ogbg-molbbbp) or, "
                         f"from Python, a list of torch_geometric Data "
                         f"graphs")
    if isinstance(dataset, str):
        from .load import load_graph_dataset
        ds, split_idx = load_graph_dataset(dataset, root=root)
        ogb_name = dataset if split_idx is not None else None
        if split_idx is not None:
            from .ogb import _canonical
            ogb_name = _canonical(dataset, 'graph')
        name = getattr(ds, 'name', None) or dataset
        if ogb_name is not None:
            name = ogb_name
        return prepare_graphs(ds, name, split_idx, ogb_name)
    if isinstance(dataset, Data):
        raise ValueError("A graph-level method takes a dataset of graphs (a "
                         "name such as 'MUTAG', or a list of Data graphs), "
                         "got one Data graph; node-level methods (dgi, "
                         "grace, ...) embed the nodes of one graph")
    try:
        n = len(dataset)
        first = dataset[0] if n else None
    except TypeError:
        raise TypeError(f"A graph-level dataset is a name or a sequence of "
                        f"torch_geometric.data.Data graphs, got "
                        f"{type(dataset).__name__}") from None
    if first is not None and not isinstance(first, Data):
        raise TypeError(f"A graph-level dataset must hold "
                        f"torch_geometric.data.Data graphs, got "
                        f"{type(first).__name__}")
    return prepare_graphs(dataset, getattr(dataset, 'name', None) or
                          'graphs')
