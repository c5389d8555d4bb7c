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

__all__ = ['PYG_SAFE_GLOBALS', 'pyg_safe_globals']


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


PYG_SAFE_GLOBALS: List[Any] = _pyg_classes()
r"""The PyG classes allow-listed by :func:`pyg_safe_globals`."""


@contextmanager
def pyg_safe_globals() -> Iterator[None]:
    r"""Context manager under which ``torch.load(path, weights_only=True)``
    can read pickled PyG :class:`~torch_geometric.data.Data` objects (and
    the ``(data, slices)`` tuples of :class:`InMemoryDataset` files).

    .. code-block:: python

        with pyg_safe_globals():
            data = torch.load('graph.pt', weights_only=True)
    """
    # ``safe_globals`` removes its classes again on exit: only add those not
    # allow-listed already (PyG registers ``Data`` globally at import).
    known = set(torch.serialization.get_safe_globals())
    extra = [cls for cls in PYG_SAFE_GLOBALS if cls not in known]
    with torch.serialization.safe_globals(extra):
        yield
