r"""Property tests of :mod:`graphcl.losses` on random scores and embeddings
(extreme logits, one or several negatives per positive, no scores at all):
each loss either raises a :class:`ValueError` that says what is wrong or
returns a finite scalar with finite gradients; NT-Xent (dense and blocked)
and :func:`~graphcl.losses.gram_logsumexp` equal their float64 reference;
CCA-SSG's loss keeps its invariances and bound."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from graphcl.losses import (cca_ssg_loss, donsker_varadhan_loss,
                            gram_logsumexp, info_nce_loss, jsd_loss, nt_xent,
                            triplet_margin_loss)
from strategies import MAX_NODES, matrices

LOSSES = {
    'jsd': lambda pos, neg, t: jsd_loss(pos, neg),
    'infonce': lambda pos, neg, t: info_nce_loss(pos, neg, t),
    'triplet': lambda pos, neg, t: triplet_margin_loss(pos, neg, t),
    'dv': lambda pos, neg, t: donsker_varadhan_loss(pos, neg),
}
temperatures = st.one_of(st.sampled_from((1.0, 0.05)),
                         st.floats(0.05, 10.0))


def finite_loss_or_value_error(fn, *inputs):
    r"""Runs ``fn(*inputs)`` with gradients: returns the loss after checking
    it is a finite scalar with finite gradients, or :obj:`None` after a
    ValueError that says what is wrong."""
    inputs = [t.clone().requires_grad_() for t in inputs]
    try:
        loss = fn(*inputs)
    except ValueError as e:
        assert str(e) and 'math domain error' not in str(e), str(e)
        return None
    assert loss.shape == () and bool(torch.isfinite(loss)), float(loss)
    loss.backward()
    for t in inputs:
        assert t.grad is not None and bool(torch.isfinite(t.grad).all())
    return loss


@st.composite
def scores(draw):
    r"""``(pos [N], neg)`` with ``neg`` of shape ``[N]`` or ``[N, K]``,
    :math:`N, K \geq 1`, mixing ordinary and extreme logits."""
    n = draw(st.integers(1, MAX_NODES))
    k = draw(st.sampled_from((None, 1, 3)))
    pos = draw(matrices(n, 1)).view(-1)
    neg = draw(matrices(n, k or 1))
    return pos, neg.view(-1) if k is None else neg


@pytest.mark.parametrize('name', sorted(LOSSES))
@given(inputs=scores(), temperature=temperatures)
def test_pair_losses_finite(name, inputs, temperature):
    finite_loss_or_value_error(
        lambda pos, neg: LOSSES[name](pos, neg, temperature), *inputs)


@pytest.mark.parametrize('name, neg_shape', [
    ('jsd', 'no scores'),
    ('infonce', 'no scores'),
    ('triplet', 'no scores'),
    ('dv', 'no scores'),
    ('jsd', 'no negatives'),
    ('infonce', 'no negatives'),  # trivially 0: finite
    ('triplet', 'no negatives'),
    ('dv', 'no negatives'),
])
def test_pair_losses_without_scores(name, neg_shape):
    r"""No positive and negative scores at all (a graph without nodes), or
    positives with ``K = 0`` negatives each."""
    if neg_shape == 'no scores':
        pos, neg = torch.zeros(0), torch.zeros(0)
    else:
        pos, neg = torch.zeros(4), torch.zeros(4, 0)
    finite_loss_or_value_error(lambda p, q: LOSSES[name](p, q, 1.0),
                               pos, neg)


def nt_xent_reference(z1, z2, temperature, normalize):
    z = torch.cat([z1, z2]).double()
    if normalize:
        z = F.normalize(z, dim=1)
    n = z1.size(0)
    sim = (z @ z.t()) / temperature
    sim.fill_diagonal_(float('-inf'))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


@st.composite
def views(draw, bound: float):
    n = draw(st.integers(0, MAX_NODES))
    d = draw(st.integers(1, 6))
    return (draw(matrices(n, d, extreme=False, bound=bound)),
            draw(matrices(n, d, extreme=False, bound=bound)))


@given(pair=views(bound=1e3), temperature=temperatures,
       normalize=st.booleans(), block_size=st.sampled_from((None, 1, 4, 64)))
def test_nt_xent_equals_reference(pair, temperature, normalize, block_size):
    r"""Dense and blocked NT-Xent equal the float64 reference (unnormalised
    rows stay small: their similarities overflow float32 otherwise)."""
    z1, z2 = pair
    if not normalize:
        z1, z2 = z1.clamp(-3, 3), z2.clamp(-3, 3)
    loss = finite_loss_or_value_error(
        lambda a, b: nt_xent(a, b, temperature, normalize, block_size),
        z1, z2)
    if loss is None:
        assert z1.size(0) < 2
        return
    ref = nt_xent_reference(z1, z2, temperature, normalize)
    assert loss.item() == pytest.approx(float(ref), rel=1e-4, abs=1e-4)


def test_nt_xent_empty_batch_message():
    with pytest.raises(ValueError, match='batch of 0'):
        nt_xent(torch.zeros(0, 3), torch.zeros(0, 3))


@settings(phases=(Phase.explicit, Phase.reuse, Phase.generate))  # no shrink
@given(pair=views(bound=1e3), scale=st.sampled_from((1e20, 1e30)),
       block_size=st.sampled_from((None, 4)))
def test_nt_xent_huge_rows_keep_their_direction(pair, scale, block_size):
    r"""Cosine similarity does not depend on the rows' scale."""
    z1, z2 = pair
    if z1.size(0) < 2 or not bool((z1.abs().amax(1) > 1e-3).all()):
        return
    small = nt_xent(z1, z2, 0.5, block_size=block_size)
    huge = nt_xent(z1 * scale, z2, 0.5, block_size=block_size)
    assert float(huge) == pytest.approx(float(small), rel=1e-4, abs=1e-4)


@given(z=st.integers(0, MAX_NODES).flatmap(
           lambda n: matrices(n, 3, extreme=False, bound=10.0)),
       scale=st.one_of(st.sampled_from((1.0, -8.0, 40.0)),
                       st.floats(-40.0, 40.0)),
       block_size=st.integers(1, 8))
def test_gram_logsumexp_equals_reference(z, scale, block_size):
    r"""Values and gradients of the blocked log-sum-exp equal the float64
    dense ones, also where the similarities (up to 40 * 300 = 12000)
    overflow a plain exponential."""
    z = z.clone().requires_grad_()
    try:
        lse = gram_logsumexp(z, scale, block_size)
    except ValueError as e:
        assert z.size(0) < 2 and 'at least 2 rows' in str(e)
        return
    weights = torch.linspace(-1, 2, z.size(0))
    (lse * weights).sum().backward()
    ref_z = z.detach().double().requires_grad_()
    sim = scale * ref_z @ ref_z.t()
    sim = sim.masked_fill(torch.eye(z.size(0), dtype=torch.bool),
                          float('-inf'))
    ref = torch.logsumexp(sim, dim=1)
    (ref * weights.double()).sum().backward()
    assert bool(torch.isfinite(lse).all()) and bool(
        torch.isfinite(z.grad).all())
    # Float32 similarities s carry errors of about eps |s|, so exp(s - lse)
    # does too: the tolerances grow with the largest |s|.
    slack = 2 * torch.finfo(torch.float32).eps * abs(scale) * float(
        z.detach().pow(2).sum(1).max())
    big = 1.0 + float(ref.detach().abs().max())
    assert torch.allclose(lse.double(), ref.detach(), rtol=1e-4,
                          atol=(1e-5 + slack) * big)
    gbig = 1.0 + float(ref_z.grad.abs().max())
    assert torch.allclose(z.grad.double(), ref_z.grad, rtol=1e-3,
                          atol=(1e-4 + slack) * gbig)


@given(n=st.integers(2, 30), d=st.integers(1, 6), seed=st.integers(0, 2**16),
       lambd=st.sampled_from((0.0, 1e-3, 0.5)))
def test_cca_ssg_loss_properties(n, d, seed, lambd):
    r"""CCA-SSG's loss is symmetric in the views, unchanged by a positive
    affine map of any column of either view (each column is standardised),
    bounded below by :math:`-D (N - 1) / N` (each standardised column has
    squared norm :math:`N - 1`), and at :math:`\lambda = 0` it is minus the
    sum of the columns' Pearson correlations times :math:`(N - 1) / N`."""
    gen = torch.Generator().manual_seed(seed)
    h1 = torch.randn(n, d, generator=gen, dtype=torch.float64)
    h2 = h1 + torch.randn(n, d, generator=gen, dtype=torch.float64)
    loss = cca_ssg_loss(h1, h2, lambd)
    assert torch.isfinite(loss)
    assert torch.allclose(loss, cca_ssg_loss(h2, h1, lambd))
    scale = torch.rand(d, generator=gen, dtype=torch.float64) * 10 + 0.1
    shift = torch.randn(d, generator=gen, dtype=torch.float64) * 100
    assert torch.allclose(loss, cca_ssg_loss(h1 * scale + shift, h2, lambd),
                          rtol=1e-9, atol=1e-9)
    assert float(loss) >= -d * (n - 1) / n - 1e-9
    if lambd == 0.0:
        corr = [float(torch.corrcoef(torch.stack([h1[:, k], h2[:, k]]))[0, 1])
                for k in range(d)]
        assert float(loss) == pytest.approx(-sum(corr) * (n - 1) / n,
                                            rel=1e-9, abs=1e-9)
