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
