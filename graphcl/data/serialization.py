r"""Safe loading of PyG objects with ``torch.load(..., weights_only=True)``.

Since PyTorch 2.6, :func:`torch.load` defaults to ``weights_only=True``,
which refuses to unpickle classes that are not allow-listed. PyG allow-lists
:class:`~torch_geometric.data.Data` itself but not the storage and attribute
classes a pickled ``Data`` refers to, so files written by ``torch.save(data)``
or by OGB's loaders cannot be read back. :func:`pyg_safe_globals` allow-lists
exactly those (plain data containers, no code), keeping ``weights_only=True``.
"""
from contextlib import contextmanager
from typing import Any, Iterator, List

import torch

__all__ = ['PYG_SAFE_GLOBALS', 'NUMPY_SCALAR_GLOBALS', 'pyg_safe_globals']


def _pyg_classes() -> List[Any]:
    from torch_geometric.data import Data, HeteroData
    from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import (
        BaseStorage,
        EdgeStorage,
        GlobalStorage,
        NodeStorage,
    )
    return [
        Data, HeteroData, DataEdgeAttr, DataTensorAttr, BaseStorage,
        GlobalStorage, NodeStorage, EdgeStorage
    ]


def _numpy_scalar_classes() -> List[Any]:
    # NumPy scalars (as in ``num_nodes`` of graphs that OGB read from its
    # binary format) pickle as ``scalar(dtype, bytes)``: plain data.
    import numpy as np
    try:
        multiarray = np._core.multiarray  # NumPy >= 2.
    except AttributeError:  # pragma: no cover
        multiarray = np.core.multiarray
    out = [multiarray.scalar, np.dtype]
    for name in ('Int8DType', 'Int16DType', 'Int32DType', 'Int64DType',
                 'UInt8DType', 'UInt16DType', 'UInt32DType', 'UInt64DType',
                 'Float16DType', 'Float32DType', 'Float64DType', 'BoolDType'):
        cls = getattr(getattr(np, 'dtypes', None), name, None)
        if cls is not None:
            out.append(cls)
    return out


PYG_SAFE_GLOBALS: List[Any] = _pyg_classes()
r"""The PyG classes allow-listed by :func:`pyg_safe_globals`."""

NUMPY_SCALAR_GLOBALS: List[Any] = _numpy_scalar_classes()
r"""NumPy scalar and numeric dtype classes, allow-listed by
:func:`pyg_safe_globals` with :obj:`numpy_scalars=True`."""


@contextmanager
def pyg_safe_globals(numpy_scalars: bool = False) -> Iterator[None]:
    r"""Context manager under which ``torch.load(path, weights_only=True)``
    can read pickled PyG :class:`~torch_geometric.data.Data` objects (and
    the ``(data, slices)`` tuples of :class:`InMemoryDataset` files).

    .. code-block:: python

        with pyg_safe_globals():
            data = torch.load('graph.pt', weights_only=True)

    Args:
        numpy_scalars (bool, optional): Also allow-list NumPy scalars of
            numeric dtypes (needed for files that OGB processed from its
            binary raw format). (default: :obj:`False`)
    """
    # ``safe_globals`` removes its classes again on exit: only add those not
    # allow-listed already (PyG registers ``Data`` globally at import).
    known = set(torch.serialization.get_safe_globals())
    wanted = PYG_SAFE_GLOBALS + (NUMPY_SCALAR_GLOBALS if numpy_scalars else [])
    extra = [cls for cls in wanted if cls not in known]
    with torch.serialization.safe_globals(extra):
        yield
