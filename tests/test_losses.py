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
