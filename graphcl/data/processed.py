r"""Processed dataset files: loaded safely, rebuilt when stale or unsafe.

PyG's :class:`~torch_geometric.data.InMemoryDataset` has two unsafe paths
and one silent one:

* ``Dataset._process`` reads ``processed/pre_transform.pt`` and
  ``pre_filter.pt`` with ``torch.load(..., weights_only=False)``, so a
  planted file runs code;
* ``InMemoryDataset.load`` (through ``fs.torch_load``) and
  :class:`~torch_geometric.datasets.TUDataset` retry with
  ``weights_only=False`` when the safe load fails;
* processed files are used as long as they exist, even when the raw files
  have changed since.

:class:`SafeProcessingMixin` replaces these for every loader graphcl uses
(Planetoid, Amazon, Coauthor, WikiCS, TU, OGB): processed files are read
with :func:`~graphcl.data.serialization.safe_torch_load` only
(``weights_only=True``, never a retry without it), ``pre_transform.pt`` and
``pre_filter.pt`` are neither read nor written, and each processed folder
holds a record of the raw files it was made from
(:mod:`graphcl.data.provenance`). Processed files are rebuilt from the raw
files, with a :class:`ReprocessWarning` saying why, when the raw files
changed, when the record is missing (processed by plain PyG or an older
graphcl) or when they cannot be loaded safely. A raw file that cannot be
processed raises a one-line
:class:`~graphcl.data.serialization.DataFileError` naming it.
"""
import json
import os
import re
import warnings
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Type

from torch_geometric.data import Data
from torch_geometric.data.data import BaseData

from .provenance import (
    RECORD_NAME,
    describe_changes,
    folder_fingerprint,
    read_record,
    write_record,
)
from .root import NotWritableError
from .serialization import DataFileError, first_line, safe_torch_load

__all__ = ['ReprocessWarning', 'SafeProcessingMixin', 'find_corrupt_file']

# Files PyG's ``Dataset._process`` reads with ``weights_only=False``.
UNSAFE_PYG_FILES = ('pre_transform.pt', 'pre_filter.pt')


class ReprocessWarning(UserWarning):
    r"""Warned when graphcl rebuilds a dataset's processed files from its
    raw files because they were made from other raw files, do not record
    which, or cannot be loaded with ``torch.load(weights_only=True)``."""


def _repr(obj: Any) -> str:
    # As PyG's ``torch_geometric.data.dataset._repr``.
    if obj is None:
        return 'None'
    return re.sub('(<.*?)\\s.*(>)', r'\1\2', str(obj))


def _check_raw_file(path: Path) -> None:
    r"""Reads a raw file the way its loader does, raising on failure."""
    name = path.name
    if name.startswith('ind.') and '.' in name[4:]:
        from .planetoid import read_planetoid_file
        prefix, kind = name[4:].split('.', 1)
        read_planetoid_file(path.parent, prefix, kind)
    elif name.endswith('.npz'):
        import numpy as np
        with np.load(path) as f:  # allow_pickle=False: no object arrays.
            for key in f.files:
                f[key]
    elif name.endswith('.json'):
        with open(path) as f:
            json.load(f)
    elif name.endswith('.csv.gz'):
        import pandas as pd
        pd.read_csv(path, compression='gzip', header=None)
    elif name.endswith('.txt') and not name.lower().startswith('readme'):
        import numpy as np
        if path.stat().st_size == 0:
            raise ValueError('the file is empty')
        np.loadtxt(path, delimiter=',', ndmin=2)


def find_corrupt_file(
        raw_dir: os.PathLike) -> Optional[Tuple[Path, BaseException]]:
    r"""Returns the first file in :obj:`raw_dir` (sorted by name) that its
    loader cannot read, with the error, or :obj:`None`.

    Knows Planetoid (``ind.*``), ``.npz`` (Amazon, Coauthor, OGB binary),
    ``.json`` (WikiCS), ``.csv.gz`` (OGB) and TU ``.txt`` files; other
    files are not checked. Used to name the culprit after processing
    failed, so it may take a while on large datasets.

    Args:
        raw_dir (str or os.PathLike): A dataset's ``raw/`` folder.
    """
    for path in sorted(Path(raw_dir).rglob('*')):
        if not path.is_file():
            continue
        try:
            _check_raw_file(path)
        except Exception as e:  # Whatever a damaged file makes it raise.
            return path, e
    return None


class SafeProcessingMixin:
    r"""Mixin for PyG :class:`~torch_geometric.data.InMemoryDataset`
    subclasses (listed before them:
    ``class SafeAmazon(SafeProcessingMixin, Amazon)``) that makes them load
    processed files with ``weights_only=True`` only, and rebuild them from
    the raw files when those changed or the safe load fails (see
    :mod:`graphcl.data.processed`).

    It replaces ``Dataset._process`` and ``InMemoryDataset.load``; loaders
    that read their processed file elsewhere call :meth:`load_processed`.
    """
    numpy_scalars: bool = False
    r"""Allow NumPy scalars in processed files (OGB's)."""

    processed_lengths: Tuple[int, ...] = (2, 3)
    r"""The lengths of the tuple a processed file may hold:
    ``(data, slices)`` or ``(data, slices, data_cls)``."""

    # Dataset name for messages.
    @property
    def _label(self) -> str:
        name = getattr(self, 'name', None)
        return str(name) if name else type(self).__name__

    def _transforms(self) -> Dict[str, str]:
        return {
            'pre_transform': _repr(self.pre_transform),
            'pre_filter': _repr(self.pre_filter),
        }

    def _stale_reason(self, raw: Dict[str, Any]) -> Optional[str]:
        r"""Why the processed files must be rebuilt: :obj:`None` if they
        are up to date, :obj:`""` if there are none yet."""
        from torch_geometric.data.dataset import files_exist
        if self.force_reload or not files_exist(self.processed_paths):
            return ''
        record = read_record(self.processed_dir)
        if record is None:
            return ("they do not record which raw files they were made "
                    "from (made by plain PyG or an older graphcl)")
        if record['raw_files'] != raw:
            changes = describe_changes(record['raw_files'], raw)
            return f"the raw files changed since ({changes})"
        if any(record.get(k) != v for k, v in self._transforms().items()):
            return "they were made with another pre_transform or pre_filter"
        return None

    def _process(self) -> None:
        # Replaces ``torch_geometric.data.Dataset._process``, which reads
        # pre_transform.pt and pre_filter.pt with weights_only=False.
        raw = folder_fingerprint(self.raw_dir)
        reason = self._stale_reason(raw)
        if reason is None:
            return
        if reason:
            warnings.warn(
                f"Rebuilding the processed files of dataset "
                f"'{self._label}' in '{self.processed_dir}': {reason}",
                ReprocessWarning, stacklevel=2)
        self.reprocess(raw)

    def reprocess(self, raw: Optional[Dict[str, Any]] = None) -> None:
        r"""Processes the raw files again (with the dataset's
        :meth:`~torch_geometric.data.Dataset.process`) and records them.

        Args:
            raw (Dict, optional): The raw files'
                :func:`~graphcl.data.provenance.folder_fingerprint`, if
                already computed. (default: :obj:`None`)

        Raises:
            DataFileError: If a raw file cannot be processed.
            NotWritableError: If the processed folder cannot be written.
        """
        processed = Path(self.processed_dir)
        try:
            processed.mkdir(parents=True, exist_ok=True)
            for name in UNSAFE_PYG_FILES + (RECORD_NAME, ):
                (processed / name).unlink(missing_ok=True)
        except OSError as e:
            raise self._write_error(e) from None
        if raw is None:
            raw = folder_fingerprint(self.raw_dir)
        try:
            self.process()
        except DataFileError:
            raise
        except OSError as e:
            if e.filename and processed in Path(e.filename).parents:
                raise self._write_error(e) from None
            raise self._raw_error(e) from None
        except Exception as e:  # Whatever damaged raw files make it raise.
            raise self._raw_error(e) from None
        try:
            write_record(processed, raw, **self._transforms())
        except OSError as e:
            raise self._write_error(e) from None

    def _write_error(self, e: OSError) -> NotWritableError:
        return NotWritableError(
            f"Cannot write the processed files of dataset '{self._label}' "
            f"to '{self.processed_dir}' ({e.strerror or first_line(e)}); "
            f"make that folder writable, or load the dataset through "
            f"graphcl.data with the GRAPHCL_CACHE environment variable "
            f"pointing at a writable folder")

    def _raw_error(self, e: BaseException) -> DataFileError:
        found = find_corrupt_file(self.raw_dir)
        if found is not None:
            path, error = found
            problem = (f"is corrupt or truncated ({first_line(error)}), so "
                       f"dataset '{self._label}' cannot be processed")
            return DataFileError(
                f"Raw file '{path}' {problem}; replace it with the "
                f"dataset's original file", path, 'corrupt', problem)
        problem = (f"could not be processed ({first_line(e)}); a file is "
                   f"damaged or from another dataset")
        return DataFileError(
            f"The raw files of dataset '{self._label}' in '{self.raw_dir}' "
            f"{problem}: replace them with the dataset's original files",
            Path(self.raw_dir), 'content', problem)

    def _read_processed(self, path: str) -> tuple:
        out = safe_torch_load(path, numpy_scalars=self.numpy_scalars)
        lengths = self.processed_lengths
        ok = isinstance(out, tuple) and len(out) in lengths and isinstance(
            out[0], (dict, BaseData)) and (out[1] is None
                                           or isinstance(out[1], dict))
        if ok and len(out) == max(lengths):
            cls = out[-1]
            ok = isinstance(cls, type) and issubclass(cls, BaseData)
        if not ok:
            what = (f'a tuple of {len(out)}' if isinstance(out, tuple) else
                    f'a {type(out).__name__}')
            problem = (f'holds {what}, not the (data, slices, ...) tuple of '
                       f'a processed PyG dataset')
            raise DataFileError(f"'{path}' {problem}", path, 'content',
                                problem)
        return out

    def load_processed(self, path: str) -> tuple:
        r"""Returns the tuple saved in the processed file :obj:`path`,
        loaded with ``weights_only=True``. If that fails, warns with a
        :class:`ReprocessWarning`, rebuilds the processed files from the
        raw files and loads the new file (again with
        ``weights_only=True``); it never retries with
        ``weights_only=False``.

        Args:
            path (str): The processed file.
        """
        try:
            return self._read_processed(path)
        except DataFileError as e:
            warnings.warn(
                f"{e}; rebuilding dataset '{self._label}' from its raw "
                f"files in '{self.raw_dir}' (graphcl never loads processed "
                f"files with weights_only=False)", ReprocessWarning,
                stacklevel=2)
        self.reprocess()
        try:
            return self._read_processed(path)
        except DataFileError as e:
            raise DataFileError(
                f"{e}, even right after processing it again from "
                f"'{self.raw_dir}'; please report this as a graphcl bug",
                e.path, e.kind, e.problem) from None

    def load(self, path: str, data_cls: Type[BaseData] = Data) -> None:
        r"""Loads the processed file :obj:`path` as
        :meth:`torch_geometric.data.InMemoryDataset.load` does, but through
        :meth:`load_processed`."""
        out = self.load_processed(path)
        if len(out) == 2:
            data, self.slices = out
        else:
            data, self.slices, data_cls = out
        self.data = data_cls.from_dict(data) if isinstance(data,
                                                           dict) else data
