r"""Neighbour sampling for mini-batch training on large graphs.

.. code-block:: python

    from graphcl.sampling import neighbor_loader

    loader = neighbor_loader(data, num_neighbors=[10, 10, 25],
                             batch_size=1024, shuffle=True)
    for batch in loader:  # Data: x, edge_index, n_id, batch_size, ...
        ...

:func:`neighbor_loader` returns PyG's
:class:`~torch_geometric.loader.NodeLoader` driven by PyG's own
:class:`~torch_geometric.sampler.NeighborSampler` when ``pyg-lib`` or
``torch-sparse`` is installed, and by the vectorised pure-PyTorch
:class:`TorchNeighborSampler` otherwise. Sparse node features stay
sparse: batches then carry ``torch.sparse_csr`` rows (see
:mod:`graphcl.sampling.features`).
"""
from .csc import CSC, to_csc
from .features import (SPARSE_DENSITY, csr_rows, densify, is_sparse_rows,
                       mostly_zero, to_sparse_rows)
from .loader import (BACKENDS, SparseRowsTransform, make_neighbor_sampler,
                     neighbor_loader, parse_fanout, pyg_sampler_available)
from .neighbor_sampler import (TorchNeighborSampler, check_fanout,
                               sample_neighbors)

__all__ = [
    'CSC', 'to_csc', 'TorchNeighborSampler', 'sample_neighbors',
    'check_fanout', 'parse_fanout', 'neighbor_loader',
    'make_neighbor_sampler', 'pyg_sampler_available', 'BACKENDS',
    'SparseRowsTransform', 'SPARSE_DENSITY', 'to_sparse_rows', 'csr_rows',
    'densify', 'is_sparse_rows', 'mostly_zero',
]
