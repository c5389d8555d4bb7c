r"""Projection and prediction heads (SimCLR, GRACE, BGRL)."""
from typing import Union, Callable

import torch
from torch import Tensor

from .encoders import make_activation

__all__ = ['ProjectionHead']


class ProjectionHead(torch.nn.Module):
    r"""Two-layer MLP head :math:`g` used on top of an encoder for the
    contrastive loss and thrown away afterwards:

    .. math::
        g(\mathbf{h}) = \mathbf{W}_2\,\sigma(\mathbf{W}_1 \mathbf{h})

    Args:
        in_channels (int): Input width.
        hidden_channels (int): Hidden width.
        out_channels (int): Output width.
        act (str or callable, optional): Activation. (default: ``'elu'``)
        batch_norm (bool, optional): Batch norm after the first layer.
            (default: ``False``)

    Shapes:
        - **input:** :math:`(N, F_{in})`
        - **output:** :math:`(N, F_{out})`
    """
    def __init__(self, in_channels: int, hidden_channels: int,
                 out_channels: int, act: Union[str, Callable] = 'elu',
                 batch_norm: bool = False):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.lin1 = torch.nn.Linear(in_channels, hidden_channels)
        self.norm = (torch.nn.BatchNorm1d(hidden_channels)
                     if batch_norm else torch.nn.Identity())
        self.act = make_activation(act, hidden_channels)
        self.lin2 = torch.nn.Linear(hidden_channels, out_channels)

    def reset_parameters(self):
        for m in (self.lin1, self.norm, self.act, self.lin2):
            if hasattr(m, 'reset_parameters'):
                m.reset_parameters()

    def forward(self, h: Tensor) -> Tensor:
        return self.lin2(self.act(self.norm(self.lin1(h))))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, '
                f'{self.out_channels})')
