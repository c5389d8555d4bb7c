r"""SimCLR on images and sequences, built on :func:`graphcl.losses.nt_xent`."""
from typing import Callable, Optional

import torch
from torch import Tensor
from torch.nn import Module

from ..losses import check_temperature, nt_xent
from ..nn.heads import ProjectionHead
from .augment import Compose, SeedLike, make_generator
from .base import SelfSupervisedMethod

__all__ = ['SimCLR']


def _out_channels(encoder: Module, given: Optional[int]) -> int:
    if given is not None:
        return given
    out = getattr(encoder, 'out_channels', None)
    if not isinstance(out, int):
        raise ValueError(f"Cannot tell the output size of "
                         f"{type(encoder).__name__}; pass "
                         f"'embedding_dim=<size of encoder(x) rows>'")
    return out


class SimCLR(SelfSupervisedMethod):
    r"""SimCLR from `"A Simple Framework for Contrastive Learning of Visual
    Representations" <https://arxiv.org/abs/2002.05709>`_ (Chen et al.,
    2020).

    Each example :math:`x_i` is augmented twice, encoded by :math:`f` and
    projected by :math:`g`, :math:`z = g(f(t(x)))`; NT-Xent over the
    :math:`2N` views makes each view find its twin among the :math:`2N-1`
    others:

    .. math::
        \mathcal{L} = \frac{1}{2N}\sum_{i=1}^{2N} -\log
        \frac{e^{\cos(z_i, z_{j(i)})/\tau}}
        {\sum_{k \neq i} e^{\cos(z_i, z_k)/\tau}}

    The encoder :math:`f` is kept after training, the head :math:`g`
    (graphcl's :class:`~graphcl.nn.ProjectionHead` with batch norm and ReLU,
    :math:`g(h) = W_2\,\mathrm{ReLU}(\mathrm{BN}(W_1 h))`, as in SimCLR)
    is discarded.

    Args:
        encoder (Module): :math:`f`, ``x -> [N, D]``.
        augment (callable): Batch augmentation ``(x, generator) -> x'``
            (see :mod:`graphcl.adapters.augment`); a list of transforms is
            wrapped in :class:`~graphcl.adapters.augment.Compose`.
        embedding_dim (int, optional): :math:`D`; read from
            ``encoder.out_channels`` if not given. (default: ``None``)
        projection_dim (int, optional): Size of :math:`z`. (default: ``64``)
        hidden_channels (int, optional): Hidden size of :math:`g`.
            (default: ``128``)
        temperature (float, optional): :math:`\tau`. (default: ``0.5``)
    """
    def __init__(self, encoder: Module, augment: Callable,
                 embedding_dim: Optional[int] = None,
                 projection_dim: int = 64, hidden_channels: int = 128,
                 temperature: float = 0.5):
        super().__init__()
        check_temperature(temperature)
        if isinstance(augment, (list, tuple)):
            augment = Compose(augment)
        if not callable(augment):
            raise TypeError("'augment' must be callable as augment(x, "
                            "generator)")
        self.encoder = encoder
        self.augment = augment
        self.head = ProjectionHead(_out_channels(encoder, embedding_dim),
                                   hidden_channels, projection_dim,
                                   act='relu', batch_norm=True)
        self.temperature = temperature

    def loss(self, x: Tensor, generator: SeedLike = None) -> Tensor:
        gen = make_generator(generator)
        v1, v2 = self.augment(x, gen), self.augment(x, gen)
        z = self.head(self.encoder(torch.cat([v1, v2], dim=0)))
        z1, z2 = z.chunk(2, dim=0)
        return nt_xent(z1, z2, self.temperature)

    def check_input(self, x: Tensor):
        super().check_input(x)
        if x.size(0) < 2:
            raise ValueError(f"SimCLR needs batches of at least 2 examples "
                             f"(the negatives of a view are the other "
                             f"examples), got {x.size(0)}; increase the "
                             f"batch size")

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({type(self.encoder).__name__}, '
                f'temperature={self.temperature})')
