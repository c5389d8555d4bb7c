import hashlib
import os

from graphcl.data import provenance
from graphcl.data.provenance import (
    RECORD_NAME,
    describe_changes,
    file_fingerprint,
    folder_fingerprint,
    read_record,
    same_content,
    write_record,
)


def test_file_fingerprint_hashes_content(tmp_path):
    path = tmp_path / 'a.bin'
    path.write_bytes(b'abc' * 1000)
    assert file_fingerprint(path) == {
        'size': 3000,
        'sha256': hashlib.sha256(b'abc' * 1000).hexdigest()
    }


def test_large_files_use_size_and_mtime(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, 'HASH_SIZE_LIMIT', 10)
    path = tmp_path / 'big.bin'
    path.write_bytes(b'x' * 100)
    os.utime(path, ns=(1, 123456789))
    assert file_fingerprint(path) == {'size': 100, 'mtime_ns': 123456789}


def test_folder_fingerprint_and_changes(tmp_path):
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'a.txt').write_text('1')
    (tmp_path / 'sub' / 'b.txt').write_text('2')
    old = folder_fingerprint(tmp_path)
    assert sorted(old) == ['a.txt', 'sub/b.txt']
    assert folder_fingerprint(tmp_path / 'missing') == {}
    (tmp_path / 'a.txt').write_text('3')  # Same size, other content.
    (tmp_path / 'c.txt').write_text('4')
    (tmp_path / 'sub' / 'b.txt').unlink()
    new = folder_fingerprint(tmp_path)
    assert describe_changes(old, new) == ('a.txt changed, c.txt added, '
                                          'sub/b.txt removed')
    assert describe_changes(new, new) == 'no change'
    many = {f'f{i}': {'size': i} for i in range(8)}
    assert describe_changes({}, many, limit=2) == 'f0 added, f1 added, 6 more'


def test_same_content(tmp_path):
    a, b = tmp_path / 'a', tmp_path / 'b'
    a.write_text('12')
    assert not same_content(a, b)
    b.write_text('12')
    assert same_content(a, b)
    b.write_text('21')
    assert not same_content(a, b)


def test_record_round_trip(tmp_path):
    assert read_record(tmp_path) is None
    raw = {'x': {'size': 1, 'sha256': '00'}}
    path = write_record(tmp_path, raw, pre_transform='None')
    assert path == tmp_path / RECORD_NAME
    record = read_record(tmp_path)
    assert record['raw_files'] == raw and record['pre_transform'] == 'None'
    assert sorted(p.name for p in tmp_path.iterdir()) == [RECORD_NAME]
    for bad in ('{', '[]', '{"version": 99, "raw_files": {}}'):
        path.write_text(bad)
        assert read_record(tmp_path) is None
