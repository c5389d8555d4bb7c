r"""Contrastive Predictive Coding for sequences, built on
:func:`graphcl.losses.info_nce_loss`."""
import torch
from torch import Tensor
from torch.nn import Linear, ModuleList

from ..losses import info_nce_loss
from .augment import SeedLike
from .base import SelfSupervisedMethod
from .encoders import SequenceEncoder

__all__ = ['CPC']

NEGATIVES = ('batch', 'batch+time')


class CPC(SelfSupervisedMethod):
    r"""Contrastive Predictive Coding from `"Representation Learning with
    Contrastive Predictive Coding" <https://arxiv.org/abs/1807.03748>`_
    (van den Oord et al., 2018).

    A strided encoder maps a sequence to latents :math:`z_t`, a GRU
    summarises them into contexts :math:`c_t`, and one linear predictor
    :math:`W_k` per step :math:`k = 1..K` scores
    :math:`f_k(z, c_t) = z^\top W_k c_t`. InfoNCE makes the true future
    latent win against negatives :math:`\mathcal{Z}^-`:

    .. math::
        \mathcal{L} = -\frac{1}{K}\sum_{k=1}^K \mathbb{E}_{n,t}
        \log \frac{e^{f_k(z_{n,t+k}, c_{n,t})}}
        {e^{f_k(z_{n,t+k}, c_{n,t})} + \sum_{z^- \in \mathcal{Z}^-}
        e^{f_k(z^-, c_{n,t})}}

    where :math:`\mathcal{Z}^-` are the latents at :math:`t+k` of the other
    sequences of the batch (``negatives='batch'``) or all latents of the
    batch except the positive (``'batch+time'``). Training clips the
    gradient norm to ``1.0`` by default (:attr:`default_grad_clip`).

    Args:
        encoder (SequenceEncoder): ``forward_features(x) -> z [N, D, T]`` and
            ``forward_context(z) -> c [N, T, H]``, e.g.
            :class:`~graphcl.adapters.ConvGRUEncoder`.
        steps (int, optional): :math:`K`. (default: ``4``)
        negatives (str, optional): ``'batch'`` or ``'batch+time'``.
            (default: ``'batch'``)
    """
    default_grad_clip = 1.0
    input_ranks = (3, )

    def __init__(self, encoder: SequenceEncoder, steps: int = 4,
                 negatives: str = 'batch'):
        super().__init__()
        for name in ('forward_features', 'forward_context'):
            if not callable(getattr(encoder, name, None)):
                raise TypeError(
                    f"CPC needs an encoder with 'forward_features' (x -> z "
                    f"[N, D, T]) and 'forward_context' (z -> c [N, T, H]); "
                    f"{type(encoder).__name__} has no '{name}'. Wrap your "
                    f"modules in graphcl.adapters.SequenceEncoder")
        if steps < 1:
            raise ValueError(f"'steps' must be >= 1, got {steps}")
        if negatives not in NEGATIVES:
            raise ValueError(f"'negatives' must be one of {NEGATIVES}, got "
                             f"'{negatives}'")
        self.encoder, self.steps, self.negatives = encoder, steps, negatives
        d, h = encoder.feature_channels, encoder.context_channels
        self.predictors = ModuleList(Linear(h, d) for _ in range(steps))

    def loss(self, x: Tensor, generator: SeedLike = None) -> Tensor:
        z = self.encoder.forward_features(x)  # [N, D, T]
        self._check_steps(x, z.size(-1))
        c = self.encoder.forward_context(z)  # [N, T, H]
        z = z.transpose(1, 2)  # [N, T, D]
        n, t = z.size(0), z.size(1)
        losses = []
        for k, predictor in enumerate(self.predictors, start=1):
            pred = predictor(c[:, :t - k])  # [N, T-k, D]
            if self.negatives == 'batch':
                # logits[t, n, m] = z[m, t+k] . pred[n, t]
                logits = torch.einsum('ntd,mtd->tnm', pred, z[:, k:])
                eye = torch.eye(n, dtype=torch.bool, device=z.device)
                eye = eye.expand_as(logits)
                pos = logits[eye]
                neg = logits[~eye].view(-1, n - 1)
            else:
                logits = torch.einsum('ntd,md->ntm', pred,
                                      z.reshape(n * t, -1))
                target = (torch.arange(n, device=z.device).view(-1, 1) * t +
                          torch.arange(k, t, device=z.device).view(1, -1))
                mask = torch.zeros_like(logits, dtype=torch.bool)
                mask.scatter_(2, target.unsqueeze(-1), True)
                pos = logits[mask]
                neg = logits[~mask].view(pos.numel(), -1)
            losses.append(info_nce_loss(pos, neg))
        return torch.stack(losses).mean()

    def _check_steps(self, x: Tensor, t: int):
        if t <= self.steps:
            raise ValueError(
                f"CPC predicts {self.steps} steps ahead but the encoder turns "
                f"sequences of length {x.size(-1)} into only {t} latent "
                f"steps (needs at least {self.steps + 1}); use longer "
                f"sequences, fewer 'steps' or less striding in the encoder")

    def check_input(self, x: Tensor):
        super().check_input(x)
        if x.size(0) < 2:
            raise ValueError(f"CPC draws negatives from the other sequences "
                             f"of a batch and needs at least 2, got "
                             f"{x.size(0)}")
        num_steps = getattr(self.encoder, 'num_steps', None)
        t = num_steps(x.size(-1)) if callable(num_steps) else None
        if t is None:
            was_training = self.encoder.training
            self.encoder.eval()
            with torch.no_grad():
                t = self.encoder.forward_features(x[:2]).size(-1)
            self.encoder.train(was_training)
        self._check_steps(x, t)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({type(self.encoder).__name__}, '
                f'steps={self.steps}, negatives={self.negatives})')
