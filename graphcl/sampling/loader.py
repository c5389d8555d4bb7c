r"""Neighbour-sampling loaders: PyG's own sampler when ``pyg-lib`` or
``torch-sparse`` is installed, :class:`TorchNeighborSampler` otherwise."""
from typing import List, Optional, Sequence, Union

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import NodeLoader
from torch_geometric.sampler import BaseSampler

from .neighbor_sampler import TorchNeighborSampler, check_fanout
from ..validation import check_int

__all__ = ['RandomBatches', 'parse_fanout', 'pyg_sampler_available',
           'make_neighbor_sampler', 'neighbor_loader', 'BACKENDS']

BACKENDS = ('auto', 'pyg', 'torch')


class RandomBatches(torch.utils.data.Sampler):
    r"""Batches of a fresh random permutation of :math:`[0, n)` every epoch,
    as index tensors. Used instead of the DataLoader's ``shuffle=True``,
    whose :class:`~torch.utils.data.RandomSampler` materialises the whole
    permutation as a Python list (about 36 bytes per seed node, 360 MB for
    10M nodes) every epoch; a tensor costs 8 bytes per node.
    """
    def __init__(self, n: int, batch_size: int, drop_last: bool = False):
        self.n, self.batch_size, self.drop_last = n, batch_size, drop_last

    def __iter__(self):
        for chunk in torch.randperm(self.n).split(self.batch_size):
            if self.drop_last and chunk.numel() < self.batch_size:
                return
            yield chunk

    def __len__(self) -> int:
        if self.drop_last:
            return self.n // self.batch_size
        return -(-self.n // self.batch_size)


def parse_fanout(value: Union[str, Sequence[int]]) -> List[int]:
    r"""Parses fan-outs such as ``'10,10,25'`` (the CLI's ``--fanout``) or a
    list of integers; ``-1`` means all neighbours."""
    if isinstance(value, str):
        parts = [p for p in value.replace(' ', ',').split(',') if p]
        try:
            value = [int(p) for p in parts]
        except ValueError:
            raise ValueError(f"--fanout must be comma-separated integers "
                             f"such as 10,10,25, got {value!r}") from None
    return check_fanout(value)


def pyg_sampler_available() -> bool:
    r"""Whether PyG's compiled :class:`~torch_geometric.sampler.
    NeighborSampler` can run (``pyg-lib`` or ``torch-sparse`` installed)."""
    import torch_geometric.typing as t
    return bool(t.WITH_PYG_LIB or t.WITH_TORCH_SPARSE)


def make_neighbor_sampler(data: Data, num_neighbors: Sequence[int],
                          replace: bool = False,
                          backend: str = 'auto') -> BaseSampler:
    r"""Builds a neighbour sampler once (its CSC adjacency is the expensive
    part), to be shared by the loaders of several epochs or processes.

    Args:
        data (Data): The graph.
        num_neighbors (list of int): Fan-out per hop (``-1``: all).
        replace (bool, optional): Sample with replacement.
        backend (str, optional): ``'pyg'`` (PyG's
            :class:`~torch_geometric.sampler.NeighborSampler`, needs
            ``pyg-lib`` or ``torch-sparse``), ``'torch'``
            (:class:`~graphcl.sampling.TorchNeighborSampler`) or ``'auto'``
            (PyG's when available). (default: ``'auto'``)
    """
    num_neighbors = check_fanout(num_neighbors)
    if backend not in BACKENDS:
        raise ValueError(f"Unknown sampler backend {backend!r}; choose one "
                         f"of {BACKENDS}")
    if backend == 'auto':
        backend = 'pyg' if pyg_sampler_available() else 'torch'
    if backend == 'pyg':
        if not pyg_sampler_available():
            raise ImportError("backend='pyg' needs 'pyg-lib' or "
                              "'torch-sparse'; use backend='torch' for the "
                              "pure-PyTorch sampler")
        from torch_geometric.sampler import NeighborSampler
        return NeighborSampler(data, num_neighbors=num_neighbors,
                               replace=replace)
    return TorchNeighborSampler(data, num_neighbors, replace=replace)


def neighbor_loader(data: Data, num_neighbors: Optional[Sequence[int]] = None,
                    batch_size: int = 1024,
                    input_nodes: Optional[Tensor] = None,
                    shuffle: bool = False, num_workers: int = 0,
                    replace: bool = False, backend: str = 'auto',
                    sampler: Optional[BaseSampler] = None,
                    **kwargs) -> NodeLoader:
    r"""A :class:`~torch_geometric.loader.NodeLoader` over mini-batches of
    :obj:`batch_size` seed nodes with their sampled multi-hop
    neighbourhoods, the drop-in for
    :class:`~torch_geometric.loader.NeighborLoader` that also runs without
    ``pyg-lib``/``torch-sparse``.

    Each batch is a :class:`~torch_geometric.data.Data` with the sampled
    nodes' attributes, ``edge_index``, ``n_id`` (global ids, seeds first),
    ``e_id``, ``batch_size`` and ``num_sampled_nodes``/``num_sampled_edges``.

    Args:
        data (Data): The graph.
        num_neighbors (list of int, optional): Fan-out per hop; not needed
            with :obj:`sampler`.
        batch_size (int): Seed nodes per batch (:math:`\geq 1`).
        input_nodes (Tensor, optional): Seed node ids or mask
            (default: all nodes).
        shuffle (bool, optional): Shuffle the seeds every epoch.
        num_workers (int, optional): DataLoader worker processes.
        replace (bool, optional): Sample with replacement.
        backend (str, optional): See :func:`make_neighbor_sampler`.
        sampler (BaseSampler, optional): A prebuilt sampler to reuse.
        **kwargs: Passed to :class:`~torch_geometric.loader.NodeLoader`.
    """
    check_int(batch_size, 'The batch size', what='seed nodes per mini-batch')
    check_int(num_workers, "'num_workers'", minimum=0)
    if sampler is None:
        if num_neighbors is None:
            raise ValueError("Give 'num_neighbors' (fan-out per hop) or a "
                             "prebuilt 'sampler'")
        sampler = make_neighbor_sampler(data, num_neighbors, replace, backend)
    if input_nodes is not None and isinstance(input_nodes, Tensor) and \
            input_nodes.dtype == torch.bool:
        input_nodes = input_nodes.nonzero().view(-1)
    if shuffle:
        n = data.num_nodes if input_nodes is None else input_nodes.numel()
        kwargs['batch_sampler'] = RandomBatches(
            n, batch_size, kwargs.pop('drop_last', False))
    else:
        kwargs['batch_size'] = batch_size
    return NodeLoader(data, node_sampler=sampler, input_nodes=input_nodes,
                      num_workers=num_workers, persistent_workers=False,
                      **kwargs)
