r"""GraphCL: Graph Contrastive Learning with Augmentations (`You et al.,
NeurIPS 2020 <https://arxiv.org/abs/2010.13902>`_), graph-level, as in its
unsupervised TU code (``unsupervised_TU/gsimclr.py``).

Every graph of a mini-batch is seen in two views, each drawn per graph by
a :mod:`graphcl.graph_augment` augmentation (in the reference code the
first view is the graph itself and the second one of ``random2`` /
``random3`` / ``random4``); one GIN encoder with every layer sum-pooled and
concatenated (:class:`~graphcl.nn.GraphEncoder`) embeds both, a projection
head maps them, and NT-Xent with inter-view negatives only
(:func:`inter_view_nt_xent`) pulls each graph's two views together. The
frozen encoder's graph embeddings are evaluated.

Where this differs from the reference code, on purpose:

* No self-loops are added to the graphs. ``TUDataset_aug.get`` adds a
  self-loop to every node but the one with the largest index (an off-by-one
  there) in the first view and in evaluation, and ``gsimclr.py`` removes
  them from node-dropped and subgraph views.
* The subgraph augmentation grows its neighbourhood as the subgraph grows
  (:class:`~graphcl.graph_augment.Subgraph`), and edge perturbation adds as
  many random edges as it removes (the paper's definition); see those
  classes.
"""
from typing import Optional

import torch
from torch import Tensor
from torch.nn import Module

from ..graph_augment import GRAPH_AUGMENTATIONS, get_graph_augmentation
from ..losses import _paired_views, check_temperature
from ..nn import GINEncoder, GraphEncoder
from ..nn.init import xavier_linear_
from ..nn.heads import ProjectionHead
from ..validation import check_positive, check_prob
from .base import GraphMethod
from .graph_cl_spec import GRAPHCL_DEFAULTS, METHOD  # noqa: F401

__all__ = ['GraphCL', 'inter_view_nt_xent', 'build_graphcl',
           'GRAPHCL_DEFAULTS', 'METHOD']


def inter_view_nt_xent(z1: Tensor, z2: Tensor, temperature: float = 0.2,
                       normalize: bool = True) -> Tensor:
    r"""NT-Xent with inter-view negatives only, from view 1 to view 2:
    GraphCL's unsupervised loss (``simclr.loss_cal`` in its
    ``unsupervised_TU/gsimclr.py``).

    Row :math:`i` of :obj:`z1` is paired with row :math:`i` of :obj:`z2`;
    its negatives are the *other rows of* :obj:`z2` only (no intra-view
    negatives, unlike :func:`graphcl.losses.nt_xent`), and the positive is
    not in the denominator:

    .. math::
        \ell_i = -\log \frac{e^{\theta(\mathbf{z}^1_i, \mathbf{z}^2_i)/\tau}}
        {\sum_{k \neq i} e^{\theta(\mathbf{z}^1_i, \mathbf{z}^2_k)/\tau}},
        \qquad \mathcal{L} = \frac{1}{N}\sum_{i=1}^{N} \ell_i

    with :math:`\theta` the cosine similarity (computed with
    ``logsumexp``; the loss can be negative). The two views are checked and
    normalised as :func:`graphcl.losses.nt_xent` does.

    Args:
        z1 (Tensor): First view ``[N, D]``, :math:`N \geq 2`.
        z2 (Tensor): Second view ``[N, D]``.
        temperature (float, optional): :math:`\tau > 0`. (default: ``0.2``,
            the reference's ``T``)
        normalize (bool, optional): L2-normalise the rows first (cosine
            similarity). (default: :obj:`True`)

    Returns:
        The scalar loss.
    """
    check_temperature(temperature)
    z = _paired_views(z1, z2, normalize)
    n = z1.size(0)
    sim = (z[:n] @ z[n:].t()) / temperature
    eye = torch.eye(n, dtype=torch.bool, device=sim.device)
    return (torch.logsumexp(sim.masked_fill(eye, float('-inf')), dim=1) -
            sim.diagonal()).mean()


class GraphCL(GraphMethod):
    r"""GraphCL (`You et al., NeurIPS 2020
    <https://arxiv.org/abs/2010.13902>`_) for graph-level embeddings.

    For a mini-batch of :math:`N` graphs, two views
    :math:`\tilde G^1_i = t_1(G_i)`, :math:`\tilde G^2_i = t_2(G_i)` are
    drawn per graph, embedded by the shared encoder :math:`f` and projected
    by :math:`g`, and

    .. math::
        \mathcal{L} = -\frac{1}{N}\sum_{i=1}^{N} \log
        \frac{e^{\theta(\mathbf{z}^1_i, \mathbf{z}^2_i)/\tau}}
        {\sum_{k \neq i} e^{\theta(\mathbf{z}^1_i, \mathbf{z}^2_k)/\tau}},
        \qquad \mathbf{z}^v_i = g(f(\tilde G^v_i))

    (:func:`inter_view_nt_xent`). :meth:`embed` returns :math:`f(G)`.

    Args:
        encoder (Module): Graph encoder ``(x, edge_index, batch,
            num_graphs) -> (graph embeddings [G, D], ...)``, e.g.
            :class:`~graphcl.nn.GraphEncoder`.
        projector (Module): Projection head :math:`g` ``[G, D] -> [G, D']``.
        view1 (Module, optional): Augmentation :math:`t_1` of a PyG
            ``Batch`` (a :class:`~graphcl.graph_augment.GraphAugmentation`);
            :obj:`None` for the graph itself. (default: :obj:`None`)
        view2 (Module, optional): Augmentation :math:`t_2`. (default:
            :obj:`None`)
        tau (float, optional): Temperature :math:`\tau > 0`.
            (default: ``0.2``)

    A mini-batch needs at least two graphs (each graph's negatives are the
    other graphs of its batch); graphs without nodes are refused.
    """
    def __init__(self, encoder: Module, projector: Module,
                 view1: Optional[Module] = None,
                 view2: Optional[Module] = None, tau: float = 0.2):
        super().__init__()
        self.encoder = encoder
        self.projector = projector
        self.view1 = view1
        self.view2 = view2
        self.tau = check_positive(tau, "'tau'", 'the temperature')

    def check_graphs(self, batch, min_graphs: int = 1) -> None:
        r"""Raises a :class:`ValueError` saying what is wrong with the
        mini-batch :obj:`batch`: node features and edges as
        :meth:`~graphcl.models.GraphMethod.check_input` checks them, fewer
        than :obj:`min_graphs` graphs, or a graph without nodes."""
        num_graphs = int(getattr(batch, 'num_graphs', 1) or 0) if \
            batch.get('batch') is not None else 1
        if num_graphs < min_graphs:
            need = ('its negatives are the other graphs of the batch: use '
                    'a batch size of at least 2, and one that does not '
                    'leave a last batch of a single graph (or drop it)'
                    if min_graphs > 1 else 'give at least one graph')
            raise ValueError(f"GraphCL got a batch of {num_graphs} "
                             f"graph(s); {need}")
        self.check_input(batch.x, batch.edge_index)
        b = batch.get('batch')
        if b is not None:
            sizes = torch.bincount(b, minlength=num_graphs)
            if sizes.numel() != num_graphs or bool((sizes == 0).any()):
                empty = (sizes == 0).nonzero().view(-1).tolist()
                raise ValueError(f"The batch holds graphs without nodes "
                                 f"(graphs {empty[:5]} of {num_graphs}); "
                                 f"GraphCL embeds graphs by their nodes: "
                                 f"remove empty graphs from the dataset")

    def _encode(self, batch) -> Tensor:
        b = batch.get('batch')  # None: a single graph (a Data)
        num_graphs = getattr(batch, 'num_graphs', 1) if b is not None else 1
        return self.encoder(batch.x, batch.edge_index, b, num_graphs)[0]

    def _view(self, view: Optional[Module], batch):
        return batch if view is None else view(batch)

    def loss(self, g1: Tensor, g2: Tensor) -> Tensor:
        r"""GraphCL's loss of the graph embeddings :obj:`g1`, :obj:`g2`
        ``[G, D]`` of the two views (rows paired)."""
        return inter_view_nt_xent(self.projector(g1), self.projector(g2),
                                  self.tau)

    def objective(self, batch) -> Tensor:
        r"""The loss of one mini-batch of graphs (a PyG ``Batch`` of at
        least two graphs)."""
        self.check_graphs(batch, min_graphs=2)
        g1 = self._encode(self._view(self.view1, batch))
        g2 = self._encode(self._view(self.view2, batch))
        return self.loss(g1, g2)

    @torch.no_grad()
    def embed(self, batch) -> Tensor:
        r"""Frozen graph embeddings ``[G, D]`` of a PyG ``Batch`` (the
        encoder in eval mode, no augmentation)."""
        self.check_graphs(batch)
        was_training = self.training
        self.eval()
        try:
            return self._encode(batch)
        finally:
            self.train(was_training)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.encoder!r}, '
                f'view1={self.view1!r}, view2={self.view2!r}, '
                f'tau={self.tau})')


def build_graphcl(in_channels: int, hidden: int = 32, layers: int = 3,
                  aug1: str = 'none', aug2: str = 'random2',
                  aug_ratio: float = 0.1, subgraph_ratio: float = 0.2,
                  add_edges: bool = True, tau: float = 0.2,
                  seed: Optional[int] = None) -> GraphCL:
    r"""GraphCL as in its unsupervised TU code: a GIN of :obj:`layers`
    layers of width :obj:`hidden` (MLP linear-ReLU-linear, then ReLU, then
    batch norm), every layer sum-pooled and concatenated (:math:`D =`
    ``layers * hidden``), a projection head linear-ReLU-linear of width
    :math:`D`, Xavier-uniform linear weights with zero biases (the
    reference's ``init_emb``), views :obj:`aug1` and :obj:`aug2` named as
    in its code (:func:`~graphcl.graph_augment.get_graph_augmentation`).
    :obj:`seed` seeds the augmentations (one private generator);
    :obj:`None` uses the global RNG."""
    for name, value in (('hidden', hidden), ('layers', layers)):
        if isinstance(value, bool) or not isinstance(value, int) or \
                value < 1:
            raise ValueError(f"'{name}' must be a positive integer, got "
                             f"{value!r}")
    for name, value in (('aug1', aug1), ('aug2', aug2)):
        if not isinstance(value, str) or value.lower().replace(
                '-', '_') not in GRAPH_AUGMENTATIONS:
            raise ValueError(f"'{name}' must name one of GraphCL's "
                             f"augmentations {list(GRAPH_AUGMENTATIONS)}, "
                             f"got {value!r}")
    check_prob(aug_ratio, "'aug_ratio'")
    check_prob(subgraph_ratio, "'subgraph_ratio'")
    if not isinstance(add_edges, bool):
        raise ValueError(f"'add_edges' must be True or False, got "
                         f"{add_edges!r}")
    check_positive(tau, "'tau'", 'the temperature')
    gen = None if seed is None else torch.Generator().manual_seed(int(seed))
    views = [get_graph_augmentation(a, aug_ratio, subgraph_ratio, add_edges,
                                    generator=gen) for a in (aug1, aug2)]
    encoder = GraphEncoder(GINEncoder(in_channels, hidden, num_layers=layers,
                                      act='relu', norm='after'), 'sum')
    d = encoder.out_channels
    model = GraphCL(encoder, ProjectionHead(d, d, d, act='relu'), views[0],
                    views[1], tau=tau)
    xavier_linear_(model)
    return model
