r"""The GAT of GraphMAE's official code (github.com/THUDM/GraphMAE,
``graphmae/models/gat.py``), as a :class:`~graphcl.nn.GATEncoder` with the
options that code adds: a normalisation between each convolution and its
activation, residual connections, attention dropout, one PReLU slope per
layer and the code's initialisation."""
import math
from typing import Any, Callable, Optional, Union

import torch
from torch import Tensor
from torch.nn import Module, ModuleList

from .activations import PReLU
from .encoders import GATEncoder

__all__ = ['GraphMAEGAT', 'NORMS', 'aggregate_first', 'can_aggregate_first']

#: Normalisations between a convolution and its activation.
NORMS = ('none', 'layernorm', 'batchnorm')


def _make_norm(norm: str, channels: int) -> Module:
    if norm == 'layernorm':
        return torch.nn.LayerNorm(channels)
    if norm == 'batchnorm':
        return torch.nn.BatchNorm1d(channels)
    return torch.nn.Identity()


def can_aggregate_first(conv: Module, x: Tensor) -> bool:
    r"""Whether :func:`aggregate_first` computes :obj:`conv` on :obj:`x`
    with narrower messages: a plain :class:`~torch_geometric.nn.GATConv`
    (one shared projection, PyG's bias-free
    :class:`~torch_geometric.nn.dense.linear.Linear`, no edge features, no
    hooks or replaced methods, on it or its submodules: the projection's
    weight is read, not called) whose heads are each wider than its
    input."""
    from torch_geometric.nn import GATConv
    from torch_geometric.nn.dense.linear import Linear
    if type(conv) is not GATConv or conv.lin is None or \
            conv.edge_dim is not None or not isinstance(x, Tensor) or \
            x.dim() != 2 or x.is_sparse:
        return False
    if type(conv.lin) is not Linear or conv.lin.bias is not None:
        return False
    for module in conv.modules():  # conv, its projection, its residual
        if any(value and key.endswith('hooks') and isinstance(value, dict)
               for key, value in vars(module).items()):
            return False
        if any(name in vars(module) for name in (
                'forward', 'propagate', 'message', 'edge_update', 'lin')):
            return False
    from torch.nn.modules import module as _module
    if any(getattr(_module, name, True) for name in (
            '_global_forward_hooks', '_global_forward_pre_hooks',
            '_global_backward_hooks', '_global_backward_pre_hooks')):
        return False
    return conv.in_channels < conv.out_channels


def aggregate_first(conv: Module, x: Tensor, edge_index: Tensor,
                    rows: Optional[Tensor] = None) -> Tensor:
    r"""A :class:`~torch_geometric.nn.GATConv` with concatenated or
    averaged heads, computed by aggregating the inputs before projecting
    them (linearity of the projection :math:`\mathbf{W}^k`):

    .. math::
        \sum_{j} \alpha_{ij}^k \mathbf{W}^k \mathbf{x}_j =
        \mathbf{W}^k \sum_{j} \alpha_{ij}^k \mathbf{x}_j, \qquad
        e_{ij}^k = \mathrm{LeakyReLU}\left(
        (\mathbf{W}^{k\top} \mathbf{a}_s^k)^\top \mathbf{x}_j +
        (\mathbf{W}^{k\top} \mathbf{a}_d^k)^\top \mathbf{x}_i\right)

    The per-edge messages are :math:`K \times F_\mathrm{in}` wide instead
    of :math:`K \times C`. Self-loops, softmax, attention dropout (one
    draw of the same shape, so the same mask from the same random state),
    residual and bias are PyG's."""
    from torch_geometric.utils import add_self_loops, remove_self_loops
    from torch_geometric.utils import softmax, scatter
    n = x.size(0)
    h, c = conv.heads, conv.out_channels
    weight = conv.lin.weight.view(h, c, -1)             # [H, C, F]
    att_src = torch.einsum('hcf,hc->hf', weight, conv.att_src[0])
    att_dst = torch.einsum('hcf,hc->hf', weight, conv.att_dst[0])
    if conv.add_self_loops:
        edge_index, _ = remove_self_loops(edge_index)
        edge_index, _ = add_self_loops(edge_index, num_nodes=n)
    src, dst = edge_index[0], edge_index[1]
    logits = (x @ att_src.t())[src] + (x @ att_dst.t())[dst]  # [E, H]
    alpha = torch.nn.functional.leaky_relu(logits, conv.negative_slope)
    alpha = softmax(alpha, dst, num_nodes=n)
    alpha = torch.nn.functional.dropout(alpha, p=conv.dropout,
                                        training=conv.training)
    m, x_dst = n, x
    if rows is not None:  # the edges into rows, renumbered 0..len(rows)-1
        where = torch.full((n,), -1, dtype=torch.long, device=x.device)
        where[rows] = torch.arange(rows.numel(), device=x.device)
        into = where[dst]
        keep = into >= 0
        src, dst, alpha = src[keep], into[keep], alpha[keep]
        m, x_dst = rows.numel(), x[rows]
    if h == 1:
        agg = scatter(x[src] * alpha, dst, dim=0, dim_size=m, reduce='sum')
        out = (agg @ conv.lin.weight.t()).view(m, 1, c)
    else:
        msg = x[src].unsqueeze(1) * alpha.unsqueeze(-1)   # [E, H, F]
        agg = scatter(msg, dst, dim=0, dim_size=m, reduce='sum')
        out = torch.einsum('nhf,hcf->nhc', agg, weight)
    out = out.reshape(m, h * c) if conv.concat else out.mean(dim=1)
    if conv.res is not None:
        out = out + conv.res(x_dst)
    if conv.bias is not None:
        out = out + conv.bias
    return out


class GraphMAEGAT(GATEncoder):
    r"""GAT layers as GraphMAE's code stacks them (`Hou et al., KDD 2022
    <https://arxiv.org/abs/2205.10803>`_): each layer drops input features,
    runs a multi-head :class:`~torch_geometric.nn.GATConv` (attention
    coefficients dropped with :obj:`attn_dropout`, heads concatenated,
    optionally a residual projection), normalises and applies the
    activation:

    .. math::
        \mathbf{H}^{(l+1)} = \sigma\left(\mathrm{Norm}\left(
        \Big\Vert_{k=1}^{K} \sum_{j \in \mathcal{N}(i) \cup \{i\}}
        \alpha_{ij}^k \mathbf{W}^k \mathrm{drop}(\mathbf{h}_j^{(l)})
        + \mathbf{b} \,[+\, \mathbf{W}_r \mathrm{drop}(
        \mathbf{h}_i^{(l)})]\right)\right)

    GraphMAE's encoder is this with an activation after every layer; its
    decoder is one layer, one head, ``act=None``, ``norm='none'``.

    Args:
        in_channels (int): Input feature width :math:`F`.
        hidden_channels (int): Output width of every layer :math:`D`
            (all heads together: each head has :math:`D / K` channels).
        num_layers (int, optional): Number of layers. (default: ``2``)
        heads (int, optional): Attention heads :math:`K` per layer.
            (default: ``4``)
        act (str or callable, optional): Activation after every layer;
            ``'prelu'`` learns one slope per layer, as the code's
            ``nn.PReLU()``; :obj:`None` for none. (default: ``'prelu'``)
        dropout (float, optional): Dropout on each layer's input
            (the code's ``in_drop``). (default: ``0.0``)
        attn_dropout (float, optional): Dropout on the attention
            coefficients (``attn_drop``). (default: ``0.0``)
        norm (str, optional): ``'none'``, ``'layernorm'`` or
            ``'batchnorm'`` after each convolution. (default: ``'none'``)
        residual (bool, optional): Add a linear projection of each layer's
            input (PyG's ``GATConv(residual=True)``). (default:
            :obj:`False`)
        negative_slope (float, optional): LeakyReLU slope of the attention
            logits. (default: ``0.2``)
        fast_path (bool, optional): Let layers whose heads are wider than
            their input aggregate before projecting
            (:func:`aggregate_first`: the same values and gradients, and
            per-edge messages as wide as the input: GraphMAE's decoder
            reconstructs thousands of features from :math:`D`).
            (default: :obj:`True`)

    The weights are initialised as in the code: Xavier-normal with gain
    :math:`\sqrt 2` for the projections and attention vectors, zero
    biases.

    Shapes:
        - **input:** node features :math:`(N, F)`, edge indices
          :math:`(2, E)`
        - **output:** node embeddings :math:`(N, D)`
    """
    def __init__(self, in_channels: int, hidden_channels: int,
                 num_layers: int = 2, heads: int = 4,
                 act: Union[str, Callable, None] = 'prelu',
                 dropout: float = 0.0, attn_dropout: float = 0.0,
                 norm: str = 'none', residual: bool = False,
                 negative_slope: float = 0.2, fast_path: bool = True,
                 **kwargs: Any):
        if norm not in NORMS:
            raise ValueError(f"'norm' must be one of {list(NORMS)}, got "
                             f"{norm!r}")
        if not 0.0 <= attn_dropout < 1.0:
            raise ValueError(f"'attn_dropout' must be in [0, 1), got "
                             f"{attn_dropout!r}")
        self.norm = norm
        self.fast_path = bool(fast_path)
        self.residual = bool(residual)
        self.attn_dropout = float(attn_dropout)
        shared_prelu = isinstance(act, str) and act.lower() == 'prelu'
        super().__init__(in_channels, hidden_channels, num_layers,
                         act=None if shared_prelu else act, dropout=dropout,
                         heads=heads, dropout_attention=attn_dropout,
                         residual=self.residual,
                         negative_slope=negative_slope, **kwargs)
        if shared_prelu:
            self.acts = ModuleList(PReLU(1) for _ in range(num_layers))
        self.norms = ModuleList(_make_norm(norm, hidden_channels)
                                for _ in range(num_layers))
        self.reset_parameters()

    def init_conv(self, in_channels, out_channels, dropout_attention=0.0,
                  **kwargs):
        from torch_geometric.nn import GATConv
        return GATConv(in_channels, out_channels // self.heads,
                       heads=self.heads, concat=True,
                       dropout=dropout_attention, **kwargs)

    def reset_conv(self, conv: Module):
        gain = math.sqrt(2.0)  # nn.init.calculate_gain('relu')
        torch.nn.init.xavier_normal_(conv.lin.weight, gain=gain)
        torch.nn.init.xavier_normal_(conv.att_src, gain=gain)
        torch.nn.init.xavier_normal_(conv.att_dst, gain=gain)
        if conv.res is not None:
            torch.nn.init.xavier_normal_(conv.res.weight, gain=gain)
        if conv.bias is not None:
            torch.nn.init.zeros_(conv.bias)

    def reset_parameters(self):
        super().reset_parameters()
        for norm in getattr(self, 'norms', ()):
            if hasattr(norm, 'reset_parameters'):
                norm.reset_parameters()

    def layer(self, i: int, x: Tensor, edge_index: Tensor,
              edge_weight: Optional[Tensor] = None) -> Tensor:
        r"""Runs layer :obj:`i` alone (input dropout, convolution,
        normalisation, activation); GAT takes no edge weights. A layer
        whose heads are wider than its input aggregates first
        (:func:`aggregate_first`, the same result)."""
        if self.dropout > 0:
            x = torch.nn.functional.dropout(x, self.dropout, self.training)
        conv = self.convs[i]
        if self.fast_path and can_aggregate_first(conv, x):
            x = aggregate_first(conv, x, edge_index)
        else:
            x = conv(x, edge_index)
        return self.acts[i](self.norms[i](x))

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor] = None,
                rows: Optional[Tensor] = None) -> Tensor:
        r"""The embeddings ``[N, D]``, or with :obj:`rows` (node indices)
        those rows only, ``[len(rows), D]``: the same values as
        ``forward(x, edge_index)[rows]``, the last layer computing only the
        rows asked for where it can (:func:`aggregate_first`; not under
        batch norm, whose statistics are over all rows)."""
        last = self.num_layers - 1
        for i in range(last):
            x = self.layer(i, x, edge_index)
        if rows is None:
            return self.layer(last, x, edge_index)
        if self.norm == 'batchnorm' or not self.fast_path or \
                type(self).layer is not GraphMAEGAT.layer or \
                'layer' in vars(self):  # a layer of its own: run it
            return self.layer(last, x, edge_index)[rows]
        if self.dropout > 0:
            x = torch.nn.functional.dropout(x, self.dropout, self.training)
        conv = self.convs[last]
        if can_aggregate_first(conv, x):
            x = aggregate_first(conv, x, edge_index, rows)
        else:
            x = conv(x, edge_index)[rows]
        return self.acts[last](self.norms[last](x))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, '
                f'{self.hidden_channels}, num_layers={self.num_layers}, '
                f'heads={self.heads}, norm={self.norm!r}, '
                f'residual={self.residual})')
