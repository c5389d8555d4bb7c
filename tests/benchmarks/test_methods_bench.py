r"""benchmarks/methods.py (the issue's one benchmark command): resuming,
keeping runs with other settings apart, and the table, on a fake results
folder; one tiny real seed through the shared run_seed."""
import json
import re
import sys
from pathlib import Path

import pytest
import torch

from tests.benchmarks.conftest import benchmark_module, fake_seed

@pytest.fixture(scope='module')
def mb():
    with benchmark_module('methods') as module:
        yield module


def test_overrides_typed_and_named(mb):
    assert mb.parse_overrides('ggd', 'Cora', []) == {}
    got = mb.parse_overrides('ggd', 'Cora', ['hidden=256', 'lr=1e-4',
                                             'feature-mask=0.5'])
    assert got == dict(hidden=256, lr=1e-4, feature_mask=0.5)
    assert isinstance(got['hidden'], int) and isinstance(got['lr'], float)
    assert mb.variant_name(got) == 'feature_mask=0.5,hidden=256,lr=0.0001'
    # A value equal to the preset's is no override: the preset's folder.
    assert mb.parse_overrides('ggd', 'Cora', ['hidden=512', 'epochs=500']) \
        == {}
    assert mb.folder('ggd', 'Cora', {}, Path('/r')) == Path('/r/ggd/Cora')
    for bad, words in [('tau=1', "'tau' is not an option"),
                       ('hidden=wide', 'takes a int'),
                       ('hidden', 'key=value'),
                       ('encoder=a/b', 'names a folder')]:
        with pytest.raises(SystemExit, match=words):
            mb.parse_overrides('ggd', 'Cora', [bad])


def test_run_resumes_and_refuses_mixing(mb, tmp_path, monkeypatch):
    monkeypatch.setattr(mb, 'OUT', tmp_path)
    calls = []
    monkeypatch.setattr(mb, 'run_subprocess', calls.append)
    fake_seed(tmp_path / 'ggd' / 'Cora', 0, 83.0)
    fake_seed(tmp_path / 'ggd' / 'Cora', 2, 84.0)
    mb.run('ggd', 'cora', [0, 1, 2, 3], [])  # canonical name, seeds 1 and 3
    assert [c[1:5] for c in calls] == [['_one', 'ggd', 'Cora', 1],
                                       ['_one', 'ggd', 'Cora', 3]]
    assert [json.loads(c[5]) for c in calls] == [{}, {}]
    assert all(c[6:] == ['--device', 'cpu'] for c in calls)
    calls.clear()
    mb.run('ggd', 'Cora', [0, 1], ['hidden=256'])  # its own folder
    assert [(c[4], json.loads(c[5])) for c in calls] == [
        (0, {'hidden': 256}), (1, {'hidden': 256})]
    # Seeds saved with other settings than the preset resolves to now.
    fake_seed(tmp_path / 'ggd' / 'Cora', 4, 84.0, power=10)
    with pytest.raises(SystemExit, match='would be mixed'):
        mb.run('ggd', 'Cora', [5], [])
    # A seed saved before a setting existed: not known to be the same.
    (tmp_path / 'ggd' / 'Cora' / 'seed4.json').unlink()
    fake_seed(tmp_path / 'ggd' / 'Cora', 4, 84.0)
    run = json.loads((tmp_path / 'ggd' / 'Cora' / 'seed4.json').read_text())
    del run['settings']['keep']
    (tmp_path / 'ggd' / 'Cora' / 'seed4.json').write_text(json.dumps(run))
    with pytest.raises(SystemExit, match=r"'keep': \('\(not recorded\)'"):
        mb.run('ggd', 'Cora', [5], [])
    if not torch.cuda.is_available():  # refused before any seed runs
        calls.clear()
        with pytest.raises(ValueError, match='CUDA is not available'):
            mb.run('ggd', 'Cora', [1], ['hidden=256'], device='cuda')
        assert calls == []
    with pytest.raises(SystemExit, match='not registered'):
        mb.run('nosuchmethod', 'Cora', [0], [])
    with pytest.raises(SystemExit, match="Unknown dataset 'Corra'"):
        mb.run('ggd', 'Corra', [0], [])


def test_table(mb, tmp_path):
    out, legacy = tmp_path / 'methods', tmp_path / 'legacy'
    for seed, acc in enumerate([83.0, 84.0, 85.5]):
        fake_seed(out / 'ggd' / 'Cora', seed, acc)
    fake_seed(out / 'ggd' / 'Cora' / 'hidden=256', 0, 80.0, hidden=256)
    fake_seed(out / 'nosuchmethod' / 'Cora', 0, 99.0)  # not registered
    legacy.mkdir()
    (legacy / 'Cora.json').write_text(json.dumps(dict(
        dataset='Cora', seeds=[0, 1], test_acc=[82.0, 83.0],
        val_acc_mean=81.0, epochs=[200, 210], seconds_per_epoch=0.01,
        pretrain_seconds=5.0, probe_seconds=1.0, peak_rss_mb=400.0,
        config=dict(probe_selection='per-seed'),
        machine='cpu, load average 1.12 at start')))
    text = mb.table(out, legacy)
    rows = {tuple(c.strip() for c in line.split('|')[1:4]): line
            for line in text.splitlines() if line.startswith('| ')}
    from graphcl.stats import mean_std
    mean, std = mean_std([83.0, 84.0, 85.5])
    row = rows[('ggd', 'Cora', 'preset')]
    assert f'| 3 | {mean:.2f} ± {std:.2f} |' in row
    assert re.search(r'\| 83\.9 ± 0\.4 \[\d\] \| ≥ 83\.0 \| yes \(3 of 10 '
                     r'seeds\) \|', row)
    # epochs median 101, s/epoch median 1.5, whole run 60+61+62, peak 502
    assert row.endswith('| 101 | 1.5000 | 183 | 502 |')
    assert '| 80.00 ± 0.00 |' in rows[('ggd', 'Cora', 'hidden=256')]
    assert 'no (1 of 10 seeds)' in rows[('ggd', 'Cora', 'hidden=256')]
    assert 'not run yet' in rows[('ggd', 'CiteSeer', '—')]
    # dgi_accuracy.py's results predate the rescaled probe: not judged
    assert '| 82.50 ± 0.50 |' in rows[('dgi', 'Cora', 'preset (older probe)')]
    assert 'nosuchmethod' not in text
    assert 'Load average 1.50-3.50' in text
    assert '83.0, 84.0, 85.5' in text and 'git abc1234' in text


def test_table_keeps_gpu_timings_apart(mb, tmp_path):
    # Seeds run on a GPU pool into the accuracy; the time and memory
    # columns are the CPU seeds' alone, and say so.
    out = tmp_path / 'methods'
    cell = out / 'ggd' / 'Cora'
    for seed, acc in enumerate([83.0, 84.0, 85.0]):
        fake_seed(cell, seed, acc)
    for seed in (1, 2):
        run = json.loads((cell / f'seed{seed}.json').read_text())
        run.update(device='cuda', seconds_per_epoch=0.001,
                   wall_seconds=1.0, peak_rss_mb=9999.0)
        (cell / f'seed{seed}.json').write_text(json.dumps(run))
    text = mb.table(out, tmp_path / 'none')
    row = next(line for line in text.splitlines()
               if line.startswith('| ggd | Cora | preset'))
    assert '| 3 | 84.00 ± 0.82 |' in row
    assert row.endswith('| 101 | 0.5000 (CPU seeds 0) | 60 (CPU seeds 0) '
                        '| 500 (CPU seeds 0) |')
    assert 'Devices: cpu: seeds 0; cuda: seeds 1, 2.' in text
    # Every seed on a GPU: their timings, marked.
    run = json.loads((cell / 'seed0.json').read_text())
    run.update(device='cuda', seconds_per_epoch=0.002)
    (cell / 'seed0.json').write_text(json.dumps(run))
    row = next(line for line in mb.table(out, tmp_path / 'none')
               .splitlines() if line.startswith('| ggd | Cora | preset'))
    assert '| 0.0010 (GPU) |' in row


def test_run_seed_tiny_real_run(mb, shared_root, tmp_path, monkeypatch):
    monkeypatch.setenv('GRAPHCL_DATA', str(shared_root))
    threads = torch.get_num_threads()
    try:
        path = tmp_path / 'ggd' / 'Cora' / 'seed3.json'
        rundir = tmp_path / 'runs' / 'seed3'
        # A checkpoint folder left by other code (another config): the
        # seed starts again instead of resuming it.
        rundir.mkdir(parents=True)
        (rundir / 'run.json').write_text(json.dumps(dict(
            status='interrupted', config=dict(method='ggd', hidden=9))))
        mb.run_seed('ggd', 'Cora', 3, path, rundir=rundir, epochs=2,
                    hidden=8)
    finally:
        torch.set_num_threads(threads)
    run = json.loads(path.read_text())
    assert run['seed'] == 3 and run['epochs'] == 2
    assert run['settings']['hidden'] == 8 and run['settings']['power'] == 5
    assert run['overrides'] == dict(epochs=2, hidden=8)
    assert run['resumed'] is False and 0 <= run['test_acc'] <= 100
    assert run['device'] == 'cpu' and run['peak_gpu_mb'] is None
    assert run['wall_seconds'] >= run['pretrain_seconds'] > 0
    assert not rundir.exists()  # removed once the JSON is saved
    # ... but the seed's embeddings are kept beside it, for probe studies
    z = torch.load(rundir.parent / 'embeddings' / 'seed3.pt')
    assert z.shape == (2708, 8) and torch.isfinite(z).all()


def test_seconds_carried_by_a_checkpoint(mb, tmp_path):
    # A resumed seed's wall time adds the training seconds its checkpoint
    # carried: mid-training ('seconds'), or after training ('result').
    common = sys.modules['_common']
    assert common._seconds_checkpointed(tmp_path) == 0.0
    torch.save(dict(seed=0, epoch=7, seconds=12.5), tmp_path /
               'checkpoint.pt')
    assert common._seconds_checkpointed(tmp_path) == 12.5
    torch.save(dict(seed=0, finished=True, result=dict(seconds=40.0)),
               tmp_path / 'checkpoint.pt')
    assert common._seconds_checkpointed(tmp_path) == 40.0


def test_overrides_of_optional_and_boolean_options(mb, monkeypatch):
    from graphcl.models import registry
    spec = registry.MethodSpec('fakeopt', 'math:floor',
                               dict(width=None, flag=False))
    monkeypatch.setitem(registry.METHODS, 'fakeopt', spec)
    assert mb.parse_overrides('fakeopt', 'Cora', [
        'width=5', 'flag=yes']) == dict(width=5, flag=True)
    assert mb.parse_overrides('fakeopt', 'Cora', ['width=0.5']) == \
        dict(width=0.5)
    assert mb.parse_overrides('fakeopt', 'Cora', ['width=wide']) == \
        dict(width='wide')
    with pytest.raises(SystemExit, match='is true or false'):
        mb.parse_overrides('fakeopt', 'Cora', ['flag=maybe'])


def test_a_seed_another_command_is_running_is_skipped(mb, tmp_path, capsys):
    # Two `methods.py run` on the same cell: the second one's child finds
    # the seed's run folder locked by the first, says so in one line and
    # exits with BUSY_EXIT, which the parent counts as skipped.
    import subprocess

    import _common
    from graphcl.rundir import RunDir, RunFolderError
    with RunDir(tmp_path / 'seed0', {'method': 'ggd'}):
        with pytest.raises(RunFolderError) as held:
            RunDir(tmp_path / 'seed0', {'method': 'ggd'}).open()
        with pytest.raises(SystemExit) as e:
            _common.exit_if_busy(held.value, 0)
    assert e.value.code == _common.BUSY_EXIT
    assert 'seed 0: skipped' in capsys.readouterr().out
    # Any other run-folder error is left to the caller.
    _common.exit_if_busy(RunFolderError('another config'), 0)
    assert _common.run_subprocess(
        ['-c', f'raise SystemExit({_common.BUSY_EXIT})']) is False
    assert _common.run_subprocess(['-c', 'pass']) is True
    with pytest.raises(subprocess.CalledProcessError):
        _common.run_subprocess(['-c', 'raise SystemExit(1)'])


def test_run_or_restart(mb):
    from graphcl.rundir import RunFolderError
    common = sys.modules['_common']
    calls = []

    def run(**folder):
        calls.append(folder)
        if len(calls) == 1:
            raise RunFolderError("holds a run with another config")
        return 'metrics'
    m, restarted = common.run_or_restart(run, dict(out='x', resume=True), 1)
    assert m == 'metrics' and restarted > 0
    assert calls == [dict(out='x', resume=True),
                     dict(out='x', overwrite=True)]
    assert common.run_or_restart(lambda **f: 'ok', {}, 1) == ('ok', 0)

    def broken(**folder):
        raise RunFolderError('the folder is not a run folder')
    with pytest.raises(RunFolderError, match='not a run folder'):
        common.run_or_restart(broken, dict(out='x', resume=True), 1)

    def busy(**folder):
        raise RunFolderError('the folder is in use by process 123')
    with pytest.raises(SystemExit) as info:
        common.run_or_restart(busy, dict(out='x', resume=True), 1)
    assert info.value.code == common.BUSY_EXIT


def test_cora_claim(mb):
    def row(method, mean, seeds=10, variant=''):
        return dict(method=method, dataset='Cora', variant=variant,
                    test=[mean] * seeds, mean=mean, std=0.5)
    assert 'no method has 10 seeds' in mb.cora_claim([row('ggd', 90, 3)])
    line = mb.cora_claim([row('ggd', 83.8), row('mvgrl', 83.5),
                          row('dgi', 95.0, seeds=2),
                          dict(row('dgi', 99.0), dataset='CiteSeer')])
    assert line == ("Cora (public split): the best mean over 10 seeds is "
                    "ggd's 83.80 ± 0.50; at least one method ≥ 84.0: not "
                    "met.")
    assert mb.cora_claim([row('ggd', 84.1, variant='hidden=256')]) == (
        "Cora (public split): the best mean over 10 seeds is ggd "
        "(hidden=256)'s 84.10 ± 0.50; at least one method ≥ 84.0: met.")


def test_seeds_of_an_older_probe_are_reprobed_or_run_again(
        mb, shared_root, tmp_path, monkeypatch):
    from graphcl.data import load_dataset
    from graphcl.eval import PROBE_PROTOCOL, linear_probe
    monkeypatch.setenv('GRAPHCL_DATA', str(shared_root))
    out, runs = tmp_path / 'methods', tmp_path / 'runs'
    monkeypatch.setattr(mb, 'OUT', out)
    monkeypatch.setattr(mb, 'RUNS', runs)
    calls = []
    monkeypatch.setattr(mb, 'run_subprocess', calls.append)
    cell = out / 'ggd' / 'Cora'
    fake_seed(cell, 0, 70.0, protocol=None)  # saved before the change
    fake_seed(cell, 1, 71.0, protocol=None)  # ... and embeddings kept
    fake_seed(cell, 2, 72.0)  # current
    z = 1e-3 * torch.randn(2708, 16, generator=torch.Generator()
                           .manual_seed(0))
    (runs / 'ggd' / 'Cora' / 'embeddings').mkdir(parents=True)
    torch.save(z, runs / 'ggd' / 'Cora' / 'embeddings' / 'seed1.pt')
    # The table shows the older seed apart and does not judge it.
    text = mb.table(out, tmp_path / 'none')
    assert 'preset (older probe) | 2 |' in text
    assert 'not judged (older probe)' in text
    mb.run('ggd', 'Cora', [0, 1, 2, 3], [])
    # seed 1 scored again from its embeddings; seeds 0 and 3 trained
    assert [c[4] for c in calls] == [0, 3]
    run = json.loads((cell / 'seed1.json').read_text())
    assert run['probe_protocol'] == PROBE_PROTOCOL
    assert run['earlier_probes'] == [dict(
        protocol='absolute L2 grid 0,1e-5..1e-1', test_acc=71.0,
        val_acc=70.0, probe_weight_decay=0.0)]
    data = load_dataset('Cora', root=str(shared_root), seed=1)
    fit = linear_probe(z, data.y, data.train_mask, data.val_mask,
                       data.test_mask)
    assert run['test_acc'] == pytest.approx(100 * fit.test_acc)
    assert run['probe_scale'] == pytest.approx(fit.scale)
    assert run['epochs'] == 101  # pretraining numbers untouched
    # Reprobing twice changes nothing (the seed is current now).
    assert mb.reprobe_cell(cell, runs / 'ggd' / 'Cora') == [0]
    assert json.loads((cell / 'seed1.json').read_text()) == run
