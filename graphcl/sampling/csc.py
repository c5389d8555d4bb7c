r"""Compressed sparse column (CSC) adjacency built with plain PyTorch ops."""
from typing import NamedTuple, Optional

import torch
from torch import Tensor

__all__ = ['CSC', 'to_csc']


class CSC(NamedTuple):
    r"""Incoming edges grouped by destination node.

    The sources of the edges into node :math:`i` are
    ``row[colptr[i]:colptr[i + 1]]``.

    Attributes:
        colptr (Tensor): Offsets ``[N + 1]`` (long).
        row (Tensor): Source node of every edge in CSC order ``[E]`` (long).
        perm (Tensor, optional): Input edge id of every CSC position ``[E]``,
            i.e. ``row == edge_index[0, perm]``; :obj:`None` when the input
            was already sorted by destination (then CSC position = edge id).
    """
    colptr: Tensor
    row: Tensor
    perm: Optional[Tensor]

    @property
    def num_nodes(self) -> int:
        return self.colptr.numel() - 1

    @property
    def num_edges(self) -> int:
        return self.row.numel()

    def degree(self, index: Optional[Tensor] = None) -> Tensor:
        r"""In-degrees of all nodes, or of the nodes in :obj:`index`."""
        if index is None:
            return self.colptr[1:] - self.colptr[:-1]
        return self.colptr[index + 1] - self.colptr[index]


def _is_sorted(index: Tensor, chunk: int = 1 << 24) -> bool:
    # Chunked to keep the temporary boolean mask small on huge graphs.
    for start in range(0, index.numel() - 1, chunk):
        part = index[start:start + chunk + 1]
        if bool((part[1:] < part[:-1]).any()):
            return False
    return True


def to_csc(edge_index: Tensor, num_nodes: Optional[int] = None) -> CSC:
    r"""Builds the CSC adjacency of :obj:`edge_index` (edges
    :math:`j \to i` stored as ``edge_index[:, e] = (j, i)``, PyG's
    ``source_to_target`` flow) with :func:`torch.bincount`,
    :func:`torch.cumsum` and, when needed, a stable :func:`torch.argsort`.

    If :obj:`edge_index` is already sorted by destination (as
    :func:`graphcl.data.synthetic.synthetic_sbm` returns it, or after
    ``edge_index[:, edge_index[1].argsort()]``), ``row`` is a view of
    ``edge_index[0]`` and no edge-sized memory is allocated; otherwise the
    sort costs two edge-sized long tensors (``row`` and ``perm``).

    Args:
        edge_index (Tensor): Edges ``[2, E]``.
        num_nodes (int, optional): Number of nodes :math:`N`
            (default: ``edge_index.max() + 1``).
    """
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"'edge_index' must have shape [2, num_edges], got "
                         f"{tuple(edge_index.shape)}")
    edge_index = edge_index.long() if edge_index.dtype != torch.long \
        else edge_index
    if num_nodes is None:
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
    if edge_index.numel() and int(edge_index.max()) >= num_nodes:
        raise ValueError(f"'edge_index' refers to node "
                         f"{int(edge_index.max())} but the graph has only "
                         f"{num_nodes} nodes")
    row, col = edge_index[0], edge_index[1]
    counts = torch.bincount(col, minlength=num_nodes)
    colptr = torch.zeros(num_nodes + 1, dtype=torch.long,
                         device=edge_index.device)
    torch.cumsum(counts, 0, out=colptr[1:])
    if _is_sorted(col):
        return CSC(colptr, row, None)
    perm = torch.argsort(col, stable=True)
    return CSC(colptr, row[perm], perm)
