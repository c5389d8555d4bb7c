r"""The per-method result tables (benchmarks/ggd.py, graphmae.py, mvgrl.py,
bgrl.py) never pool seeds scored by different probes: seeds of an earlier
protocol get a row of their own, marked "older probe" and not judged
against the target."""
import json
import statistics

import pytest

from tests.benchmarks.conftest import benchmark_module, fake_seed

OLD = 'absolute L2 grid 0,1e-5..1e-1'


@pytest.fixture(scope='module')
def common():
    with benchmark_module('_common') as module:
        yield module


def test_by_protocol_groups_current_first(common):
    from graphcl.eval import PROBE_PROTOCOL
    runs = [dict(seed=0, probe_protocol=OLD), dict(seed=1),
            dict(seed=2, probe_protocol=PROBE_PROTOCOL),
            dict(seed=3, probe_protocol='another'),
            dict(seed=4, probe_protocol=PROBE_PROTOCOL)]
    groups = common.by_protocol(runs)
    # A seed without a protocol was saved before the probe named one: the
    # earlier protocol.
    assert [(s, [r['seed'] for r in g]) for s, g in groups] == [
        ('', [2, 4]), (' (older probe)', [0, 1]),
        (' (older probe)', [3])]
    assert common.by_protocol([]) == []
    only_old = common.by_protocol([dict(seed=5, probe_protocol=OLD)])
    assert [s for s, _ in only_old] == [' (older probe)']


def mixed_folder(folder, method='ggd'):
    fake_seed(folder, 0, 84.0)
    fake_seed(folder, 1, 83.0)
    fake_seed(folder, 2, 80.0, protocol=None)  # saved before protocols
    for seed in range(3):
        path = folder / f'seed{seed}.json'
        run = json.loads(path.read_text())
        run['method'] = method
        path.write_text(json.dumps(run))


def rows(text, start):
    return [line for line in text.splitlines() if line.startswith(start)]


def test_graphmae_table_keeps_probes_apart(tmp_path, monkeypatch):
    with benchmark_module('graphmae') as gb:
        mixed_folder(tmp_path / 'Cora', 'graphmae')
        monkeypatch.setattr(gb, 'RUNS', tmp_path)
        text = gb.table().split('## Epoch')[0]  # the accuracy section
    current, = rows(text, '| Cora | ')
    older, = rows(text, '| Cora (older probe) | ')
    assert '| 2 (0, 1) | 83.50 ± 0.50 |' in current
    assert '| 83.5 |' in current  # judged against the target
    assert '| 1 (2) | 80.00 ± 0.00 |' in older and '| — |' in older
    assert '- Cora (older probe) seed 2: test 80.00' in text


def test_mvgrl_table_keeps_probes_apart(tmp_path, monkeypatch):
    with benchmark_module('mvgrl') as mv:
        mixed_folder(tmp_path / 'methods' / 'mvgrl' / 'Cora', 'mvgrl')
        monkeypatch.setattr(mv, 'RESULTS', tmp_path)
        monkeypatch.setattr(mv, 'MEMORY', tmp_path / 'absent.json')
        text = mv.summary()
    current, = rows(text, '| Cora | ')
    older, = rows(text, '| Cora (older probe) | ')
    assert '| 2 | 83.50 ± 0.50 | 84.0, 83.0 |' in current
    assert '| yes so far |' in current
    assert '| 1 | 80.00 ± 0.00 | 80.0 |' in older
    assert '| not judged |' in older


def test_bgrl_table_keeps_probes_apart(tmp_path, monkeypatch):
    with benchmark_module('bgrl') as bg:
        mixed_folder(tmp_path / 'Amazon-Photo', 'bgrl')
        monkeypatch.setattr(bg, 'METHODS', tmp_path)
        monkeypatch.setattr(bg, 'RUNS', tmp_path / 'runs')
        monkeypatch.setattr(bg, 'OUT', tmp_path / 'out')
        written = {}
        monkeypatch.setattr(bg, 'write',
                            lambda name, text: written.update({name: text}))
        bg.table(None)
    text = written['bgrl.md']
    assert '| Amazon-Photo | preset | 2 | 83.50 ± 0.50 |' in text
    assert '| Amazon-Photo | preset (older probe) | 1 | 80.00 ± 0.00 |' \
        in text
    assert '| Amazon-Computers | preset | 0 | — |' in text


def test_ggd_rows_and_validation_study(tmp_path, monkeypatch):
    with benchmark_module('ggd') as gg:
        mixed_folder(tmp_path)
        runs = [json.loads((tmp_path / f'seed{s}.json').read_text())
                for s in range(3)]
        row = gg._ggd_row('Cora', runs[:2], judge=True)
        assert '| Cora | 2 | 83.50 ± 0.50 |' in row
        assert '| yes (2 of 10 seeds) |' in row
        row = gg._ggd_row('Cora (older probe)', runs[2:], judge=False)
        assert '| not judged |' in row

        # The validation study compares with its own row of the preset's
        # power (the same models, the same probe), not with the seeds saved
        # since (trained again, or scored by another probe).
        study = dict(machine='m', code='c', h=[70.0, 71.0],
                     powers={'5': [72.0, 74.0], '10': [71.0, 71.0]},
                     variants=[dict(options={'lr': 5e-4},
                                    val_acc=[75.0])])
        (tmp_path / 'val_study_CiteSeer.json').write_text(json.dumps(study))
        monkeypatch.setattr(gg, 'OUT', tmp_path)
        lines = gg._val_study_lines('CiteSeer')
    assert f'Probe: {OLD}.' in ' '.join(lines)
    table = {line.split(' | ')[0]: line for line in lines
             if line.startswith('| ')}
    base = statistics.fmean([72.0, 74.0])
    assert table['| H alone'].endswith(f'| {base:.2f} |')
    assert table['| power n = 10'].endswith(f'| {base:.2f} |')
    assert table['| lr 0.0005'].endswith('| 72.00 |')  # its first seed


def reference_record(seed, test, protocol, **probe):
    side = dict(test_acc=test, val_acc=test - 1, seconds_per_epoch=0.5,
                **probe)
    run = dict(dataset='Cora', seed=seed, reference=side, graphcl=side,
               machine='m', code='c')
    if protocol is not None:
        run['probe_protocol'] = protocol
    return run


@pytest.mark.parametrize('name,dataset,probe', [
    ('cca_ssg_reference', 'Cora',
     dict(reference_probe=dict(test_acc=1.0, val_acc=1.0))),
    ('ggd_reference', 'CiteSeer', dict(official_probe_test_acc=1.0))])
def test_reference_tables_keep_probes_apart(tmp_path, monkeypatch, name,
                                            dataset, probe):
    from graphcl.eval import PROBE_PROTOCOL
    with benchmark_module(name) as module:
        for seed, (test, protocol) in enumerate(
                [(84.0, PROBE_PROTOCOL), (82.0, PROBE_PROTOCOL),
                 (70.0, None)]):
            run = reference_record(seed, test, protocol, **probe)
            (tmp_path / f'{dataset}_seed{seed}.json').write_text(
                json.dumps(run))
        monkeypatch.setattr(module, 'OUT', tmp_path)
        text = module.table()
    current = rows(text, f'| {dataset} | ')
    older = rows(text, f'| {dataset} (older probe) | ')
    assert len(current) == len(older) == 2  # reference and graphcl rows
    assert all('| 2 | 83.00 ± 1.00 ' in row for row in current)
    assert all('| 1 | 70.00 ' in row for row in older)
