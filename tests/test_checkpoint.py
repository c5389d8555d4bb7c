import pytest
import torch

from graphcl.checkpoint import module_generators, rng_state, set_rng_state
from graphcl.models import build_method


def test_restores_every_generator():
    model = build_method('dgi', 6, hidden=4, corruption='shuffle,edge_drop',
                         seed=3)
    assert len(module_generators(model)) >= 2
    state = rng_state(model)
    first = [torch.rand(3)] + [torch.rand(3, generator=g)
                               for g in module_generators(model).values()]
    set_rng_state(model, state)
    again = [torch.rand(3)] + [torch.rand(3, generator=g)
                               for g in module_generators(model).values()]
    assert all(torch.equal(a, b) for a, b in zip(first, again))


def test_state_of_another_model_refused():
    a = build_method('dgi', 6, hidden=4, corruption='shuffle,edge_drop',
                     seed=0)
    b = build_method('dgi', 6, hidden=4, seed=0)
    with pytest.raises(ValueError, match='another model'):
        set_rng_state(b, rng_state(a))
