import pytest
import torch
from torch_geometric.data import Data

from graphcl.models import build_method, get_method, list_methods
from graphcl.perf import make_adam, make_adamw


def params(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(6, 9, generator=g)),
            torch.nn.Parameter(torch.randn(9, 4, generator=g)),
            torch.nn.Parameter(torch.randn(5, generator=g))]


def run(opt, ps, steps=5):
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        for p in ps:
            p.grad = torch.randn(p.shape, generator=g)
        opt.step()


@pytest.mark.parametrize('amsgrad', [False, True])
def test_make_adam_is_the_standard_adam(amsgrad):
    fast, ref = params(), params()
    opt = make_adam(fast, lr=0.05, weight_decay=0.01, amsgrad=amsgrad)
    assert type(opt) is torch.optim.Adam
    run(opt, fast)
    run(torch.optim.Adam(ref, lr=0.05, weight_decay=0.01, amsgrad=amsgrad,
                         foreach=False), ref)
    for p, q in zip(fast, ref):
        assert torch.allclose(p, q, atol=1e-6)


def test_make_adamw_is_the_standard_adamw_with_decoupled_decay():
    fast, ref = params(), params()
    opt = make_adamw(fast, lr=0.05, weight_decay=0.01)
    assert type(opt) is torch.optim.AdamW
    run(opt, fast)
    run(torch.optim.AdamW(ref, lr=0.05, weight_decay=0.01, foreach=False),
        ref)
    for p, q in zip(fast, ref):
        assert torch.allclose(p, q, atol=1e-6)
    # Decoupled: with zero gradients a step only shrinks the weights by
    # lr * weight_decay; Adam's L2 term instead becomes a whole Adam step.
    w = [torch.nn.Parameter(torch.full((3, ), 2.0))]
    opt = make_adamw(w, lr=0.1, weight_decay=0.5)
    w[0].grad = torch.zeros(3)
    opt.step()
    assert torch.allclose(w[0].detach(), torch.full((3, ), 2.0 * (1 - 0.05)))
    v = [torch.nn.Parameter(torch.full((3, ), 2.0))]
    opt = make_adam(v, lr=0.1, weight_decay=0.5)
    v[0].grad = torch.zeros(3)
    opt.step()
    assert torch.allclose(v[0].detach(), torch.full((3, ), 2.0 - 0.1),
                          atol=1e-6)


def test_make_adam_falls_back_without_the_fused_kernel(monkeypatch):
    # a PyTorch (or device, or dtype) without fused Adam: the default one
    adam = torch.optim.Adam

    def no_fused(*args, fused=None, **kwargs):
        if fused:
            raise RuntimeError('`fused=True` requires ...')
        return adam(*args, **kwargs)

    monkeypatch.setattr(torch.optim, 'Adam', no_fused)
    fast, ref = params(), params()
    opt = make_adam(fast, lr=0.05)
    assert not opt.defaults.get('fused')
    run(opt, fast)
    run(adam(ref, lr=0.05, foreach=False), ref)
    for p, q in zip(fast, ref):
        assert torch.allclose(p, q, atol=1e-6)


def small_graph(n=30, f=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, f, generator=g) < 0.3).float()
    edge_index = torch.randint(0, n, (2, 4 * n), generator=g)
    return Data(x=x, edge_index=edge_index)


# Every registered method's parameters are plain PyG parameters:
# torch.nn.utils.parameters_to_vector and the standard torch.optim.Adam
# work on them, and a step moves them. (Other methods join through
# list_methods().)
@pytest.mark.parametrize('name', list_methods())
def test_every_method_has_plain_parameters(name):
    data = small_graph()
    if get_method(name).level == 'graph':  # a batch of graphs
        from torch_geometric.data import Batch
        data = Batch.from_data_list([small_graph(10 + i, seed=i)
                                     for i in range(4)])
    model = build_method(name, data.num_features, seed=0)
    ps = list(model.parameters())
    assert ps and all(p.is_contiguous() for p in ps)
    vec = torch.nn.utils.parameters_to_vector(ps)
    assert vec.numel() == sum(p.numel() for p in ps)
    torch.nn.utils.vector_to_parameters(vec.clone(), ps)
    opt = torch.optim.Adam(ps, lr=0.01)  # the standard one, foreach
    for _ in range(2):
        opt.zero_grad()
        model.objective(data).backward()
        assert all(p.grad is None or p.grad.stride() == p.stride()
                   for p in ps)
        opt.step()
        model.on_step()
    moved = torch.nn.utils.parameters_to_vector(ps)
    assert torch.isfinite(moved).all() and not torch.equal(moved, vec)


def test_flush_denormals_round_trip():
    from graphcl.perf import denormals_flushed, flush_denormals
    tiny = torch.tensor([1e-40])  # subnormal in float32
    assert not denormals_flushed() and float(tiny[0]) > 0
    if not flush_denormals():
        pytest.skip('this CPU has no flush-to-zero mode')
    try:
        assert denormals_flushed()
        assert float((tiny * 1.0)[0]) == 0.0
        # Normal numbers are untouched.
        x = torch.tensor([1e-30, 3.5])
        assert torch.equal(x * 1.0, x)
    finally:
        flush_denormals(False)
    assert not denormals_flushed() and float((tiny * 1.0)[0]) > 0


def _subnormal_product():
    # The case met in GRACE's training: a weight matrix mostly subnormal.
    g = torch.Generator().manual_seed(0)
    w = torch.randn(256, 256, generator=g) * 1e-39
    x = torch.randn(2048, 256, generator=g)
    return x, w


def _best_cpu_time(f, repeats: int = 7) -> float:
    import time
    best = float('inf')
    for _ in range(repeats):
        t = time.process_time()
        for _ in range(5):
            f()
        best = min(best, time.process_time() - t)
    return best


def test_flush_denormals_zeroes_subnormal_products():
    # Flushed, the product is the same up to those tiny terms (exactly 0
    # here); IEEE keeps them subnormal-sized.
    from graphcl.perf import flush_denormals
    x, w = _subnormal_product()
    ref = x @ w
    if not flush_denormals():
        pytest.skip('this CPU has no flush-to-zero mode')
    try:
        out = x @ w
    finally:
        flush_denormals(False)
    assert torch.equal(out, torch.zeros_like(out))
    assert 0 < ref.abs().max() < 1e-35


@pytest.mark.slow
def test_flush_denormals_removes_the_subnormal_penalty():
    # A timing, so marked slow (the speed claim itself is measured in
    # docs/performance.md). Flushing never slows the product down; where
    # the CPU penalises subnormal operands (an Intel Xeon here: GRACE's
    # step 10.6 s -> 2.7 s), it removes the penalty. Some CPUs (an AMD
    # EPYC here) have none: both times then match normal weights'.
    from graphcl.perf import flush_denormals
    x, w = _subnormal_product()
    normal = _best_cpu_time(lambda: x @ (w * 1e30))
    slow = _best_cpu_time(lambda: x @ w)
    if not flush_denormals():
        pytest.skip('this CPU has no flush-to-zero mode')
    try:
        fast = _best_cpu_time(lambda: x @ w)
    finally:
        flush_denormals(False)
    assert fast <= 1.25 * slow
    if slow > 2 * normal:  # this CPU penalises subnormals
        assert fast < slow / 2
