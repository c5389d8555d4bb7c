import math

import torch

from graphcl.nn.init import xavier_linear_


def test_every_linear_is_xavier_uniform_with_zero_bias():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(300, 200),
                                torch.nn.BatchNorm1d(200),
                                torch.nn.Sequential(
                                    torch.nn.Linear(200, 100, bias=False)))
    norm_before = [p.clone() for p in model[1].parameters()]
    assert xavier_linear_(model) is model
    for lin in (model[0], model[2][0]):
        fan_in, fan_out = lin.in_features, lin.out_features
        bound = math.sqrt(6 / (fan_in + fan_out))
        w = lin.weight
        assert w.abs().max() <= bound
        # uniform on [-bound, bound]: variance bound^2 / 3
        assert abs(w.var().item() / (bound ** 2 / 3) - 1) < 0.05
    assert torch.equal(model[0].bias, torch.zeros(200))
    assert model[2][0].bias is None
    for before, after in zip(norm_before, model[1].parameters()):
        assert torch.equal(before, after)


def test_seeded_by_the_global_generator():
    def draw():
        torch.manual_seed(3)
        return xavier_linear_(torch.nn.Linear(4, 5)).weight
    assert torch.equal(draw(), draw())
