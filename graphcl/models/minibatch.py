r"""Training any :class:`~graphcl.models.GraphMethod` on neighbour-sampled
mini-batches: the seed-node encoder shared by the methods'
``minibatch_objective`` and the module the engine trains (and wraps in
:class:`~torch.nn.parallel.DistributedDataParallel` under ``torchrun``).

Wide sparse features stay sparse on this path. The loader
(:func:`graphcl.sampling.neighbor_loader`) gives a batch's ``x`` as a
``torch.sparse_csr`` matrix when the graph's features are mostly zero
(bag-of-words: Coauthor-Physics has 8,415 columns, 0.4 % non-zero), and:

* :func:`encode_seeds` runs the first layer of a
  :class:`~graphcl.nn.GNNEncoder` on the CSR rows for PyG's ``GCNConv``
  (which takes a sparse ``x`` as it is) and ``SAGEConv`` (mean or sum
  aggregation: :math:`\mathbf{X}\mathbf{W}^\top` as a sparse-dense
  product, then aggregated, which is the same map), only for the rows the
  next layer reads; any other encoder or layer gets dense rows. Same
  result as on dense rows, up to float rounding.
* :func:`corrupt_subgraph` applies a corruption to the CSR rows:
  :class:`~graphcl.corruptions.FeatureShuffle` permutes them,
  :class:`~graphcl.corruptions.FeatureMask` zeroes masked columns' entries,
  edge corruptions leave them alone, with the same random draws as on
  dense rows; any other corruption gets dense rows.

A method whose ``minibatch_objective`` hands ``batch.x`` only to these two
functions sets ``supports_sparse_features = True``;
:class:`MiniBatchTrainer` gives every other method dense rows (the same
numbers, at the dense cost).
"""
import copy
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable
from torch.nn import Module

from ..sampling.features import csr_rows, densify, is_sparse_rows
from .base import GraphMethod

__all__ = ['MiniBatchTrainer', 'encode_seeds', 'sampled_hops',
           'corrupt_subgraph', 'subgraph_views', 'check_views_keep_nodes',
           'sparse_first_layer_supported']

Hops = Optional[Tuple[List[int], List[int]]]

# Hook registries of torch.nn.Module and PyG's MessagePassing: a hooked
# convolution is run by its own forward on dense rows, so hooks see what
# they would see on the plain path.
_HOOKS = ('_forward_hooks', '_forward_pre_hooks', '_backward_hooks',
          '_backward_pre_hooks', '_propagate_forward_pre_hooks',
          '_propagate_forward_hooks', '_message_forward_pre_hooks',
          '_message_forward_hooks', '_aggregate_forward_pre_hooks',
          '_aggregate_forward_hooks',
          '_message_and_aggregate_forward_pre_hooks',
          '_message_and_aggregate_forward_hooks')


def sampled_hops(batch) -> Hops:
    r"""``(num_sampled_nodes, num_sampled_edges)`` of a sampled batch, or
    :obj:`None` when it does not carry them."""
    nodes = getattr(batch, 'num_sampled_nodes', None)
    edges = getattr(batch, 'num_sampled_edges', None)
    if nodes is None or edges is None:
        return None
    return nodes, edges


def _layered(encoder: Module) -> bool:
    # A GNNEncoder whose forward is the stack of its layer() calls, without
    # hooks, so that running layer() one at a time is running the encoder.
    from ..nn.encoders import GNNEncoder
    return (isinstance(encoder, GNNEncoder) and not _hooked(encoder)
            and type(encoder).forward is GNNEncoder.forward)


def _hooked(module: Module) -> bool:
    return any(getattr(module, name, None) for name in _HOOKS)


def _plain_linear(lin, dtype: torch.dtype) -> bool:
    from torch.nn.parameter import UninitializedParameter
    from torch_geometric.nn import Linear
    return (type(lin) is Linear and not _hooked(lin)
            and not isinstance(lin.weight, UninitializedParameter)
            and lin.weight.dtype == dtype)


def _plain_conv(conv: Module) -> bool:
    return (not _hooked(conv) and not getattr(conv, 'explain', False)
            and getattr(conv, 'decomposed_layers', 1) == 1
            and getattr(conv, 'flow', 'source_to_target') ==
            'source_to_target')


def _plain_sage(conv: Module, dtype: torch.dtype) -> bool:
    # Exactly PyG's SAGEConv with a linear (mean or sum) aggregation.
    from torch_geometric.nn import SAGEConv
    from torch_geometric.nn.aggr import MeanAggregation, SumAggregation
    return (type(conv) is SAGEConv and _plain_conv(conv)
            and not conv.project
            and type(conv.aggr_module) in (MeanAggregation, SumAggregation)
            and _plain_linear(conv.lin_l, dtype)
            and (not conv.root_weight or _plain_linear(conv.lin_r, dtype)))


def _edges(edge_index) -> bool:
    return (isinstance(edge_index, Tensor) and edge_index.layout ==
            torch.strided and edge_index.dim() == 2
            and edge_index.size(0) == 2)


def sparse_first_layer_supported(encoder: Module, x: Tensor,
                                 edge_index: Tensor) -> bool:
    r"""Whether :func:`encode_seeds` runs the first layer of
    :obj:`encoder` on the CSR rows :obj:`x` itself (else on dense rows).

    Strict, so that the result is the plain path's: a
    :class:`~graphcl.nn.GNNEncoder` that does not override ``forward`` or
    ``layer``, without dropout while training, whose first convolution is
    exactly PyG's ``GCNConv``, or ``SAGEConv`` with mean or sum aggregation
    and no ``project``; plain PyG ``Linear`` weights of the features'
    dtype, no hooks, the default ``flow``, one decomposed layer, not
    explaining; features that need no gradient; and an ``edge_index``
    tensor."""
    from torch_geometric.nn import GCNConv
    from ..nn.encoders import GNNEncoder
    if not (is_sparse_rows(x) and x.is_floating_point()
            and not x.requires_grad and _layered(encoder)
            and type(encoder).layer is GNNEncoder.layer
            and _edges(edge_index)):
        return False
    if encoder.dropout > 0 and encoder.training:
        return False
    conv = encoder.convs[0]
    if type(conv) is GCNConv:
        return _plain_conv(conv) and _plain_linear(conv.lin, x.dtype)
    return _plain_sage(conv, x.dtype)


def _spmm(a: Tensor, h: Tensor) -> Tensor:
    # a @ h for a CSR a and a dense h, written straight into a fresh tensor
    # (``a @ h`` zero-fills a buffer and copies it into the result: two more
    # passes over an |S| x D output).
    out = h.new_empty(a.size(0), h.size(1))
    return torch.addmm(out, a, h.contiguous(), beta=0, out=out)


def _csr_transpose(a: Tensor) -> Tensor:
    # The CSR form of a.t() (a stable sort of the entries by column).
    from ..sampling.features import csr_tensor
    crow, col, val = a.crow_indices(), a.col_indices(), a.values()
    row = torch.repeat_interleave(
        torch.arange(a.size(0), device=crow.device), crow.diff(),
        output_size=col.numel())
    order = torch.argsort(col, stable=True)
    new_crow = torch.zeros(a.size(1) + 1, dtype=crow.dtype,
                           device=crow.device)
    torch.cumsum(torch.bincount(col, minlength=a.size(1)), 0,
                 out=new_crow[1:])
    return csr_tensor(new_crow, row.index_select(0, order),
                      val.index_select(0, order), (a.size(1), a.size(0)))


class _SpMM(torch.autograd.Function):
    # a @ h for a CSR a (no gradient) and a dense h; the backward multiplies
    # by a's transpose, given or built once.
    @staticmethod
    def forward(ctx, a: Tensor, a_t: Optional[Tensor], h: Tensor) -> Tensor:
        ctx.a, ctx.a_t = a, a_t
        return _spmm(a, h)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):
        a_t = ctx.a_t if ctx.a_t is not None else _csr_transpose(ctx.a)
        return None, None, _spmm(a_t, grad)


class _SparseLinear(torch.autograd.Function):
    # x @ weight.t() for CSR rows x (no gradient) and a dense [D, F] weight;
    # weight.grad = (x.t() @ grad).t() (x.t() built in the backward only).
    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor) -> Tensor:
        ctx.x = x
        return _spmm(x, weight.t())

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):
        return None, _spmm(_csr_transpose(ctx.x), grad).t()


def _sparse_linear(lin, x: Tensor) -> Tensor:
    # PyG's Linear on CSR rows (same map as lin(x.to_dense())).
    out = _SparseLinear.apply(x, lin.weight)
    return out if lin.bias is None else out + lin.bias


def _aggregate(h: Tensor, edge_index: Tensor, num_out: int,
               mean: bool) -> Tensor:
    # out_i = sum (or mean) of h_j over the edges j -> i, for i < num_out:
    # PyG's Sum/MeanAggregation (empty neighbourhoods give 0) written as one
    # product with a CSR adjacency, instead of gathering and scattering
    # D-wide messages edge by edge.
    from ..sampling.features import csr_tensor
    src, dst = edge_index[0].long(), edge_index[1].long()
    deg = torch.bincount(dst, minlength=num_out)
    value = h.new_ones(src.numel())
    if mean:
        value = value / deg.clamp_min(1).to(h.dtype).index_select(0, dst)

    def csr(row, col, shape):
        order = torch.argsort(row, stable=True)
        crow = torch.zeros(shape[0] + 1, dtype=torch.long, device=h.device)
        torch.cumsum(torch.bincount(row, minlength=shape[0]), 0,
                     out=crow[1:])
        return csr_tensor(crow, col.index_select(0, order),
                          value.index_select(0, order), shape)

    a = csr(dst, src, (num_out, h.size(0)))
    a_t = csr(src, dst, (h.size(0), num_out)) if h.requires_grad else None
    return _SpMM.apply(a, a_t, h)


def _sparse_first_layer(encoder: Module, x: Tensor, edge_index: Tensor,
                        edge_weight: Optional[Tensor],
                        num_out: int) -> Tensor:
    # Layer 0 of a GNNEncoder (see sparse_first_layer_supported) on CSR
    # rows; returns (at least) the first num_out rows of its output.
    from torch_geometric.nn import GCNConv
    from torch_geometric.nn.aggr import MeanAggregation
    conv = encoder.convs[0]
    if type(conv) is GCNConv:  # PyG's GCNConv multiplies a sparse x itself
        if edge_weight is not None and encoder.supports_edge_weight:
            out = conv(x, edge_index, edge_weight)
        else:
            out = conv(x, edge_index)
        return encoder.acts[0](out)
    # SAGEConv: W_l mean_j x_j + b = mean_j (W_l x_j) + b (and the sum), so
    # the sparse rows are projected first, an |S| x D sparse-dense product,
    # and D-wide rows are aggregated instead of F-wide ones.
    h = _SparseLinear.apply(x, conv.lin_l.weight)
    out = _aggregate(h, edge_index, num_out,
                     type(conv.aggr_module) is MeanAggregation)
    if conv.lin_l.bias is not None:
        out = out + conv.lin_l.bias
    if conv.root_weight:
        x_dst = x if num_out == x.size(0) else csr_rows(
            x, torch.arange(num_out, device=x.device))
        out = out + _sparse_linear(conv.lin_r, x_dst)
    if conv.normalize:
        out = F.normalize(out, p=2., dim=-1)
    return encoder.acts[0](out)


def _layer(encoder: Module, i: int, x: Tensor, edge_index: Tensor,
           edge_weight: Optional[Tensor], num_out: int) -> Tensor:
    # encoder.layer(i, ...) for (at least) the first num_out rows: a plain
    # SAGEConv is called bipartite, (x, x[:num_out]), so it computes only
    # the rows the next layer reads (PyG's own API; same rows).
    from ..nn.encoders import GNNEncoder
    conv = encoder.convs[i]
    if (num_out == x.size(0) or type(encoder).layer is not GNNEncoder.layer
            or not _plain_sage(conv, x.dtype) or not _edges(edge_index)):
        return encoder.layer(i, x, edge_index, edge_weight)
    if encoder.dropout > 0:
        x = F.dropout(x, encoder.dropout, encoder.training)
    out = conv((x, x[:num_out]), edge_index, size=(x.size(0), num_out))
    return encoder.acts[i](out)


def _trims_exactly(conv: Module) -> bool:
    # Whether a layer's output at a node depends only on the node's
    # in-edges (and their sources), so that trimming the edges into nodes
    # it does not need changes nothing it does need. Not GCN's symmetric
    # normalisation (source degrees change), nor GIN (batch norm over the
    # rows), nor any other or derived type.
    from torch_geometric.nn import GATConv, GCNConv, SAGEConv
    kind = type(conv)
    return kind in (SAGEConv, GATConv) or (kind is GCNConv
                                           and not conv.normalize)


def _seeds_first(hops: Hops, edge_index: Tensor) -> bool:
    # The sampler's layout that trimming relies on: nodes grouped by hop
    # (seeds first) and hop k's edges run from nodes of hops <= k + 1 into
    # nodes of hops <= k.
    nodes, edges = [int(n) for n in hops[0]], [int(e) for e in hops[1]]
    if sum(edges) != edge_index.size(1):
        return False
    start = reached = 0
    for k, count in enumerate(edges):
        reached += nodes[k]
        seg = edge_index[:, start:start + count]
        if count and (int(seg[1].max()) >= reached
                      or int(seg[0].max()) >= reached + nodes[k + 1]):
            return False
        start += count
    return True


def encode_seeds(encoder: Module, x: Tensor, edge_index: Tensor,
                 batch_size: int, hops: Hops = None,
                 edge_weight: Optional[Tensor] = None,
                 trim: bool = True) -> Tensor:
    r"""Embeddings ``[batch_size, D]`` of the seed nodes (the first
    :obj:`batch_size` rows of :obj:`x`) of a sampled subgraph.

    With a :class:`~graphcl.nn.GNNEncoder` and the per-hop counts
    :obj:`hops` (see :func:`sampled_hops`), layer :math:`l` only runs on
    the nodes and edges still needed by the seeds (as
    :func:`torch_geometric.utils.trim_to_layer` trims them), and a plain
    ``SAGEConv`` only computes the rows the next layer reads; the result
    is the same. Layers whose output at a node also depends on edges out
    of it are not trimmed: ``GCNConv`` with its symmetric normalisation
    (source degrees) and ``GINConv`` (batch norm over all rows) run on the
    whole subgraph. With dropout, trimmed layers draw their masks for the
    rows they keep.

    :obj:`x` may be dense or a ``torch.sparse_csr`` matrix: then the first
    layer multiplies the sparse rows where
    :func:`sparse_first_layer_supported` says so, and gets dense rows
    otherwise (same result up to float rounding).
    """
    sparse = is_sparse_rows(x)
    num_layers = getattr(encoder, 'num_layers', None)
    can_trim = (trim and hops is not None and _layered(encoder)
                and all(_trims_exactly(c) for c in encoder.convs[1:])
                and len(hops[1]) == num_layers
                and len(hops[0]) == num_layers + 1
                and _edges(edge_index) and _seeds_first(hops, edge_index))
    first_sparse = sparse and sparse_first_layer_supported(
        encoder, x, edge_index)
    if not can_trim and not first_sparse:
        if sparse:
            x = densify(x)
        args = (x, edge_index) if edge_weight is None else \
            (x, edge_index, edge_weight)
        return encoder(*args)[:batch_size]
    num_rows = x.size(0)
    if can_trim:
        nodes, edges = [int(n) for n in hops[0]], [int(e) for e in hops[1]]

    def rows_out(i: int) -> int:  # rows of layer i's output still needed
        return sum(nodes[:num_layers - i]) if can_trim else num_rows

    start = 0
    if first_sparse:
        x = _sparse_first_layer(encoder, x, edge_index, edge_weight,
                                rows_out(0))
        start = 1
    elif sparse:
        x = densify(x)
    for i in range(start, num_layers):
        if can_trim and i > 0:
            # PyG's trim_to_layer counted from the full subgraph (it trims
            # relative to the rows it is given, and layers here may return
            # only the rows the next one reads)
            x = x.narrow(0, 0, sum(nodes[:num_layers + 1 - i]))
            num_edges = sum(edges[:num_layers - i])
            edge_index = edge_index.narrow(1, 0, num_edges)
            if edge_weight is not None:
                edge_weight = edge_weight.narrow(0, 0, num_edges)
        x = _layer(encoder, i, x, edge_index, edge_weight, rows_out(i))
    return x[:batch_size]


def corrupt_subgraph(corruption, x: Tensor, edge_index: Tensor,
                     edge_weight: Optional[Tensor] = None) -> tuple:
    r"""``corruption(x, edge_index[, edge_weight])`` for node features
    :obj:`x` that may be a ``torch.sparse_csr`` matrix (a sampled batch's
    sparse rows), returning what the corruption returns on dense rows
    (``(x, edge_index)`` or ``(x, edge_index, edge_weight)``) with the same
    random draws, and ``x`` kept sparse where the corruption allows:

    * :class:`~graphcl.corruptions.FeatureShuffle`: the rows permuted by
      its :meth:`~graphcl.corruptions.FeatureShuffle.permutation`;
    * :class:`~graphcl.corruptions.FeatureMask`: the masked columns'
      entries set to zero (the mask drawn by the corruption itself);
    * :class:`~graphcl.corruptions.EdgeDrop`,
      :class:`~graphcl.corruptions.Identity`: ``x`` untouched;
    * :class:`~graphcl.corruptions.Compose` of these: in order.

    Any other corruption (subclasses included) is called on dense rows.
    Dense :obj:`x` is passed to the corruption as it is.
    """
    from ..corruptions import (Compose, EdgeDrop, FeatureMask,
                               FeatureShuffle, Identity)
    args = (x, edge_index) if edge_weight is None else \
        (x, edge_index, edge_weight)
    if not is_sparse_rows(x):
        return corruption(*args)
    kind = type(corruption)
    if kind is Compose:
        out = args
        for part in corruption.corruptions:
            out = corrupt_subgraph(part, *out)
        return out
    if kind is FeatureShuffle:
        perm = corruption.permutation(x.size(0), x.device)
        return (csr_rows(x, perm), ) + args[1:]
    if kind in (EdgeDrop, Identity):
        out = corruption(None, edge_index, edge_weight, num_nodes=x.size(0))
        return (x, ) + tuple(out[1:])
    if kind is FeatureMask:
        # The corruption draws one mask over the columns whatever the rows
        # are: applied to a row of ones, it shows which columns it zeroes.
        keep = corruption(torch.ones(1, x.size(1), dtype=x.dtype,
                                     device=x.device))[0][0] != 0
        val = x.values()
        val = torch.where(keep.index_select(0, x.col_indices()), val,
                          val.new_zeros(()))
        from ..sampling.features import csr_tensor
        return (csr_tensor(x.crow_indices(), x.col_indices(), val,
                           x.shape), ) + args[1:]
    return corruption(densify(x), *args[1:])


def check_views_keep_nodes(views, num_nodes: int) -> None:
    r"""Refuses views whose row count is not the graph's: the two-view
    losses (GRACE, CCA-SSG, BGRL) pair the views' embeddings row by row."""
    # The loss pairs the two views' embeddings row by row (row i: node i):
    # a view that removed nodes and relabelled the rest (NodeDrop(relabel=
    # True)) would pair other nodes' rows, without any error when the
    # counts happen to agree, and always on a sampled subgraph, whose first
    # rows are taken as the seeds.
    for k, view in enumerate(views, 1):
        rows = view[0].size(0)
        if rows != num_nodes:
            raise ValueError(
                f"View {k} has {rows} nodes, the graph {num_nodes}: two-view "
                f"methods compare the views' embeddings node by node (row i "
                f"is node i), so a view must keep every node; use "
                f"NodeDrop(relabel=False), which keeps a dropped node as an "
                f"isolated row of zeros, instead of NodeDrop(relabel=True)")


def subgraph_views(corruptions, batch) -> List[tuple]:
    r"""One view per corruption of a sampled subgraph :obj:`batch`, drawn
    in order by :func:`corrupt_subgraph` (sparse feature rows stay
    sparse): ``(x, edge_index, edge_weight, kept)`` each, where ``kept``
    holds the ids of the subgraph's edges the view kept (ascending where
    the corruption keeps the edges' order) and ``edge_weight`` their
    weights, or :obj:`None` when the batch has none."""
    edge_weight = getattr(batch, 'edge_weight', None)
    # The edge ids are passed as an edge-level tensor, so they follow the
    # kept edges: they select the weights and give the view's hop counts.
    ids = torch.arange(batch.edge_index.size(1),
                       device=batch.edge_index.device)
    views = []
    for corruption in corruptions:
        x, edge_index, kept = corrupt_subgraph(corruption, batch.x,
                                               batch.edge_index, ids)
        views.append((x, edge_index,
                      None if edge_weight is None else edge_weight[kept],
                      kept))
    return views


class MiniBatchTrainer(Module):
    r"""The module the engine trains in mini-batch mode: its
    :meth:`forward` is the method's
    :meth:`~graphcl.models.GraphMethod.minibatch_objective` (so it can be
    wrapped in :class:`~torch.nn.parallel.DistributedDataParallel`) and
    :meth:`embed` computes full-graph embeddings of the method's encoder by
    :func:`graphcl.inference.layerwise_inference` (memory bounded by the
    chunk size, not the graph).

    Args:
        method (GraphMethod): The method trained; its parameters are
            shared.
        inference_batch_size (int, optional): Chunk size of :meth:`embed`.
            (default: ``4096``)

    Shapes:
        - **input:** a sampled batch with ``x`` ``[|S|, F]``,
          ``edge_index`` ``[2, |E_S|]`` and ``batch_size`` (seeds first)
        - **output:** the scalar loss
    """
    def __init__(self, method: GraphMethod,
                 inference_batch_size: int = 4096):
        super().__init__()
        if not isinstance(method, GraphMethod):
            raise TypeError(f"{type(self).__name__} trains a GraphMethod, "
                            f"got {type(method).__name__}")
        if not method.supports_minibatch:
            raise ValueError(
                f"{type(method).__name__} cannot be trained on sampled "
                f"mini-batches; drop --batch-size to train full batch")
        self.method = method
        self.inference_batch_size = inference_batch_size

    @property
    def encoder(self) -> Module:
        return self.method.encoder

    def reset_parameters(self):
        r"""Resets all learnable parameters of the module."""
        self.method.reset_parameters()

    def forward(self, batch) -> Tensor:
        r"""The method's loss on one sampled mini-batch (with dense feature
        rows unless the method declares ``supports_sparse_features``)."""
        if is_sparse_rows(getattr(batch, 'x', None)) and not getattr(
                self.method, 'supports_sparse_features', False):
            batch = copy.copy(batch)
            batch.x = batch.x.to_dense()
        return self.method.minibatch_objective(batch)

    def objective(self, batch) -> Tensor:
        r"""Alias of :meth:`forward`."""
        return self(batch)

    def on_step(self) -> None:
        self.method.on_step()

    @torch.no_grad()
    def embed(self, data, batch_size: Optional[int] = None, csc=None,
              progress: bool = False) -> Tensor:
        r"""Frozen embeddings ``[N, D]`` of every node of :obj:`data`, by
        layer-wise inference."""
        from ..inference import layerwise_inference
        return layerwise_inference(
            self.method.encoder, data,
            batch_size or self.inference_batch_size, csc=csc,
            progress=progress)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.method!r})'
