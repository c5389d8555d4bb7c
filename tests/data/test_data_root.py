import os
from pathlib import Path

import pytest

from graphcl.data import (
    DatasetNotFoundError,
    NotWritableError,
    cache_dir,
    resolve_root,
)
from graphcl.data.root import prepare_dataset_dir


def test_resolve_root_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv('GRAPHCL_DATA', raising=False)
    assert resolve_root() == tmp_path / 'datasets'
    monkeypatch.setenv('GRAPHCL_DATA', str(tmp_path / 'env'))
    assert resolve_root() == tmp_path / 'env'
    assert resolve_root(tmp_path / 'arg') == tmp_path / 'arg'
    assert resolve_root('rel') == tmp_path / 'rel'
    assert resolve_root().is_absolute()


def test_cache_dir_per_root(tmp_path):
    a, b = cache_dir(tmp_path / 'a'), cache_dir(tmp_path / 'b')
    assert a != b and a == cache_dir(tmp_path / 'a')
    assert a.parent == tmp_path / 'cache'  # GRAPHCL_CACHE from conftest.


def _dataset(root: Path) -> Path:
    raw = root / 'Set' / 'raw'
    raw.mkdir(parents=True)
    (raw / 'a.txt').write_text('1')
    return raw


def test_writable_root_is_used_in_place(tmp_path):
    _dataset(tmp_path / 'data')
    base = prepare_dataset_dir('Set', 'Set', ['raw/a.txt'], tmp_path / 'data')
    assert base == tmp_path / 'data'
    assert not (tmp_path / 'cache').exists()


def test_read_only_root_is_copied_to_cache(tmp_path, read_only):
    raw = _dataset(tmp_path / 'data')
    read_only(tmp_path / 'data')
    base = prepare_dataset_dir('Set', 'Set', ['raw/a.txt'], tmp_path / 'data')
    assert base == cache_dir(tmp_path / 'data')
    assert (base / 'Set' / 'raw' / 'a.txt').read_text() == '1'
    assert os.access(base / 'Set', os.W_OK)
    assert sorted(p.name for p in (tmp_path / 'data' / 'Set').iterdir()) == [
        'raw'
    ]

    # Processed files survive while raw files are unchanged ...
    processed = base / 'Set' / 'processed'
    processed.mkdir()
    prepare_dataset_dir('Set', 'Set', ['raw/a.txt'], tmp_path / 'data')
    assert processed.exists()
    # ... and are dropped when a raw file changes.
    raw.chmod(0o755)
    (raw / 'a.txt').chmod(0o644)
    (raw / 'a.txt').write_text('22')
    prepare_dataset_dir('Set', 'Set', ['raw/a.txt'], tmp_path / 'data')
    assert (base / 'Set' / 'raw' / 'a.txt').read_text() == '22'
    assert not processed.exists()


def test_missing_files_error(tmp_path, monkeypatch):
    _dataset(tmp_path / 'data')
    monkeypatch.setenv('GRAPHCL_DATA', str(tmp_path / 'data'))
    with pytest.raises(DatasetNotFoundError) as info:
        prepare_dataset_dir('MySet', 'Set', ['raw/a.txt', 'raw/b.txt'])
    msg = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert 'MySet' in msg and 'raw/b.txt' in msg and 'raw/a.txt' not in msg
    assert str(tmp_path / 'data' / 'Set') in msg and 'GRAPHCL_DATA' in msg


def test_download_mode_allows_missing_files(tmp_path):
    base = prepare_dataset_dir('Set', 'Set', ['raw/a.txt'], tmp_path / 'data',
                               download=True)
    assert base == tmp_path / 'data'


def test_copy_follows_content_and_removals(tmp_path, read_only):
    raw = _dataset(tmp_path / 'data')
    (raw / 'b.txt').write_text('b')
    read_only(tmp_path / 'data')
    base = prepare_dataset_dir('Set', 'Set', ['raw/a.txt'], tmp_path / 'data')
    copy = base / 'Set' / 'raw'
    processed = base / 'Set' / 'processed'
    processed.mkdir()
    # Same size and modification time, other content: copied again.
    raw.chmod(0o755)
    info = (raw / 'a.txt').stat()
    (raw / 'a.txt').chmod(0o644)
    (raw / 'a.txt').write_text('9')
    os.utime(raw / 'a.txt', ns=(info.st_atime_ns, info.st_mtime_ns))
    prepare_dataset_dir('Set', 'Set', ['raw/a.txt'], tmp_path / 'data')
    assert (copy / 'a.txt').read_text() == '9'
    assert not processed.exists()
    # A file removed from the root is removed from the copy.
    (raw / 'b.txt').unlink()
    prepare_dataset_dir('Set', 'Set', ['raw/a.txt'], tmp_path / 'data')
    assert sorted(p.name for p in copy.iterdir()) == ['a.txt']


def test_unwritable_cache_error(tmp_path, monkeypatch, read_only):
    _dataset(tmp_path / 'data')
    read_only(tmp_path / 'data')
    # A cache "folder" below a file cannot be created, even by root.
    (tmp_path / 'file').write_text('')
    monkeypatch.setenv('GRAPHCL_CACHE', str(tmp_path / 'file' / 'cache'))
    with pytest.raises(NotWritableError) as info:
        prepare_dataset_dir('Set', 'Set', ['raw/a.txt'], tmp_path / 'data')
    msg = str(info.value)
    assert '\n' not in msg and isinstance(info.value, PermissionError)
    assert str(tmp_path / 'file' / 'cache') in msg
    assert 'GRAPHCL_CACHE' in msg and str(tmp_path / 'data' / 'Set') in msg
