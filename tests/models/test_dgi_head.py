import copy

import pytest
import torch
from torch_geometric.data import Data

from graphcl.corruptions import FeatureShuffle
from graphcl.losses import JSDLoss
from graphcl.models import DeepGraphInfomax
from graphcl.models.dgi_head import _graph_kept, dgi_jsd_head
from graphcl.nn import (BilinearDiscriminator, GCNEncoder,
                        SigmoidMeanReadout)
from graphcl.nn.activations import PReLU


def inputs(n=30, d=8, slopes=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    make = lambda *shape: torch.randn(*shape, generator=g,  # noqa: E731
                                      dtype=torch.double).requires_grad_()
    return make(n, d), make(n, d), make(slopes), make(d, d)


@pytest.mark.parametrize('slopes', [1, 8])
def test_gradcheck(slopes):
    assert torch.autograd.gradcheck(dgi_jsd_head, inputs(slopes=slopes))


@pytest.mark.parametrize('slopes', [1, 8])
def test_equals_the_modules(slopes):
    pos, neg, slope, weight = inputs(slopes=slopes)
    act = PReLU(slopes).double()
    disc = BilinearDiscriminator(8).double()
    with torch.no_grad():
        act.weight.copy_(slope)
        disc.weight.copy_(weight)
    z_pos, z_neg = act(pos), act(neg)
    s = SigmoidMeanReadout()(z_pos)
    ref = JSDLoss()(disc(z_pos, s), disc(z_neg, s))
    ref_grads = torch.autograd.grad(ref, [pos, neg, act.weight, disc.weight])
    loss = dgi_jsd_head(pos, neg, slope, weight)
    grads = torch.autograd.grad(loss, [pos, neg, slope, weight])
    assert torch.allclose(loss, ref)
    for a, b in zip(grads, ref_grads):
        assert torch.allclose(a, b)


def test_scaled_and_repeated_backward():
    pos, neg, slope, weight = inputs()
    (g1, ) = torch.autograd.grad(dgi_jsd_head(pos, neg, slope, weight), pos)
    loss = dgi_jsd_head(pos, neg, slope, weight)
    (3 * loss).backward(retain_graph=True)
    assert torch.allclose(pos.grad, 3 * g1)
    loss.backward()  # the stored gradients survive retain_graph
    assert torch.allclose(pos.grad, 4 * g1)


def test_without_gradients():
    pos, neg, slope, weight = inputs()
    ref = dgi_jsd_head(pos, neg, slope, weight)
    with torch.no_grad():
        loss = dgi_jsd_head(pos, neg, slope, weight)
    assert loss.grad_fn is None and torch.allclose(loss, ref)


def test_bad_shapes():
    pos, neg, slope, weight = inputs()
    with pytest.raises(ValueError, match='pre-activations'):
        dgi_jsd_head(pos, neg[:-1], slope, weight)
    with pytest.raises(ValueError, match='slope must have 1 or 8'):
        dgi_jsd_head(pos, neg, slope[:3], weight)
    with pytest.raises(ValueError, match='weight shape'):
        dgi_jsd_head(pos, neg, slope, weight[:4])


@pytest.mark.parametrize('answer', ['missing', 'raises'])
def test_graph_kept_fallback(monkeypatch, answer):
    # PyTorch's private "is the graph retained?" query missing or failing:
    # the stored gradients are then always kept (copied into .grad), and
    # every backward is still right.
    name = '_get_current_graph_task_keep_graph'
    if answer == 'missing':
        monkeypatch.delattr(torch._C._autograd, name, raising=False)
    else:
        def fail():
            raise RuntimeError('no graph task')
        monkeypatch.setattr(torch._C._autograd, name, fail, raising=False)
    assert _graph_kept()
    g = torch.Generator().manual_seed(0)
    data = Data(x=(torch.rand(30, 12, generator=g) < 0.2).float(),
                edge_index=torch.randint(0, 30, (2, 90), generator=g))
    torch.manual_seed(0)
    fast = DeepGraphInfomax(8, GCNEncoder(12, 8), SigmoidMeanReadout(),
                            FeatureShuffle(generator=1))
    plain = copy.deepcopy(fast)
    plain.fast = False
    for m in (fast, plain):
        for _ in range(2):  # accumulated over two steps
            m.objective(data).backward()
    for p, q in zip(fast.parameters(), plain.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-5)
