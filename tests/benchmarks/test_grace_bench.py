r"""benchmarks/grace.py: the speed and memory setup builds both
implementations from the preset and trains an epoch of each."""
import pytest
import torch

from tests.benchmarks.conftest import benchmark_module


@pytest.fixture(scope='module')
def gb():
    with benchmark_module('grace') as module:
        yield module


def test_speed_setup_trains_both(gb, shared_root):
    threads = torch.get_num_threads()
    try:
        epochs, settings, data, _ = gb.speed_setup(str(shared_root), 'Cora')
        losses = {name: fn() for name, fn in epochs.items()}
    finally:
        torch.set_num_threads(threads)
    assert set(losses) == {'dense', 'graphcl'}
    # the same preset on both sides: each loss near log(2N - 1) at start
    for loss in losses.values():
        assert 0 < loss < 1.1 * torch.log(torch.tensor(2.0 * 2708 - 1))
    assert settings['epochs'] == 200 and data.num_nodes == 2708


def test_alternate_paths_start_both_paths_alike(gb, shared_root):
    # benchmarks/_common.alternate_paths (GRACE's and BGRL's step
    # benchmarks): each round, the fast and the plain path from the same
    # weights and views, so their losses agree.
    import sys
    common = sys.modules['_common']
    threads = torch.get_num_threads()
    try:
        data, model, opt, _ = common.method_setup('grace', 'Cora',
                                                  str(shared_root))
        times, losses = common.alternate_paths(
            data, model, opt, model.view1.corruptions[0].generator, 2)
    finally:
        torch.set_num_threads(threads)
    assert len(times[True]) == len(times[False]) == 2
    assert all(cpu >= 0 and wall > 0 for cpu, wall in times[True])
    assert losses[True] == pytest.approx(losses[False], abs=1e-4)
    assert losses[True][0] != losses[True][1]  # another view each round
