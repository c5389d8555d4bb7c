r"""GraphCL's graph augmentations (`You et al., NeurIPS 2020
<https://arxiv.org/abs/2010.13902>`_), acting per graph on a mini-batch of
graphs.

GraphCL contrasts two augmented views of every graph of a mini-batch. Its
four augmentations each change a fixed share of *every graph* (not of the
batch as a whole):

* :class:`NodeDropping`: removes :math:`\lfloor p\,n_g \rfloor` random
  nodes of each graph :math:`g` with their edges;
* :class:`EdgePerturbation`: removes :math:`\lfloor p\,m_g \rfloor` random
  edges of each graph and adds as many random ones inside the graph;
* :class:`AttributeMasking`: replaces the features of
  :math:`\lfloor p\,n_g \rfloor` random nodes of each graph with Gaussian
  noise;
* :class:`Subgraph`: keeps a connected subgraph of each graph, grown from a
  random node by repeatedly adding a random neighbour of the nodes taken so
  far.

:class:`GraphRandomChoice` draws one augmentation **per graph** (GraphCL's
``random2``/``random3``/``random4`` pools), :class:`GraphCompose` applies
several in turn, and :func:`get_graph_augmentation` builds them from the
names of GraphCL's code (``'dnodes'``, ``'pedges'``, ``'subgraph'``,
``'mask_nodes'``, ``'random2'``, ...).

They are :class:`~graphcl.corruptions.Corruption` modules: seeded by their
``generator`` (an ``int``, a :class:`torch.Generator` or :obj:`None` for
the global RNG, see :class:`~graphcl.corruptions.Corruption`), saved with
the engine's checkpoints, and callable

* on a :class:`~torch_geometric.data.Data` or
  :class:`~torch_geometric.data.Batch`: a new object is returned (the input
  is never modified); removed nodes are removed and the rest relabelled,
  node- and edge-level attributes follow their nodes and edges, and a
  batch's ``batch``, ``ptr`` and per-graph slices are recomputed, so
  :meth:`~torch_geometric.data.Batch.to_data_list` returns the augmented
  graphs;
* on tensors ``(x, edge_index[, edge_weight])`` of **one** graph;
* through :meth:`GraphAugmentation.augment` on the tensors of a batch
  ``(x, edge_index, batch, num_graphs)``.

Every graph keeps at least one node. Graphs without nodes pass through
unchanged (the encoder then gives them the readout of an empty set).

They cannot be put in the node-level :class:`~graphcl.corruptions.Compose`
or :class:`~graphcl.corruptions.RandomChoice`, which see a batch as one
graph; combine them with :class:`GraphCompose` and
:class:`GraphRandomChoice`.
"""
import copy
import math
from typing import Dict, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data
from torch_geometric.data.data import BaseData
from torch_geometric.utils import subgraph as induced_subgraph

from .corruptions import (Corruption, GeneratorLike, _compose_select,
                          _make_generator, _select)
from .validation import check_prob

__all__ = [
    'GraphAugmentResult', 'GraphAugmentation', 'NodeDropping',
    'EdgePerturbation', 'AttributeMasking', 'Subgraph', 'GraphCompose',
    'GraphRandomChoice', 'get_graph_augmentation', 'GRAPH_AUGMENTATIONS',
    'augmented_count'
]


class GraphAugmentResult(NamedTuple):
    r"""What :meth:`GraphAugmentation.augment` returns.

    Attributes:
        x (Tensor, optional): Node features of the view ``[N', F]``.
        edge_index (Tensor): Edges of the view ``[2, E']``, in the view's
            node ids, grouped by graph.
        batch (Tensor): Graph of every node of the view ``[N']``.
        node_select (Tensor, optional): Input id of every node of the view
            ``[N']`` (ascending); :obj:`None` if no node was removed.
        edge_select (Tensor, optional): Input id of every edge of the view
            ``[E']``, ``-1`` for an added edge; :obj:`None` if the edges
            are the input's, in its order.
    """
    x: Optional[Tensor]
    edge_index: Tensor
    batch: Tensor
    node_select: Optional[Tensor] = None
    edge_select: Optional[Tensor] = None


def augmented_count(sizes: Tensor, p: float) -> Tensor:
    r""":math:`\lfloor p\,n \rfloor` for every size :math:`n` in
    :obj:`sizes` (GraphCL's ``int(n * p)``), exact for the ratios written
    in decimal (``0.1 * 30`` is 3, not 2.99...)."""
    return torch.floor(sizes.double() * p + 1e-9).long()


def _ptr(counts: Tensor) -> Tensor:
    return torch.cat([counts.new_zeros(1), counts.cumsum(0)])


def _compose_edges(first: Optional[Tensor],
                   second: Optional[Tensor]) -> Optional[Tensor]:
    # Edge ids of applying `first` then `second`; -1 marks added edges.
    if first is None:
        return second
    if second is None:
        return first
    out = first[second.clamp(min=0)]
    return torch.where(second >= 0, out, torch.full_like(out, -1))


class GraphAugmentation(Corruption):
    r"""Base class of the per-graph augmentations.

    Subclasses implement :meth:`_augment`, which changes only the graphs
    flagged in :obj:`active` (so that :class:`GraphRandomChoice` can give
    every graph its own augmentation).

    Args:
        generator (int or torch.Generator, optional): See
            :class:`~graphcl.corruptions.Corruption`.
    """
    def augment(self, x: Optional[Tensor], edge_index: Tensor,
                batch: Optional[Tensor] = None,
                num_graphs: Optional[int] = None,
                active: Optional[Tensor] = None) -> GraphAugmentResult:
        r"""Augments every graph of a batch given as tensors.

        Args:
            x (Tensor, optional): Node features ``[N, F]``.
            edge_index (Tensor): Edges ``[2, E]``; no edge may join two
                graphs.
            batch (Tensor, optional): Graph of every node ``[N]``
                (:obj:`None`: one graph).
            num_graphs (int, optional): Number of graphs :math:`G`
                (default: ``batch.max() + 1``).
            active (Tensor, optional): Boolean ``[G]``, the graphs to
                augment; the others are returned unchanged. (default:
                all)
        """
        x, edge_index, batch, num_graphs, active = _check_batch(
            x, edge_index, batch, num_graphs, active)
        return self._augment(x, edge_index, batch, num_graphs, active)

    def _augment(self, x: Optional[Tensor], edge_index: Tensor,
                 batch: Tensor, num_graphs: int,
                 active: Tensor) -> GraphAugmentResult:
        raise NotImplementedError

    # The node-level API would see a batch as one graph: refuse it.
    def corrupt(self, x, edge_index, num_nodes):
        raise TypeError(
            f"{type(self).__name__} augments every graph of a batch on its "
            f"own and cannot run inside graphcl.corruptions.Compose or "
            f"RandomChoice (which see a batch as one graph); combine graph "
            f"augmentations with GraphCompose or GraphRandomChoice")

    # Random draws ---------------------------------------------------------
    def _random_rank(self, group: Tensor, num_groups: int) -> Tensor:
        # The position of every element within its group in a uniformly
        # random order of the group (0 .. size - 1).
        n = group.numel()
        perm = self._randperm(n, group.device)
        perm = perm[torch.sort(group[perm], stable=True)[1]]
        ptr = _ptr(torch.bincount(group, minlength=num_groups))
        rank = torch.empty_like(perm)
        rank[perm] = torch.arange(n, device=group.device) - ptr[group[perm]]
        return rank

    def _pick(self, group: Tensor, num_groups: int, k: Tensor) -> Tensor:
        # Exactly k[g] random elements of every group g (a boolean mask).
        return self._random_rank(group, num_groups) < k[group]

    # Calling conventions --------------------------------------------------
    def _forward_tensors(self, x, edge_index, edge_weight, num_nodes):
        if edge_index is None:
            raise ValueError(f"{type(self).__name__} needs 'edge_index'")
        if x is None and num_nodes is None:
            num_nodes = (int(edge_index.max()) + 1
                         if edge_index.numel() else 0)
        n = x.size(0) if x is not None else num_nodes
        batch = torch.zeros(n, dtype=torch.long, device=edge_index.device)
        res = self.augment(x, edge_index, batch, 1)
        if edge_weight is None:
            return res.x, res.edge_index
        if edge_weight.size(0) != edge_index.size(1):
            raise ValueError(f"'edge_weight' has {edge_weight.size(0)} "
                             f"entries but 'edge_index' has "
                             f"{edge_index.size(1)} edges")
        return res.x, res.edge_index, _follow_edges(edge_weight,
                                                    res.edge_select,
                                                    'edge_weight', self)

    def _forward_data(self, data: BaseData) -> BaseData:
        if not isinstance(data, Data):
            raise TypeError(f"{type(self).__name__} supports homogeneous "
                            f"graphs (Data/Batch), got "
                            f"{type(data).__name__}")
        if data.get('edge_index') is None:
            raise ValueError(f"{type(self).__name__} needs 'edge_index'")
        is_batch = isinstance(data, Batch) and data.get('batch') is not None
        x = data.get('x')
        num_nodes = data.num_nodes or 0
        batch = data.batch if is_batch else torch.zeros(
            num_nodes, dtype=torch.long, device=data.edge_index.device)
        num_graphs = data.num_graphs if is_batch else 1
        res = self.augment(x, data.edge_index, batch, num_graphs)
        out = copy.copy(data)  # shallow: untouched tensors are shared
        if x is not None:
            out.x = res.x
        out.edge_index = res.edge_index
        skip = ('x', 'edge_index', 'batch', 'ptr')
        for key, value in data.items():
            if key in skip:
                continue
            level = _level(data, key, value, batch, num_graphs, is_batch)
            if level == 'edge':
                out[key] = _follow_edges(value, res.edge_select, key, self)
            elif level == 'node' and res.node_select is not None:
                out[key] = _select(value, res.node_select)
        if res.node_select is not None:
            out.num_nodes = res.node_select.numel()
        if is_batch:
            out.batch = res.batch
            node_counts = torch.bincount(res.batch, minlength=num_graphs)
            out.ptr = _ptr(node_counts)
            _update_slices(out, data, node_counts,
                           torch.bincount(res.batch[res.edge_index[0]],
                                          minlength=num_graphs))
        return out


def _follow_edges(value, edge_select: Optional[Tensor], key: str,
                  aug: GraphAugmentation):
    # An edge-level attribute of the view; refused where edges were added
    # (they have no value to take).
    if edge_select is None:
        return value
    if bool((edge_select < 0).any()):
        raise ValueError(
            f"{type(aug).__name__} added edges, which have no '{key}'; "
            f"remove the edge-level attribute '{key}' first or use an "
            f"augmentation that only removes edges (e.g. "
            f"EdgePerturbation(add=False))")
    return _select(value, edge_select)


def _level(data: Data, key: str, value, batch: Tensor, num_graphs: int,
           is_batch: bool) -> str:
    # 'node', 'edge' or 'graph'. In a Batch, by the attribute's per-graph
    # slices (a graph-level 'y' of G entries is not taken for a node-level
    # one when G equals the node count); PyG's size and name rules where
    # slices are missing or match both.
    node = Corruption._is_level(data, key, value, edge=False)
    edge = Corruption._is_level(data, key, value, edge=True)
    slices = getattr(data, '_slice_dict', None) if is_batch else None
    if slices is not None and key in slices and 'edge_index' in slices:
        s = slices[key]
        node_ptr = _ptr(torch.bincount(batch, minlength=num_graphs)).cpu()
        by_node = s.numel() == node_ptr.numel() and bool(
            (s.cpu() == node_ptr).all())
        by_edge = s.numel() == slices['edge_index'].numel() and bool(
            (s.cpu() == slices['edge_index'].cpu()).all())
        if by_node != by_edge:
            node, edge = node and by_node, edge and by_edge
        elif not by_node:
            node = edge = False
    return 'edge' if edge else 'node' if node else 'graph'


def _update_slices(out: Batch, data: Batch, node_counts: Tensor,
                   edge_counts: Tensor):
    # The per-graph bookkeeping of a Batch (used by to_data_list and
    # get_example): node- and edge-level slices and edge_index increments.
    slices: Optional[Dict] = getattr(data, '_slice_dict', None)
    incs: Optional[Dict] = getattr(data, '_inc_dict', None)
    if slices is None or incs is None:
        return
    node_ptr, edge_ptr = _ptr(node_counts).cpu(), _ptr(edge_counts).cpu()
    new_slices, new_incs = dict(slices), dict(incs)
    for key in slices:
        value = data.get(key)
        if key == 'edge_index':
            new_slices[key] = edge_ptr
            new_incs[key] = node_ptr[:-1]
            continue
        level = 'node' if key == 'x' else 'graph' if value is None else \
            _level(data, key, value, data.batch, data.num_graphs, True)
        if level == 'node':
            new_slices[key] = node_ptr
        elif level == 'edge':
            new_slices[key] = edge_ptr
    out._slice_dict, out._inc_dict = new_slices, new_incs


def _check_batch(x, edge_index, batch, num_graphs, active):
    if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or \
            edge_index.size(0) != 2:
        shape = tuple(edge_index.shape) if isinstance(edge_index, Tensor) \
            else type(edge_index).__name__
        raise ValueError(f"'edge_index' must be a tensor of shape [2, E], "
                         f"got {shape}")
    if edge_index.dtype != torch.long:
        raise ValueError(f"'edge_index' must hold int64 node indices, got "
                         f"{edge_index.dtype}")
    if batch is None:
        n = x.size(0) if x is not None else (
            int(edge_index.max()) + 1 if edge_index.numel() else 0)
        batch = torch.zeros(n, dtype=torch.long, device=edge_index.device)
        num_graphs = 1 if num_graphs is None else num_graphs
    if batch.dim() != 1 or batch.dtype != torch.long:
        raise ValueError(f"'batch' must be an int64 vector giving the graph "
                         f"of every node, got shape {tuple(batch.shape)} "
                         f"and dtype {batch.dtype}")
    n = batch.numel()
    if x is not None and x.size(0) != n:
        raise ValueError(f"'x' has {x.size(0)} rows but 'batch' gives the "
                         f"graph of {n} nodes")
    if num_graphs is None:
        num_graphs = int(batch.max()) + 1 if n else 0
    if n and (int(batch.min()) < 0 or int(batch.max()) >= num_graphs):
        raise ValueError(f"'batch' holds graph ids outside [0, "
                         f"{num_graphs}) (num_graphs={num_graphs})")
    if edge_index.numel():
        lo, hi = int(edge_index.min()), int(edge_index.max())
        if lo < 0 or hi >= n:
            bad = lo if lo < 0 else hi
            raise ValueError(f"'edge_index' refers to node {bad} but the "
                             f"batch has {n} nodes (valid ids: 0..{n - 1})")
        if bool((batch[edge_index[0]] != batch[edge_index[1]]).any()):
            raise ValueError("'edge_index' holds edges between different "
                             "graphs of the batch; every edge must join two "
                             "nodes of one graph")
    if active is None:
        active = torch.ones(num_graphs, dtype=torch.bool, device=batch.device)
    elif active.shape != (num_graphs, ) or active.dtype != torch.bool:
        raise ValueError(f"'active' must be a boolean vector with one entry "
                         f"per graph ({num_graphs}), got shape "
                         f"{tuple(active.shape)} and dtype {active.dtype}")
    return x, edge_index, batch, num_graphs, active


def _keep_nodes(x: Optional[Tensor], edge_index: Tensor, batch: Tensor,
                keep: Tensor) -> GraphAugmentResult:
    # The subgraph induced by the nodes in `keep`, relabelled in order.
    node_select = keep.nonzero().view(-1)
    edge_index, _, edge_mask = induced_subgraph(
        node_select, edge_index, relabel_nodes=True,
        num_nodes=batch.numel(), return_edge_mask=True)
    return GraphAugmentResult(
        None if x is None else x[node_select], edge_index,
        batch[node_select], node_select, edge_mask.nonzero().view(-1))


class NodeDropping(GraphAugmentation):
    r"""GraphCL's node dropping: removes :math:`\lfloor p\,n_g \rfloor`
    nodes of every graph :math:`g` (:math:`n_g` nodes), drawn uniformly
    without replacement, together with their edges; the remaining nodes are
    relabelled in order.

    .. math::
        \widetilde{\mathcal{V}}_g \subset \mathcal{V}_g, \quad
        |\widetilde{\mathcal{V}}_g| = n_g - \lfloor p\,n_g \rfloor, \quad
        \widetilde{\mathcal{E}}_g = \{(i, j) \in \mathcal{E}_g :
        i, j \in \widetilde{\mathcal{V}}_g\}

    A graph always keeps at least one node (at :math:`p = 1` exactly
    one). GraphCL's ``drop_nodes`` with ``int(n / 10)`` is :math:`p=0.1`.

    Args:
        p (float, optional): Share of each graph's nodes to drop, in
            :math:`[0, 1]`. (default: ``0.1``)
        generator (int or torch.Generator, optional): See
            :class:`~graphcl.corruptions.Corruption`.

    Shapes:
        **x** ``[N, F]`` :math:`\to` ``[N', F]``; **edge_index**
        ``[2, E]`` :math:`\to` ``[2, E']``; **batch** ``[N]`` :math:`\to`
        ``[N']``.
    """
    def __init__(self, p: float = 0.1, generator: GeneratorLike = None):
        super().__init__(generator)
        self.p = check_prob(p, "'p'")

    def _augment(self, x, edge_index, batch, num_graphs, active):
        sizes = torch.bincount(batch, minlength=num_graphs)
        k = torch.minimum(augmented_count(sizes, self.p),
                          (sizes - 1).clamp(min=0))
        k = torch.where(active, k, torch.zeros_like(k))
        drop = self._pick(batch, num_graphs, k)
        return _keep_nodes(x, edge_index, batch, ~drop)

    def extra_repr(self) -> str:
        return f'p={self.p}'


class EdgePerturbation(GraphAugmentation):
    r"""GraphCL's edge perturbation: removes :math:`k_g = \lfloor p\,m_g
    \rfloor` of the :math:`m_g` edges of every graph :math:`g`, drawn
    uniformly without replacement, and (with :obj:`add`) adds :math:`k_g`
    edges :math:`(u, v)` with :math:`u, v` drawn uniformly from the graph's
    nodes, so the edge count is kept.

    Edges are directed entries of ``edge_index``, as in GraphCL's code (an
    undirected edge is two entries, perturbed independently); added edges
    may repeat an edge or be self-loops, as there. Edge-level attributes
    follow the kept edges; with :obj:`add` a graph carrying any is refused
    (an added edge has no attribute), use ``add=False`` then.

    GraphCL's paper and its semi-supervised and transfer code add edges;
    its unsupervised TU code (``unsupervised_TU/aug.py``,
    ``permute_edges``) only removes them (``add=False``).

    Args:
        p (float, optional): Share of each graph's edges to perturb, in
            :math:`[0, 1]`. (default: ``0.1``)
        add (bool, optional): Add as many random edges as were removed.
            (default: :obj:`True`)
        generator (int or torch.Generator, optional): See
            :class:`~graphcl.corruptions.Corruption`.

    Shapes:
        **edge_index** ``[2, E]`` :math:`\to` ``[2, E]`` (``[2, E']`` with
        ``add=False``), grouped by graph; nodes unchanged.
    """
    def __init__(self, p: float = 0.1, add: bool = True,
                 generator: GeneratorLike = None):
        super().__init__(generator)
        self.p = check_prob(p, "'p'")
        self.add = bool(add)

    def _augment(self, x, edge_index, batch, num_graphs, active):
        device = edge_index.device
        edge_graph = batch[edge_index[0]]
        k = augmented_count(torch.bincount(edge_graph, minlength=num_graphs),
                            self.p)
        k = torch.where(active, k, torch.zeros_like(k))
        kept = (~self._pick(edge_graph, num_graphs, k)).nonzero().view(-1)
        if not self.add or int(k.sum()) == 0:
            return GraphAugmentResult(x, edge_index[:, kept], batch,
                                      None, kept)
        sizes = torch.bincount(batch, minlength=num_graphs)
        new_graph = torch.repeat_interleave(
            torch.arange(num_graphs, device=device), k)
        start, size = _ptr(sizes)[new_graph], sizes[new_graph]
        ends = [start + (self._rand(new_graph.numel(), device) *
                         size).long().clamp(max=size - 1)
                for _ in range(2)]
        edges = torch.cat([edge_index[:, kept], torch.stack(ends)], dim=1)
        select = torch.cat([kept, kept.new_full((new_graph.numel(), ), -1)])
        order = torch.sort(torch.cat([edge_graph[kept], new_graph]),
                           stable=True)[1]
        return GraphAugmentResult(x, edges[:, order], batch, None,
                                  select[order])

    def extra_repr(self) -> str:
        return f'p={self.p}' + ('' if self.add else ', add=False')


class AttributeMasking(GraphAugmentation):
    r"""GraphCL's attribute masking as its code does it (``mask_nodes``):
    the feature rows of :math:`\lfloor p\,n_g \rfloor` nodes of every graph
    :math:`g`, drawn uniformly without replacement, are replaced by
    Gaussian noise,

    .. math::
        \tilde{\mathbf{x}}_i \sim \mathcal{N}(\mu, \sigma^2 \mathbf{I})
        \quad (i \text{ masked}), \qquad
        \tilde{\mathbf{x}}_i = \mathbf{x}_i \quad \text{otherwise},

    with :math:`\mu = 0.5`, :math:`\sigma = 0.5` there
    (``np.random.normal(loc=0.5, scale=0.5)``). The graph is unchanged.

    Args:
        p (float, optional): Share of each graph's nodes to mask, in
            :math:`[0, 1]`. (default: ``0.1``)
        mean (float, optional): :math:`\mu`. (default: ``0.5``)
        std (float, optional): :math:`\sigma \geq 0`. (default: ``0.5``)
        generator (int or torch.Generator, optional): See
            :class:`~graphcl.corruptions.Corruption`.

    Shapes:
        **x** ``[N, F]`` (floating point) :math:`\to` ``[N, F]``; edges
        unchanged.
    """
    def __init__(self, p: float = 0.1, mean: float = 0.5, std: float = 0.5,
                 generator: GeneratorLike = None):
        super().__init__(generator)
        self.p = check_prob(p, "'p'")
        for name, value in (('mean', mean), ('std', std)):
            if isinstance(value, bool) or not isinstance(
                    value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"'{name}' must be a finite number, got "
                                 f"{value!r}")
        if std < 0:
            raise ValueError(f"'std' must be >= 0, got {std!r}")
        self.mean, self.std = float(mean), float(std)

    def _augment(self, x, edge_index, batch, num_graphs, active):
        if x is None:
            raise ValueError("AttributeMasking needs node features 'x'")
        if not x.is_floating_point():
            raise ValueError(
                f"AttributeMasking replaces feature rows by Gaussian noise "
                f"and needs floating-point features, got dtype {x.dtype} "
                f"(e.g. OGB's categorical atom features); use the other "
                f"augmentations ('random2' = node dropping or subgraph)")
        sizes = torch.bincount(batch, minlength=num_graphs)
        k = torch.where(active, augmented_count(sizes, self.p),
                        torch.zeros_like(sizes))
        mask = self._pick(batch, num_graphs, k)
        rows = mask.nonzero().view(-1)
        noise = self._randn((rows.numel(), ) + tuple(x.shape[1:]), x.device,
                            x.dtype)
        x = x.clone()
        x[rows] = noise * self.std + self.mean
        return GraphAugmentResult(x, edge_index, batch)

    def extra_repr(self) -> str:
        return f'p={self.p}, mean={self.mean}, std={self.std}'


class Subgraph(GraphAugmentation):
    r"""GraphCL's subgraph augmentation: keeps a connected subgraph of
    :math:`t_g = \min(n_g, \lfloor r\,n_g \rfloor + 1)` nodes of every
    graph :math:`g`, grown from a uniformly random start node by adding,
    one at a time, a node drawn uniformly from the current neighbourhood
    (the out-neighbours of the nodes taken so far that are not taken yet);
    it stops early when the neighbourhood is empty (the start node's
    component is exhausted). The subgraph induced by the kept nodes is
    returned, relabelled in order.

    The paper calls this sampling "by random walk"; this is its code's
    algorithm (``semisupervised_TU``'s ``subgraph``, and
    ``unsupervised_TU/aug.py``'s with the neighbourhood updated as the
    subgraph grows: there ``idx_neigh.union(...)`` is never assigned, so
    only the start node's neighbours can be taken, a bug reported in
    GraphCL's issue 24). :math:`r = 0.2` with :math:`\lfloor r\,n
    \rfloor + 1` nodes is the unsupervised TU code's ``int(n * 0.2)`` and
    ``while len(idx_sub) <= sub_num``.

    Args:
        ratio (float, optional): :math:`r`, in :math:`[0, 1]`.
            (default: ``0.2``)
        generator (int or torch.Generator, optional): See
            :class:`~graphcl.corruptions.Corruption`.

    Shapes:
        **x** ``[N, F]`` :math:`\to` ``[N', F]``; **edge_index**
        ``[2, E]`` :math:`\to` ``[2, E']``; **batch** ``[N]`` :math:`\to`
        ``[N']``.
    """
    def __init__(self, ratio: float = 0.2, generator: GeneratorLike = None):
        super().__init__(generator)
        self.ratio = check_prob(ratio, "'ratio'")

    def _augment(self, x, edge_index, batch, num_graphs, active):
        n = batch.numel()
        sizes = torch.bincount(batch, minlength=num_graphs)
        target = torch.minimum(augmented_count(sizes, self.ratio) + 1, sizes)
        # Inactive graphs keep every node; active ones start from one.
        taken = ~active[batch]
        taken |= self._pick(batch, num_graphs,
                            torch.where(active, torch.ones_like(sizes),
                                        torch.zeros_like(sizes)))
        src, dst = edge_index
        while True:
            count = torch.bincount(batch[taken], minlength=num_graphs)
            grow = count < target
            frontier = torch.zeros(n, dtype=torch.bool, device=batch.device)
            frontier[dst[taken[src]]] = True
            frontier &= ~taken & grow[batch]
            if not bool(frontier.any()):
                break
            # One uniformly random frontier node per growing graph.
            cand = frontier.nonzero().view(-1)
            first = self._random_rank(batch[cand], num_graphs) == 0
            taken[cand[first]] = True
        return _keep_nodes(x, edge_index, batch, taken)

    def extra_repr(self) -> str:
        return f'ratio={self.ratio}'


class _GraphChain(GraphAugmentation):
    # Applies (augmentation, graphs flagged) steps in turn, composing the
    # node and edge selections.
    def __init__(self, augmentations: Sequence[GraphAugmentation],
                 generator: GeneratorLike = None):
        super().__init__(generator)
        augmentations = list(augmentations) if not isinstance(
            augmentations, torch.nn.Module) else [augmentations]
        if not augmentations:
            raise ValueError(f"{type(self).__name__} needs at least one "
                             f"graph augmentation")
        for a in augmentations:
            if not isinstance(a, GraphAugmentation):
                raise TypeError(f"{type(self).__name__} expects graph "
                                f"augmentations (GraphAugmentation), got "
                                f"{type(a).__name__}")
        self.augmentations = torch.nn.ModuleList(augmentations)

    def _steps(self, num_graphs: int, active: Tensor):
        raise NotImplementedError

    def _augment(self, x, edge_index, batch, num_graphs, active):
        node_select = edge_select = None
        for aug, flags in self._steps(num_graphs, active):
            res = aug._augment(x, edge_index, batch, num_graphs, flags)
            x, edge_index, batch = res.x, res.edge_index, res.batch
            node_select = _compose_select(node_select, res.node_select)
            edge_select = _compose_edges(edge_select, res.edge_select)
        return GraphAugmentResult(x, edge_index, batch, node_select,
                                  edge_select)

    def __repr__(self) -> str:
        inner = ', '.join(repr(a) for a in self.augmentations)
        return f'{type(self).__name__}([{inner}])'


class GraphCompose(_GraphChain):
    r"""Applies several graph augmentations in turn to every graph.

    Args:
        augmentations (list of GraphAugmentation): Applied in order, each
            drawing from its own ``generator``.
    """
    def __init__(self, augmentations: Sequence[GraphAugmentation]):
        super().__init__(augmentations)

    def _steps(self, num_graphs, active):
        return [(a, active) for a in self.augmentations]


class GraphRandomChoice(_GraphChain):
    r"""Applies to every graph one augmentation drawn uniformly for that
    graph, as GraphCL's ``random2``, ``random3`` and ``random4``
    (``np.random.randint`` per graph in ``TUDataset_aug.get``).

    Args:
        augmentations (list of GraphAugmentation): The candidates.
        generator (int or torch.Generator, optional): Randomness of the
            choices; every candidate draws from its own ``generator``.
    """
    def choose(self, num_graphs: int,
               device: Optional[torch.device] = None) -> Tensor:
        r"""The index of the augmentation of every graph ``[num_graphs]``."""
        device = torch.device('cpu') if device is None else device
        out = torch.randint(len(self.augmentations), (num_graphs, ),
                            generator=self.generator,
                            device=self._gen_device(device))
        return out.to(device)

    def _steps(self, num_graphs, active):
        choice = self.choose(num_graphs, active.device)
        return [(a, active & (choice == i))
                for i, a in enumerate(self.augmentations)]


#: GraphCL's augmentation names (``--aug`` of ``unsupervised_TU``) and what
#: they build; ``'none'`` is no augmentation (:obj:`None`).
GRAPH_AUGMENTATIONS: Dict[str, Tuple[str, ...]] = {
    'none': (),
    'dnodes': ('dnodes', ),
    'pedges': ('pedges', ),
    'subgraph': ('subgraph', ),
    'mask_nodes': ('mask_nodes', ),
    'random2': ('dnodes', 'subgraph'),
    'random3': ('dnodes', 'pedges', 'subgraph'),
    'random4': ('dnodes', 'pedges', 'subgraph', 'mask_nodes'),
}


def get_graph_augmentation(name: str, ratio: float = 0.1,
                           subgraph_ratio: float = 0.2, add_edges: bool = True,
                           generator: GeneratorLike = None
                           ) -> Optional[GraphAugmentation]:
    r"""Builds one of GraphCL's augmentations by its code's name:
    ``'dnodes'`` (:class:`NodeDropping`), ``'pedges'``
    (:class:`EdgePerturbation`), ``'subgraph'`` (:class:`Subgraph`),
    ``'mask_nodes'`` (:class:`AttributeMasking`), ``'random2'``,
    ``'random3'``, ``'random4'`` (:class:`GraphRandomChoice` per graph over
    the first two, three, four of node dropping, subgraph, edge
    perturbation, attribute masking), or ``'none'`` (:obj:`None`: the graph
    as it is).

    Args:
        name (str): The name.
        ratio (float, optional): :math:`p` of node dropping, edge
            perturbation and attribute masking. (default: ``0.1``)
        subgraph_ratio (float, optional): :math:`r` of :class:`Subgraph`.
            (default: ``0.2``)
        add_edges (bool, optional): :obj:`add` of
            :class:`EdgePerturbation`. (default: :obj:`True`)
        generator (int or torch.Generator, optional): One generator shared
            by all the parts (an ``int`` seeds a new one).
    """
    key = name.lower().replace('-', '_') if isinstance(name, str) else name
    if key not in GRAPH_AUGMENTATIONS:
        raise ValueError(f"Unknown graph augmentation {name!r}; choose one "
                         f"of {list(GRAPH_AUGMENTATIONS)}")
    gen = _make_generator(generator)
    build = {
        'dnodes': lambda: NodeDropping(ratio, generator=gen),
        'pedges': lambda: EdgePerturbation(ratio, add=add_edges,
                                           generator=gen),
        'subgraph': lambda: Subgraph(subgraph_ratio, generator=gen),
        'mask_nodes': lambda: AttributeMasking(ratio, generator=gen),
    }
    parts = [build[part]() for part in GRAPH_AUGMENTATIONS[key]]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return GraphRandomChoice(parts, generator=gen)
