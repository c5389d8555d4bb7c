r"""Mutual-information objectives shared by every graphcl method.

All losses take *logits* (unnormalised critic scores), never probabilities,
and are computed in numerically stable form (``softplus``/``logsumexp``).

Two call conventions are used throughout:

* **Positive/negative scores** (DGI, DIM, triplet): ``pos`` of shape
  ``[N]`` and ``neg`` of shape ``[N]`` or ``[N, K]`` (``K`` negatives per
  positive). :class:`JSDLoss`, :class:`InfoNCELoss`, :class:`TripletMarginLoss`
  and :class:`DonskerVaradhanLoss` follow it, so they are interchangeable as
  the ``loss`` of :class:`graphcl.DeepGraphInfomax`.
* **Two views** (SimCLR, GRACE): :func:`nt_xent` takes two embedding
  matrices whose rows are paired.
"""
import math
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'jsd_loss', 'info_nce_loss', 'triplet_margin_loss',
    'donsker_varadhan_loss', 'nt_xent', 'JSDLoss', 'InfoNCELoss',
    'TripletMarginLoss', 'DonskerVaradhanLoss', 'NTXentLoss', 'get_loss',
    'LOSSES'
]


def check_temperature(temperature: float) -> float:
    r"""Returns :obj:`temperature` if it is a positive number, else raises a
    :class:`ValueError` saying so."""
    if not temperature > 0:
        raise ValueError(f"'temperature' must be > 0, got {temperature}")
    return float(temperature)


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
    neg = neg.reshape(-1)
    return -pos.mean() + torch.logsumexp(neg, dim=0) - math.log(neg.numel())


def nt_xent(z1: Tensor, z2: Tensor, temperature: float = 0.5,
            normalize: bool = True) -> Tensor:
    r"""NT-Xent (normalised temperature-scaled cross-entropy) of SimCLR.

    The :math:`2N` rows of :obj:`z1` and :obj:`z2` are pooled; each row's
    positive is its twin in the other view and the remaining :math:`2N-2`
    rows are its negatives:

    .. math::
        \ell_i = -\log \frac{e^{\cos(z_i, z_{j(i)})/\tau}}
        {\sum_{k \neq i} e^{\cos(z_i, z_k)/\tau}}

    Args:
        z1 (Tensor): First view, shape ``[N, D]``.
        z2 (Tensor): Second view, shape ``[N, D]``.
        temperature (float, optional): :math:`\tau`. (default: ``0.5``)
        normalize (bool, optional): L2-normalise rows first (cosine
            similarity). (default: ``True``)
    """
    if z1.dim() != 2 or z1.shape != z2.shape:
        raise ValueError(f"NT-Xent needs two views of equal shape [N, D], "
                         f"got {tuple(z1.shape)} and {tuple(z2.shape)}")
    n = z1.size(0)
    if n < 2:
        raise ValueError("NT-Xent needs a batch of at least 2 examples (each "
                         "view's negatives are the other examples); got a "
                         "batch of 1 — increase the batch size")
    check_temperature(temperature)
    z = torch.cat([z1, z2], dim=0)
    if normalize:
        z = F.normalize(z, dim=1)
    sim = (z @ z.t()) / temperature
    sim.fill_diagonal_(float('-inf'))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target.to(z.device))


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
    """
    def __init__(self, temperature: float = 0.5):
        super().__init__()
        self.temperature = check_temperature(temperature)

    def reset_parameters(self):
        pass

    def forward(self, z1: Tensor, z2: Tensor) -> Tensor:
        return nt_xent(z1, z2, self.temperature)

    def extra_repr(self) -> str:
        return f'temperature={self.temperature}'


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
