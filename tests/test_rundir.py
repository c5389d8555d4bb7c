import json
import os
import subprocess
import sys

import pytest
import torch

from graphcl.rundir import RunDir, RunFolderError

CONFIG = dict(method='dgi', dataset='Cora', seeds=[0, 1], hidden=8)


def test_lifecycle(tmp_path):
    run = RunDir(tmp_path / 'r', CONFIG, version='0.1').open()
    status = json.loads((tmp_path / 'r' / 'run.json').read_text())
    assert status['status'] == 'running' and status['config'] == CONFIG
    assert status['pid'] == os.getpid() and status['version'] == '0.1'
    assert (tmp_path / 'r' / '.lock').exists()
    run.save_checkpoint({'seed': 0, 'epoch': 3, 'w': torch.ones(2)})
    assert run.load_checkpoint(0)['epoch'] == 3
    assert run.load_checkpoint(1) is None  # another seed's checkpoint
    run.save_seed(0, {'test_acc': 80.0})
    assert run.seeds_done() == [0]
    assert run.seed_result(0) == {'test_acc': 80.0}
    assert run.seed_result(1) is None
    run.finish('complete')
    run.close()
    status = json.loads((tmp_path / 'r' / 'run.json').read_text())
    assert status['status'] == 'complete' and status['seeds_done'] == [0]
    assert not (tmp_path / 'r' / '.lock').exists()
    assert not (tmp_path / 'r' / 'checkpoint.pt').exists()


def test_same_config_needs_resume_or_overwrite(tmp_path):
    with RunDir(tmp_path, CONFIG) as run:
        run.save_seed(0, {'a': 1})
    with pytest.raises(RunFolderError, match='same config.*--resume'):
        RunDir(tmp_path, CONFIG).open()
    with RunDir(tmp_path, CONFIG, resume=True) as run:
        assert run.seeds_done() == [0]
    with RunDir(tmp_path, CONFIG, overwrite=True) as run:
        assert run.seeds_done() == []


def test_other_config_refused_unless_overwrite(tmp_path):
    (tmp_path / 'notes.txt').write_text('mine')
    with RunDir(tmp_path, CONFIG) as run:
        run.save_seed(0, {'a': 1})
    other = dict(CONFIG, hidden=16)
    with pytest.raises(RunFolderError, match='another config.*hidden'):
        RunDir(tmp_path, other).open()
    with pytest.raises(RunFolderError, match='another config'):
        RunDir(tmp_path, other, resume=True).open()
    with RunDir(tmp_path, other, overwrite=True) as run:
        assert run.seeds_done() == []
    assert (tmp_path / 'notes.txt').read_text() == 'mine'  # not ours: kept


def test_old_outputs_without_status_refused(tmp_path):
    (tmp_path / 'metrics.json').write_text('{}')
    with pytest.raises(RunFolderError, match='metrics.json.*--overwrite'):
        RunDir(tmp_path, CONFIG).open()
    RunDir(tmp_path, CONFIG, overwrite=True).open().close()
    assert not (tmp_path / 'metrics.json').exists()


def test_out_is_a_file(tmp_path):
    f = tmp_path / 'f'
    f.write_text('x')
    with pytest.raises(RunFolderError, match='is a file'):
        RunDir(f, CONFIG).open()


def test_resume_and_overwrite_contradict(tmp_path):
    with pytest.raises(RunFolderError, match='contradict'):
        RunDir(tmp_path, CONFIG, resume=True, overwrite=True)


def test_concurrent_run_refused_and_stale_lock_taken(tmp_path):
    proc = subprocess.Popen([sys.executable, '-c',
                             'import time; time.sleep(30)'])
    try:
        import socket
        (tmp_path / '.lock').write_text(f'{proc.pid} {socket.gethostname()}')
        with pytest.raises(RunFolderError,
                           match=f'in use by process {proc.pid}'):
            RunDir(tmp_path, CONFIG).open()
    finally:
        proc.kill()
        proc.wait()
    # the holder is gone: its lock is stale and taken over
    with RunDir(tmp_path, CONFIG) as run:
        assert (tmp_path / '.lock').read_text().split()[0] == str(os.getpid())
    assert not (tmp_path / '.lock').exists()


def test_failure_and_interrupt_are_recorded(tmp_path):
    with pytest.raises(FloatingPointError):
        with RunDir(tmp_path / 'a', CONFIG):
            raise FloatingPointError('loss became NaN')
    status = json.loads((tmp_path / 'a' / 'run.json').read_text())
    assert status['status'] == 'failed' and 'NaN' in status['message']
    with pytest.raises(KeyboardInterrupt):
        with RunDir(tmp_path / 'b', CONFIG):
            raise KeyboardInterrupt
    status = json.loads((tmp_path / 'b' / 'run.json').read_text())
    assert status['status'] == 'interrupted'


def test_unreadable_checkpoint(tmp_path):
    with RunDir(tmp_path, CONFIG) as run:
        run.checkpoint_file.write_bytes(b'not a checkpoint')
        with pytest.raises(RunFolderError, match='unreadable.*delete it'):
            run.load_checkpoint(0)


def test_overwrite_removes_old_plots(tmp_path):
    with RunDir(tmp_path, CONFIG):
        pass
    (tmp_path / 'losses.png').write_bytes(b'png')
    with RunDir(tmp_path, dict(CONFIG, hidden=3), overwrite=True):
        pass
    assert not (tmp_path / 'losses.png').exists()
