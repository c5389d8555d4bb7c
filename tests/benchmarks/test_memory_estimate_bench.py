r"""benchmarks/memory_estimate.py: the table from recorded runs keeps the
latest record of each case."""
import json

import pytest

from tests.benchmarks.conftest import benchmark_module


@pytest.fixture(scope='module')
def me():
    with benchmark_module('memory_estimate') as module:
        yield module


def test_latest_record_of_each_case_in_group_order(me):
    lines = [json.dumps(dict(name=name, run=run)) for name, run in (
        ('graphmae-physics', 1), ('grace-physics', 1), ('mine', 1),
        ('dgi-physics', 1), ('grace-physics', 2), ('dgi-cora', 1))] + ['']
    rows = me.latest(lines)
    assert [(r['name'], r['run']) for r in rows] == [
        ('dgi-cora', 1), ('dgi-physics', 1), ('grace-physics', 2),
        ('graphmae-physics', 1), ('mine', 1)]
