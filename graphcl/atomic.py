r"""Atomic file writes: a file is written whole or not at all.

Every output graphcl writes (``metrics.json``, ``encoder.pt``,
``embeddings.pt``, checkpoints, run status) goes through these helpers: the
content is written to a temporary file in the same folder, flushed and
synced to disk, then renamed over the target (an atomic step on POSIX and
Windows). A full disk, a crash or ``kill -9`` leaves either the previous
file or the new one, never a truncated file; on failure the temporary file
is removed and an :class:`OSError` names the target and what to do.
"""
import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, IO, Union

import torch

__all__ = ['atomic_write', 'atomic_write_text', 'atomic_write_json',
           'atomic_save']

PathLike = Union[str, os.PathLike]


def atomic_write(path: PathLike, write: Callable[[IO[bytes]], Any]) -> Path:
    r"""Calls ``write(f)`` on a temporary binary file beside :obj:`path`,
    then renames it to :obj:`path`. Returns the path."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path('.')
    try:
        fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp',
                                   dir=folder)
    except OSError as e:
        raise OSError(e.errno, f"Cannot write '{path}': {e.strerror}; "
                      f"check that the folder exists and is writable") \
            from None
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            hint = ('the disk is full; free space and run again (the '
                    'previous file, if any, is unchanged)'
                    if e.errno == errno.ENOSPC else
                    'the previous file, if any, is unchanged')
            raise OSError(e.errno, f"Writing '{path}' failed: "
                          f"{e.strerror or e}; {hint}") from None
        raise
    return path


def atomic_write_text(path: PathLike, text: str) -> Path:
    r"""Writes :obj:`text` (UTF-8) to :obj:`path` atomically."""
    return atomic_write(path, lambda f: f.write(text.encode('utf-8')))


def atomic_write_json(path: PathLike, obj: Any) -> Path:
    r"""Writes :obj:`obj` as indented JSON to :obj:`path` atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2) + '\n')


def atomic_save(obj: Any, path: PathLike) -> Path:
    r""":func:`torch.save` of :obj:`obj` to :obj:`path`, atomically."""
    return atomic_write(path, lambda f: torch.save(obj, f))
