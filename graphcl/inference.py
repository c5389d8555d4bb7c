r"""Layer-wise inference: exact full-graph embeddings of a multi-layer GNN
with memory bounded by the batch size, not by the graph.

Sampled mini-batches see only part of each neighbourhood, and computing
:math:`L`-hop neighbourhoods in full grows exponentially with :math:`L`.
Layer-wise inference (as in GraphSAGE's and PyG's large-graph examples)
instead computes layer :math:`l` for **all** nodes before layer
:math:`l + 1`:

.. math::
    \mathbf{H}^{(l+1)}_{\mathcal{B}} = \sigma\left(\mathrm{Conv}^{(l)}
    \left(\mathbf{H}^{(l)}_{\mathcal{B} \cup \mathcal{N}(\mathcal{B})},
    \mathcal{E}(\cdot \to \mathcal{B})\right)\right)

for consecutive chunks :math:`\mathcal{B}` of :obj:`batch_size` nodes with
their complete 1-hop in-neighbourhoods (a contiguous slice of the CSC
adjacency), so every node sees all its neighbours.
"""
from typing import NamedTuple, Optional, Union

import torch
from torch import Tensor
from torch.nn import Module
from torch_geometric.data import Data

from .sampling.csc import CSC, to_csc
from .validation import check_int

__all__ = ['layerwise_inference']


def _rows(x: Tensor, index: Tensor) -> Tensor:
    # Rows of a dense or sparse CSR matrix, as a dense tensor.
    if x.layout != torch.sparse_csr:
        return x.index_select(0, index)
    crow, col, val = x.crow_indices(), x.col_indices(), x.values()
    start = crow.index_select(0, index)
    count = crow.index_select(0, index + 1) - start
    r = torch.repeat_interleave(torch.arange(index.numel()), count)
    pos = torch.arange(r.numel()) - (torch.cumsum(count, 0) - count
                                     ).index_select(0, r)
    pos += start.index_select(0, r)
    out = torch.zeros(index.numel(), x.size(1), dtype=val.dtype)
    out.index_put_((r, col.index_select(0, pos)), val.index_select(0, pos))
    return out


def _normalising_gcn(conv: Optional[Module]) -> bool:
    from torch_geometric.nn import GCNConv
    return isinstance(conv, GCNConv) and conv.normalize


def _check_flow(encoder: Module) -> None:
    # Chunks hold each target node's complete set of in-edges; a layer that
    # aggregates over out-edges (flow='target_to_source') would see a part.
    for i, conv in enumerate(getattr(encoder, 'convs', [])):
        flow = getattr(conv, 'flow', 'source_to_target')
        if flow != 'source_to_target':
            raise ValueError(
                f"Layer-wise inference aggregates over in-neighbours "
                f"(flow='source_to_target') but layer {i} "
                f"({type(conv).__name__}) has flow='{flow}'; build it with "
                f"the default flow, or reverse the graph (edge_index.flip(0)) "
                f"and use the default flow")


class _Graph(NamedTuple):
    # In-edges grouped by target: sources row[colptr[i]:colptr[i + 1]],
    # with their weights (or None).
    colptr: Tensor
    row: Tensor
    weight: Optional[Tensor]


@torch.no_grad()
def layerwise_inference(encoder: Module, data: Data, batch_size: int = 4096,
                        csc: Optional[CSC] = None,
                        device: Optional[Union[str, torch.device]] = None,
                        progress: bool = False) -> Tensor:
    r"""Embeds every node of :obj:`data` with a multi-layer encoder, one
    layer at a time over chunks of :obj:`batch_size` nodes.

    Memory: the graph (features, CSC adjacency) plus at most **two**
    :math:`N \times D` output buffers on the CPU (layers alternate between
    them; the last layer's buffer is returned), plus the working set of one
    chunk: :obj:`batch_size` nodes, their in-edges and the distinct
    neighbours' rows of the previous layer, which is what :obj:`batch_size`
    bounds. Chunks run on :obj:`device` (e.g. a GPU) and their outputs are
    copied back to the CPU buffers.

    The result equals ``encoder(x, edge_index[, edge_weight])`` up to
    floating-point rounding for layers that aggregate over in-neighbours
    (PyG's default ``flow='source_to_target'``; other flows are refused):
    SAGE, GAT, GIN and GCN, on graphs with or without self-loops and
    duplicate edges. In a chunk a neighbour that is itself a target keeps
    the target's local index, so layers that handle self-loops (GAT's
    ``add_self_loops``) see them as the full graph has them. For
    :class:`~torch_geometric.nn.conv.GCNConv` with ``normalize=True`` the
    whole graph is normalised once by PyG's own
    :func:`~torch_geometric.nn.conv.gcn_conv.gcn_norm` (global degrees,
    ``add_self_loops`` and ``improved`` as the layer has them, existing
    self-loops kept as :func:`~torch_geometric.utils.add_remaining_self_loops`
    keeps them, edge weights included), and the layer then runs on each
    chunk's normalised in-edges with ``normalize`` switched off for the
    call.

    Args:
        encoder (Module): A :class:`~graphcl.nn.GNNEncoder` (anything with
            ``num_layers``, ``hidden_channels`` and ``layer(i, x,
            edge_index, edge_weight=None)``), run in eval mode.
        data (Data): The graph with ``x`` ``[N, F]`` (dense, or
            ``torch.sparse_csr``) and ``edge_index`` ``[2, E]`` (optional
            ``edge_weight`` ``[E]``).
        batch_size (int, optional): Nodes per chunk. (default: ``4096``)
        csc (CSC, optional): Prebuilt CSC adjacency of :obj:`data` (e.g.
            the ``csc`` of a :class:`~graphcl.sampling.TorchNeighborSampler`)
            to avoid rebuilding it.
        device (str or torch.device, optional): Where chunks are computed
            (default: the encoder's device).
        progress (bool, optional): Show a tqdm bar per layer.

    Returns:
        Embeddings ``[N, hidden_channels]`` on the CPU.
    """
    if not (hasattr(encoder, 'layer') and hasattr(encoder, 'num_layers')):
        raise ValueError(f"Layer-wise inference needs an encoder with "
                         f"'num_layers' and 'layer(i, x, edge_index)' such "
                         f"as graphcl.nn.GNNEncoder; got "
                         f"{type(encoder).__name__}")
    check_int(batch_size, 'The batch size')
    _check_flow(encoder)
    if device is None:
        param = next(encoder.parameters(), None)
        device = param.device if param is not None else torch.device('cpu')
    device = torch.device(device)
    n = data.num_nodes
    if csc is None:
        csc = to_csc(data.edge_index, n)
    elif csc.num_nodes != n:
        raise ValueError(f"The CSC adjacency has {csc.num_nodes} nodes but "
                         f"the graph has {n}")
    edge_weight = getattr(data, 'edge_weight', None)
    use_weight = edge_weight is not None and getattr(
        encoder, 'supports_edge_weight', False)
    raw_weight = None
    if use_weight:
        raw_weight = (edge_weight if csc.perm is None else
                      edge_weight.index_select(0, csc.perm))
    raw = _Graph(csc.colptr, csc.row, raw_weight)
    normalised = {}  # (improved, add_self_loops, dtype) -> _Graph

    def gcn_graph(conv, dtype) -> _Graph:
        # The graph exactly as GCNConv normalises it on the full graph.
        from torch_geometric.nn.conv.gcn_conv import gcn_norm
        key = (bool(conv.improved), bool(conv.add_self_loops), dtype)
        if key not in normalised:
            ei, ew = gcn_norm(data.edge_index,
                              edge_weight if use_weight else None, n,
                              conv.improved, conv.add_self_loops,
                              'source_to_target', dtype)
            g = to_csc(ei, n)
            normalised[key] = _Graph(g.colptr, g.row, ew if g.perm is None
                                     else ew.index_select(0, g.perm))
        return normalised[key]

    was_training = encoder.training
    encoder.eval()
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=encoder.num_layers * n, desc='inference',
                   unit='node', leave=False, dynamic_ncols=True)
    buffers = [None, None]
    h = data.x
    try:
        for i in range(encoder.num_layers):
            conv = encoder.convs[i] if hasattr(encoder, 'convs') else None
            gcn = _normalising_gcn(conv)
            if gcn and not getattr(encoder, 'supports_edge_weight', False):
                raise ValueError(
                    f"Layer {i} is a normalising GCNConv, which layer-wise "
                    f"inference runs on normalised edge weights, but "
                    f"{type(encoder).__name__}.layer does not pass edge "
                    f"weights (supports_edge_weight is False); use "
                    f"graphcl.nn.GCNEncoder")
            dtype = h.dtype if h.is_floating_point() else \
                torch.get_default_dtype()
            graph = gcn_graph(conv, dtype) if gcn else raw
            out = None
            for start in range(0, n, batch_size):
                end = min(start + batch_size, n)
                lo, hi = int(graph.colptr[start]), int(graph.colptr[end])
                nbr = graph.row[lo:hi]
                dst = torch.repeat_interleave(
                    torch.arange(end - start),
                    graph.colptr[start + 1:end + 1] -
                    graph.colptr[start:end], output_size=hi - lo)
                # Local ids: the chunk's targets first; a neighbour inside
                # the chunk is the target itself (self-loops stay
                # self-loops), the others follow, each once.
                inside = (nbr >= start) & (nbr < end)
                outside = ~inside
                uniq, inv = torch.unique(nbr[outside], return_inverse=True)
                src = torch.empty_like(nbr)
                src[inside] = nbr[inside] - start
                src[outside] = inv + (end - start)
                nodes = torch.cat([torch.arange(start, end), uniq])
                x = _rows(h, nodes).to(device)
                edge_index = torch.stack([src, dst]).to(device)
                ew = None
                if graph.weight is not None:
                    ew = graph.weight[lo:hi].to(device)
                if gcn:
                    conv.normalize = False  # the weights are normalised
                try:
                    z = encoder.layer(i, x, edge_index, ew)[:end - start]
                finally:
                    if gcn:
                        conv.normalize = True
                if out is None:
                    buf = buffers[i % 2]
                    if buf is None or buf.size(1) != z.size(1):
                        buf = torch.empty(n, z.size(1), dtype=z.dtype)
                        buffers[i % 2] = buf
                    out = buf
                out[start:end] = z.cpu()
                if bar is not None:
                    bar.update(end - start)
            h = out
    finally:
        encoder.train(was_training)
        if bar is not None:
            bar.close()
    return h
