r"""Mutual-information objectives shared by every graphcl method.

All losses take *logits* (unnormalised critic scores), never probabilities,
and are computed in numerically stable form (``softplus``/``logsumexp``).

Two call conventions are used throughout:

* **Positive/negative scores** (DGI, DIM, triplet): ``pos`` of shape
  ``[N]`` and ``neg`` of shape ``[N]`` or ``[N, K]`` (``K`` negatives per
  positive). :class:`JSDLoss`, :class:`InfoNCELoss`, :class:`TripletMarginLoss`
  and :class:`DonskerVaradhanLoss` follow it, so they are interchangeable as
  the ``loss`` of :class:`graphcl.DeepGraphInfomax`.
* **Two views** (SimCLR, GRACE, CCA-SSG): :func:`nt_xent` and
  :func:`cca_ssg_loss` take two embedding matrices whose rows are paired.
"""
import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from .validation import check_int, check_positive

__all__ = [
    'jsd_loss', 'info_nce_loss', 'triplet_margin_loss',
    'donsker_varadhan_loss', 'nt_xent', 'gram_logsumexp', 'JSDLoss',
    'InfoNCELoss', 'TripletMarginLoss', 'DonskerVaradhanLoss', 'NTXentLoss',
    'get_loss', 'LOSSES', 'scaled_cosine_error', 'cca_ssg_loss'
]


def check_temperature(temperature: float) -> float:
    r"""Returns :obj:`temperature` as a ``float`` if it is a finite number
    :math:`> 0`, else raises a :class:`ValueError` saying so. A
    one-element tensor (a learnable temperature) is checked by its value;
    the losses then divide by the tensor itself, so it receives a
    gradient."""
    if torch.is_tensor(temperature) and temperature.numel() == 1:
        value = float(temperature.detach())
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"'temperature' must be a number > 0, got "
                             f"{value!r}")
        return value
    return check_positive(temperature, "'temperature'")


def _check_pos_neg(pos: Tensor, neg: Tensor, same_shape: bool = False):
    if pos.dim() != 1:
        raise ValueError(f"'pos' must hold one score per positive pair "
                         f"(shape [N]), got shape {tuple(pos.shape)}; "
                         f"flatten it with pos.view(-1)")
    if same_shape and neg.shape != pos.shape:
        # JSD/DV treat positives and negatives as two separate samples.
        return
    if neg.dim() == 1 and neg.numel() != pos.numel():
        raise ValueError(f"'neg' of shape [N] must hold one score per "
                         f"positive (N={pos.size(0)}), got {tuple(neg.shape)}"
                         f"; for K negatives per positive give shape [N, K]")
    if neg.dim() == 2 and neg.size(0) != pos.size(0):
        raise ValueError(f"'neg' of shape [N, K] must have N={pos.size(0)} "
                         f"rows to match 'pos', got {tuple(neg.shape)}")
    if neg.dim() not in (1, 2):
        raise ValueError(f"'neg' must have shape [N] or [N, K], got "
                         f"{tuple(neg.shape)}")


def _check_not_empty(pos: Tensor, neg: Tensor, negatives: bool = True):
    # A mean over no scores is NaN: refuse it, saying where it comes from.
    if pos.numel() == 0:
        raise ValueError("The loss got no positive scores (a graph or batch "
                         "without nodes?); give at least one node")
    if negatives and neg.numel() == 0:
        raise ValueError(f"The loss got no negative scores (shape "
                         f"{tuple(neg.shape)}); give at least one negative "
                         f"per positive")


def jsd_loss(pos: Tensor, neg: Tensor) -> Tensor:
    r"""Jensen-Shannon / binary cross-entropy objective of DGI and DIM.

    .. math::
        \mathcal{L} = \mathbb{E}_{pos}[\mathrm{softplus}(-s)]
                    + \mathbb{E}_{neg}[\mathrm{softplus}(s)]
                    = -\mathbb{E}[\log\sigma(s^+)]
                      - \mathbb{E}[\log(1 - \sigma(s^-))]

    Args:
        pos (Tensor): Logits of positive pairs, any shape.
        neg (Tensor): Logits of negative pairs, any shape (the two means are
            taken separately, so the counts may differ).
    """
    _check_not_empty(pos, neg)
    return F.softplus(-pos).mean() + F.softplus(neg).mean()


def info_nce_loss(pos: Tensor, neg: Tensor,
                  temperature: float = 1.0) -> Tensor:
    r"""InfoNCE: each positive must win a softmax against its negatives.

    .. math::
        \mathcal{L} = -\frac{1}{N}\sum_i \log
        \frac{e^{s_i^+/\tau}}{e^{s_i^+/\tau} + \sum_k e^{s_{ik}^-/\tau}}

    Args:
        pos (Tensor): Positive logits of shape ``[N]``.
        neg (Tensor): Negative logits of shape ``[N]`` (one negative each) or
            ``[N, K]``.
        temperature (float, optional): :math:`\tau`. (default: ``1.0``)
    """
    _check_pos_neg(pos, neg)
    _check_not_empty(pos, neg, negatives=False)  # K = 0: the loss is 0
    check_temperature(temperature)
    logits = torch.cat([pos.view(-1, 1), neg.view(pos.size(0), -1)], dim=1)
    logits = logits / temperature
    return (torch.logsumexp(logits, dim=1) - logits[:, 0]).mean()


def triplet_margin_loss(pos: Tensor, neg: Tensor,
                        margin: float = 1.0) -> Tensor:
    r"""Triplet margin loss on critic scores.

    .. math::
        \mathcal{L} = \frac{1}{NK}\sum_{i,k}
        \max(0, \eta + s(x_i, x_{ik}^-) - s(x_i, x_i^+))

    Args:
        pos (Tensor): Positive scores of shape ``[N]``.
        neg (Tensor): Negative scores of shape ``[N]`` or ``[N, K]``.
        margin (float, optional): :math:`\eta`. (default: ``1.0``)
    """
    _check_pos_neg(pos, neg)
    _check_not_empty(pos, neg)
    neg = neg.view(pos.size(0), -1)
    return F.relu(margin + neg - pos.view(-1, 1)).mean()


def donsker_varadhan_loss(pos: Tensor, neg: Tensor) -> Tensor:
    r"""Negative Donsker-Varadhan lower bound on mutual information.

    .. math::
        \mathcal{L} = -\mathbb{E}_{pos}[s] + \log \mathbb{E}_{neg}[e^{s}]

    Args:
        pos (Tensor): Positive logits, any shape.
        neg (Tensor): Negative logits, any shape.
    """
    _check_not_empty(pos, neg)
    neg = neg.reshape(-1)
    return -pos.mean() + torch.logsumexp(neg, dim=0) - math.log(neg.numel())


def _paired_views(z1: Tensor, z2: Tensor, normalize: bool) -> Tensor:
    # The 2N pooled rows of NT-Xent (L2-normalised when asked), after the
    # checks shared by its dense and blocked forms.
    if z1.dim() != 2 or z1.shape != z2.shape:
        raise ValueError(f"NT-Xent needs two views of equal shape [N, D], "
                         f"got {tuple(z1.shape)} and {tuple(z2.shape)}")
    if z1.size(0) < 2:
        raise ValueError(f"NT-Xent needs a batch of at least 2 examples "
                         f"(each view's negatives are the other examples); "
                         f"got a batch of {z1.size(0)}: increase the batch "
                         f"size")
    z = torch.cat([z1, z2], dim=0)
    if not normalize:
        return z
    # Rows scaled by their largest entry first: the same directions, and
    # no float overflow of the norm for entries beyond ~1e19 (which would
    # normalise such rows to zero).
    scale = z.detach().abs().amax(dim=1, keepdim=True)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return F.normalize(z / scale, dim=1)


class _Blocks:
    # Row blocks [a0, a1) of an M-row matrix and the shifted similarities
    # of each block with the rows from a0 on, scale * Z_a Z_{a0:}^T - shift
    # (one fused addmm), written into one workspace reused by every block
    # (no allocation, and no page faults, per block).
    def __init__(self, z: Tensor, scale: float, block_size: int,
                 shift: float = 0.0):
        self.z, self.scale, self.m = z, scale, z.size(0)
        self.shift = z.new_tensor(-shift)
        self.block_size = min(block_size, self.m)
        self.work = z.new_empty(self.block_size * self.m)
        self._spare: Optional[Tensor] = None

    def like(self, s: Tensor) -> Tensor:
        r"""A second workspace shaped like block :obj:`s`."""
        if self._spare is None:
            self._spare = torch.empty_like(self.work)
        return self._spare[:s.numel()].view(s.shape)

    def __iter__(self):
        z, m = self.z, self.m
        for a0 in range(0, m, self.block_size):
            a1 = min(a0 + self.block_size, m)
            s = self.work[:(a1 - a0) * (m - a0)].view(a1 - a0, m - a0)
            yield a0, a1, torch.addmm(self.shift, z[a0:a1], z[a0:].t(),
                                      alpha=self.scale, out=s)


class _GramLogSumExp(torch.autograd.Function):
    # Row-wise log-sum-exp of the Gram matrix S = scale * Z Z^T without its
    # diagonal, one block of rows at a time. S is symmetric, so block a is
    # only multiplied with the rows from a onwards: its row sums serve block
    # a, its column sums the later blocks (half the products of the dense
    # form). Nothing of size M x M is kept: backward recomputes each block.
    #
    # Shift: every entry is bounded by c = |scale| max ||z_i||^2, so
    # exp(S - c) cannot overflow, and while 2c stays inside the dtype's
    # exponent range (normalised rows and scale < 43 in float32) the
    # largest term of each row cannot underflow either: one exponential per
    # entry, shared by its row and its column. Otherwise each row gets its
    # own shift (its maximum, found in a first pass) and each entry two
    # exponentials. Both give the exact log-sum-exp.
    @staticmethod
    def forward(ctx, z: Tensor, scale: float, block_size: int) -> Tensor:
        m = z.size(0)
        bound = abs(scale) * float(z.detach().pow(2).sum(1).max())
        shared = 2 * bound < -math.log(torch.finfo(z.dtype).tiny) - 1
        sums = z.new_zeros(m)
        if shared:
            shift = z.new_full((m,), bound)
        else:
            shift = z.new_full((m,), float('-inf'))
            for a0, a1, s in _Blocks(z, scale, block_size):
                s[:, :a1 - a0].diagonal().fill_(float('-inf'))
                torch.maximum(shift[a0:a1], s.amax(1), out=shift[a0:a1])
                if a1 < m:
                    torch.maximum(shift[a1:], s[:, a1 - a0:].amax(0),
                                  out=shift[a1:])
        for a0, a1, s in _Blocks(z, scale, block_size,
                                 bound if shared else 0.0):
            if shared:
                e = s.exp_()
                e[:, :a1 - a0].diagonal().zero_()
                sums[a0:a1] += e.sum(1)
                if a1 < m:
                    sums[a1:] += e[:, a1 - a0:].sum(0)
            else:
                s[:, :a1 - a0].diagonal().fill_(float('-inf'))
                sums[a0:a1] += (s - shift[a0:a1, None]).exp_().sum(1)
                if a1 < m:
                    sums[a1:] += (s[:, a1 - a0:] - shift[None, a1:]
                                  ).exp_().sum(0)
        lse = sums.log_().add_(shift)
        ctx.save_for_backward(z, lse)
        ctx.scale, ctx.block_size, ctx.shared = scale, block_size, shared
        ctx.bound = bound
        return lse

    @staticmethod
    def backward(ctx, grad: Tensor):
        # d/dZ sum_i g_i lse_i = scale * (G P + (G P)^T) Z, with P the
        # row-wise softmax of S (zero diagonal) and G = diag(g); block by
        # block, with K = G P + (G P)^T restricted to rows a, columns a0.. .
        z, lse = ctx.saved_tensors
        m = z.size(0)
        out = torch.zeros_like(z)
        if ctx.shared:  # P_ik = exp(S_ik - c) * exp(c - lse_i)
            w = grad * (ctx.bound - lse).exp()
        blocks = _Blocks(z, ctx.scale, ctx.block_size,
                         ctx.bound if ctx.shared else 0.0)
        for a0, a1, s in blocks:
            if ctx.shared:
                e = s.exp_()
                k = e.mul_(torch.add(w[a0:a1, None], w[None, a0:],
                                     out=blocks.like(e)))
            else:
                s[:, :a1 - a0].diagonal().fill_(float('-inf'))
                k = (s - lse[a0:a1, None]).exp_().mul_(grad[a0:a1, None])
                k += (s - lse[None, a0:]).exp_().mul_(grad[None, a0:])
            k[:, :a1 - a0].diagonal().zero_()
            out[a0:a1].addmm_(k, z[a0:])
            if a1 < m:
                out[a1:].addmm_(k[:, a1 - a0:].t(), z[a0:a1])
        return out.mul_(ctx.scale), None, None


def gram_logsumexp(z: Tensor, scale: float = 1.0,
                   block_size: int = 1024) -> Tensor:
    r"""Row-wise log-sum-exp of the scaled Gram matrix of :obj:`z` without
    its diagonal, computed in blocks of rows:

    .. math::
        \mathrm{lse}_i = \log \sum_{k \neq i} e^{s \, \mathbf{z}_i^{\top}
        \mathbf{z}_k}

    Memory is :math:`O(MD + BM)` for :math:`M` rows and blocks of
    :math:`B`, never :math:`O(M^2)`: the backward pass recomputes each
    block of similarities instead of storing them. Values and gradients
    equal the dense ``torch.logsumexp`` of the masked matrix up to
    floating-point rounding.

    Args:
        z (Tensor): Rows ``[M, D]``.
        scale (float, optional): :math:`s`. (default: ``1.0``)
        block_size (int, optional): Rows :math:`B` per block.
            (default: ``1024``)

    Returns:
        Tensor ``[M]``.
    """
    check_int(block_size, "'block_size'", what='rows per block')
    if z.dim() != 2 or z.size(0) < 2:
        raise ValueError(f"gram_logsumexp needs at least 2 rows [M, D], got "
                         f"shape {tuple(z.shape)}")
    if not math.isfinite(scale):
        raise ValueError(f"'scale' must be finite, got {scale}")
    return _GramLogSumExp.apply(z, float(scale), block_size)


def nt_xent(z1: Tensor, z2: Tensor, temperature: float = 0.5,
            normalize: bool = True,
            block_size: Optional[int] = None) -> Tensor:
    r"""NT-Xent (normalised temperature-scaled cross-entropy) of SimCLR, and
    GRACE's loss (intra- and inter-view negatives, symmetrised).

    The :math:`2N` rows of :obj:`z1` and :obj:`z2` are pooled; each row's
    positive is its twin in the other view and the remaining :math:`2N-2`
    rows are its negatives:

    .. math::
        \ell_i = -\log \frac{e^{\cos(z_i, z_{j(i)})/\tau}}
        {\sum_{k \neq i} e^{\cos(z_i, z_k)/\tau}}

    and the loss is the mean of :math:`\ell_i` over the :math:`2N` rows.

    Args:
        z1 (Tensor): First view, shape ``[N, D]``.
        z2 (Tensor): Second view, shape ``[N, D]``.
        temperature (float, optional): :math:`\tau`. (default: ``0.5``)
        normalize (bool, optional): L2-normalise rows first (cosine
            similarity). (default: ``True``)
        block_size (int, optional): Compute the denominators in blocks of
            this many rows (:func:`gram_logsumexp`): memory
            :math:`O(ND + BN)` instead of :math:`O(N^2)`, same values and
            gradients. (default: :obj:`None`, one dense matrix)
    """
    check_temperature(temperature)
    if block_size is not None:
        check_int(block_size, "'block_size'", what='rows per block')
    z = _paired_views(z1, z2, normalize)
    n = z1.size(0)
    if block_size is not None:
        pos = (z[:n] * z[n:]).sum(1) / temperature
        return gram_logsumexp(z, 1.0 / temperature, block_size).mean() - \
            pos.mean()
    sim = (z @ z.t()) / temperature
    sim.fill_diagonal_(float('-inf'))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target.to(z.device))


def scaled_cosine_error(x: Tensor, y: Tensor, alpha: float = 3.0) -> Tensor:
    r"""GraphMAE's scaled cosine error (`Hou et al., KDD 2022
    <https://arxiv.org/abs/2205.10803>`_) of reconstructions :obj:`x` and
    targets :obj:`y`, rows paired:

    .. math::
        \mathcal{L}_{\mathrm{SCE}} = \frac{1}{N} \sum_{i=1}^{N}
        \left(1 - \frac{\mathbf{x}_i^\top \mathbf{y}_i}
        {\lVert\mathbf{x}_i\rVert \, \lVert\mathbf{y}_i\rVert}
        \right)^{\alpha}

    (rows normalised as :func:`torch.nn.functional.normalize` does, so a
    zero row has cosine 0; :math:`1 - \cos` is clamped at 0 against
    rounding). :math:`\alpha \geq 1` down-weights the rows
    already reconstructed well.

    Args:
        x (Tensor): Reconstructions, shape ``[N, F]``.
        y (Tensor): Targets, shape ``[N, F]``.
        alpha (float, optional): The scaling exponent :math:`\alpha > 0`.
            (default: ``3.0``)
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or \
            not math.isfinite(alpha) or not alpha > 0:
        raise ValueError(f"'alpha' (the exponent of the scaled cosine "
                         f"error) must be a number > 0, got {alpha!r}")
    if x.dim() != 2 or x.shape != y.shape:
        raise ValueError(f"scaled_cosine_error takes two [N, F] tensors of "
                         f"one shape, got {tuple(x.shape)} and "
                         f"{tuple(y.shape)}")
    if x.size(0) == 0:
        raise ValueError("scaled_cosine_error needs at least one row")
    cos = (F.normalize(x, dim=-1) * F.normalize(y, dim=-1)).sum(-1)
    # cos may exceed 1 by a rounding error: 1 - cos < 0 has no real
    # non-integer power.
    return (1 - cos).clamp_min(0).pow(alpha).mean()


def check_decorrelation_weight(lambd) -> float:
    r""":obj:`lambd` as a float, or :class:`ValueError` naming it unless it
    is a finite number :math:`\geq 0`."""
    if isinstance(lambd, bool) or not isinstance(lambd, (int, float)) or \
            not math.isfinite(lambd) or lambd < 0:
        raise ValueError(f"'lambd' (the weight of the decorrelation term) "
                         f"must be a number >= 0, got {lambd!r}")
    return float(lambd)


def cca_ssg_loss(h1: Tensor, h2: Tensor, lambd: float = 1e-3) -> Tensor:
    r"""CCA-SSG's objective (`Zhang et al., NeurIPS 2021
    <https://arxiv.org/abs/2106.12484>`_) of two views' embeddings
    :obj:`h1`, :obj:`h2` ``[N, D]`` (rows paired). Each is standardised
    per column, :math:`\tilde{\mathbf{Z}}_v = (\mathbf{H}_v -
    \boldsymbol{\mu}_v) / \boldsymbol{\sigma}_v` (sample standard
    deviation, as ``Tensor.std``), and

    .. math::
        \mathcal{L} = -\operatorname{tr}\left(\mathbf{C}_{12}\right)
        + \lambda \left(\lVert \mathbf{I} - \mathbf{C}_{11}
        \rVert_F^2 + \lVert \mathbf{I} - \mathbf{C}_{22}
        \rVert_F^2\right), \qquad
        \mathbf{C}_{uv} = \frac{1}{N} \tilde{\mathbf{Z}}_u^\top
        \tilde{\mathbf{Z}}_v

    the invariance term (paired rows agree) plus the decorrelation term
    (each view's dimensions uncorrelated) weighted by :math:`\lambda`.

    Args:
        h1 (Tensor): Embeddings of the first view, shape ``[N, D]``.
        h2 (Tensor): Embeddings of the second view, shape ``[N, D]``.
        lambd (float, optional): Weight :math:`\lambda \geq 0` of the
            decorrelation term. (default: ``1e-3``)

    A column that is constant over the :math:`N` rows has no standard
    deviation; its standardised values, and so the loss, are ``nan``, as
    in the reference code.
    """
    lambd = check_decorrelation_weight(lambd)
    if h1.dim() != 2 or h1.shape != h2.shape:
        raise ValueError(f"cca_ssg_loss takes two [N, D] tensors of one "
                         f"shape, got {tuple(h1.shape)} and "
                         f"{tuple(h2.shape)}")
    n = h1.size(0)
    if n < 2:
        raise ValueError(f"cca_ssg_loss standardises each column over the "
                         f"rows and needs at least 2 rows, got {n}")
    z1 = (h1 - h1.mean(0)) / h1.std(0)
    z2 = (h2 - h2.mean(0)) / h2.std(0)
    eye = torch.eye(h1.size(1), dtype=z1.dtype, device=z1.device)
    invariance = -(z1 * z2).sum() / n  # -tr(Z1^T Z2) / N
    decorrelation = (eye - z1.t() @ z1 / n).pow(2).sum() + \
        (eye - z2.t() @ z2 / n).pow(2).sum()
    return invariance + lambd * decorrelation


class _PairLoss(torch.nn.Module):
    """Base class: a module wrapper around a ``(pos, neg)`` loss."""
    def reset_parameters(self):
        pass

    def extra_repr(self) -> str:
        return ''


class JSDLoss(_PairLoss):
    r"""Module form of :func:`jsd_loss` (DGI's default objective)."""
    def forward(self, pos: Tensor, neg: Tensor) -> Tensor:
        return jsd_loss(pos, neg)


class InfoNCELoss(_PairLoss):
    r"""Module form of :func:`info_nce_loss`.

    Args:
        temperature (float, optional): :math:`\tau`. (default: ``1.0``)
    """
    def __init__(self, temperature: float = 1.0):
        super().__init__()
        self.temperature = check_temperature(temperature)

    def forward(self, pos: Tensor, neg: Tensor) -> Tensor:
        return info_nce_loss(pos, neg, self.temperature)

    def extra_repr(self) -> str:
        return f'temperature={self.temperature}'


class TripletMarginLoss(_PairLoss):
    r"""Module form of :func:`triplet_margin_loss`.

    Args:
        margin (float, optional): :math:`\eta`. (default: ``1.0``)
    """
    def __init__(self, margin: float = 1.0):
        super().__init__()
        self.margin = margin

    def forward(self, pos: Tensor, neg: Tensor) -> Tensor:
        return triplet_margin_loss(pos, neg, self.margin)

    def extra_repr(self) -> str:
        return f'margin={self.margin}'


class DonskerVaradhanLoss(_PairLoss):
    r"""Module form of :func:`donsker_varadhan_loss`."""
    def forward(self, pos: Tensor, neg: Tensor) -> Tensor:
        return donsker_varadhan_loss(pos, neg)


class NTXentLoss(torch.nn.Module):
    r"""Module form of :func:`nt_xent`.

    Args:
        temperature (float, optional): :math:`\tau`. (default: ``0.5``)
        block_size (int, optional): Blocked computation with this many rows
            per block (see :func:`nt_xent`). (default: :obj:`None`)
    """
    def __init__(self, temperature: float = 0.5,
                 block_size: Optional[int] = None):
        super().__init__()
        self.temperature = check_temperature(temperature)
        if block_size is not None:
            check_int(block_size, "'block_size'", what='rows per block')
        self.block_size = block_size

    def reset_parameters(self):
        pass

    def forward(self, z1: Tensor, z2: Tensor) -> Tensor:
        return nt_xent(z1, z2, self.temperature, block_size=self.block_size)

    def extra_repr(self) -> str:
        s = f'temperature={self.temperature}'
        if self.block_size is not None:
            s += f', block_size={self.block_size}'
        return s


LOSSES = {
    'jsd': JSDLoss,
    'bce': JSDLoss,
    'infonce': InfoNCELoss,
    'triplet': TripletMarginLoss,
    'dv': DonskerVaradhanLoss,
}


def get_loss(name: str, **kwargs) -> torch.nn.Module:
    r"""Returns a ``(pos, neg)`` loss module by name (``'jsd'``/``'bce'``,
    ``'infonce'``, ``'triplet'``, ``'dv'``)."""
    key = name.lower().replace('_', '').replace('-', '')
    if key not in LOSSES:
        raise ValueError(f"Unknown loss '{name}'; choose one of "
                         f"{sorted(LOSSES)}")
    return LOSSES[key](**kwargs)
