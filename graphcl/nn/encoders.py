r"""GNN encoders built on PyG's convolutions.

Every encoder maps ``(x, edge_index, edge_weight=None)`` to node embeddings
of width :obj:`hidden_channels`, and exposes its layers as :obj:`convs` and
:obj:`acts` so that layer-wise (mini-batch) inference can run them one at a
time.

Why not PyG's :class:`~torch_geometric.nn.models.BasicGNN`: it leaves the
last layer without activation and shares one activation module across
layers, while DGI-style encoders apply an activation after every layer,
each with its own learnable slopes (PReLU). Activations are still resolved
by PyG's :func:`~torch_geometric.nn.resolver.activation_resolver`, and the
layers are PyG's convolutions, unchanged. :func:`get_encoder` and the other
``get_*`` functions resolve graphcl's own part names (``'gcn'``,
``'sigmoid_mean'``, ``'jsd'``...), which PyG's resolvers do not know.
"""
from typing import Any, Callable, Optional, Union

import torch
from torch import Tensor
from torch.nn import Module, ModuleList
from torch_geometric.nn import GATConv, GCNConv, GINConv, SAGEConv
from torch_geometric.nn.resolver import activation_resolver

from .activations import PReLU

__all__ = ['GNNEncoder', 'GCNEncoder', 'SAGEEncoder', 'GATEncoder',
           'GINEncoder', 'ENCODERS', 'get_encoder']


def make_activation(act: Union[str, Callable, None], channels: int) -> Module:
    r"""Resolves an activation by name; ``'prelu'`` gets one learnable slope
    per channel, as in DGI."""
    if act is None:
        return torch.nn.Identity()
    if isinstance(act, str) and act.lower() == 'prelu':
        return PReLU(channels)
    if isinstance(act, Module):
        return act
    return activation_resolver(act)


class GNNEncoder(Module):
    r"""Base class of the stacked-convolution encoders:

    .. math::
        \mathbf{H}^{(l+1)} = \sigma\left(\mathrm{Conv}^{(l)}
        (\mathbf{H}^{(l)}, \mathbf{A})\right), \qquad
        \mathbf{H}^{(0)} = \mathbf{X}

    Subclasses implement :meth:`init_conv`.

    Args:
        in_channels (int): Input feature width :math:`F`.
        hidden_channels (int, optional): Width of every layer's output
            :math:`D`. (default: ``512``)
        num_layers (int, optional): Number of convolutions. (default: ``1``)
        act (str or callable, optional): Activation after every layer
            (``'prelu'``, ``'relu'``, ``'elu'``, ...). (default: ``'prelu'``)
        dropout (float, optional): Dropout on each layer's input.
            (default: ``0.0``)
        **kwargs: Passed to every convolution.

    Shapes:
        - **input:** node features :math:`(|\mathcal{V}|, F)`, edge indices
          :math:`(2, |\mathcal{E}|)`, optional edge weights
          :math:`(|\mathcal{E}|)`
        - **output:** node embeddings :math:`(|\mathcal{V}|, D)`
    """
    supports_edge_weight: bool = False

    def __init__(self, in_channels: int, hidden_channels: int = 512,
                 num_layers: int = 1, act: Union[str, Callable, None] = 'prelu',
                 dropout: float = 0.0, **kwargs: Any):
        super().__init__()
        for name, value in (('in_channels', in_channels),
                            ('hidden_channels', hidden_channels),
                            ('num_layers', num_layers)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"'{name}' must be a positive integer, "
                                 f"got {value!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"'dropout' must be in [0, 1), got {dropout}")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.out_channels = hidden_channels
        self.num_layers = num_layers
        self.dropout = dropout
        self.convs = ModuleList()
        self.acts = ModuleList()
        for i in range(num_layers):
            c_in = in_channels if i == 0 else hidden_channels
            self.convs.append(self.init_conv(c_in, hidden_channels, **kwargs))
            self.acts.append(make_activation(act, hidden_channels))
        self.reset_parameters()

    def init_conv(self, in_channels: int, out_channels: int,
                  **kwargs: Any) -> Module:
        raise NotImplementedError

    def reset_conv(self, conv: Module):
        r"""Resets one convolution (PyG's initialisation)."""
        conv.reset_parameters()

    def reset_parameters(self):
        r"""Resets all learnable parameters of the module."""
        for conv in self.convs:
            self.reset_conv(conv)
        for act in self.acts:
            if hasattr(act, 'reset_parameters'):
                act.reset_parameters()

    def layer(self, i: int, x: Tensor, edge_index: Tensor,
              edge_weight: Optional[Tensor] = None) -> Tensor:
        r"""Runs layer :obj:`i` alone (convolution, then activation)."""
        if self.dropout > 0:
            x = torch.nn.functional.dropout(x, self.dropout, self.training)
        if edge_weight is not None and self.supports_edge_weight:
            x = self.convs[i](x, edge_index, edge_weight)
        else:
            x = self.convs[i](x, edge_index)
        return self.acts[i](x)

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        for i in range(self.num_layers):
            x = self.layer(i, x, edge_index, edge_weight)
        return x

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, '
                f'{self.hidden_channels}, num_layers={self.num_layers})')


class GCNEncoder(GNNEncoder):
    r"""GCN encoder (`Kipf and Welling, 2017
    <https://arxiv.org/abs/1609.02907>`_); with the defaults (one layer, 512
    channels, PReLU) it is DGI's transductive encoder:

    .. math::
        \mathbf{H} = \mathrm{PReLU}\left(\hat{\mathbf{D}}^{-1/2}
        \hat{\mathbf{A}} \hat{\mathbf{D}}^{-1/2} \mathbf{X} \mathbf{W}\right)

    See :class:`GNNEncoder` for the arguments (``**kwargs`` go to every
    :class:`~torch_geometric.nn.GCNConv`, e.g. ``improved``,
    ``add_self_loops``, ``normalize``, ``bias``). The weights are PyG's:
    plain row-major parameters, which DGI's fast path reads as they are.
    """
    supports_edge_weight = True

    def init_conv(self, in_channels, out_channels, **kwargs):
        return GCNConv(in_channels, out_channels, **kwargs)


class SAGEEncoder(GNNEncoder):
    r"""GraphSAGE encoder (`Hamilton et al., 2017
    <https://arxiv.org/abs/1706.02216>`_), DGI's inductive encoder:

    .. math::
        \mathbf{h}_i' = \sigma\left(\mathbf{W}_1 \mathbf{h}_i +
        \mathbf{W}_2 \cdot \mathrm{mean}_{j \in \mathcal{N}(i)}
        \mathbf{h}_j\right)

    See :class:`GNNEncoder` for the arguments.
    """
    def init_conv(self, in_channels, out_channels, **kwargs):
        return SAGEConv(in_channels, out_channels, **kwargs)


class GATEncoder(GNNEncoder):
    r"""GAT encoder (`Veličković et al., 2018
    <https://arxiv.org/abs/1710.10903>`_). The :obj:`heads` attention heads
    are concatenated, so each head has :obj:`hidden_channels // heads`
    channels.

    .. math::
        \mathbf{h}_i' = \Big\Vert_{k=1}^{K} \sum_{j \in \mathcal{N}(i)
        \cup \{i\}} \alpha_{ij}^k \mathbf{W}^k \mathbf{h}_j

    Args:
        heads (int, optional): Number of attention heads. (default: ``4``)

    The other arguments are those of :class:`GNNEncoder`.
    """
    def __init__(self, in_channels: int, hidden_channels: int = 512,
                 num_layers: int = 1, act='elu', dropout: float = 0.0,
                 heads: int = 4, **kwargs):
        if hidden_channels % heads != 0:
            raise ValueError(f"'hidden_channels' ({hidden_channels}) must be "
                             f"divisible by 'heads' ({heads})")
        self.heads = heads
        super().__init__(in_channels, hidden_channels, num_layers, act,
                         dropout, **kwargs)

    def init_conv(self, in_channels, out_channels, **kwargs):
        return GATConv(in_channels, out_channels // self.heads,
                       heads=self.heads, concat=True, **kwargs)


class _ActThenNorm(Module):
    # An activation followed by batch norm: the layer ending of InfoGraph's
    # and GraphCL's GIN (x = bn(relu(conv(x)))).
    def __init__(self, act: Module, channels: int):
        super().__init__()
        self.act = act
        self.norm = torch.nn.BatchNorm1d(channels)

    def reset_parameters(self):
        if hasattr(self.act, 'reset_parameters'):
            self.act.reset_parameters()
        self.norm.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(self.act(x))


class GINEncoder(GNNEncoder):
    r"""GIN encoder (`Xu et al., 2019 <https://arxiv.org/abs/1810.00826>`_),
    the usual encoder of graph-level methods (InfoGraph, GraphCL):

    .. math::
        \mathbf{h}_i' = \mathrm{MLP}\left((1 + \epsilon)\mathbf{h}_i +
        \sum_{j \in \mathcal{N}(i)} \mathbf{h}_j\right)

    with a two-layer MLP per layer. Where its batch norm sits is
    :obj:`norm`:

    * :obj:`"mlp"`: inside the MLP (linear, batch norm, ReLU, linear), then
      the activation, as in PyG's GIN example;
    * :obj:`"after"`: an MLP of linear, ReLU, linear, then the activation,
      then batch norm, as in InfoGraph's and GraphCL's ``gin.py``
      (:math:`\mathbf{H}' = \mathrm{BN}(\sigma(\mathrm{GIN}(\mathbf{H})))`).

    Args:
        norm (str, optional): :obj:`"mlp"` or :obj:`"after"`.
            (default: :obj:`"mlp"`)

    The other arguments are those of :class:`GNNEncoder`.
    """
    NORMS = ('mlp', 'after')

    def __init__(self, in_channels: int, hidden_channels: int = 512,
                 num_layers: int = 3, act='relu', dropout: float = 0.0,
                 norm: str = 'mlp', **kwargs):
        if norm not in self.NORMS:
            raise ValueError(f"'norm' must be one of {list(self.NORMS)} "
                             f"(batch norm inside the MLP, or after the "
                             f"activation), got {norm!r}")
        self.norm = norm
        super().__init__(in_channels, hidden_channels, num_layers, act,
                         dropout, **kwargs)
        if norm == 'after':
            for i, a in enumerate(self.acts):
                self.acts[i] = _ActThenNorm(a, hidden_channels)
            self.reset_parameters()

    def init_conv(self, in_channels, out_channels, **kwargs):
        layers = [torch.nn.Linear(in_channels, out_channels)]
        if self.norm == 'mlp':
            layers.append(torch.nn.BatchNorm1d(out_channels))
        layers += [torch.nn.ReLU(), torch.nn.Linear(out_channels,
                                                    out_channels)]
        return GINConv(torch.nn.Sequential(*layers), **kwargs)

    def __repr__(self) -> str:
        norm = '' if self.norm == 'mlp' else f', norm={self.norm!r}'
        return (f'{self.__class__.__name__}({self.in_channels}, '
                f'{self.hidden_channels}, num_layers={self.num_layers}'
                f'{norm})')


ENCODERS = {
    'gcn': GCNEncoder,
    'sage': SAGEEncoder,
    'graphsage': SAGEEncoder,
    'gat': GATEncoder,
    'gin': GINEncoder,
}


def get_encoder(name: str, in_channels: int, **kwargs) -> GNNEncoder:
    r"""Builds an encoder by name (``'gcn'``, ``'sage'``, ``'gat'``,
    ``'gin'``)."""
    key = name.lower()
    if key not in ENCODERS:
        raise ValueError(f"Unknown encoder '{name}'; choose one of "
                         f"{sorted(set(ENCODERS))}")
    return ENCODERS[key](in_channels, **kwargs)
