r"""Planetoid raw files (``raw/ind.<name>.x`` etc.) read without running
code from them.

The raw files of Cora, CiteSeer and PubMed are Python 2 pickles. PyG's
:func:`torch_geometric.io.read_planetoid_data` reads them with plain
:func:`pickle.load`, which runs whatever code a file asks for. graphcl reads
them with :class:`PlanetoidUnpickler` instead, which only resolves the
globals in :data:`PLANETOID_GLOBALS`: exactly those the real files use
(checked with :mod:`pickletools` on every file of the original release),
plus the names Python 3, NumPy 2 and SciPy give the same objects when the
files are re-saved (protocol 2). Any other global raises a
:class:`~graphcl.data.serialization.DataFileError` naming the file, before
anything from it runs.

======================================  ===================================
global in the file                      found in
======================================  ===================================
``numpy.ndarray``, ``numpy.dtype``      every file but ``graph``
``numpy.core.multiarray._reconstruct``  every file but ``graph``
``scipy.sparse.csr.csr_matrix``         ``x``, ``tx``, ``allx``
``__builtin__.list``,                   ``graph`` (a ``defaultdict(list)``)
``collections.defaultdict``
======================================  ===================================
"""
import collections
import os
import pickle
import warnings
from pathlib import Path
from typing import Any, Dict, Tuple

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.datasets import Planetoid

from .processed import SafeProcessingMixin
from .serialization import DataFileError, first_line

__all__ = [
    'PLANETOID_GLOBALS', 'PlanetoidUnpickler', 'read_planetoid_file',
    'read_planetoid_data', 'SafePlanetoid'
]

PLANETOID_NAMES = ('x', 'tx', 'allx', 'y', 'ty', 'ally', 'graph',
                   'test.index')
_FEATURES = ('x', 'tx', 'allx')
_LABELS = ('y', 'ty', 'ally')
_RELEASE = ('the original file of the Planetoid release '
            '(https://github.com/kimiyoung/planetoid/tree/master/data)')


def _latin1_encode(text: Any, encoding: str = 'utf-8') -> bytes:
    # Python 3 pickles bytes for protocol 2 as ``_codecs.encode(str,
    # 'latin1')``; only that use of ``_codecs.encode`` is allowed.
    if not isinstance(text, str) or encoding not in ('latin1', 'latin-1'):
        raise pickle.UnpicklingError(
            f"_codecs.encode is only allowed as encode(str, 'latin1'), got "
            f"encode({type(text).__name__}, {encoding!r})")
    return text.encode('latin1')


def _planetoid_globals() -> Dict[Tuple[str, str], Any]:
    import scipy.sparse as sp
    try:
        multiarray = np._core.multiarray  # NumPy >= 2.
    except AttributeError:  # pragma: no cover
        multiarray = np.core.multiarray
    reconstruct = multiarray._reconstruct
    return {
        # Used by the original files (Python 2, NumPy 1, old SciPy):
        ('numpy', 'ndarray'): np.ndarray,
        ('numpy', 'dtype'): np.dtype,
        ('numpy.core.multiarray', '_reconstruct'): reconstruct,
        ('scipy.sparse.csr', 'csr_matrix'): sp.csr_matrix,
        ('__builtin__', 'list'): list,
        ('collections', 'defaultdict'): collections.defaultdict,
        # The same objects as re-saved by Python 3, NumPy 2, SciPy >= 1.8:
        ('numpy._core.multiarray', '_reconstruct'): reconstruct,
        ('scipy.sparse._csr', 'csr_matrix'): sp.csr_matrix,
        ('builtins', 'list'): list,
        ('_codecs', 'encode'): _latin1_encode,
    }


PLANETOID_GLOBALS: Dict[Tuple[str, str], Any] = _planetoid_globals()
r"""The globals :class:`PlanetoidUnpickler` resolves, keyed by
``(module, name)`` as written in the pickle."""


class PlanetoidUnpickler(pickle.Unpickler):
    r"""A :class:`pickle.Unpickler` (``encoding='latin1'``, for the Python 2
    files) that resolves only :data:`PLANETOID_GLOBALS`: NumPy arrays and
    dtypes, SciPy CSR matrices, lists and ``defaultdict``. Any other global
    raises a :class:`~graphcl.data.serialization.DataFileError`, and
    persistent ids are refused, so no code from the file runs.

    Args:
        file (binary file): The open raw file.
        path (str or os.PathLike): Its path, for error messages.
    """
    def __init__(self, file: Any, path: os.PathLike):
        super().__init__(file, encoding='latin1')
        self.path = Path(path)

    def find_class(self, module: str, name: str) -> Any:
        obj = PLANETOID_GLOBALS.get((module, name))
        if obj is None:
            problem = (f"refers to '{module}.{name}', which is not one of "
                       f"the NumPy, SciPy-sparse and builtin types Planetoid "
                       f"files contain, so graphcl does not unpickle it "
                       f"(the file may be malicious)")
            raise DataFileError(
                f"Raw file '{self.path}' {problem}; replace it with "
                f"{_RELEASE}", self.path, 'unsafe', problem)
        return obj

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError('persistent ids are not allowed')


def _corrupt(path: Path, problem: str) -> DataFileError:
    return DataFileError(
        f"Raw file '{path}' {problem}; replace it with {_RELEASE}", path,
        'corrupt', problem)


def _numeric(array: Any) -> bool:
    return array.dtype.kind in 'biuf'


def _check_features(path: Path, obj: Any) -> np.ndarray:
    import scipy.sparse as sp
    if isinstance(obj, sp.csr_matrix):
        try:
            obj.check_format(full_check=True)
        except Exception as e:
            raise _corrupt(path, f'holds a malformed sparse matrix '
                           f'({first_line(e)})') from None
        if not _numeric(obj.data):
            raise _corrupt(path, f'holds a sparse matrix of dtype '
                           f'{obj.dtype}, not numbers')
        obj = obj.toarray()
    if not isinstance(obj, np.ndarray) or obj.ndim != 2 or not _numeric(obj):
        desc = (f'an array of dtype {obj.dtype} and shape {obj.shape}'
                if isinstance(obj, np.ndarray) else type(obj).__name__)
        raise _corrupt(path, f'holds {desc}, not the 2-D numeric matrix '
                       f'Planetoid stores there')
    return obj


def _check_graph(path: Path, obj: Any) -> Dict[int, list]:
    ok = isinstance(obj, dict) and all(
        isinstance(k, int) and isinstance(v, list)
        and all(isinstance(j, int) for j in v) for k, v in obj.items())
    if not ok:
        raise _corrupt(path, f'holds a {type(obj).__name__}, not the '
                       f'adjacency dictionary {{node: [neighbours]}} '
                       f'Planetoid stores there')
    return obj


def read_planetoid_file(folder: os.PathLike, prefix: str,
                        name: str) -> Any:
    r"""Reads one Planetoid raw file ``<folder>/ind.<prefix>.<name>`` with
    :class:`PlanetoidUnpickler` and checks its content: a float
    :class:`torch.Tensor` for features and one-hot labels, a
    ``{node: [neighbours]}`` dictionary for ``graph``, a long tensor for
    ``test.index``.

    Args:
        folder (str or os.PathLike): The ``raw/`` folder.
        prefix (str): The dataset name, *e.g.*, :obj:`"cora"`.
        name (str): One of ``x``, ``tx``, ``allx``, ``y``, ``ty``,
            ``ally``, ``graph`` and ``test.index``.

    Raises:
        DataFileError: If the file refers to anything but the allowed
            globals, is truncated or corrupt, or holds something else.
    """
    path = Path(folder) / f'ind.{prefix.lower()}.{name}'
    if name == 'test.index':
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore', UserWarning)  # Empty file.
                index = np.loadtxt(path, dtype=np.int64, ndmin=1)
        except ValueError as e:
            raise _corrupt(path, f'is not a list of node indices, one per '
                           f'line ({first_line(e)})') from None
        if index.size == 0:
            raise _corrupt(path, 'holds no node indices')
        return torch.from_numpy(index)
    if path.stat().st_size == 0:
        raise _corrupt(path, 'is empty (0 bytes)')
    with open(path, 'rb') as f, warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        try:
            out = PlanetoidUnpickler(f, path).load()
        except DataFileError:
            raise
        except Exception as e:  # Whatever a damaged pickle makes it raise.
            raise _corrupt(path, f'is truncated or corrupt '
                           f'({first_line(e)})') from None
    if name == 'graph':
        return _check_graph(path, out)
    out = _check_features(path, out)
    if name in _LABELS and out.shape[1] == 0:
        raise _corrupt(path, 'holds labels with no classes')
    return torch.from_numpy(out).to(torch.float)


def read_planetoid_data(folder: os.PathLike, prefix: str) -> Data:
    r"""Reads a Planetoid dataset (Cora, CiteSeer, PubMed) from its raw
    files with :func:`read_planetoid_file`, and builds the same
    :class:`~torch_geometric.data.Data` with the public split as PyG's
    :func:`torch_geometric.io.read_planetoid_data`.

    Args:
        folder (str or os.PathLike): The ``raw/`` folder.
        prefix (str): The dataset name, *e.g.*, :obj:`"Cora"`.
    """
    from torch_geometric.io.planetoid import edge_index_from_dict
    from torch_geometric.utils import index_to_mask

    items = [read_planetoid_file(folder, prefix, n) for n in PLANETOID_NAMES]
    x, tx, allx, y, ty, ally, graph, test_index = items
    folder = Path(folder)
    try:
        train_index = torch.arange(y.size(0), dtype=torch.long)
        val_index = torch.arange(y.size(0), y.size(0) + 500,
                                 dtype=torch.long)
        sorted_test_index = test_index.sort()[0]

        if prefix.lower() == 'citeseer':
            # CiteSeer has isolated nodes, so its test indices are not
            # consecutive: missing ones get zero features and labels.
            num_test = int(test_index.max() - test_index.min()) + 1
            tx_ext = torch.zeros(num_test, tx.size(1), dtype=tx.dtype)
            tx_ext[sorted_test_index - test_index.min(), :] = tx
            ty_ext = torch.zeros(num_test, ty.size(1), dtype=ty.dtype)
            ty_ext[sorted_test_index - test_index.min(), :] = ty
            tx, ty = tx_ext, ty_ext

        x = torch.cat([allx, tx], dim=0)
        x[test_index] = x[sorted_test_index]
        y = torch.cat([ally, ty], dim=0).max(dim=1)[1]
        y[test_index] = y[sorted_test_index]
        num_nodes = y.size(0)
        if x.size(0) != num_nodes:
            raise ValueError(f'{x.size(0)} feature rows for {num_nodes} '
                             f'labels')
        edge_index = edge_index_from_dict(graph, num_nodes=num_nodes)
        if edge_index.numel() > 0 and int(edge_index.max()) >= num_nodes:
            raise ValueError(f'the graph has node {int(edge_index.max())} '
                             f'but there are {num_nodes} nodes')
        data = Data(x=x, edge_index=edge_index, y=y)
        data.train_mask = index_to_mask(train_index, size=num_nodes)
        data.val_mask = index_to_mask(val_index, size=num_nodes)
        data.test_mask = index_to_mask(test_index, size=num_nodes)
    except (ValueError, IndexError, RuntimeError) as e:
        raise DataFileError(
            f"The raw files of Planetoid dataset '{prefix}' in '{folder}' do "
            f"not fit together ({first_line(e)}); a file is from another "
            f"dataset or damaged: replace the folder's files with the "
            f"original ones of the Planetoid release", folder,
            'content') from None
    return data


class SafePlanetoid(SafeProcessingMixin, Planetoid):
    r"""PyG's :class:`~torch_geometric.datasets.Planetoid` whose raw files
    are read with :func:`read_planetoid_data` (never plain :mod:`pickle`)
    and whose processed files are loaded and kept up to date as described
    in :class:`~graphcl.data.processed.SafeProcessingMixin`.

    Takes the arguments of :class:`~torch_geometric.datasets.Planetoid`;
    the ``'geom-gcn'`` split (extra raw files) is not supported.
    """
    def __init__(self, root: str, name: str, split: str = 'public',
                 **kwargs: Any):
        if split.lower() == 'geom-gcn':
            raise ValueError("SafePlanetoid does not support the 'geom-gcn' "
                             "split; use split='public', 'full' or 'random'")
        super().__init__(root, name, split=split, **kwargs)

    def process(self) -> None:
        data = read_planetoid_data(self.raw_dir, self.name)
        data = data if self.pre_transform is None else self.pre_transform(
            data)
        self.save([data], self.processed_paths[0])

