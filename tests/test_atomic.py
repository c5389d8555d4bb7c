import errno
import json
import os

import pytest
import torch

from graphcl.atomic import (atomic_save, atomic_write, atomic_write_json,
                            atomic_write_text)


def test_writes_whole_files(tmp_path):
    atomic_write_json(tmp_path / 'a.json', {'x': [1, 2]})
    assert json.loads((tmp_path / 'a.json').read_text()) == {'x': [1, 2]}
    atomic_save({'w': torch.ones(3)}, tmp_path / 'b.pt')
    assert torch.equal(torch.load(tmp_path / 'b.pt', weights_only=True)['w'],
                       torch.ones(3))
    atomic_write_text(tmp_path / 'c.txt', 'héllo')
    assert (tmp_path / 'c.txt').read_text() == 'héllo'
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        ['a.json', 'b.pt', 'c.txt']  # no temporary file left


def test_failed_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / 'metrics.json'
    atomic_write_json(target, {'good': 1})

    def full_disk(f):
        f.write(b'{"par')
        raise OSError(errno.ENOSPC, 'No space left on device')

    with pytest.raises(OSError, match=r"metrics\.json.*disk is full"):
        atomic_write(target, full_disk)
    assert json.loads(target.read_text()) == {'good': 1}
    assert [p.name for p in tmp_path.iterdir()] == ['metrics.json']


def test_interrupted_write_leaves_nothing(tmp_path):
    def interrupted(f):
        f.write(b'partial')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / 'x.pt', interrupted)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_is_named(tmp_path):
    with pytest.raises(OSError, match='missing.*exists and is writable'):
        atomic_write_text(tmp_path / 'missing' / 'f.txt', 'x')


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, 'geteuid') else True,
                    reason='root writes into read-only folders')
def test_read_only_folder(tmp_path):  # pragma: no cover (CI runs as root)
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(OSError, match='writable'):
            atomic_write_text(tmp_path / 'f.txt', 'x')
    finally:
        tmp_path.chmod(0o700)
