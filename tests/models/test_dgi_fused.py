import pytest
import copy

import torch
from torch_geometric.data import Data

from graphcl.corruptions import FeatureShuffle
from graphcl.models import DeepGraphInfomax
from graphcl.models.dgi_fused import permute_columns, permute_rows
from graphcl.nn import GCNEncoder, SigmoidMeanReadout


def random_csr(n=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    dense = (torch.rand(n, n, generator=g) < 0.3) * torch.rand(
        n, n, generator=g)
    return dense, dense.to_sparse_csr()


def test_permute_columns_and_rows():
    dense, a = random_csr()
    perm = torch.randperm(12, generator=torch.Generator().manual_seed(1))
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(12)
    h = torch.randn(12, 5)
    # (A Pi) H = A (H[perm]); (A Pi)^T G = (A^T G)[inv]
    assert torch.allclose(permute_columns(a, perm) @ h, dense @ h[perm],
                          atol=1e-6)
    a_t = dense.t().contiguous().to_sparse_csr()
    assert torch.allclose(permute_rows(a_t, inv) @ h, (dense.t() @ h)[inv],
                          atol=1e-6)


def test_append_ones_column():
    from graphcl.models.dgi_fast import append_ones_column
    dense, a = random_csr()
    dense[4] = 0  # an empty row
    out = append_ones_column(dense.to_sparse_csr())
    assert out.shape == (12, 13)
    assert torch.equal(out.to_dense(),
                       torch.cat([dense, torch.ones(12, 1)], dim=1))


def test_permute_rows_with_empty_rows():
    dense, _ = random_csr()
    dense[3] = 0
    dense[7] = 0
    perm = torch.arange(11, -1, -1)
    out = permute_rows(dense.to_sparse_csr(), perm)
    assert torch.equal(out.to_dense(), dense[perm])


def graph(n=50, f=30, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, f, generator=g) < 0.1).float()
    edge_index = torch.randint(0, n, (2, 200), generator=g)
    return Data(x=x, edge_index=edge_index)


def model(data, hidden=8):
    torch.manual_seed(0)
    return DeepGraphInfomax(hidden, GCNEncoder(data.num_features, hidden),
                            SigmoidMeanReadout(),
                            FeatureShuffle(generator=5))


def test_work_buffers_reused_and_released():
    data = graph()
    m = model(data)
    m.objective(data).backward()
    work = m._fast_cache._work[1]
    m.objective(data).backward()
    assert all(a is b for a, b in zip(work, m._fast_cache._work[1]))
    m.embed(data)
    assert m._fast_cache._work is None
    # a graph of another size gets buffers of its size
    other = graph(n=70)
    m.objective(other)
    h, pos, neg, w_t = m._fast_cache._work[1]
    assert h.shape == (71, 8)  # H and the bias row
    assert pos.shape == neg.shape == (70, 8)
    assert w_t.shape == (30, 8)  # W^T, then X^T G


def test_two_objectives_then_one_backward():
    # the work buffers are overwritten by the second call; the gradients
    # of the first must not be
    data, other = graph(), graph(seed=1)
    m = model(data)
    plain = copy.deepcopy(m)
    plain.fast = False
    (m.objective(data) + m.objective(other)).backward()
    (plain.objective(data) + plain.objective(other)).backward()
    for (k, p), (_, q) in zip(m.named_parameters(),
                              plain.named_parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-5), k


def test_no_grad_gives_the_loss():
    data = graph()
    m = model(data)
    plain = copy.deepcopy(m)
    plain.fast = False
    with torch.no_grad():
        loss = m.objective(data)
    assert loss.grad_fn is None
    assert torch.allclose(loss, plain.objective(data), atol=1e-6)


@pytest.mark.parametrize('density', [0.05, 0.5])  # sparse and dense X
def test_plain_row_major_weights_and_gradients(density):
    # PyG's layout: the weight and its gradient are plain row-major tensors
    # (the transposes live in the fused path's private buffers)
    g = torch.Generator().manual_seed(3)
    data = graph()
    data.x = (torch.rand(50, 30, generator=g) < density).float()
    m = model(data)
    m.objective(data)
    assert (m._fast_cache.x is not None) == (density < 0.1)
    plain = copy.deepcopy(m)
    plain.fast = False
    for _ in range(2):  # the private buffers are refreshed every call
        m.zero_grad()
        plain.zero_grad()
        m.objective(data).backward()
        plain.objective(data).backward()
        for (k, p), q in zip(m.named_parameters(), plain.parameters()):
            assert p.is_contiguous() and p.grad.is_contiguous(), k
            assert p.grad.stride() == p.stride(), k
            assert torch.allclose(p.grad, q.grad, atol=1e-5), k
        with torch.no_grad():  # a weight changed in place between calls
            m.encoder.convs[0].lin.weight.mul_(1.5)
            plain.encoder.convs[0].lin.weight.mul_(1.5)


def test_transpose_into_fallbacks(monkeypatch):
    import sys
    from graphcl.models.dgi_fast import transpose_into
    src = torch.randn(5, 7)
    assert torch.equal(transpose_into(src, torch.empty(7, 5)), src.t())
    bf16 = src.bfloat16()  # NumPy cannot view it: PyTorch's copy
    assert torch.equal(transpose_into(bf16, torch.empty(7, 5,
                                      dtype=torch.bfloat16)), bf16.t())
    monkeypatch.setitem(sys.modules, 'numpy', None)  # no NumPy
    assert torch.equal(transpose_into(src, torch.empty(7, 5)), src.t())


def test_retained_and_repeated_backward():
    data = graph()
    m = model(data)
    loss = m.objective(data)
    loss.backward(retain_graph=True)
    first = [p.grad.clone() for p in m.parameters()]
    loss.backward()  # the stored gradients survive retain_graph
    for p, g in zip(m.parameters(), first):
        assert torch.allclose(p.grad, 2 * g, atol=1e-6)
    with pytest.raises(RuntimeError, match='retain_graph=True'):
        loss.backward()
    # released gradients are handed to autograd, not copied: accumulating
    # into them over two steps gives the plain path's sums
    m.zero_grad(set_to_none=True)
    plain = copy.deepcopy(m)
    plain.fast = False
    for mod in (m, plain):
        mod.objective(data).backward()
        mod.objective(data).backward()
    for p, q in zip(m.parameters(), plain.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-5)


def test_dgi_recipe_has_plain_parameters():
    from graphcl.models import build_method
    for encoder in ('gcn', 'sage'):
        m = build_method('dgi', 10, hidden=8, encoder=encoder, seed=0)
        assert all(p.is_contiguous() for p in m.parameters())


@pytest.mark.parametrize('block_bytes', [1, 8 * 4 * 7, 1 << 20])
def test_feature_gradient_in_node_blocks(monkeypatch, block_bytes):
    # X^T G summed over blocks of nodes (1 row, 7 rows, all rows per block)
    import graphcl.models.dgi_fast as fast_module
    monkeypatch.setattr(fast_module, 'GATHER_BLOCK_BYTES', block_bytes)
    data = graph()
    data.x = (torch.rand(50, 30, generator=torch.Generator().manual_seed(2))
              < 0.05).float()
    m = model(data)
    plain = copy.deepcopy(m)
    plain.fast = False
    for mod in (m, plain):
        mod.objective(data).backward()
    for p, q in zip(m.parameters(), plain.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-5)
    g = torch.randn(50, 8)
    cache = m._fast_cache
    assert cache.x is not None  # the sparse product
    assert torch.allclose(cache.feature_gradient(g, torch.empty(30, 8)),
                          data.x.t() @ g, atol=1e-5)
    assert len(cache._x_t_blocks[1]) <= fast_module.MAX_GATHER_BLOCKS
    monkeypatch.setattr(fast_module, 'MAX_GATHER_BLOCKS', 3)
    assert torch.allclose(cache.feature_gradient(g, torch.empty(30, 8)),
                          data.x.t() @ g, atol=1e-5)
    assert len(cache._x_t_blocks[1]) <= 3
