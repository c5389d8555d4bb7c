r"""PPR diffusion: the exact matrix against a numpy transcription of MVGRL's
``compute_ppr``, the sparse approximation against the exact matrix, the
threshold and min-max scaling, the switch between them, and bad input.

Tolerances. :func:`ppr_topk` stops when every column's residual is at most
:math:`\alpha\tau`; :math:`\mathbf{I} - (1-\alpha)\mathbf{T}` has smallest
eigenvalue :math:`\geq \alpha`, so each column's error is at most
:math:`\tau` in the 2-norm, hence every entry's. The tests check exactly
that bound (plus float32 rounding, :math:`10^{-6}`, where float32 runs)."""
import numpy as np
import pytest
import torch
from torch_geometric.utils import to_undirected

from graphcl.diffusion import (PPRDiffusion, minmax_columns, ppr_exact,
                               ppr_topk, ppr_transition)


def graph(n=30, m=60, seed=0, isolated=True):
    r"""A random undirected graph on :obj:`n` nodes (several components;
    the last node isolated when :obj:`isolated`)."""
    gen = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n - 1 if isolated else n, (2, m), generator=gen)
    ei = ei[:, ei[0] != ei[1]]
    return to_undirected(ei, num_nodes=n)


def compute_ppr_numpy(edge_index, n, alpha):
    r"""MVGRL's ``utils.compute_ppr`` (a + I, D^-1/2 (A + I) D^-1/2,
    alpha inv(I - (1 - alpha) at)) in float64 numpy."""
    a = np.zeros((n, n))
    np.add.at(a, (edge_index[0].numpy(), edge_index[1].numpy()), 1.0)
    a = a + np.eye(n)
    dinv = np.diag(a.sum(1) ** -0.5)
    at = dinv @ a @ dinv
    return alpha * np.linalg.inv(np.eye(n) - (1 - alpha) * at)


def dense(ei, ew, n, dtype=torch.float64):
    out = torch.zeros(n, n, dtype=dtype)
    out[ei[1], ei[0]] = ew.to(dtype)
    return out


@pytest.mark.parametrize('alpha', [0.2, 0.05, 0.9])
def test_exact_equals_mvgrl_compute_ppr(alpha):
    ei = graph()
    s = ppr_exact(ei, 30, alpha, dtype=torch.float64)
    ref = compute_ppr_numpy(ei, 30, alpha)
    assert np.abs(s.numpy() - ref).max() < 1e-12
    # the isolated node: a self-loop only, T = 1, s = alpha / alpha = 1
    assert s[29, 29].item() == pytest.approx(1.0)
    assert s[29, :29].abs().max().item() == 0.0


def test_transition_adds_one_to_existing_self_loops():
    # A + I: a node with a self-loop of weight 2 gets 3 (GDC's pipeline;
    # PyG's gcn_norm would keep 2).
    ei = torch.tensor([[0, 0, 1], [0, 1, 0]])
    ew = torch.tensor([2.0, 1.0, 1.0])
    t_ei, t_ew = ppr_transition(ei, 2, ew, dtype=torch.float64)
    t = dense(t_ei, t_ew, 2)
    a = torch.tensor([[3.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    d = a.sum(1).rsqrt()
    assert torch.allclose(t, d[:, None] * a * d[None, :])


@pytest.mark.parametrize('block_size', [None, 1, 7, 30])
def test_approx_without_truncation_within_tol_of_exact(block_size):
    ei = graph()
    exact = ppr_exact(ei, 30, 0.2, dtype=torch.float64)
    for tol, dtype, rounding in ((1e-9, torch.float64, 0.0),
                                 (1e-4, torch.float32, 1e-6)):
        a_ei, a_ew = ppr_topk(ei, 30, 0.2, topk=30, tol=tol,
                              block_size=block_size, dtype=dtype)
        err = (dense(a_ei, a_ew, 30) - exact).abs().max().item()
        assert err <= tol + rounding
    # the isolated node's column has its one entry and nothing else
    assert int((a_ei[1] == 29).sum()) == 1


def test_approx_topk_keeps_the_exact_top_k():
    ei = graph(40, 100, seed=3)
    k, tol = 5, 1e-7
    exact = ppr_exact(ei, 40, 0.2, dtype=torch.float64)
    a_ei, a_ew = ppr_topk(ei, 40, 0.2, topk=k, tol=tol, dtype=torch.float64)
    approx = dense(a_ei, a_ew, 40)
    counts = torch.bincount(a_ei[1], minlength=40)
    positive = (exact > 0).sum(1)
    assert torch.equal(counts, positive.clamp(max=k))
    for i in range(40):
        values = exact[i].sort(descending=True).values
        if positive[i] > k and values[k - 1] - values[k] <= 2 * tol:
            continue  # a tie within the error: either may be kept
        kept = approx[i] != 0
        top = torch.topk(exact[i], int(counts[i])).indices
        assert set(kept.nonzero().view(-1).tolist()) == set(top.tolist())
        assert (approx[i][kept] - exact[i][kept]).abs().max() <= tol


def test_approx_threshold():
    ei = graph()
    a_ei, a_ew = ppr_topk(ei, 30, 0.2, topk=30, eps=0.02, tol=1e-9,
                          dtype=torch.float64)
    exact = ppr_exact(ei, 30, 0.2, dtype=torch.float64)
    assert bool((a_ew >= 0.02).all())
    assert a_ew.numel() == int((exact >= 0.02).sum())


def test_directed_graph_refused_by_the_approximation():
    ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
    with pytest.raises(ValueError, match='ToUndirected'):
        ppr_topk(ei, 3)
    ppr_exact(ei, 3)  # the exact path takes any graph


def test_unreachable_tolerance_fails_loudly():
    with pytest.raises(RuntimeError, match='float64'):
        ppr_topk(graph(), 30, tol=1e-12, max_iter=20)


def test_minmax_matches_sklearn_dense_and_sparse():
    from sklearn.preprocessing import MinMaxScaler
    s = ppr_exact(graph(), 30, 0.2, dtype=torch.float64)
    s[s < 0.03] = 0.0
    s[:, 5] = 0.0  # a constant column
    ref = MinMaxScaler().fit_transform(s.numpy())
    assert np.abs(minmax_columns(s).numpy() - ref).max() < 1e-12
    csr = minmax_columns(s.to_sparse_csr())
    assert csr.layout == torch.sparse_csr
    assert np.abs(csr.to_dense().numpy() - ref).max() < 1e-12
    full = torch.rand(6, 6, dtype=torch.float64) + 0.1  # no zeros stored
    assert torch.allclose(minmax_columns(full.to_sparse_csr()).to_dense(),
                          minmax_columns(full))


def test_diffusion_auto_switches_to_the_approximation():
    ei = graph(40, 100, seed=1)
    exact = PPRDiffusion().matrix(ei, 40)
    assert exact.layout == torch.strided
    assert torch.allclose(exact, ppr_exact(ei, 40, 0.2))
    auto = PPRDiffusion(exact_max_nodes=10, topk=4, tol=1e-5)
    assert auto.path(40) == 'approx'
    s = auto.matrix(ei, 40)
    a_ei, a_ew = ppr_topk(ei, 40, 0.2, topk=4, tol=1e-5)
    assert torch.allclose(s.to_dense(), dense(a_ei, a_ew, 40,
                                              torch.float32))
    with pytest.raises(ValueError, match="diffusion='auto'") as e:
        PPRDiffusion(diffusion='exact', exact_max_nodes=10).matrix(ei, 40)
    assert 'approx' in str(e.value) and 'exact_max_nodes' in str(e.value)


def test_diffusion_threshold_scale_and_layout():
    ei = graph(40, 100, seed=2)
    s = ppr_exact(ei, 40, 0.2)
    s[s < 0.01] = 0.0
    ref = minmax_columns(s)
    out = PPRDiffusion(eps=0.01, scale='minmax').matrix(ei, 40)
    assert torch.allclose(out.to_dense(), ref)


def test_diffusion_cache_by_content():
    ei = graph()
    d = PPRDiffusion()
    first = d.matrix(ei, 30)
    assert d.matrix(ei, 30) is first
    assert d.matrix(ei.clone(), 30) is first  # same content
    other = graph(seed=5)
    assert d.matrix(other, 30) is not first
    import copy
    assert copy.deepcopy(d)._matrix is None


@pytest.mark.parametrize('kwargs,needle', [
    (dict(alpha=0.0), "'alpha'"), (dict(alpha=1.0), "'alpha'"),
    (dict(alpha=True), "'alpha'"), (dict(diffusion='dense'), "'diffusion'"),
    (dict(eps=-0.1), "'eps'"), (dict(eps=float('nan')), "'eps'"),
    (dict(topk=0), "'topk'"), (dict(topk=2.5), "'topk'"),
    (dict(scale='max'), "'diffusion_scale'"),
    (dict(exact_max_nodes=0), "'exact_max_nodes'"),
    (dict(tol=0.0), "'ppr_tol'")])
def test_bad_options(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        PPRDiffusion(**kwargs)


def test_bad_graphs():
    with pytest.raises(ValueError, match='outside'):
        ppr_exact(torch.tensor([[0], [5]]), 3)
    with pytest.raises(ValueError, match='edge_weight'):
        ppr_exact(torch.tensor([[0], [1]]), 2,
                  edge_weight=torch.tensor([-1.0]))


def weighted_graph(n=30, seed=3):
    r""":func:`graph` with symmetric weights in ``[1, 3)`` (ToUndirected
    sums the two directions' weights) and a self-loop of weight 2."""
    ei = graph(n)
    w = torch.rand(ei.size(1), generator=torch.Generator().manual_seed(seed))
    ei, ew = to_undirected(ei, w + 0.5, num_nodes=n)
    return (torch.cat([ei, torch.tensor([[4], [4]])], dim=1),
            torch.cat([ew, torch.tensor([2.0])]))


def test_approx_accepts_weighted_undirected_graphs():
    # Symmetric weights, yet d_i^-1/2 w d_j^-1/2 rounded differently for
    # (i, j) and (j, i) made the approximation refuse the graph as
    # directed, in float32 and float64 alike.
    ei, ew = weighted_graph()
    exact = ppr_exact(ei, 30, 0.2, ew, dtype=torch.float64)
    for tol, dtype, rounding in ((1e-9, torch.float64, 0.0),
                                 (1e-4, torch.float32, 1e-6)):
        a_ei, a_ew = ppr_topk(ei, 30, 0.2, topk=30, edge_weight=ew.to(dtype),
                              tol=tol, dtype=dtype)
        approx = dense(a_ei, a_ew, 30)
        assert (approx - exact).abs().max().item() <= tol + rounding
    s = PPRDiffusion(diffusion='approx', topk=30, tol=1e-5).matrix(ei, 30,
                                                                   ew)
    assert (s.to_dense().double() - exact).abs().max().item() <= 1e-5 + 1e-6
    # a weight that differs between the two directions is still refused
    ew_bad = ew.clone()
    ew_bad[0] += 0.25
    with pytest.raises(ValueError, match='undirected'):
        ppr_topk(ei, 30, edge_weight=ew_bad)


def test_diffusion_cache_follows_changed_options():
    # The same edge_index object, options changed between calls: the cached
    # matrix of the old options must not be served.
    ei = graph()
    d = PPRDiffusion()
    first = d.matrix(ei, 30)
    d.alpha = 0.5
    assert torch.allclose(d.matrix(ei, 30), ppr_exact(ei, 30, 0.5))
    d.eps, d.scale = 0.05, 'minmax'
    assert torch.equal(d.matrix(ei, 30).to_dense(),
                       d.compute(ei, 30).to_dense())
    d.alpha, d.eps, d.scale = 0.2, 0.0, 'none'
    assert torch.equal(d.matrix(ei, 30), first)


def test_failed_diffusion_serves_no_stale_matrix():
    # A graph the approximation refuses, then the earlier graph again: its
    # matrix, not None (the stamp of the earlier call outlived the cache).
    ei = graph()
    d = PPRDiffusion(diffusion='approx', topk=5)
    first = d.matrix(ei, 30).to_dense()
    with pytest.raises(ValueError, match='undirected'):
        d.matrix(ei[:, ei[0] < ei[1]], 30)
    again = d.matrix(ei, 30)
    assert again is not None and torch.equal(again.to_dense(), first)
