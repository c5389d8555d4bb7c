r"""Discriminators (critics): score (node embedding, summary) pairs.

Called as ``disc(z, summary, batch=None)`` with node embeddings
:math:`(N, D)` and a summary :math:`(D)` (one graph) or :math:`(B, D)` (one
per graph of a batch, matched to nodes through :obj:`batch`); return one
logit per node, :math:`(N)`. A summary :math:`(K, D)` given without
:obj:`batch` scores every node against each of the ``K`` summaries,
:math:`(N, K)`, as PyG's :meth:`DeepGraphInfomax.discriminate` does
(:math:`\mathbf{Z}\mathbf{W}\mathbf{S}^{\top}` for the bilinear critic).
"""
import math
from typing import Optional

import torch
from torch import Tensor
from torch.nn import Module, Parameter

from ..losses import check_temperature

__all__ = ['Discriminator', 'BilinearDiscriminator', 'DotDiscriminator',
           'get_discriminator']


class Discriminator(Module):
    r"""Base class. Subclasses implement :meth:`transform` (the map applied
    to the summaries before the dot product)."""
    def transform(self, summary: Tensor) -> Tensor:
        return summary

    def reset_parameters(self):
        pass

    def forward(self, z: Tensor, summary: Tensor,
                batch: Optional[Tensor] = None) -> Tensor:
        if batch is not None:
            if summary.dim() != 2:
                raise ValueError(f"With 'batch', 'summary' must have shape "
                                 f"[num_graphs, channels], got "
                                 f"{tuple(summary.shape)}")
            return (z * self.transform(summary)[batch]).sum(dim=-1)
        if summary.dim() == 1:
            return z @ self.transform(summary)
        # [K, D] summaries (PyG's convention), one row per summary.
        return z @ self.transform(summary).t()


class BilinearDiscriminator(Discriminator):
    r"""DGI's bilinear critic (`Veličković et al., 2019
    <https://arxiv.org/abs/1809.10341>`_):

    .. math::
        \mathcal{D}(\mathbf{z}_i, \mathbf{s}) = \mathbf{z}_i^{\top}
        \mathbf{W} \mathbf{s}

    Args:
        channels (int): Embedding width :math:`D`.
        init (str, optional): Initialisation of :math:`\mathbf{W}`:
            ``'pyg'``, uniform in :math:`\pm 1/\sqrt{D}` as PyG's
            :class:`~torch_geometric.nn.models.DeepGraphInfomax`; or
            ``'xavier'``, DGI's reference code (Xavier-uniform of
            ``nn.Bilinear(D, D, 1)``'s :math:`(1, D, D)` weight, uniform in
            :math:`\pm\sqrt{6 / (D^2 + D)}`, about ten times smaller).
            (default: ``'pyg'``)
    """
    INITS = ('pyg', 'xavier')

    def __init__(self, channels: int, init: str = 'pyg'):
        super().__init__()
        if init not in self.INITS:
            raise ValueError(f"Unknown init '{init}' for "
                             f"BilinearDiscriminator; choose one of "
                             f"{list(self.INITS)}")
        self.channels = channels
        self.init = init
        self.weight = Parameter(torch.empty(channels, channels))
        self.reset_parameters()

    def reset_parameters(self):
        d = self.channels
        bound = (1.0 / math.sqrt(d) if self.init == 'pyg' else
                 math.sqrt(6.0 / (d * d + d)))
        torch.nn.init.uniform_(self.weight, -bound, bound)

    def transform(self, summary: Tensor) -> Tensor:
        return summary @ self.weight.t()

    def __repr__(self) -> str:
        init = '' if self.init == 'pyg' else f", init='{self.init}'"
        return f'{self.__class__.__name__}({self.channels}{init})'


class DotDiscriminator(Discriminator):
    r"""Parameter-free dot-product critic, optionally scaled:

    .. math::
        \mathcal{D}(\mathbf{z}_i, \mathbf{s}) = \mathbf{z}_i^{\top}
        \mathbf{s} / \tau

    Args:
        temperature (float, optional): :math:`\tau`. (default: ``1.0``)
    """
    def __init__(self, temperature: float = 1.0):
        super().__init__()
        check_temperature(temperature)
        self.temperature = temperature

    def transform(self, summary: Tensor) -> Tensor:
        return summary / self.temperature

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(temperature={self.temperature})'


def get_discriminator(name: str, channels: int,
                      init: str = 'pyg') -> Discriminator:
    r"""Builds a discriminator by name (``'bilinear'`` or ``'dot'``);
    :obj:`init` is the bilinear weight's initialisation (see
    :class:`BilinearDiscriminator`)."""
    key = name.lower()
    if key == 'bilinear':
        return BilinearDiscriminator(channels, init=init)
    if key == 'dot':
        return DotDiscriminator()
    raise ValueError(f"Unknown discriminator '{name}'; choose 'bilinear' or "
                     f"'dot'")
