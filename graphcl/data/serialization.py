r"""Safe loading of PyG objects with ``torch.load(..., weights_only=True)``.

Since PyTorch 2.6, :func:`torch.load` defaults to ``weights_only=True``,
which refuses to unpickle classes that are not allow-listed. PyG allow-lists
:class:`~torch_geometric.data.Data` itself but not the storage and attribute
classes a pickled ``Data`` refers to, so files written by ``torch.save(data)``
or by OGB's loaders cannot be read back. :func:`pyg_safe_globals` allow-lists
exactly those (plain data containers, no code), keeping ``weights_only=True``.

:func:`safe_torch_load` is the only way graphcl reads ``.pt`` files: always
with ``weights_only=True``, never retrying with ``weights_only=False`` (as
PyG's ``fs.torch_load`` does when the safe load fails), and raising a
one-line :class:`DataFileError` for files that are empty, truncated, text or
need unsafe unpickling.
"""
import os
import re
import struct
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, List, Optional, Tuple

import torch

__all__ = [
    'PYG_SAFE_GLOBALS', 'NUMPY_SCALAR_GLOBALS', 'pyg_safe_globals',
    'DataFileError', 'safe_torch_load'
]


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


class DataFileError(ValueError):
    r"""Raised when a data file (a ``.pt`` file, a processed dataset file or
    a raw dataset file) cannot be read safely. Subclasses
    :class:`ValueError`; the message is one line naming the file, what is
    wrong with it and what to do.

    Attributes:
        path (pathlib.Path): The file.
        kind (str): :obj:`"empty"`, :obj:`"text"`, :obj:`"truncated"`,
            :obj:`"unsafe"` (needs unpickling code that is not allowed),
            :obj:`"corrupt"` (anything else unreadable) or
            :obj:`"content"` (readable, but not what was expected).
        problem (str): What is wrong, without the file name and the fix.
    """
    def __init__(self, message: str, path: Optional[os.PathLike] = None,
                 kind: str = 'corrupt', problem: Optional[str] = None):
        super().__init__(message)
        self.path = None if path is None else Path(path)
        self.kind = kind
        self.problem = problem or message


_ZIP_MAGIC = b'PK\x03\x04'
_PICKLE_PROTO = b'\x80'
_ANSI = re.compile(r'\x1b\[[0-9;]*m')


def first_line(exc: BaseException, limit: int = 200) -> str:
    r"""Returns ``"<ExceptionType>: <first sentence>"`` of an exception's
    message, at most :obj:`limit` characters (for one-line error
    messages)."""
    lines = [_ANSI.sub('', line).strip() for line in str(exc).splitlines()]
    lines = [line for line in lines if line]
    # The first sentence: PyTorch's messages go on with general advice.
    first = lines[0].split('. ')[0].rstrip('.') if lines else ''
    text = f'{type(exc).__name__}: {first}' if first else \
        type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _looks_like_text(head: bytes) -> bool:
    if b'\x00' in head:
        return False
    try:
        head.decode('utf-8')
    except UnicodeDecodeError as e:
        # A multi-byte character cut at the end of the sample is fine.
        return e.start >= len(head) - 3
    return True


def _load_problem(exc: BaseException) -> Tuple[str, str]:
    message = _ANSI.sub('', str(exc))
    match = re.search(r'Unsupported global: GLOBAL (\S+)', message)
    if match is not None:
        return 'unsafe', (f"needs unsafe unpickling: it refers to "
                          f"'{match.group(1)}', which "
                          f"torch.load(weights_only=True) does not allow")
    if 'Weights only load failed' in message:
        detail = [line.split('WeightsUnpickler error:', 1)[1].strip()
                  for line in message.splitlines()
                  if 'WeightsUnpickler error:' in line]
        reason = detail[0] if detail else 'an unsupported pickle instruction'
        return 'unsafe', (f"needs unsafe unpickling ({reason}), which "
                          f"torch.load(weights_only=True) does not allow")
    truncated = isinstance(exc, (EOFError, struct.error, OSError)) or any(
        key in message for key in ('central directory', 'zip archive',
                                   'unexpected EOF', 'truncated',
                                   'Ran out of input'))
    if truncated:
        return 'truncated', (f"is truncated or corrupt ({first_line(exc)}); "
                             f"it was probably not saved or copied "
                             f"completely")
    return 'corrupt', f"is not a readable torch.save file ({first_line(exc)})"


def safe_torch_load(path: os.PathLike, numpy_scalars: bool = False) -> Any:
    r"""Loads a file written by :func:`torch.save` with
    ``torch.load(path, map_location='cpu', weights_only=True)`` under
    :func:`pyg_safe_globals`, and nothing less safe: if that fails, it
    raises a :class:`DataFileError` and never retries with
    ``weights_only=False``.

    Files that are empty, do not start like a :func:`torch.save` file
    (*e.g.*, text) or need unsafe unpickling are recognised and named in
    the one-line message.

    Args:
        path (str or os.PathLike): The file.
        numpy_scalars (bool, optional): Also allow NumPy scalars of numeric
            dtypes, see :func:`pyg_safe_globals`. (default: :obj:`False`)

    Raises:
        FileNotFoundError: If the file does not exist.
        DataFileError: If it cannot be loaded safely; its :obj:`kind` says
            why.
    """
    path = Path(os.fspath(path))

    def fail(kind: str, problem: str) -> DataFileError:
        return DataFileError(f"'{path}' {problem}", path, kind, problem)

    with open(path, 'rb') as f:
        head = f.read(4096)
    if len(head) == 0:
        raise fail('empty', 'is empty (0 bytes), probably from an '
                   'interrupted save')
    if not head.startswith((_ZIP_MAGIC, _PICKLE_PROTO)):
        if _looks_like_text(head):
            raise fail('text', 'is a text file, not a file written by '
                       'torch.save')
        raise fail('corrupt', 'is not a file written by torch.save (it '
                   'starts neither like a zip archive nor like a pickle)')
    try:
        with pyg_safe_globals(numpy_scalars=numpy_scalars):
            return torch.load(path, map_location='cpu', weights_only=True)
    except (PermissionError, FileNotFoundError, IsADirectoryError):
        raise  # Unreadable: the message names the file.
    except Exception as e:  # Whatever a damaged file makes torch raise
        # (its zip reader raises OSError EINVAL on a cut-off archive).
        kind, problem = _load_problem(e)
        raise fail(kind, problem) from None
