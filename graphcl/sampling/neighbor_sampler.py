r"""A vectorised neighbour sampler in pure PyTorch that plugs into PyG's
loaders (:class:`torch_geometric.loader.NodeLoader`)."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.sampler import (BaseSampler, NodeSamplerInput,
                                     SamplerOutput)

from .csc import CSC, to_csc

__all__ = ['TorchNeighborSampler', 'sample_neighbors', 'check_fanout']


def check_fanout(num_neighbors: Sequence[int]) -> List[int]:
    r"""Validates per-hop fan-outs: positive integers, or ``-1`` for all
    neighbours. Returns them as a list."""
    if isinstance(num_neighbors, (int, str)) or not hasattr(
            num_neighbors, '__len__'):
        raise ValueError(f"The fan-outs must be a list with one entry per "
                         f"hop/layer, e.g. [10, 10, 25], got "
                         f"{num_neighbors!r}")
    out = [int(k) for k in num_neighbors] if all(
        isinstance(k, int) and not isinstance(k, bool)
        for k in num_neighbors) else None
    if not out or any(k == 0 or k < -1 for k in out):
        raise ValueError(f"The fan-outs must be a non-empty list of positive "
                         f"integers (or -1 for all neighbours), one per "
                         f"hop/layer, e.g. [10, 10, 25]; got "
                         f"{list(num_neighbors)!r}")
    return out


def _take_all(deg: Tensor) -> Tuple[Tensor, Tensor]:
    # (row in the frontier, offset in its neighbour list) of all neighbours.
    idx = torch.repeat_interleave(torch.arange(deg.numel()), deg)
    start = torch.cumsum(deg, 0) - deg
    return idx, torch.arange(idx.numel()) - start.index_select(0, idx)


def sample_neighbors(deg: Tensor, k: int, replace: bool = False
                     ) -> Tuple[Tensor, Tensor]:
    r"""Draws up to :obj:`k` neighbour slots for each of :math:`M` nodes with
    degrees :obj:`deg`, vectorised over all nodes.

    * ``k = -1``: all :math:`d_i` slots.
    * ``replace=True``: :math:`k` i.i.d. uniform slots
      :math:`\lfloor u \cdot d_i \rfloor`, :math:`u \sim U[0, 1)` (none for
      isolated nodes).
    * ``replace=False``: all slots when :math:`d_i \le k`, else a uniform
      :math:`k`-subset drawn with Floyd's algorithm, run for all nodes at
      once (:math:`k` vectorised steps).

    Uses PyTorch's global random generator (seeded per worker by
    :class:`~torch.utils.data.DataLoader`).

    Returns:
        ``(index, offset)``: for every drawn slot, the node's position in
        :obj:`deg` and the slot in :math:`[0, d_i)`.
    """
    deg = deg.long()
    if k < 0:
        return _take_all(deg)
    if replace:
        has = (deg > 0).nonzero().view(-1)
        d = deg.index_select(0, has).unsqueeze(1)
        off = torch.minimum((torch.rand(has.numel(), k) * d).long(), d - 1)
        return has.repeat_interleave(k), off.view(-1)
    small = (deg <= k).nonzero().view(-1)
    big = (deg > k).nonzero().view(-1)
    idx_s, off_s = _take_all(deg.index_select(0, small))
    idx_s = small.index_select(0, idx_s)
    if big.numel() == 0:
        return idx_s, off_s
    d = deg.index_select(0, big)
    chosen = torch.empty(big.numel(), k, dtype=torch.long)
    for i in range(k):  # Floyd: j = d-k+i; t ~ U{0..j}; t taken -> use j
        j = d - k + i
        t = (torch.rand(big.numel()) * (j + 1)).long()
        t = torch.minimum(t, j)
        if i > 0:
            taken = (chosen[:, :i] == t.unsqueeze(1)).any(dim=1)
            t = torch.where(taken, j, t)
        chosen[:, i] = t
    return (torch.cat([idx_s, big.repeat_interleave(k)]),
            torch.cat([off_s, chosen.view(-1)]))


class TorchNeighborSampler(BaseSampler):
    r"""Multi-hop neighbour sampling as in GraphSAGE (`Hamilton et al., 2017
    <https://arxiv.org/abs/1706.02216>`_), written with vectorised PyTorch
    ops only, so it runs without ``pyg-lib`` or ``torch-sparse``.

    Hop :math:`h` samples :obj:`num_neighbors[h]` incoming neighbours of
    every node first reached at hop :math:`h - 1` (the seeds for
    :math:`h = 0`), as PyG's :class:`~torch_geometric.sampler.NeighborSampler`
    does. The output follows PyG's conventions, so it works with
    :class:`~torch_geometric.loader.NodeLoader` (see
    :func:`graphcl.sampling.neighbor_loader`):

    * ``node``: global ids, seeds first, then each hop's new nodes;
    * ``row``/``col``: local source/destination of each sampled edge
      (``edge_index = [row, col]``), grouped by hop;
    * ``edge``: sampled edge ids (mapped to input ids through
      :attr:`edge_permutation`);
    * ``num_sampled_nodes``/``num_sampled_edges`` per hop, for
      :func:`torch_geometric.utils.trim_to_layer`.

    Relabelling uses a node-to-local-id map of :math:`N` int32 entries that
    is reset after each batch, so the work per batch is linear in the
    sampled subgraph. One sampler must not be used by several threads at
    once (DataLoader worker *processes* are fine).

    Args:
        data (Data or CSC): The graph (its :obj:`edge_index` is converted
            with :func:`~graphcl.sampling.to_csc`, without a copy if it is
            sorted by destination) or a prebuilt :class:`CSC`.
        num_neighbors (list of int): Fan-out per hop; ``-1`` takes all
            neighbours.
        replace (bool, optional): Sample with replacement.
            (default: :obj:`False`)
    """
    def __init__(self, data: Union[Data, CSC], num_neighbors: Sequence[int],
                 replace: bool = False):
        self.num_neighbors = check_fanout(num_neighbors)
        self.replace = bool(replace)
        if isinstance(data, CSC):
            self.csc = data
        elif isinstance(data, Data):
            if data.edge_index is None:
                raise ValueError("The graph has no 'edge_index' to sample "
                                 "from")
            self.csc = to_csc(data.edge_index, data.num_nodes)
        else:
            raise TypeError(f"'data' must be a torch_geometric Data or a "
                            f"CSC, got {type(data).__name__}")
        self._map: Optional[Tensor] = None

    @property
    def num_nodes(self) -> int:
        return self.csc.num_nodes

    @property
    def edge_permutation(self) -> Optional[Tensor]:
        return self.csc.perm

    def _node_map(self) -> Tensor:
        if self._map is None:
            self._map = torch.full((self.num_nodes, ), -1, dtype=torch.int32)
        return self._map

    def __getstate__(self):  # DataLoader workers build their own map
        state = self.__dict__.copy()
        state['_map'] = None
        return state

    def sample_from_nodes(self, inputs: NodeSamplerInput,
                          **kwargs) -> SamplerOutput:
        if inputs.time is not None:
            raise ValueError("TorchNeighborSampler does not do temporal "
                             "sampling; install pyg-lib and use PyG's "
                             "NeighborSampler")
        seed = inputs.node.long().cpu()
        colptr, row = self.csc.colptr, self.csc.row
        nmap = self._node_map()
        num = seed.numel()
        nmap.index_copy_(0, seed, torch.arange(num, dtype=torch.int32))
        nodes, rows, cols, edges = [seed], [], [], []
        num_nodes, num_edges = [num], []
        frontier, frontier_local = seed, torch.arange(num)
        try:
            for k in self.num_neighbors:
                start = colptr.index_select(0, frontier)
                deg = colptr.index_select(0, frontier + 1) - start
                idx, off = sample_neighbors(deg, k, self.replace)
                pos = start.index_select(0, idx) + off
                src = row.index_select(0, pos)
                unseen = nmap.index_select(0, src) < 0
                new = src.masked_select(unseen).unique()
                nodes.append(new)
                nmap.index_copy_(0, new, torch.arange(
                    num, num + new.numel(), dtype=torch.int32))
                rows.append(nmap.index_select(0, src).long())
                cols.append(frontier_local.index_select(0, idx))
                edges.append(pos)
                num_nodes.append(new.numel())
                num_edges.append(pos.numel())
                frontier = new
                frontier_local = torch.arange(num, num + new.numel())
                num += new.numel()
        finally:
            node = torch.cat(nodes)
            nmap.index_fill_(0, node, -1)
        return SamplerOutput(
            node=node, row=torch.cat(rows), col=torch.cat(cols),
            edge=torch.cat(edges), batch=None, num_sampled_nodes=num_nodes,
            num_sampled_edges=num_edges,
            metadata=(inputs.input_id, inputs.time))

    def sample_from_edges(self, inputs, neg_sampling=None):
        raise NotImplementedError(
            f"{self.__class__.__name__} samples from seed nodes only; use "
            f"PyG's LinkNeighborLoader (needs pyg-lib) for link prediction")

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_nodes={self.num_nodes}, '
                f'num_neighbors={self.num_neighbors}, '
                f'replace={self.replace})')
