r"""Runs that survive faults: SIGKILL at random points then --resume ends
with the same metrics and embeddings as an uninterrupted run; SIGINT and
SIGTERM save a checkpoint and exit with one line; a full disk keeps the
last good checkpoint."""
import errno
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from graphcl.data import synthetic_sbm
from graphcl.experiment import run_experiment

TIMING = {'seconds_per_epoch', 'pretrain_seconds', 'probe_seconds',
          'peak_rss_mb'}


@pytest.fixture(scope='module')
def graph_file(tmp_path_factory):
    data = synthetic_sbm(1500, avg_degree=5, num_features=64, seed=0)
    path = tmp_path_factory.mktemp('g') / 'sbm.pt'
    torch.save(data, path)
    return path


def command(graph_file, out, *extra):
    return [sys.executable, '-m', 'graphcl.cli', 'train', 'dgi',
            '--dataset', str(graph_file), '--seeds', '2', '--epochs', '60',
            '--patience', '8', '--hidden', '32', '--threads', '1',
            '--checkpoint-every', '1', '--quiet', '--out', str(out), *extra]


def env():
    return dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')


def outputs(out):
    with open(out / 'metrics.json') as f:
        metrics = json.load(f)
    for key in TIMING:
        metrics.pop(key)
    for run in ('embeddings.pt', 'encoder.pt'):
        metrics[run] = torch.load(out / run, weights_only=True)
    return metrics


def same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if key == 'encoder.pt':
            assert all(torch.equal(a[key][k], b[key][k]) for k in a[key])
        elif torch.is_tensor(a[key]):
            assert torch.equal(a[key], b[key]), key
        else:
            assert a[key] == b[key], key


def stamp(path):
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def wait_for(path, proc, timeout=60.0, before=None):
    # Until this process has written the file (a new modification time).
    start = time.monotonic()
    while stamp(path) in (None, before):
        if proc.poll() is not None or time.monotonic() - start > timeout:
            return False
        time.sleep(0.01)
    return True


def test_sigkill_then_resume_equals_uninterrupted(graph_file, tmp_path):
    ref = tmp_path / 'ref'
    subprocess.run(command(graph_file, ref), env=env(), check=True,
                   capture_output=True)
    out = tmp_path / 'killed'
    rng = random.Random(0)
    kills = resumed = 0
    for attempt in range(8):
        extra = ('--resume', ) if attempt else ()
        before = stamp(out / 'checkpoint.pt')
        proc = subprocess.Popen(command(graph_file, out, *extra), env=env(),
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        if attempt < 4 and wait_for(out / 'checkpoint.pt', proc,
                                    before=before):
            time.sleep(rng.uniform(0.0, 0.4))
            if proc.poll() is None:
                proc.kill()
                kills += 1
        _, err = proc.communicate(timeout=120)
        if attempt:
            resumed += any(note in err for note in (
                'resuming after epoch', 'done in an earlier run',
                'trained in an earlier run'))
        if proc.returncode == 0:
            break
        assert proc.returncode == -signal.SIGKILL, err
    assert proc.returncode == 0 and kills >= 2 and resumed >= 1
    status = json.loads((out / 'run.json').read_text())
    assert status['status'] == 'complete' and status['seeds_done'] == [0, 1]
    same(outputs(ref), outputs(out))


@pytest.mark.parametrize('sig,code,name', [(signal.SIGINT, 130, 'SIGINT'),
                                           (signal.SIGTERM, 143, 'SIGTERM')])
def test_signal_saves_and_exits_with_one_line(graph_file, tmp_path, sig,
                                              code, name):
    out = tmp_path / 'run'
    proc = subprocess.Popen(command(graph_file, out), env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert wait_for(out / 'checkpoint.pt', proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:  # pragma: no cover (finished before the signal)
        pytest.skip('the run ended before the signal arrived')
    assert proc.returncode == code, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert 'Traceback' not in err
    assert f'stopped by {name} at seed' in lines[-1]
    assert '--resume' in lines[-1]
    assert json.loads((out / 'run.json').read_text())['status'] == \
        'interrupted'
    done = subprocess.run(command(graph_file, out, '--resume'), env=env(),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads((out / 'run.json').read_text())['status'] == \
        'complete'


def test_full_disk_keeps_last_checkpoint(small_graph, tmp_path,
                                         monkeypatch):
    import graphcl.rundir as rundir
    real, calls = rundir.atomic_save, [0]

    def failing(obj, path):
        calls[0] += 1
        if calls[0] == 3:
            raise OSError(errno.ENOSPC, f"Writing '{path}' failed: No space "
                          f"left on device; the disk is full")
        return real(obj, path)

    monkeypatch.setattr(rundir, 'atomic_save', failing)
    with pytest.raises(OSError, match=r"checkpoint\.pt.*disk is full"):
        run_experiment('dgi', small_graph, epochs=10, patience=0, hidden=8,
                       checkpoint_every=1, out=str(tmp_path), progress=False,
                       verbose=False)
    state = torch.load(tmp_path / 'checkpoint.pt', weights_only=True)
    assert state['epoch'] == 2  # the last good one
    assert json.loads((tmp_path / 'run.json').read_text())['status'] == \
        'failed'


def test_rerun_into_folder_and_bad_out(small_graph, tmp_path):
    kw = dict(epochs=3, hidden=8, progress=False, verbose=False)
    run_experiment('dgi', small_graph, out=str(tmp_path), **kw)
    with pytest.raises(ValueError, match='another config.*hidden'):
        run_experiment('dgi', small_graph, out=str(tmp_path),
                       **dict(kw, hidden=16))
    with pytest.raises(ValueError, match='same config.*--resume'):
        run_experiment('dgi', small_graph, out=str(tmp_path), **kw)
    again = run_experiment('dgi', small_graph, out=str(tmp_path),
                           resume=True, **kw)  # complete: read back
    assert again['test_acc'] == json.loads(
        (tmp_path / 'metrics.json').read_text())['test_acc']
    run_experiment('dgi', small_graph, out=str(tmp_path), overwrite=True,
                   **dict(kw, hidden=16))
    f = tmp_path / 'file'
    f.write_text('x')
    with pytest.raises(ValueError, match='is a file'):
        run_experiment('dgi', small_graph, out=str(f), **kw)
    with pytest.raises(ValueError, match='add --out'):
        run_experiment('dgi', small_graph, resume=True, **kw)


def test_seeds_probed_with_another_protocol_are_named_not_mixed_silently(
        small_graph, tmp_path):
    from graphcl.eval import PROBE_PROTOCOL
    kw = dict(epochs=3, hidden=8, seeds=2, progress=False, verbose=False)
    first = run_experiment('dgi', small_graph, out=str(tmp_path), **kw)
    assert first['probe_protocol'] == PROBE_PROTOCOL
    saved = tmp_path / 'seeds' / 'seed_0.json'
    record = json.loads(saved.read_text())
    assert record['probe']['protocol'] == PROBE_PROTOCOL
    del record['probe']['protocol']  # as a seed saved before the change
    saved.write_text(json.dumps(record))
    with pytest.warns(UserWarning, match='seed 0 .*another protocol'):
        again = run_experiment('dgi', small_graph, out=str(tmp_path),
                               resume=True, **kw)
    assert again['probe_protocol'] == ['absolute L2 grid 0,1e-5..1e-1',
                                       PROBE_PROTOCOL]
    assert again['test_acc'] == first['test_acc']
