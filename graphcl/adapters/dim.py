r"""Deep InfoMax (local objective) on images and sequences, built on
graphcl's mutual-information losses."""
from typing import Optional

import torch
from torch import Tensor
from torch.nn import Conv1d, Linear, Module, ReLU, Sequential

from ..losses import donsker_varadhan_loss, info_nce_loss, jsd_loss
from .augment import SeedLike
from .base import SelfSupervisedMethod

__all__ = ['LocalCritic', 'GlobalCritic', 'DeepInfoMax']

ESTIMATORS = ('jsd', 'infonce', 'dv')


class LocalCritic(Module):
    r"""Embeds every position of a feature map with 1x1 convolutions and a
    linear shortcut: :math:`\phi(M) = W_2\,\mathrm{ReLU}(W_1 M) + W_s M`.

    Args:
        in_channels (int): Map channels :math:`C`.
        out_channels (int): Critic size.
    """
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.mlp = Sequential(Conv1d(in_channels, out_channels, 1), ReLU(),
                              Conv1d(out_channels, out_channels, 1))
        self.shortcut = Conv1d(in_channels, out_channels, 1)

    def reset_parameters(self):
        for m in (self.mlp[0], self.mlp[2], self.shortcut):
            m.reset_parameters()

    def forward(self, m: Tensor) -> Tensor:
        r"""``[N, C, *spatial] -> [N, out_channels, P]`` (positions
        flattened)."""
        m = m.flatten(2)
        return self.mlp(m) + self.shortcut(m)


class GlobalCritic(Module):
    r"""Embeds the global vector: :math:`\psi(y) = W_2\,\mathrm{ReLU}(W_1 y)
    + W_s y`.

    Args:
        in_channels (int): Vector size :math:`D`.
        out_channels (int): Critic size.
    """
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.mlp = Sequential(Linear(in_channels, out_channels), ReLU(),
                              Linear(out_channels, out_channels))
        self.shortcut = Linear(in_channels, out_channels)

    def reset_parameters(self):
        for m in (self.mlp[0], self.mlp[2], self.shortcut):
            m.reset_parameters()

    def forward(self, y: Tensor) -> Tensor:
        return self.mlp(y) + self.shortcut(y)


def _require(encoder: Module, value: Optional[int], attr: str,
             arg: str) -> int:
    if value is None:
        value = getattr(encoder, attr, None)
    if not isinstance(value, int):
        raise ValueError(f"Cannot read '{attr}' from "
                         f"{type(encoder).__name__}; pass '{arg}=...'")
    return value


class DeepInfoMax(SelfSupervisedMethod):
    r"""Local Deep InfoMax from `"Learning deep representations by mutual
    information estimation and maximization"
    <https://arxiv.org/abs/1808.06670>`_ (Hjelm et al., ICLR 2019).

    The encoder gives a local feature map :math:`M = C(x)` (positions
    :math:`j = 1..P`) and a global vector :math:`y = E(M)`. A critic scores
    every global vector against every local feature of the batch,

    .. math::
        s_{ikj} = \psi(y_i)^\top \phi(M_k)_j,

    positives are :math:`k = i`, negatives :math:`k \neq i`, and the mutual
    information between :math:`y` and each :math:`M_j` is maximised with

    * ``'jsd'``: :math:`\mathbb{E}_{pos}[\mathrm{sp}(-s)] +
      \mathbb{E}_{neg}[\mathrm{sp}(s)]` (:func:`~graphcl.losses.jsd_loss`),
    * ``'infonce'``: each :math:`(i, j)` classifies :math:`s_{iij}` against
      the :math:`N-1` scores :math:`s_{ikj}, k \neq i` of the same position
      in the other examples
      (:func:`~graphcl.losses.info_nce_loss`),
    * ``'dv'``: Donsker-Varadhan
      (:func:`~graphcl.losses.donsker_varadhan_loss`).

    Args:
        encoder (Module): Implements ``forward_features(x) -> [N, C, *S]``
            and ``forward_head(map) -> [N, D]`` (see
            :class:`~graphcl.adapters.SplitEncoder`).
        global_dim (int, optional): :math:`D`, default
            ``encoder.out_channels``. (default: ``None``)
        local_channels (int, optional): :math:`C`, default
            ``encoder.feature_channels``. (default: ``None``)
        critic_channels (int, optional): Critic embedding size.
            (default: ``128``)
        estimator (str, optional): ``'jsd'``, ``'infonce'`` or ``'dv'``.
            (default: ``'jsd'``)
    """
    def __init__(self, encoder: Module, global_dim: Optional[int] = None,
                 local_channels: Optional[int] = None,
                 critic_channels: int = 128, estimator: str = 'jsd'):
        super().__init__()
        for name in ('forward_features', 'forward_head'):
            if not callable(getattr(encoder, name, None)):
                raise TypeError(
                    f"DeepInfoMax needs an encoder with 'forward_features' "
                    f"(x -> feature map) and 'forward_head' (map -> vector); "
                    f"{type(encoder).__name__} has no '{name}'. Wrap your "
                    f"trunk and head in graphcl.adapters.SplitEncoder")
        estimator = estimator.lower().replace('-', '').replace('_', '')
        if estimator not in ESTIMATORS:
            raise ValueError(f"'estimator' must be one of {ESTIMATORS}, got "
                             f"'{estimator}'")
        self.encoder = encoder
        self.estimator = estimator
        c = _require(encoder, local_channels, 'feature_channels',
                     'local_channels')
        d = _require(encoder, global_dim, 'out_channels', 'global_dim')
        self.local_critic = LocalCritic(c, critic_channels)
        self.global_critic = GlobalCritic(d, critic_channels)

    def scores(self, x: Tensor) -> Tensor:
        r"""Critic scores :math:`s_{ikj}` of shape ``[N, N, P]``."""
        m = self.encoder.forward_features(x)
        y = self.encoder.forward_head(m)
        return torch.einsum('id,kdp->ikp', self.global_critic(y),
                            self.local_critic(m))

    def loss(self, x: Tensor, generator: SeedLike = None) -> Tensor:
        s = self.scores(x)
        n, p = s.size(0), s.size(2)
        eye = torch.eye(n, dtype=torch.bool, device=s.device)
        pos = s[eye]  # [N, P]
        if self.estimator == 'infonce':
            # Row (i, j): negatives are position j of the other examples.
            neg = s.permute(0, 2, 1)[~eye.unsqueeze(1).expand(n, p, n)]
            return info_nce_loss(pos.reshape(-1), neg.view(n * p, n - 1))
        neg = s[~eye]
        if self.estimator == 'jsd':
            return jsd_loss(pos, neg)
        return donsker_varadhan_loss(pos.reshape(-1), neg)

    def check_input(self, x: Tensor):
        super().check_input(x)
        if x.size(0) < 2:
            raise ValueError(f"DeepInfoMax needs batches of at least 2 "
                             f"examples (negatives are the other examples' "
                             f"features), got {x.size(0)}")

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({type(self.encoder).__name__}, '
                f'estimator={self.estimator})')
