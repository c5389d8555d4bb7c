r"""Neighbour-sampling loaders: PyG's own sampler when ``pyg-lib`` or
``torch-sparse`` is installed, :class:`TorchNeighborSampler` otherwise."""
import copy
from typing import Callable, List, Optional, Sequence, Union

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import NodeLoader
from torch_geometric.sampler import BaseSampler

from .features import csr_rows, mostly_zero, to_sparse_rows
from .neighbor_sampler import TorchNeighborSampler, check_fanout
from ..validation import check_int

__all__ = ['RandomBatches', 'SparseRowsTransform', 'parse_fanout',
           'pyg_sampler_available', 'make_neighbor_sampler',
           'neighbor_loader', 'BACKENDS']

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


class SparseRowsTransform:
    r"""The :class:`~torch_geometric.loader.NodeLoader` transform that gives
    a sampled batch its node features as CSR rows: ``batch.x =
    x[batch.n_id]`` gathered from the CSR matrix :obj:`x` by
    :func:`~graphcl.sampling.csr_rows` (dense when :obj:`dense`), then
    :obj:`transform` (the caller's own, if any).

    Args:
        x (Tensor): Node features of the whole graph, ``torch.sparse_csr``
            ``[N, F]``.
        dense (bool, optional): Give dense rows instead. (default:
            :obj:`False`)
        transform (callable, optional): Applied to the batch afterwards.
    """
    def __init__(self, x: Tensor, dense: bool = False,
                 transform: Optional[Callable] = None):
        self.x, self.dense, self.transform = x, dense, transform

    def __call__(self, batch: Data) -> Data:
        x = csr_rows(self.x, batch.n_id)
        batch.x = x.to_dense() if self.dense else x
        return batch if self.transform is None else self.transform(batch)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({tuple(self.x.shape)}, '
                f'dense={self.dense})')


def _sparse_rows_choice(x, sparse_features: Optional[bool]) -> Optional[bool]:
    # None: gather dense rows as PyG does; True: CSR rows; False: dense rows
    # gathered from a sparse matrix (which PyG's filter cannot index).
    if not isinstance(x, Tensor) or x.dim() != 2:
        if sparse_features:
            raise ValueError("sparse_features=True needs node features 'x' "
                             "of shape [N, F]")
        return None
    if x.layout != torch.strided:
        return sparse_features is not False
    if sparse_features is None:
        return True if x.is_floating_point() and mostly_zero(x) else None
    if sparse_features and not x.is_floating_point():
        raise ValueError(f"sparse_features=True needs floating-point "
                         f"features, got {x.dtype}")
    return True if sparse_features else None


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
    r"""Whether PyG's compiled
    :class:`~torch_geometric.sampler.NeighborSampler` can run (``pyg-lib``
    or ``torch-sparse`` installed)."""
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
                    sparse_features: Optional[bool] = None,
                    **kwargs) -> NodeLoader:
    r"""A :class:`~torch_geometric.loader.NodeLoader` over mini-batches of
    :obj:`batch_size` seed nodes with their sampled multi-hop
    neighbourhoods, the drop-in for
    :class:`~torch_geometric.loader.NeighborLoader` that also runs without
    ``pyg-lib``/``torch-sparse``.

    Each batch is a :class:`~torch_geometric.data.Data` with the sampled
    nodes' attributes, ``edge_index``, ``n_id`` (global ids, seeds first),
    ``e_id``, ``batch_size`` and ``num_sampled_nodes``/``num_sampled_edges``.

    Wide sparse features stay sparse: when ``data.x`` is a sparse tensor,
    or a dense one with at most :data:`~graphcl.sampling.SPARSE_DENSITY` of
    its entries non-zero, each batch's ``x`` is a ``torch.sparse_csr``
    matrix of its nodes' rows (:class:`SparseRowsTransform`), which
    :func:`graphcl.models.minibatch.encode_seeds` multiplies as such. The
    dense-to-CSR conversion reads all of ``data.x`` once per call (about a
    second for Coauthor-Physics): give ``data.x`` as CSR
    (:func:`~graphcl.sampling.to_sparse_rows`) to pay it once for many
    epochs.

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
        sparse_features (bool, optional): ``True``: batches hold CSR feature
            rows; ``False``: dense rows (also from a sparse ``data.x``);
            :obj:`None`: CSR when ``data.x`` is sparse or mostly zero, as
            described above. Results are the same either way.
            (default: :obj:`None`)
        **kwargs: Passed to :class:`~torch_geometric.loader.NodeLoader`.
    """
    if sparse_features is not None and not isinstance(sparse_features, bool):
        raise ValueError(f"'sparse_features' must be True, False or None "
                         f"(decide from the features), got "
                         f"{sparse_features!r}")
    check_int(batch_size, 'The batch size', what='seed nodes per mini-batch')
    check_int(num_workers, "'num_workers'", minimum=0)
    x = data.x if 'x' in data else None
    sparse = _sparse_rows_choice(x, sparse_features)
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
    if sparse is not None:  # features gathered by the transform, not PyG
        num_nodes = data.num_nodes
        data = copy.copy(data)
        del data.x
        data.num_nodes = num_nodes
        kwargs['transform'] = SparseRowsTransform(
            to_sparse_rows(x), dense=not sparse,
            transform=kwargs.get('transform'))
    return NodeLoader(data, node_sampler=sampler, input_nodes=input_nodes,
                      num_workers=num_workers, persistent_workers=False,
                      **kwargs)
