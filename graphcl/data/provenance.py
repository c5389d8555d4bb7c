r"""Which raw files processed data came from.

PyG and OGB loaders only check that their processed files *exist*: a
processed folder made from older raw files (say, labels since shifted by one
row) is used silently. graphcl writes, next to the processed files, a record
of the raw files they were made from (:data:`RECORD_NAME`, JSON), and
rebuilds them when the raw files no longer match it.

A raw file is identified by its size and the SHA-256 of its content. Hashing
runs at about 1 GB/s (measured with :mod:`hashlib` on the CI machines: about
30 ms for the 25 MB of all offline benchmark datasets together), so files up to
:data:`HASH_SIZE_LIMIT` bytes are hashed on every load; larger ones (the raw
files of ``ogbn-products`` or ``ogbn-papers100M``) are identified by size and
modification time (nanoseconds) instead.
"""
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Dict, Iterable, Optional

__all__ = [
    'HASH_SIZE_LIMIT', 'RECORD_NAME', 'file_fingerprint',
    'folder_fingerprint', 'same_content', 'read_record', 'write_record',
    'describe_changes'
]

HASH_SIZE_LIMIT = 256 * 2**20
r"""Files up to this size (bytes) are identified by their SHA-256, larger
ones by their modification time (both with their size)."""

RECORD_NAME = 'graphcl_raw_files.json'
r"""The record's file name inside a ``processed/`` folder."""

RECORD_VERSION = 1

Fingerprint = Dict[str, Any]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def file_fingerprint(path: os.PathLike) -> Fingerprint:
    r"""Returns ``{'size': ..., 'sha256': ...}`` for a file, or
    ``{'size': ..., 'mtime_ns': ...}`` if it is larger than
    :data:`HASH_SIZE_LIMIT`.

    Args:
        path (str or os.PathLike): The file.
    """
    path = Path(path)
    info = path.stat()
    if info.st_size <= HASH_SIZE_LIMIT:
        return {'size': info.st_size, 'sha256': _sha256(path)}
    return {'size': info.st_size, 'mtime_ns': info.st_mtime_ns}


def _iter_files(folder: Path) -> Iterable[Path]:
    for path in sorted(folder.rglob('*')):
        if path.is_file():
            yield path.relative_to(folder)


def folder_fingerprint(folder: os.PathLike) -> Dict[str, Fingerprint]:
    r"""Returns :func:`file_fingerprint` of every file under :obj:`folder`
    (recursively), keyed by its ``/``-separated path relative to
    :obj:`folder`; an empty dictionary if the folder does not exist.

    Args:
        folder (str or os.PathLike): The folder, *e.g.*, a dataset's
            ``raw/`` folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {
        rel.as_posix(): file_fingerprint(folder / rel)
        for rel in _iter_files(folder)
    }


def same_content(a: os.PathLike, b: os.PathLike) -> bool:
    r"""Whether two files hold the same content: same size and, up to
    :data:`HASH_SIZE_LIMIT`, the same SHA-256, or above it the same
    modification time."""
    a, b = Path(a), Path(b)
    if not b.is_file() or a.stat().st_size != b.stat().st_size:
        return False
    return file_fingerprint(a) == file_fingerprint(b)


def read_record(processed_dir: os.PathLike) -> Optional[Dict[str, Any]]:
    r"""Returns the record in :obj:`processed_dir`, or :obj:`None` if it is
    missing or unreadable (the processed files are then rebuilt).

    Args:
        processed_dir (str or os.PathLike): A ``processed/`` folder.
    """
    path = Path(processed_dir) / RECORD_NAME
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if (not isinstance(record, dict)
            or record.get('version') != RECORD_VERSION
            or not isinstance(record.get('raw_files'), dict)):
        return None
    return record


def write_record(processed_dir: os.PathLike,
                 raw_files: Dict[str, Fingerprint], **extra: Any) -> Path:
    r"""Writes the record of :obj:`raw_files` (from
    :func:`folder_fingerprint`) into :obj:`processed_dir`, atomically, and
    returns its path.

    Args:
        processed_dir (str or os.PathLike): The ``processed/`` folder.
        raw_files (Dict[str, Dict]): The fingerprints of the raw files.
        **extra: Other JSON values to record (*e.g.*, the
            ``pre_transform``).
    """
    path = Path(processed_dir) / RECORD_NAME
    record = {'version': RECORD_VERSION, 'raw_files': raw_files, **extra}
    tmp = path.with_name(f'{path.name}.tmp{os.getpid()}')
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True))
    os.replace(tmp, path)
    return path


def describe_changes(old: Dict[str, Fingerprint],
                     new: Dict[str, Fingerprint], limit: int = 5) -> str:
    r"""Says in a few words which files differ between two
    :func:`folder_fingerprint` results, *e.g.*,
    ``"ind.cora.y changed, ind.cora.z added"``."""
    parts = [f'{name} changed' for name in sorted(set(old) & set(new))
             if old[name] != new[name]]
    parts += [f'{name} added' for name in sorted(set(new) - set(old))]
    parts += [f'{name} removed' for name in sorted(set(old) - set(new))]
    if len(parts) > limit:
        parts = parts[:limit] + [f'{len(parts) - limit} more']
    return ', '.join(parts) or 'no change'
