r"""benchmarks/memory_estimate.py: the table from recorded runs keeps the
latest record of each case."""
import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / 'benchmarks'


@pytest.fixture(scope='module')
def me():
    spec = importlib.util.spec_from_file_location(
        'bench_memory_estimate', BENCH / 'memory_estimate.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_latest_record_of_each_case_in_group_order(me):
    lines = [json.dumps(dict(name=name, run=run)) for name, run in (
        ('graphmae-physics', 1), ('grace-physics', 1), ('mine', 1),
        ('dgi-physics', 1), ('grace-physics', 2), ('dgi-cora', 1))] + ['']
    rows = me.latest(lines)
    assert [(r['name'], r['run']) for r in rows] == [
        ('dgi-cora', 1), ('dgi-physics', 1), ('grace-physics', 2),
        ('graphmae-physics', 1), ('mine', 1)]
