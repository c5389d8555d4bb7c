r"""DGI's head fused into one operation: PReLU, sigmoid-mean readout,
bilinear critic and JSD loss, with the gradients worked out by hand.

For pre-activations :math:`\mathbf{P}` (input) and
:math:`\tilde{\mathbf{P}}` (corruption), both :math:`(N, D)`, DGI's loss is

.. math::
    \mathbf{Z} = \mathrm{PReLU}_{\mathbf{a}}(\mathbf{P}), \quad
    \mathbf{s} = \sigma\Big(\frac{1}{N}\mathbf{Z}^{\top}\mathbf{1}\Big),
    \quad \mathbf{u} = \mathbf{W}\mathbf{s}, \quad
    \mathcal{L} = \frac{1}{N}\sum_i \mathrm{softplus}(-\mathbf{z}_i^{\top}
    \mathbf{u}) + \frac{1}{N}\sum_i \mathrm{softplus}(
    \tilde{\mathbf{z}}_i^{\top}\mathbf{u})

The gradient with respect to :math:`\mathbf{Z}` has rank two,
:math:`\mathbf{g}\mathbf{u}^{\top} + \frac{1}{N}\mathbf{1}
(\mathbf{W}^{\top}\bar{\mathbf{u}} \odot \mathbf{s} \odot (1 - \mathbf{s}))
^{\top}` with :math:`\mathbf{g} = \partial\mathcal{L}/\partial(\mathbf{Z}
\mathbf{u})` and :math:`\bar{\mathbf{u}} = \partial\mathcal{L}/\partial
\mathbf{u}`, so the slope gradient of PReLU reduces to two matrix-vector
products. As the loss is a scalar, all gradients are computed in the
forward pass (while :math:`\mathbf{Z}` is still in cache) and the backward
pass only scales them. About a dozen passes over :math:`(N, D)` activations
replace the thirty-odd of autograd through the separate modules.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

from ..losses import JSDLoss
from ..nn.discriminators import BilinearDiscriminator
from ..nn.readouts import SigmoidMeanReadout

__all__ = ['dgi_jsd_head', 'jsd_head_grads', 'fused_head_parts']


def _slope_gradient(grad: Tensor, pre: Tensor, slope: Tensor,
                    out: Optional[Tensor] = None) -> Tensor:
    r""":math:`\partial\,\mathrm{PReLU}_a(\mathbf{P}) / \partial\mathbf{P}
    \odot \mathbf{R}`: ``grad`` where ``pre > 0``, ``slope * grad``
    elsewhere (PyTorch's convention at 0), written into ``out`` (which may
    be ``pre`` itself). Two vectorised passes: PyTorch's CPU ``prelu``
    backward and ``where`` take 30-50x longer here."""
    if out is None:
        out = torch.ops.aten.threshold_backward(grad, pre, 0)
    else:
        torch.ops.aten.threshold_backward.grad_input(grad, pre, 0,
                                                     grad_input=out)
    return out.lerp_(grad, slope.to(grad.dtype))


def jsd_head_grads(pos: Tensor, neg: Tensor, slope: Tensor, weight: Tensor,
                   need_grad: bool = True, out_pos: Optional[Tensor] = None,
                   out_neg: Optional[Tensor] = None,
                   scratch: Optional[Tensor] = None) -> Tuple[Tensor, tuple]:
    r"""The loss of :func:`dgi_jsd_head` and, with ``need_grad``, its
    gradients ``(d_pos, d_neg, d_slope, d_weight)``. ``out_pos`` and
    ``out_neg`` receive the input gradients (they may be ``pos`` and ``neg``
    themselves, which are then overwritten); ``scratch`` is an
    :math:`(N, D)` work buffer. Fresh tensors are used where they are
    ``None``."""
    n = pos.size(0)
    ones = pos.new_ones(n)  # column sums as matrix-vector products (BLAS,
    # 2-3x faster than sum(0) here)
    # Z = P + (a - 1) Q with Q = min(P, 0): every reduction of Z is one of P
    # and one of Q, and the slope gradient needs those of Q anyway, so Z is
    # never written (6 passes over (N, D) fewer than materialising it).
    a1 = slope - 1
    q = torch.clamp_max(pos, 0, out=scratch)
    q_sum = ones @ q
    s = torch.sigmoid((ones @ pos + a1 * q_sum) / n)
    u = weight @ s
    u_a1 = a1 * u
    l_pos = torch.addmv(pos @ u, q, u_a1)  # Z u
    g_pos = torch.sigmoid(-l_pos).div_(-n)  # dL / d(z_pos @ u)
    gq_pos = g_pos @ q
    g_u = torch.addcmul(g_pos @ pos, a1, gq_pos)  # g^T Z
    q = torch.clamp_max(neg, 0, out=q)
    l_neg = torch.addmv(neg @ u, q, u_a1)
    loss = F.softplus(-l_pos).mean() + F.softplus(l_neg).mean()
    if not need_grad:
        return loss, None
    g_neg = torch.sigmoid(l_neg).div_(n)
    gq_neg = g_neg @ q
    g_u += torch.addcmul(g_neg @ neg, a1, gq_neg)
    g_weight = torch.outer(g_u, s)
    g_mean = (g_u @ weight).mul_(s * (1 - s)).div_(n)  # dL / d(mean z)

    # dL/da_j = sum_i (dL/dZ)_ij min(P_ij, 0) with dL/dZ = g u^T (+ 1
    # g_mean^T on the input branch): rank two, so the reductions of Q above.
    g_slope = u * (gq_pos + gq_neg) + g_mean * q_sum
    if slope.numel() == 1:
        g_slope = g_slope.sum()
    # rank-one products as broadcast element-wise ops (split across threads
    # like the other element-wise passes, unlike BLAS with k = 1)
    r = torch.addcmul(g_mean, g_pos[:, None], u, out=q)
    d_pos = _slope_gradient(r, pos, slope, out_pos)
    torch.mul(g_neg[:, None], u, out=r)
    d_neg = _slope_gradient(r, neg, slope, out_neg)
    return loss, (d_pos, d_neg, g_slope.view_as(slope), g_weight)


class _DGIJSDHead(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pos: Tensor, neg: Tensor, slope: Tensor,
                weight: Tensor) -> Tensor:
        loss, ctx.grads = jsd_head_grads(pos, neg, slope, weight,
                                         any(ctx.needs_input_grad))
        return loss

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):
        return precomputed_backward(ctx, grad)


def _graph_kept() -> bool:
    r"""Whether the running backward pass keeps the graph
    (``retain_graph=True``); :obj:`True` when PyTorch cannot tell."""
    keep = getattr(torch._C._autograd, '_get_current_graph_task_keep_graph',
                   None)
    try:
        return True if keep is None else bool(keep())
    except RuntimeError:
        return True


def precomputed_backward(ctx, grad: Tensor) -> tuple:
    r"""Backward of a function whose forward stored its input gradients in
    ``ctx.grads`` (for a scalar output): scales them by ``grad``. Unless the
    graph is retained, ``ctx`` lets go of them, so that autograd can keep
    them as ``.grad`` instead of copying them (0.4-0.6 ms an epoch for
    DGI on Cora, measured)."""
    grads = ctx.grads
    if grads is None:
        raise RuntimeError(
            "Trying to backward through the graph a second time; specify "
            "retain_graph=True on the first backward call")
    if not _graph_kept():
        ctx.grads = None
    if not (grad.device.type == 'cpu' and grad.item() == 1.0):
        grads = tuple(None if g is None else g * grad for g in grads)
    return tuple(g if need else None
                 for g, need in zip(grads, ctx.needs_input_grad))


def dgi_jsd_head(pos: Tensor, neg: Tensor, slope: Tensor,
                 weight: Tensor) -> Tensor:
    r"""DGI's loss from the encoder's pre-activations, fused (see the module
    docstring for the formula).

    Args:
        pos (Tensor): Pre-activations of the input, :math:`(N, D)`.
        neg (Tensor): Pre-activations of the corruption, :math:`(N, D)`.
        slope (Tensor): PReLU slopes, :math:`(1)` or :math:`(D)`.
        weight (Tensor): Bilinear critic :math:`\mathbf{W}`, :math:`(D, D)`.

    Returns:
        The scalar loss; equal, with its gradients, to
        ``JSDLoss()(disc(Z, s), disc(Z~, s))`` through
        :class:`~graphcl.nn.PReLU`, :class:`~graphcl.nn.SigmoidMeanReadout`
        and :class:`~graphcl.nn.BilinearDiscriminator`.
    """
    if pos.shape != neg.shape or pos.dim() != 2:
        raise ValueError(f"dgi_jsd_head expects two [N, D] pre-activations "
                         f"of one shape, got {tuple(pos.shape)} and "
                         f"{tuple(neg.shape)}")
    d = pos.size(1)
    if slope.numel() not in (1, d) or weight.shape != (d, d):
        raise ValueError(f"dgi_jsd_head: slope must have 1 or {d} entries "
                         f"and weight shape ({d}, {d}); got "
                         f"{tuple(slope.shape)} and {tuple(weight.shape)}")
    return _DGIJSDHead.apply(pos, neg, slope, weight)


def fused_head_parts(model) -> Optional[Tuple[Tensor, Tensor]]:
    r"""``(slope, weight)`` when ``model``'s head is exactly DGI's (the last
    activation :class:`graphcl.nn.PReLU` or :class:`torch.nn.PReLU`, then
    :class:`~graphcl.nn.SigmoidMeanReadout`,
    :class:`~graphcl.nn.BilinearDiscriminator`,
    :class:`~graphcl.losses.JSDLoss`, none of them subclassed or patched,
    and the model's own
    :meth:`~graphcl.models.DeepGraphInfomax.loss`), else ``None``."""
    from ..nn.activations import PReLU
    from .dgi import DeepGraphInfomax
    act = model.encoder.acts[-1]
    summary, disc, loss_fn = model.summary, model.discriminator, \
        model.loss_fn
    if not (type(act) in (PReLU, torch.nn.PReLU)
            and type(summary) is SigmoidMeanReadout
            and type(disc) is BilinearDiscriminator
            and type(loss_fn) is JSDLoss
            and type(model).loss is DeepGraphInfomax.loss):
        return None
    patched = (('forward', ), ('forward', 'pool'), ('forward', 'transform'),
               ('forward', ), ('loss', 'discriminate'))
    for module, names in zip((act, summary, disc, loss_fn, model), patched):
        if any(name in vars(module) for name in names):
            return None
    d = disc.weight.size(0)
    if disc.weight.shape != (d, d) or act.weight.numel() not in (1, d):
        return None
    return act.weight, disc.weight
