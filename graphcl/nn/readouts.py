r"""Readouts: node embeddings to a summary vector per graph.

Every readout is called as ``readout(z, *args, batch=None, **kwargs)``: extra
positional and keyword arguments (the encoder's inputs, as PyG's
:class:`~torch_geometric.nn.models.DeepGraphInfomax` passes them) are ignored
except :obj:`batch`. Without :obj:`batch` the result has shape ``[D]`` (and
a graph without nodes raises a :class:`ValueError`); with it, ``[B, D]``
(a graph of the batch without nodes pools to zeros, to 0.5 after the sigmoid
of :class:`SigmoidMeanReadout`).
"""
from typing import Optional

import torch
from torch import Tensor
from torch.nn import Module
from torch_geometric.nn import (AttentionalAggregation, global_add_pool,
                                global_max_pool, global_mean_pool)

__all__ = ['Readout', 'SigmoidMeanReadout', 'MeanReadout', 'SumReadout',
           'MaxReadout', 'AttentionReadout', 'READOUTS', 'get_readout']


class Readout(Module):
    r"""Base class. Subclasses implement :meth:`pool`."""
    def reset_parameters(self):
        pass

    def pool(self, z: Tensor, batch: Optional[Tensor],
             size: Optional[int]) -> Tensor:
        raise NotImplementedError

    def forward(self, z: Tensor, *args, batch: Optional[Tensor] = None,
                size: Optional[int] = None, **kwargs) -> Tensor:
        if z.dim() != 2:
            raise ValueError(f"Readout expects node embeddings of shape "
                             f"[num_nodes, channels], got {tuple(z.shape)}")
        if batch is not None and batch.numel() != z.size(0):
            raise ValueError(f"'batch' has {batch.numel()} entries but there "
                             f"are {z.size(0)} nodes")
        if batch is None and z.size(0) == 0:
            raise ValueError(f"{type(self).__name__} got a graph with no nodes"
                             f" (embeddings of shape {tuple(z.shape)}), which "
                             f"has no summary; give a graph with at least "
                             f"one node")
        return self.pool(z, batch, size)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'


def _pool(fn, z, batch, size):
    if batch is None:
        return fn(z, None).view(-1)
    return fn(z, batch, size)


class MeanReadout(Readout):
    r"""Mean over the nodes of each graph:
    :math:`\mathbf{s}_g = \frac{1}{|\mathcal{V}_g|}\sum_{i \in g}\mathbf{z}_i`.
    """
    def pool(self, z, batch, size):
        return _pool(global_mean_pool, z, batch, size)


class SigmoidMeanReadout(MeanReadout):
    r"""DGI's readout (`Veličković et al., 2019
    <https://arxiv.org/abs/1809.10341>`_):

    .. math::
        \mathbf{s} = \sigma\left(\frac{1}{N}\sum_{i=1}^{N}\mathbf{z}_i\right)
    """
    def pool(self, z, batch, size):
        return torch.sigmoid(super().pool(z, batch, size))


class SumReadout(Readout):
    r"""Sum over the nodes of each graph:
    :math:`\mathbf{s}_g = \sum_{i \in g}\mathbf{z}_i` (GIN, InfoGraph)."""
    def pool(self, z, batch, size):
        return _pool(global_add_pool, z, batch, size)


class MaxReadout(Readout):
    r"""Channel-wise maximum over the nodes of each graph."""
    def pool(self, z, batch, size):
        return _pool(global_max_pool, z, batch, size)


class AttentionReadout(Readout):
    r"""Soft-attention pooling (`Li et al., 2016
    <https://arxiv.org/abs/1511.05493>`_):

    .. math::
        \mathbf{s}_g = \sum_{i \in g} \mathrm{softmax}_g
        \left(\mathbf{w}^{\top}\mathbf{z}_i + b\right) \mathbf{z}_i

    Args:
        channels (int): Embedding width :math:`D`.
    """
    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.aggr = AttentionalAggregation(torch.nn.Linear(channels, 1))

    def reset_parameters(self):
        self.aggr.reset_parameters()

    def pool(self, z, batch, size):
        if batch is None:
            return self.aggr(z).view(-1)
        return self.aggr(z, batch, dim_size=size)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.channels})'


READOUTS = {
    'sigmoid_mean': SigmoidMeanReadout,
    'mean': MeanReadout,
    'sum': SumReadout,
    'max': MaxReadout,
    'attention': AttentionReadout,
}


def get_readout(name: str, channels: Optional[int] = None) -> Readout:
    r"""Builds a readout by name (``'sigmoid_mean'``, ``'mean'``, ``'sum'``,
    ``'max'``, ``'attention'``; the last needs :obj:`channels`)."""
    key = name.lower().replace('-', '_')
    if key not in READOUTS:
        raise ValueError(f"Unknown readout '{name}'; choose one of "
                         f"{sorted(READOUTS)}")
    if key == 'attention':
        if channels is None:
            raise ValueError("The attention readout needs 'channels'")
        return AttentionReadout(channels)
    return READOUTS[key]()
