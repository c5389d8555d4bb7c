import pytest
import torch

from graphcl.perf import make_adam


def params(input_major: bool, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(6, 9, generator=g)
    if input_major:
        w = w.t().contiguous().t()
    return [torch.nn.Parameter(w), torch.nn.Parameter(
        torch.randn(9, 4, generator=g)), torch.nn.Parameter(
        torch.randn(5, generator=g))]


@pytest.mark.parametrize('amsgrad', [False, True])
def test_make_adam_transposed_parameters_same_update(amsgrad):
    fast, ref = params(True), params(False)
    assert not fast[0].is_contiguous()
    opt = make_adam(fast, lr=0.05, weight_decay=0.01, amsgrad=amsgrad)
    opt_ref = torch.optim.Adam(ref, lr=0.05, weight_decay=0.01,
                               amsgrad=amsgrad, foreach=False)
    g = torch.Generator().manual_seed(1)
    for _ in range(5):
        for p, q in zip(fast, ref):
            grad = torch.randn(q.shape, generator=g)
            q.grad = grad
            # autograd gives gradients the parameter's layout
            p.grad = torch.empty_like(p).copy_(grad)
        opt.step()
        opt_ref.step()
    for p, q in zip(fast, ref):
        assert torch.allclose(p, q, atol=1e-6)
        assert opt.state[p]['exp_avg'].stride() == p.stride()
    assert fast[0].stride() == (1, 6)  # still the same storage layout


def test_make_adam_hands_the_fused_kernel_contiguous_views(monkeypatch):
    if not hasattr(torch, '_fused_adam_'):
        pytest.skip('this PyTorch has no fused Adam')
    seen = []
    kernel = torch._fused_adam_

    def spy(params, grads, *args, **kwargs):
        seen.extend(t.is_contiguous() for t in list(params) + list(grads))
        return kernel(params, grads, *args, **kwargs)

    monkeypatch.setattr(torch, '_fused_adam_', spy)
    fast = params(True)
    opt = make_adam(fast)
    for p in fast:
        p.grad = torch.ones_like(p)
    opt.step()
    assert seen and all(seen)  # no copy into contiguous buffers and back
