r"""Where datasets live: the data root, the processing cache, missing files.

graphcl never downloads anything. Raw files are looked up under a *data
root*, resolved in this order:

1. the explicit ``root`` argument (``load_dataset(..., root=...)``,
   ``graphcl --root``),
2. the ``GRAPHCL_DATA`` environment variable,
3. ``./datasets`` (relative to the working directory).

PyG and OGB loaders write a ``processed/`` folder next to ``raw/``. When a
dataset folder under the root is read-only (for example a shared, mounted
data folder), its files are first copied to a writable cache and processed
there; the data root itself is never modified. The cache lives in
``$GRAPHCL_CACHE/<root-hash>/`` (default ``$XDG_CACHE_HOME/graphcl`` or
``~/.cache/graphcl``), where ``<root-hash>`` identifies the data root, so
two roots never share processed files. Raw files are copied again when their
content changed (size and SHA-256, see :mod:`graphcl.data.provenance`), and
files removed from the root are removed from the copy; in both cases the
copy's processed files are dropped. A cache that cannot be written raises a
:class:`NotWritableError` naming the folder and the ``GRAPHCL_CACHE``
setting.
"""
import hashlib
import os
import shutil
import stat
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

from .provenance import same_content

__all__ = [
    'DatasetNotFoundError', 'NotWritableError', 'resolve_root',
    'root_source', 'cache_dir', 'prepare_dataset_dir'
]

PathLike = Union[str, os.PathLike]

DATA_ENV = 'GRAPHCL_DATA'
CACHE_ENV = 'GRAPHCL_CACHE'
DEFAULT_ROOT = 'datasets'


class DatasetNotFoundError(FileNotFoundError):
    r"""Raised when the raw files of a dataset are not under the data root.

    Subclasses :class:`FileNotFoundError`; the message names the dataset,
    the files expected and the folder searched.
    """


class NotWritableError(PermissionError):
    r"""Raised when a folder that graphcl must write processed files into
    (the cache, or a dataset's ``processed/`` folder) cannot be written.

    Subclasses :class:`PermissionError`; the message is one line naming the
    folder, the reason and the setting to change.
    """


def resolve_root(root: Optional[PathLike] = None) -> Path:
    r"""Returns the absolute data root.

    Args:
        root (str or os.PathLike, optional): An explicit data root. If
            :obj:`None`, the ``GRAPHCL_DATA`` environment variable is used,
            and if that is unset or empty, ``./datasets``.
            (default: :obj:`None`)
    """
    if root is None or str(root) == '':
        root = os.environ.get(DATA_ENV) or DEFAULT_ROOT
    return Path(root).expanduser().absolute()


def root_source(root: Optional[PathLike] = None) -> str:
    r"""Says where :func:`resolve_root` took the data root from (for error
    messages): the argument, ``GRAPHCL_DATA`` or the default."""
    if root is not None and str(root) != '':
        return 'the root argument'
    if os.environ.get(DATA_ENV):
        return f'the {DATA_ENV} environment variable'
    return f'the default ./{DEFAULT_ROOT} ({DATA_ENV} is not set)'


def cache_dir(root: PathLike) -> Path:
    r"""Returns the writable cache folder used for the data root
    :obj:`root`: ``$GRAPHCL_CACHE/<root-hash>`` (default cache folder
    ``$XDG_CACHE_HOME/graphcl`` or ``~/.cache/graphcl``)."""
    base = os.environ.get(CACHE_ENV)
    if not base:
        xdg = os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache'
        base = Path(xdg) / 'graphcl'
    key = str(Path(root).expanduser().resolve())
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return Path(base).expanduser().absolute() / digest


def _is_writable(path: Path) -> bool:
    # ``os.access`` alone is not enough: it ignores the permission bits for
    # the superuser, and a folder marked read-only (r-x) must be treated as
    # read-only even then.
    if not path.is_dir():
        return False
    return (os.access(path, os.W_OK | os.X_OK)
            and bool(path.stat().st_mode & stat.S_IWUSR))


def _dataset_writable(folder: Path) -> bool:
    processed = folder / 'processed'
    if not _is_writable(folder):
        return False
    return not processed.exists() or _is_writable(processed)


def _iter_files(folder: Path) -> Iterable[Path]:
    for path in sorted(folder.rglob('*')):
        rel = path.relative_to(folder)
        if rel.parts[0] == 'processed' or not path.is_file():
            continue
        yield rel


def _sync_copy(src: Path, dst: Path) -> None:
    r"""Makes the files of :obj:`dst` (except ``processed/``) a copy of
    those of :obj:`src`: copies new and changed files (by content, see
    :func:`~graphcl.data.provenance.same_content`), removes files that are
    no longer in :obj:`src`, and drops ``dst/processed`` if anything
    changed."""
    changed = False
    wanted = set()
    for rel in _iter_files(src):
        wanted.add(rel)
        source, target = src / rel, dst / rel
        if same_content(source, target):
            continue
        info = source.stat()
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + f'.tmp{os.getpid()}')
        shutil.copyfile(source, tmp)  # Data only: the copy stays writable.
        os.utime(tmp, ns=(info.st_atime_ns, info.st_mtime_ns))
        os.replace(tmp, target)
        changed = True
    if dst.is_dir():
        for rel in list(_iter_files(dst)):
            if rel not in wanted:
                (dst / rel).unlink()
                changed = True
    if changed and (dst / 'processed').exists():
        shutil.rmtree(dst / 'processed')


def _missing(folder: Path, files: Sequence[str]) -> list:
    return [f for f in files if not (folder / f).is_file()]


def prepare_dataset_dir(
    dataset: str,
    folder: str,
    files: Sequence[str],
    root: Optional[PathLike] = None,
    download: bool = False,
) -> Path:
    r"""Checks that a dataset's raw files exist and returns the base folder
    to hand to its PyG/OGB loader.

    The returned base ``B`` is such that ``B / folder`` is a writable copy
    of ``<root> / folder``: the data root itself if that dataset folder is
    writable, or else a folder in :func:`cache_dir` into which the raw files
    were copied (and kept in sync).

    Args:
        dataset (str): The dataset name, for error messages.
        folder (str): The dataset folder relative to the data root, *e.g.*,
            :obj:`"Amazon/Photo"`.
        files (Sequence[str]): The files the loader needs, relative to
            :obj:`folder`, *e.g.*, :obj:`["raw/amazon_electronics_photo.npz"]`.
        root (str or os.PathLike, optional): The data root, see
            :func:`resolve_root`. (default: :obj:`None`)
        download (bool, optional): If :obj:`True`, missing files are not an
            error: the caller's loader may download them into the returned
            (writable) location. (default: :obj:`False`)

    Raises:
        DatasetNotFoundError: If files are missing and :obj:`download` is
            :obj:`False`.
        NotWritableError: If the dataset folder is read-only and the cache
            folder cannot be written.
    """
    data_root = resolve_root(root)
    src = data_root / folder
    missing = _missing(src, files)
    if missing and not download:
        raise DatasetNotFoundError(
            f"Dataset '{dataset}' not found: {len(missing)} of the "
            f"{len(files)} files it needs are missing from '{src}' "
            f"(data root '{data_root}', taken from {root_source(root)}). "
            f"Missing: {', '.join(missing)}. graphcl does not download "
            f"data: put the raw files there, or point to a folder holding "
            f"them with root=... / --root or the {DATA_ENV} environment "
            f"variable (see datasets/README.md).")

    if _dataset_writable(src) or (missing and not src.exists()
                                  and _creatable(src)):
        return data_root

    base = cache_dir(data_root)
    dst = base / folder
    try:
        if src.is_dir():
            _sync_copy(src, dst)
        dst.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        if e.filename and src in (Path(e.filename), *Path(e.filename).parents):
            raise  # Reading the data root failed: its message names the file.
        raise NotWritableError(
            f"Cannot write the graphcl cache folder '{dst}' ({_reason(e)}); "
            f"it is needed because the dataset folder '{src}' is read-only "
            f"and is processed in a copy. Point the {CACHE_ENV} environment "
            f"variable at a writable folder, or make '{src}' "
            f"writable") from None
    return base


def _reason(e: OSError) -> str:
    reason = e.strerror or type(e).__name__
    where = e.filename
    return f"{reason}: '{where}'" if where else reason


def _creatable(folder: Path) -> bool:
    parent = folder
    while not parent.exists():
        parent = parent.parent
    return _is_writable(parent)
