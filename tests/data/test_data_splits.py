import pytest
import torch
from torch_geometric.data import Data

from graphcl.data import random_node_split


def _data(n=1000):
    return Data(x=torch.randn(n, 3), edge_index=torch.empty(2, 0).long())


def test_fractions_and_disjoint():
    data = _data()
    out = random_node_split(data, seed=0)
    masks = [out.train_mask, out.val_mask, out.test_mask]
    assert all(m.dtype == torch.bool and m.shape == (1000, ) for m in masks)
    assert [int(m.sum()) for m in masks] == [100, 100, 800]
    assert bool((sum(m.long() for m in masks) == 1).all())
    assert out.split == 'random 10/10/80 (seed=0)'
    assert 'train_mask' not in data  # The input is left untouched.
    assert out.x is data.x  # Shallow copy.


def test_seeds():
    data = _data()
    a, b = random_node_split(data, seed=3), random_node_split(data, seed=3)
    c = random_node_split(data, seed=4)
    assert torch.equal(a.train_mask, b.train_mask)
    assert not torch.equal(a.train_mask, c.train_mask)
    state = torch.get_rng_state()
    random_node_split(data, seed=5)
    assert torch.equal(state, torch.get_rng_state())


def test_custom_fractions():
    out = random_node_split(_data(), train=0.2, val=0.3, seed=1)
    assert int(out.train_mask.sum()) == 200 and int(out.val_mask.sum()) == 300
    assert out.split == 'random 20/30/50 (seed=1)'


@pytest.mark.parametrize('train,val', [(0, 0.1), (0.5, 0.5), (1.2, 0),
                                       (0.1, -0.1)])
def test_invalid_fractions(train, val):
    with pytest.raises(ValueError, match='fractions'):
        random_node_split(_data(), train=train, val=val)
