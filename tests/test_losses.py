import math

import pytest
import torch

from graphcl.losses import (LOSSES, DonskerVaradhanLoss, InfoNCELoss,
                            JSDLoss, NTXentLoss, TripletMarginLoss,
                            donsker_varadhan_loss, get_loss, info_nce_loss,
                            jsd_loss, nt_xent, triplet_margin_loss)


def softplus(v):
    return math.log1p(math.exp(v))


def t(*values):
    return torch.tensor(values, dtype=torch.float64)


# --- hand-computed values ----------------------------------------------------

def test_jsd_hand_computed():
    pos, neg = [1.0, -2.0], [0.5, 3.0, -1.0]
    # -mean log sigmoid(pos) - mean log(1 - sigmoid(neg))
    expected = (-sum(math.log(1 / (1 + math.exp(-p))) for p in pos) / 2 -
                sum(math.log(1 - 1 / (1 + math.exp(-n))) for n in neg) / 3)
    assert jsd_loss(t(*pos), t(*neg)).item() == pytest.approx(expected)
    assert JSDLoss()(t(*pos), t(*neg)).item() == pytest.approx(expected)


def test_jsd_at_zero_is_2_log_2():
    assert jsd_loss(torch.zeros(5), torch.zeros(5)).item() == pytest.approx(
        2 * math.log(2))


def test_infonce_one_negative_each():
    pos, neg = [2.0, 0.0], [1.0, 3.0]
    expected = sum(-math.log(math.exp(p) / (math.exp(p) + math.exp(n)))
                   for p, n in zip(pos, neg)) / 2
    assert info_nce_loss(t(*pos), t(*neg)).item() == pytest.approx(expected)


def test_infonce_k_negatives_and_temperature():
    pos = [1.0, -0.5]
    neg = [[0.0, 2.0, -1.0], [0.5, 0.5, 1.5]]
    tau = 0.5
    expected = 0.0
    for p, row in zip(pos, neg):
        num = math.exp(p / tau)
        den = num + sum(math.exp(n / tau) for n in row)
        expected += -math.log(num / den)
    expected /= 2
    out = info_nce_loss(t(*pos), torch.tensor(neg, dtype=torch.float64), tau)
    assert out.item() == pytest.approx(expected)
    mod = InfoNCELoss(temperature=tau)
    assert mod(t(*pos), torch.tensor(neg, dtype=torch.float64)).item() == \
        pytest.approx(expected)


def test_triplet_hand_computed():
    pos = [1.0, 0.0]
    neg = [[0.5, -2.0], [0.2, 3.0]]
    margin = 1.0
    terms = [max(0.0, margin + n - p) for p, row in zip(pos, neg)
             for n in row]
    expected = sum(terms) / len(terms)  # (0.5 + 0 + 1.2 + 4) / 4
    assert expected == pytest.approx(5.7 / 4)
    out = triplet_margin_loss(t(*pos), torch.tensor(neg, dtype=torch.float64))
    assert out.item() == pytest.approx(expected)
    out = TripletMarginLoss(margin=0.1)(t(2.0), t(1.0))
    assert out.item() == pytest.approx(0.0)
    out = TripletMarginLoss(margin=2.0)(t(2.0), t(1.0))
    assert out.item() == pytest.approx(1.0)


def test_dv_hand_computed():
    pos, neg = [1.0, 2.0, 3.0], [0.0, 1.0]
    expected = -sum(pos) / 3 + math.log(sum(math.exp(n) for n in neg) / 2)
    assert donsker_varadhan_loss(t(*pos), t(*neg)).item() == \
        pytest.approx(expected)
    assert DonskerVaradhanLoss()(t(*pos), t(*neg)).item() == \
        pytest.approx(expected)


def _nt_xent_reference(z1, z2, tau, normalize=True):
    z = [list(map(float, r)) for r in torch.cat([z1, z2]).tolist()]
    if normalize:
        z = [[v / math.sqrt(sum(u * u for u in r)) for v in r] for r in z]
    n2 = len(z)
    n = n2 // 2
    total = 0.0
    for i in range(n2):
        j = i + n if i < n else i - n
        sims = [sum(a * b for a, b in zip(z[i], z[k])) / tau
                for k in range(n2)]
        den = sum(math.exp(sims[k]) for k in range(n2) if k != i)
        total += -math.log(math.exp(sims[j]) / den)
    return total / n2


@pytest.mark.parametrize('normalize', [True, False])
def test_nt_xent_hand_computed(normalize):
    z1 = torch.tensor([[1.0, 0.0], [0.5, 1.0], [-1.0, 0.3]])
    z2 = torch.tensor([[0.8, 0.2], [0.0, 1.0], [-0.5, -0.5]])
    expected = _nt_xent_reference(z1, z2, 0.5, normalize)
    out = nt_xent(z1, z2, temperature=0.5, normalize=normalize)
    assert out.item() == pytest.approx(expected, rel=1e-5)
    if normalize:
        assert NTXentLoss(0.5)(z1, z2).item() == pytest.approx(expected,
                                                               rel=1e-5)


def test_nt_xent_two_examples_by_hand():
    # Orthonormal rows: cos(z1_0, z2_0) = 1, all other pairs 0 except the
    # twins; each row's negatives are the 2 others besides itself.
    z1 = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    z2 = z1.clone()
    tau = 1.0
    e = math.e
    # For row 0: sims to [self, z1_1, z2_0, z2_1] = [1, 0, 1, 0].
    expected = -math.log(e / (1 + e + 1))
    assert nt_xent(z1, z2, tau).item() == pytest.approx(expected, rel=1e-6)


# --- numerical stability -----------------------------------------------------

@pytest.mark.parametrize('fn', [jsd_loss, info_nce_loss, triplet_margin_loss,
                                donsker_varadhan_loss])
@pytest.mark.parametrize('scale', [1000.0, -1000.0])
def test_large_logits_are_finite(fn, scale):
    pos = torch.tensor([scale, -scale, scale], requires_grad=True)
    neg = torch.tensor([-scale, scale, scale], requires_grad=True)
    loss = fn(pos, neg)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(pos.grad).all() and torch.isfinite(neg.grad).all()


def test_jsd_saturated_values():
    # Confident and right: loss ~ 0; confident and wrong: loss ~ 2000.
    assert jsd_loss(t(1000.0), t(-1000.0)).item() == pytest.approx(0.0)
    assert jsd_loss(t(-1000.0), t(1000.0)).item() == pytest.approx(2000.0)


def test_nt_xent_large_values_are_finite():
    z1 = torch.randn(4, 3) * 1000
    z2 = torch.randn(4, 3) * 1000
    z1.requires_grad_()
    for normalize, tau in ((True, 1e-3), (False, 1.0)):
        loss = nt_xent(z1, z2, tau, normalize=normalize)
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(z1.grad).all()
        z1.grad = None


# --- errors ------------------------------------------------------------------

def test_nt_xent_batch_of_one():
    with pytest.raises(ValueError, match='at least 2'):
        nt_xent(torch.randn(1, 4), torch.randn(1, 4))


@pytest.mark.parametrize('tau', [0.0, -1.0])
def test_bad_temperature(tau):
    with pytest.raises(ValueError, match='temperature'):
        nt_xent(torch.randn(3, 4), torch.randn(3, 4), temperature=tau)
    with pytest.raises(ValueError, match='temperature'):
        NTXentLoss(tau)
    with pytest.raises(ValueError, match='temperature'):
        InfoNCELoss(tau)
    with pytest.raises(ValueError, match='temperature'):
        info_nce_loss(torch.zeros(3), torch.zeros(3), tau)


def test_learnable_temperature_tensor_gets_a_gradient():
    # A one-element tensor is checked by its value and used as it is, so a
    # learnable temperature trains; the loss equals the float one.
    z1, z2 = torch.randn(5, 4), torch.randn(5, 4)
    pos, neg = torch.randn(5), torch.randn(5, 3)
    for loss, args in ((nt_xent, (z1, z2)), (info_nce_loss, (pos, neg))):
        tau = torch.tensor(0.5, requires_grad=True)
        out = loss(*args, temperature=tau)
        out.backward()
        assert tau.grad is not None and torch.isfinite(tau.grad)
        assert torch.allclose(out, loss(*args, temperature=0.5))
        with pytest.raises(ValueError, match="'temperature' must be a "
                           "number > 0"):
            loss(*args, temperature=torch.tensor(-0.5, requires_grad=True))


def test_nt_xent_shape_mismatch():
    with pytest.raises(ValueError, match='equal shape'):
        nt_xent(torch.randn(3, 4), torch.randn(4, 4))
    with pytest.raises(ValueError, match='equal shape'):
        nt_xent(torch.randn(3), torch.randn(3))


@pytest.mark.parametrize('fn', [info_nce_loss, triplet_margin_loss])
def test_pos_neg_shape_mismatch(fn):
    with pytest.raises(ValueError, match='pos'):
        fn(torch.zeros(3, 1), torch.zeros(3))  # pos not 1-D
    with pytest.raises(ValueError, match='rows'):
        fn(torch.zeros(3), torch.zeros(4, 2))  # N differs
    with pytest.raises(ValueError, match='one score per'):
        fn(torch.zeros(2), torch.zeros(4))  # [N] negatives, wrong N
    with pytest.raises(ValueError, match=r'\[N\] or \[N, K\]'):
        fn(torch.zeros(3), torch.zeros(3, 2, 1))


def test_jsd_and_dv_take_different_counts():
    # Positives and negatives are separate samples (e.g. NodeDrop makes
    # fewer corrupted nodes).
    assert torch.isfinite(jsd_loss(torch.zeros(5), torch.zeros(3)))
    assert torch.isfinite(donsker_varadhan_loss(torch.zeros(5),
                                                torch.zeros(3)))


# --- registry ----------------------------------------------------------------

@pytest.mark.parametrize('name,cls', [
    ('jsd', JSDLoss), ('bce', JSDLoss), ('JSD', JSDLoss),
    ('infonce', InfoNCELoss), ('info_nce', InfoNCELoss),
    ('Info-NCE', InfoNCELoss), ('triplet', TripletMarginLoss),
    ('dv', DonskerVaradhanLoss),
])
def test_get_loss(name, cls):
    assert type(get_loss(name)) is cls


def test_get_loss_kwargs_and_unknown():
    assert get_loss('infonce', temperature=0.2).temperature == 0.2
    assert get_loss('triplet', margin=0.3).margin == 0.3
    with pytest.raises(ValueError, match="Unknown loss 'hinge'") as e:
        get_loss('hinge')
    for name in LOSSES:
        assert name in str(e.value)


def test_modules_have_no_parameters_and_repr():
    for cls in (JSDLoss, InfoNCELoss, TripletMarginLoss, DonskerVaradhanLoss,
                NTXentLoss):
        mod = cls()
        assert list(mod.parameters()) == []
        mod.reset_parameters()
    assert repr(InfoNCELoss(0.5)) == 'InfoNCELoss(temperature=0.5)'
    assert repr(TripletMarginLoss(2.0)) == 'TripletMarginLoss(margin=2.0)'
    assert repr(JSDLoss()) == 'JSDLoss()'


# --- blocked NT-Xent (gram_logsumexp) ----------------------------------------

def _masked_dense_lse(z, scale):
    sim = scale * z @ z.t()
    sim.fill_diagonal_(float('-inf'))
    return torch.logsumexp(sim, dim=1)


@pytest.mark.parametrize('dtype,tol', [(torch.float64, 1e-10),
                                       (torch.float32, 2e-5)])
@pytest.mark.parametrize('tau,normalize', [(0.5, True), (0.05, True),
                                           (0.01, True), (0.7, False)])
@pytest.mark.parametrize('n,block_size', [(2, 1), (7, 2), (30, 7), (30, 8),
                                          (30, 60), (30, 1000)])
def test_nt_xent_blocked_equals_dense(dtype, tol, tau, normalize, n,
                                      block_size):
    # Values and gradients, whatever the block size (dividing 2N or not,
    # larger than 2N) and on both shift paths (tau = 0.01 and unnormalised
    # rows take the per-row shift).
    gen = torch.Generator().manual_seed(n)
    z1 = torch.randn(n, 5, generator=gen, dtype=dtype, requires_grad=True)
    z2 = torch.randn(n, 5, generator=gen, dtype=dtype, requires_grad=True)
    dense = nt_xent(z1, z2, tau, normalize)
    g_dense = torch.autograd.grad(dense, (z1, z2))
    blocked = nt_xent(z1, z2, tau, normalize, block_size=block_size)
    g_blocked = torch.autograd.grad(blocked, (z1, z2))
    scale = max(1.0, abs(dense.item()))
    assert abs(blocked.item() - dense.item()) <= tol * scale
    for a, b in zip(g_blocked, g_dense):
        assert torch.allclose(a, b, rtol=tol, atol=tol * scale)
    module = NTXentLoss(tau, block_size=block_size)
    if normalize:
        assert module(z1, z2).item() == pytest.approx(blocked.item(),
                                                      rel=1e-6)
    assert 'block_size' in repr(module)


def test_nt_xent_blocked_hand_computed():
    z1 = torch.tensor([[1.0, 0.0], [0.5, 1.0], [-1.0, 0.3]],
                      dtype=torch.float64)
    z2 = torch.tensor([[0.8, 0.2], [0.0, 1.0], [-0.5, -0.5]],
                      dtype=torch.float64)
    for normalize in (True, False):
        expected = _nt_xent_reference(z1, z2, 0.5, normalize)
        for block_size in (1, 2, 3, 6):
            out = nt_xent(z1, z2, 0.5, normalize, block_size=block_size)
            assert out.item() == pytest.approx(expected, rel=1e-12)


def test_gram_logsumexp_values_and_gradcheck():
    from graphcl.losses import gram_logsumexp
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(11, 3, generator=gen, dtype=torch.float64,
                    requires_grad=True)
    for scale in (0.3, 2.0, 60.0, -1.0):  # 60: large, per-row shift path
        assert torch.allclose(gram_logsumexp(z, scale, 4),
                              _masked_dense_lse(z, scale))
        # any upstream gradient (not only a mean's)
        assert torch.autograd.gradcheck(
            lambda z: gram_logsumexp(z, scale, 4) * torch.arange(
                11, dtype=torch.float64), (z, ))


def test_gram_logsumexp_extreme_values_are_finite():
    from graphcl.losses import gram_logsumexp
    z = torch.randn(9, 4) * 1000
    z.requires_grad_()
    lse = gram_logsumexp(z, 1.0, 4)
    lse.sum().backward()
    assert torch.isfinite(lse).all() and torch.isfinite(z.grad).all()
    assert torch.allclose(lse, _masked_dense_lse(z.detach(), 1.0), rtol=1e-5)
    # a negative scale bounds the entries by |scale| max ||z||^2 as well
    z = torch.randn(9, 4, generator=torch.Generator().manual_seed(1)) * 3
    lse = gram_logsumexp(z, -8.0, 4)
    assert torch.isfinite(lse).all()
    assert torch.allclose(lse, _masked_dense_lse(z, -8.0), rtol=1e-5)


@pytest.mark.parametrize('block_size', [0, -3, 2.0, True])
def test_nt_xent_bad_block_size(block_size):
    with pytest.raises(ValueError, match="'block_size'"):
        nt_xent(torch.randn(3, 4), torch.randn(3, 4), block_size=block_size)
    with pytest.raises(ValueError, match="'block_size'"):
        NTXentLoss(block_size=block_size)
