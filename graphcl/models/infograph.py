r"""InfoGraph (`Sun et al., ICLR 2020 <https://arxiv.org/abs/1908.01000>`_):
unsupervised graph representations by maximising the mutual information
between graph embeddings and the embeddings of their nodes."""
from typing import Optional

import torch
from torch import Tensor
from torch.nn import Module

from ..losses import jsd_loss
from ..nn import GINEncoder, GraphEncoder
from ..nn.init import xavier_linear_
from .base import GraphMethod

__all__ = ['InfoGraph', 'ResidualMLP', 'local_global_jsd', 'build_infograph']


class ResidualMLP(Module):
    r"""InfoGraph's discriminator head (``FF`` in its ``model.py``): three
    linear-ReLU layers plus a linear shortcut, all of width :math:`D`,

    .. math::
        f(\mathbf{h}) = \mathrm{ReLU}(\mathbf{W}_3\,\mathrm{ReLU}(
        \mathbf{W}_2\,\mathrm{ReLU}(\mathbf{W}_1\mathbf{h})))
        + \mathbf{W}_s\mathbf{h}

    (biases omitted).

    Args:
        channels (int): Width :math:`D`.

    Shapes:
        - **input:** :math:`(N, D)`
        - **output:** :math:`(N, D)`
    """
    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.block = torch.nn.Sequential(
            torch.nn.Linear(channels, channels), torch.nn.ReLU(),
            torch.nn.Linear(channels, channels), torch.nn.ReLU(),
            torch.nn.Linear(channels, channels), torch.nn.ReLU())
        self.shortcut = torch.nn.Linear(channels, channels)

    def reset_parameters(self):
        for m in self.modules():
            if isinstance(m, torch.nn.Linear):
                m.reset_parameters()

    def forward(self, h: Tensor) -> Tensor:
        return self.block(h) + self.shortcut(h)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.channels})'


def local_global_jsd(local: Tensor, global_: Tensor, batch: Tensor) -> Tensor:
    r"""InfoGraph's local-global objective: every node is scored against
    every graph of the batch by a dot product; a node and its own graph
    form a positive pair, a node and each other graph a negative one, and
    the Jensen-Shannon estimator :func:`graphcl.losses.jsd_loss` averages
    each kind separately:

    .. math::
        s_{ig} = \mathbf{l}_i^{\top}\mathbf{g}_g, \qquad
        \mathcal{L} = \frac{1}{N}\sum_{i}\mathrm{softplus}(-s_{i,b(i)})
        + \frac{1}{N(G-1)}\sum_{i}\sum_{g \neq b(i)}
        \mathrm{softplus}(s_{ig})

    where :math:`b(i)` is node :math:`i`'s graph. The reference code's
    ``local_global_loss_`` (measure ``'JSD'``) returns this minus the
    constant :math:`2\log 2`: the same gradients.

    Args:
        local (Tensor): Node embeddings :math:`(N, D)`.
        global_ (Tensor): Graph embeddings :math:`(G, D)`.
        batch (Tensor): The graph of every node :math:`(N)`, in
            :math:`[0, G)`.

    Raises:
        ValueError: For fewer than two graphs (no negative pairs), no
            nodes, or shapes that do not match.
    """
    if local.dim() != 2 or global_.dim() != 2 or \
            local.size(1) != global_.size(1):
        raise ValueError(f"'local' [N, D] and 'global_' [G, D] must share "
                         f"D, got {tuple(local.shape)} and "
                         f"{tuple(global_.shape)}")
    if batch.dim() != 1 or batch.numel() != local.size(0):
        raise ValueError(f"'batch' must give the graph of each of the "
                         f"{local.size(0)} nodes, got {tuple(batch.shape)}")
    num_graphs = global_.size(0)
    if num_graphs < 2:
        raise ValueError(f"The local-global objective contrasts each node "
                         f"with the other graphs of its batch, but the batch "
                         f"holds {num_graphs} graph(s); give at least two "
                         f"graphs per batch")
    if local.size(0) == 0:
        raise ValueError("The batch holds no nodes; give graphs with nodes")
    scores = local @ global_.t()  # [N, G]
    own = torch.nn.functional.one_hot(batch, num_graphs).bool()
    return jsd_loss(scores[own], scores[~own])


class InfoGraph(GraphMethod):
    r"""InfoGraph (`Sun et al., ICLR 2020
    <https://arxiv.org/abs/1908.01000>`_): a graph encoder whose graph
    embedding :math:`\mathbf{h}_g` (every layer's sum-pooled nodes,
    concatenated, :class:`~graphcl.nn.GraphEncoder`) and node embeddings
    :math:`\mathbf{h}_i` (every layer's, concatenated) are mapped by two
    heads and contrasted across the batch (:func:`local_global_jsd`):

    .. math::
        \mathcal{L} = \mathcal{L}_{JSD}\left(
        \{(f_l(\mathbf{h}_i), f_g(\mathbf{h}_g))\}\right)

    The frozen graph embeddings :math:`\mathbf{h}_g` are evaluated.

    Args:
        encoder (GraphEncoder): The graph encoder.
        local_head (Module, optional): :math:`f_l`. (default:
            :class:`ResidualMLP`)
        global_head (Module, optional): :math:`f_g`. (default:
            :class:`ResidualMLP`)
    """
    def __init__(self, encoder: GraphEncoder,
                 local_head: Optional[Module] = None,
                 global_head: Optional[Module] = None):
        super().__init__()
        self.encoder = encoder
        d = encoder.out_channels
        self.local_head = ResidualMLP(d) if local_head is None else \
            local_head
        self.global_head = ResidualMLP(d) if global_head is None else \
            global_head

    def objective(self, batch) -> Tensor:
        r"""The loss of one mini-batch of graphs (a PyG ``Batch``)."""
        g, h = self.encoder(batch.x, batch.edge_index, batch.batch,
                            batch.num_graphs)
        return local_global_jsd(self.local_head(h), self.global_head(g),
                                batch.batch)

    @torch.no_grad()
    def embed(self, batch) -> Tensor:
        r"""Frozen graph embeddings :math:`(G, L \cdot D)` of a PyG
        ``Batch`` (the encoder in eval mode)."""
        was_training = self.training
        self.eval()
        try:
            return self.encoder(batch.x, batch.edge_index, batch.batch,
                                batch.num_graphs)[0]
        finally:
            self.train(was_training)


def build_infograph(in_channels: int, hidden: int = 32, layers: int = 3,
                    readout: str = 'sum', seed: Optional[int] = None
                    ) -> InfoGraph:
    r"""InfoGraph as in its official code (``unsupervised/``): a GIN of
    :obj:`layers` layers of width :obj:`hidden` (MLP linear-ReLU-linear,
    then ReLU, then batch norm), every layer sum-pooled and concatenated,
    :class:`ResidualMLP` heads, Xavier-uniform linear weights with zero
    biases. :obj:`seed` is accepted for the engine (InfoGraph draws
    nothing at random besides its initial weights, which follow the
    global seed)."""
    for name, value in (('hidden', hidden), ('layers', layers)):
        if isinstance(value, bool) or not isinstance(value, int) or \
                value < 1:
            raise ValueError(f"'{name}' must be a positive integer, got "
                             f"{value!r}")
    if readout not in ('sum', 'mean', 'max'):
        raise ValueError(f"'readout' must be 'sum', 'mean' or 'max', got "
                         f"{readout!r}")
    gnn = GINEncoder(in_channels, hidden, num_layers=layers, act='relu',
                     norm='after')
    model = InfoGraph(GraphEncoder(gnn, readout))
    xavier_linear_(model)
    return model
