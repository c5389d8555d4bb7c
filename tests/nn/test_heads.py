import pytest
import torch

from graphcl.nn import ProjectionHead


@pytest.mark.parametrize('batch_norm', [False, True])
def test_shape_and_gradients(batch_norm):
    torch.manual_seed(0)
    head = ProjectionHead(6, 10, 3, batch_norm=batch_norm)
    h = torch.randn(8, 6)
    out = head(h)
    assert out.shape == (8, 3)
    (out * torch.randn_like(out)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in head.parameters())


def test_matches_formula():
    head = ProjectionHead(6, 10, 3, act='relu')
    h = torch.randn(8, 6)
    expected = head.lin2(torch.relu(head.lin1(h)))
    assert torch.allclose(head(h), expected)


def test_reset_parameters_changes_weights():
    head = ProjectionHead(6, 10, 3, act='prelu', batch_norm=True)
    with torch.no_grad():
        for p in head.parameters():
            p.add_(1.0)
    before = [p.detach().clone() for p in head.parameters()]
    head.reset_parameters()
    assert all(not torch.equal(b, a)
               for b, a in zip(before, head.parameters()))


def test_repr():
    assert repr(ProjectionHead(6, 10, 3)) == 'ProjectionHead(6, 3)'


def test_simclr_head_options_match_linear_bn_relu_linear():
    # SimCLR's head (graphcl.adapters) is this class with batch norm and
    # ReLU: same parameters as the Sequential it replaced, same output.
    from torch.nn import BatchNorm1d, Linear, ReLU, Sequential
    torch.manual_seed(0)
    seq = Sequential(Linear(6, 10), BatchNorm1d(10), ReLU(), Linear(10, 3))
    torch.manual_seed(0)
    head = ProjectionHead(6, 10, 3, act='relu', batch_norm=True)
    for a, b in zip(seq.parameters(), head.parameters()):
        assert torch.equal(a, b)
    h = torch.randn(8, 6)
    assert torch.equal(seq(h), head(h))
