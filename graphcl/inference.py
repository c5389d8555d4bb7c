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
from typing import Optional, Union

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


def _gcn_conv(conv: Module) -> bool:
    from torch_geometric.nn import GCNConv
    return isinstance(conv, GCNConv) and conv.normalize


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

    The result equals ``encoder(x, edge_index)`` up to floating-point
    rounding for encoders whose layers aggregate over in-neighbours (SAGE,
    GAT, GIN); for :class:`~torch_geometric.nn.conv.GCNConv` the symmetric
    normalisation :math:`\hat d_i^{-1/2}\hat d_j^{-1/2}` uses global
    in-degrees plus one self-loop (exact on graphs without self-loops).

    Args:
        encoder (Module): A :class:`~graphcl.nn.GNNEncoder` (anything with
            ``num_layers``, ``hidden_channels`` and ``layer(i, x,
            edge_index, edge_weight=None)``), run in eval mode.
        data (Data): The graph with ``x`` ``[N, F]`` (dense, or
            ``torch.sparse_csr``) and ``edge_index`` ``[2, E]`` (optional
            ``edge_weight`` ``[E]``).
        batch_size (int, optional): Nodes per chunk. (default: ``4096``)
        csc (CSC, optional): Prebuilt CSC adjacency of :obj:`data` (e.g.
            :attr:`TorchNeighborSampler.csc`) to avoid rebuilding it.
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
    colptr, row = csc.colptr, csc.row
    weight = getattr(data, 'edge_weight', None)
    if weight is not None and csc.perm is not None:
        weight = weight.index_select(0, csc.perm)
    use_weight = weight is not None and getattr(
        encoder, 'supports_edge_weight', False)
    deg_inv_sqrt = None

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
            gcn = conv is not None and _gcn_conv(conv)
            if gcn and deg_inv_sqrt is None:
                if use_weight:  # weighted in-degree
                    deg = torch.zeros(n).index_add_(0, torch.repeat_interleave(
                        torch.arange(n), csc.degree()), weight.float())
                else:
                    deg = csc.degree().float()
                deg_inv_sqrt = (deg + 1).pow_(-0.5)
            out = None
            for start in range(0, n, batch_size):
                end = min(start + batch_size, n)
                lo, hi = int(colptr[start]), int(colptr[end])
                nbr = row[lo:hi]
                dst = torch.repeat_interleave(
                    torch.arange(end - start),
                    colptr[start + 1:end + 1] - colptr[start:end])
                uniq, inv = torch.unique(nbr, return_inverse=True)
                nodes = torch.cat([torch.arange(start, end), uniq])
                src = inv + (end - start)
                x = _rows(h, nodes).to(device)
                edge_index = torch.stack([src, dst]).to(device)
                ew = weight[lo:hi].to(device) if use_weight else None
                if gcn:
                    # Global symmetric normalisation, self-loops added here.
                    norm = (deg_inv_sqrt.index_select(0, nbr) *
                            deg_inv_sqrt[start:end].index_select(0, dst))
                    ew = norm.to(device) * (ew if ew is not None else 1.0)
                    loops = torch.arange(end - start, device=device)
                    edge_index = torch.cat(
                        [edge_index, torch.stack([loops, loops])], dim=1)
                    ew = torch.cat([ew, deg_inv_sqrt[start:end].pow(2).to(
                        device)])
                    conv.normalize = False
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
