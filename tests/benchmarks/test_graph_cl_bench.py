r"""benchmarks/graph_cl.py: GraphCL's table from per-seed JSON files of
benchmarks/graph_methods.py, on a fake results folder."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / 'benchmarks'


@pytest.fixture
def gcl(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))  # imports _common, graph_methods
    spec = importlib.util.spec_from_file_location('bench_graph_cl',
                                                  BENCH / 'graph_cl.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys.modules['graph_methods'], 'OUT', tmp_path)
    monkeypatch.setattr(module, 'STUDY', tmp_path / 'study')
    return module


def fake(folder: Path, seed: int, test: float, aug2: str = 'random2'):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f'seed{seed}.json').write_text(json.dumps(dict(
        seed=seed, test=test, val=test - 1.0, config=dict(aug2=aug2),
        seconds_per_epoch=0.5, pretrain_seconds=10.0, eval_seconds=2.0,
        machine=f'test machine, load average {seed}')))


def test_table(gcl, tmp_path):
    for seed, test in enumerate((86.0, 88.0)):
        fake(tmp_path / 'graphcl' / 'MUTAG', seed, test)
        fake(tmp_path / 'graphcl' / 'MUTAG' / 'random_init', seed,
             test - 2.0)
    fake(tmp_path / 'graphcl' / 'NCI1', 0, 70.0)
    text = gcl.table()
    mutag = next(line for line in text.splitlines()
                 if line.startswith('| MUTAG'))
    assert '87.00 ± 1.00 (2 seeds)' in mutag  # population std
    assert '85.00 ± 1.00 (2 seeds)' in mutag  # the random init
    assert '86.80 ± 1.34' in mutag and '>= 85.5 met' in mutag
    nci1 = next(line for line in text.splitlines()
                if line.startswith('| NCI1'))
    assert '70.00 ± 0.00 (1 seeds)' in nci1 and 'not met' in nci1
    assert 'PROTEINS' not in text  # no runs, no row


def test_study_ranks_views_on_validation(gcl, tmp_path):
    study = tmp_path / 'study' / 'IMDB-BINARY'
    fake(study / 'aug2=random2', 0, 80.0)  # val 79, test 80
    fake(study / 'aug2=random4', 0, 75.0)  # val 74, test 75
    (study / 'aug2=random4' / 'seed0.json').write_text(json.dumps(dict(
        seed=0, val=81.0, test=70.0)))  # best on validation, worse test
    text = gcl.study('IMDB-BINARY', ['random2', 'random4'], seeds=1)
    rows = [line for line in text.splitlines() if line.startswith('| r')]
    assert rows[0].startswith('| random4') and rows[1].startswith(
        '| random2')
