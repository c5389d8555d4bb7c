r"""Graph-level encoders: a node encoder whose every layer is pooled per
graph, the pooled vectors concatenated (InfoGraph's and GraphCL's
readout)."""
from typing import Optional, Tuple, Union

import torch
from torch import Tensor
from torch.nn import Module

from .encoders import GNNEncoder
from .readouts import Readout, get_readout

__all__ = ['GraphEncoder']


class GraphEncoder(Module):
    r"""Embeds whole graphs with a stacked-convolution encoder: the node
    embeddings of every layer :math:`l = 1..L` are pooled per graph by
    :obj:`readout` and concatenated,

    .. math::
        \mathbf{h}_g = \Big\Vert_{l=1}^{L} \mathrm{READOUT}\left(
        \{\mathbf{h}_i^{(l)} : i \in g\}\right), \qquad
        \mathbf{h}_i = \Big\Vert_{l=1}^{L} \mathbf{h}_i^{(l)},

    as in InfoGraph (`Sun et al., ICLR 2020
    <https://arxiv.org/abs/1908.01000>`_, a sum readout over a GIN) and
    GraphCL. The node embeddings :math:`\mathbf{h}_i` (the per-layer
    embeddings concatenated the same way) are returned too: local-global
    objectives contrast them with :math:`\mathbf{h}_g`.

    Args:
        gnn (GNNEncoder): The node encoder (its layers run one at a time,
            :meth:`GNNEncoder.layer`), e.g.
            :class:`~graphcl.nn.GINEncoder`.
        readout (str or Readout, optional): Pooling per graph and layer:
            :obj:`"sum"`, :obj:`"mean"`, :obj:`"max"` or a
            :class:`~graphcl.nn.Readout`. (default: :obj:`"sum"`)

    Shapes:
        - **input:** node features :math:`(|\mathcal{V}|, F)`, edge indices
          :math:`(2, |\mathcal{E}|)`, graph index of every node
          :math:`(|\mathcal{V}|)` (PyG's ``batch`` vector; :obj:`None`: one
          graph), optional number of graphs :math:`G` (graphs without
          nodes at the end of the batch count only through it)
        - **output:** graph embeddings :math:`(G, L \cdot D)` and node
          embeddings :math:`(|\mathcal{V}|, L \cdot D)`
    """
    def __init__(self, gnn: GNNEncoder, readout: Union[str, Readout] = 'sum'):
        super().__init__()
        if not isinstance(gnn, GNNEncoder):
            raise TypeError(f"'gnn' must be a graphcl.nn.GNNEncoder (its "
                            f"layers are pooled one by one), got "
                            f"{type(gnn).__name__}")
        self.gnn = gnn
        self.readout = (get_readout(readout) if isinstance(readout, str)
                        else readout)
        self.in_channels = gnn.in_channels
        self.out_channels = gnn.num_layers * gnn.hidden_channels

    def reset_parameters(self):
        r"""Resets all learnable parameters of the module."""
        self.gnn.reset_parameters()
        if hasattr(self.readout, 'reset_parameters'):
            self.readout.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor,
                batch: Optional[Tensor] = None,
                num_graphs: Optional[int] = None
                ) -> Tuple[Tensor, Tensor]:
        if batch is None:
            batch = torch.zeros(x.size(0), dtype=torch.long, device=x.device)
            num_graphs = 1 if num_graphs is None else num_graphs
        if batch.dim() != 1 or batch.numel() != x.size(0):
            raise ValueError(f"'batch' must give the graph of every node, "
                             f"shape [{x.size(0)}], got {tuple(batch.shape)}")
        if num_graphs is None:
            num_graphs = int(batch.max()) + 1 if batch.numel() else 0
        if num_graphs < 1:
            raise ValueError("The batch holds no graphs; give at least one "
                             "graph with at least one node")
        xs = []
        for i in range(self.gnn.num_layers):
            x = self.gnn.layer(i, x, edge_index)
            xs.append(x)
        pooled = [self.readout(h, batch=batch, size=num_graphs) for h in xs]
        return torch.cat(pooled, dim=-1), torch.cat(xs, dim=-1)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.gnn}, '
                f'readout={self.readout})')
