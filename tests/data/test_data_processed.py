import json
import os
import pickle
import warnings

import numpy as np
import pytest
import torch

from graphcl.data import (
    DataFileError,
    ReprocessWarning,
    cache_dir,
    load_dataset,
    load_graph_dataset,
)
from graphcl.data.processed import find_corrupt_file
from graphcl.data.provenance import RECORD_NAME, file_fingerprint


def _load_quietly(name, root, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter('error', ReprocessWarning)
        return load_dataset(name, root=root, **kwargs)


def _write_labels(raw, labels, key='ally'):
    with open(raw / f'ind.pubmed.{key}', 'wb') as f:
        pickle.dump(np.eye(3)[labels], f, protocol=2)


@pytest.fixture
def processed(pubmed):
    r"""The tiny PubMed, loaded once: ``processed/`` exists with a record."""
    _load_quietly('pubmed', pubmed.root)
    pubmed.raw = pubmed.root / 'PubMed' / 'raw'
    pubmed.processed = pubmed.root / 'PubMed' / 'processed'
    return pubmed


def test_processed_files_record_their_raw_files(processed):
    record = json.loads((processed.processed / RECORD_NAME).read_text())
    raw_files = record['raw_files']
    assert sorted(raw_files) == sorted(p.name for p in processed.raw.iterdir())
    assert raw_files['ind.pubmed.ally'] == file_fingerprint(
        processed.raw / 'ind.pubmed.ally')
    assert set(raw_files['ind.pubmed.ally']) == {'size', 'sha256'}
    # PyG's pre_transform.pt/pre_filter.pt (read unsafely by PyG) are not
    # written; the second load uses the processed file without warning.
    assert sorted(p.name for p in processed.processed.iterdir()) == [
        'data.pt', RECORD_NAME
    ]
    _load_quietly('pubmed', processed.root)


def test_changed_raw_file_triggers_rebuild(processed):
    # Shift the labels of the first 530 nodes by one class: same size.
    labels = processed.labels.clone()
    labels[:530] = (labels[:530] + 1) % 3
    path = processed.raw / 'ind.pubmed.ally'
    info = path.stat()
    _write_labels(processed.raw, labels[:530].numpy())
    assert path.stat().st_size == info.st_size
    # Even with the old modification time, the content hash notices.
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    with pytest.warns(ReprocessWarning, match='ind.pubmed.ally changed'):
        data = load_dataset('pubmed', root=processed.root)
    assert torch.equal(data.y, labels)
    _load_quietly('pubmed', processed.root)


def test_changed_raw_file_in_read_only_root(pubmed, read_only):
    read_only(pubmed.root)
    first = _load_quietly('pubmed', pubmed.root)
    copy = cache_dir(pubmed.root) / 'PubMed'
    assert (copy / 'processed' / RECORD_NAME).is_file()
    raw = pubmed.root / 'PubMed' / 'raw'
    raw.chmod(0o755)
    labels = (pubmed.labels + 1) % 3
    (raw / 'ind.pubmed.ally').chmod(0o644)
    _write_labels(raw, labels[:530].numpy())
    second = load_dataset('pubmed', root=pubmed.root)
    assert torch.equal(second.y[:530], labels[:530])
    assert torch.equal(second.y[530:], first.y[530:])
    assert not (pubmed.root / 'PubMed' / 'processed').exists()


def test_stale_copy_with_same_size_and_mtime_is_recopied(pubmed, read_only):
    # The cache copy is compared by content, not by size and mtime.
    read_only(pubmed.root)
    _load_quietly('pubmed', pubmed.root)
    raw = pubmed.root / 'PubMed' / 'raw'
    path = raw / 'ind.pubmed.ally'
    info = path.stat()
    raw.chmod(0o755)
    path.chmod(0o644)
    labels = (pubmed.labels + 2) % 3
    _write_labels(raw, labels[:530].numpy())
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    data = load_dataset('pubmed', root=pubmed.root)
    assert torch.equal(data.y[:530], labels[:530])


def test_added_and_removed_raw_files_trigger_rebuild(processed):
    (processed.raw / 'extra.txt').write_text('1\n')
    with pytest.warns(ReprocessWarning, match='extra.txt added'):
        load_dataset('pubmed', root=processed.root)
    (processed.raw / 'extra.txt').unlink()
    with pytest.warns(ReprocessWarning, match='extra.txt removed'):
        load_dataset('pubmed', root=processed.root)


def test_missing_record_triggers_rebuild(processed):
    (processed.processed / RECORD_NAME).unlink()
    with pytest.warns(ReprocessWarning, match='do not record'):
        load_dataset('pubmed', root=processed.root)
    assert (processed.processed / RECORD_NAME).is_file()
    (processed.processed / RECORD_NAME).write_text('{not json')
    with pytest.warns(ReprocessWarning, match='do not record'):
        load_dataset('pubmed', root=processed.root)


def test_malicious_processed_files_are_never_unpickled(processed, payload):
    payload.pt(processed.processed / 'data.pt')
    # PyG's Dataset._process would read these with weights_only=False.
    payload.pt(processed.processed / 'pre_transform.pt')
    payload.pt(processed.processed / 'pre_filter.pt')
    with pytest.warns(ReprocessWarning) as record:
        data = load_dataset('pubmed', root=processed.root)
    msg = str(record[0].message)
    assert str(processed.processed / 'data.pt') in msg
    assert "'io.open'" in msg and 'weights_only=False' in msg
    assert not payload.marker.exists()
    assert torch.equal(data.y, processed.labels)
    assert not (processed.processed / 'pre_transform.pt').exists()
    assert not (processed.processed / 'pre_filter.pt').exists()
    _load_quietly('pubmed', processed.root)


@pytest.mark.parametrize('kind,problem', [
    ('empty', 'is empty'),
    ('truncated', 'truncated or corrupt'),
    ('text', 'text file'),
    ('dict', 'holds a dict, not the'),
])
def test_damaged_processed_file_is_rebuilt(processed, kind, problem):
    path = processed.processed / 'data.pt'
    if kind == 'empty':
        path.write_bytes(b'')
    elif kind == 'truncated':
        path.write_bytes(path.read_bytes()[:300])
    elif kind == 'text':
        path.write_text('these are not the tensors you are looking for\n')
    else:
        torch.save({'x': torch.ones(2)}, path)
    with pytest.warns(ReprocessWarning, match=problem):
        data = load_dataset('pubmed', root=processed.root)
    assert torch.equal(data.y, processed.labels)


def test_torch_load_is_only_called_with_weights_only(processed, payload,
                                                     monkeypatch):
    import torch_geometric.io.fs as pyg_fs
    calls = []
    original = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get('weights_only'))
        return original(*args, **kwargs)

    def refuse(*args, **kwargs):
        raise AssertionError("PyG's fs.torch_load (which retries with "
                             "weights_only=False) was used")

    monkeypatch.setattr(torch, 'load', spy)
    monkeypatch.setattr(pyg_fs, 'torch_load', refuse)
    load_dataset('pubmed', root=processed.root)
    payload.pt(processed.processed / 'data.pt')
    with pytest.warns(ReprocessWarning):
        load_dataset('pubmed', root=processed.root)
    assert calls and all(w is True for w in calls)
    assert not payload.marker.exists()


def test_tu_processed_and_raw_files(copy_dataset, payload, one_line):
    root = copy_dataset('TU/MUTAG')
    folder = root / 'TU' / 'MUTAG'
    dataset, _ = load_graph_dataset('MUTAG', root=root)
    y = dataset.y.clone()
    # A malicious processed file: rebuilt, never unpickled.
    payload.pt(folder / 'processed' / 'data.pt')
    with pytest.warns(ReprocessWarning, match="'io.open'"):
        dataset, _ = load_graph_dataset('MUTAG', root=root)
    assert not payload.marker.exists()
    assert torch.equal(dataset.y, y)
    # Changed labels: rebuilt from the new raw file.
    labels = folder / 'raw' / 'MUTAG_graph_labels.txt'
    flipped = [str(-int(v)) for v in labels.read_text().split()]
    labels.write_text('\n'.join(flipped) + '\n')
    with pytest.warns(ReprocessWarning, match='MUTAG_graph_labels.txt'):
        dataset, _ = load_graph_dataset('MUTAG', root=root)
    assert torch.equal(dataset.y, 1 - y)
    # A corrupt raw file is named.
    indicator = folder / 'raw' / 'MUTAG_graph_indicator.txt'
    indicator.write_text('1\n1\nnot-a-number\n')
    with pytest.raises(DataFileError) as info, pytest.warns(
            ReprocessWarning, match='MUTAG_graph_indicator.txt changed'):
        load_graph_dataset('MUTAG', root=root)
    msg = one_line(info.value)
    assert msg.startswith(f"Raw file '{indicator}'") and 'MUTAG' in msg


def test_corrupt_npz_raw_file_is_named(copy_dataset, one_line):
    root = copy_dataset('Amazon/Photo')
    path = root / 'Amazon' / 'Photo' / 'raw' / 'amazon_electronics_photo.npz'
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataFileError) as info:
        load_dataset('photo', root=root)
    msg = one_line(info.value)
    assert msg.startswith(f"Raw file '{path}'") and 'Amazon' in msg


def test_find_corrupt_file(tmp_path):
    (tmp_path / 'README.txt').write_text('free text, not checked')
    (tmp_path / 'a.json').write_text('{"ok": 1}')
    (tmp_path / 'b_A.txt').write_text('1, 2\n2, 1\n')
    assert find_corrupt_file(tmp_path) is None
    (tmp_path / 'c.json').write_text('{"cut')
    path, error = find_corrupt_file(tmp_path)
    assert path == tmp_path / 'c.json' and isinstance(error, ValueError)


def test_unwritable_processed_folder(pubmed, one_line):
    from graphcl.data import NotWritableError
    from graphcl.data.planetoid import SafePlanetoid
    # A file where the processed folder should be: not writable, even by
    # root.
    (pubmed.root / 'PubMed' / 'processed').write_text('')
    with pytest.raises(NotWritableError) as info:
        SafePlanetoid(str(pubmed.root), 'PubMed')
    msg = one_line(info.value)
    assert str(pubmed.root / 'PubMed' / 'processed') in msg
    assert 'GRAPHCL_CACHE' in msg
