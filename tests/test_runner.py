import json

import pytest
import torch

from graphcl.runner import resolve_device, run_seeds, seed_list, write_metrics


def test_seed_list():
    assert seed_list(3) == [0, 1, 2]
    assert seed_list([5, 2]) == [5, 2]
    assert seed_list((7, )) == [7]
    for bad in (0, [], True, [1.5], ['0']):
        with pytest.raises(ValueError, match='(?i)seed'):
            seed_list(bad)


def test_run_seeds_seeds_torch_before_each_run():
    draws = run_seeds([4, 9, 4], lambda s: (s, torch.rand(2)))
    assert [s for s, _ in draws] == [4, 9, 4]
    torch.manual_seed(4)
    assert torch.equal(draws[0][1], torch.rand(2))
    assert torch.equal(draws[0][1], draws[2][1])
    assert not torch.equal(draws[0][1], draws[1][1])


def test_resolve_device():
    assert resolve_device('cpu') == torch.device('cpu')
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match='--device cpu'):
            resolve_device('cuda')


def test_write_metrics(tmp_path):
    path = write_metrics({'a': [1, 2.5]}, tmp_path / 'new' / 'dir')
    assert path == tmp_path / 'new' / 'dir' / 'metrics.json'
    assert json.loads(path.read_text()) == {'a': [1, 2.5]}
