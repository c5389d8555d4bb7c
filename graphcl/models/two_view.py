r"""The shared part of two-view methods: two corrupted views of the graph
embedded by one shared encoder and compared by a loss of the two
embeddings (:class:`~graphcl.models.grace.GRACE`: NT-Xent;
:class:`~graphcl.models.cca_ssg.CCASSG`: a canonical-correlation
objective). A method subclasses :class:`TwoViewMethod` and defines
:meth:`TwoViewMethod.loss`; the full-batch step (with the CSR fast path of
:mod:`graphcl.models.gcn_views` where it computes the same function), the
mini-batch step and the embeddings are this module's.
"""
from typing import Optional

import torch
from torch import Tensor
from torch.nn import Module

from .base import GraphMethod, encoder_inputs
from .gcn_views import (GCNViewsEmbed, SparseFeatureCache, draw_gcn_views,
                        gcn_view_refusal)
from .minibatch import (check_views_keep_nodes, encode_seeds, sampled_hops,
                        subgraph_views)

__all__ = ['TwoViewMethod']


class TwoViewMethod(GCNViewsEmbed, GraphMethod):
    r"""Base class of methods that draw two views :math:`\tilde G_1 =
    t_1(G)`, :math:`\tilde G_2 = t_2(G)` each step, embed both with one
    shared encoder :math:`f` and minimise a loss
    :math:`\mathcal{L}(f(\tilde G_1), f(\tilde G_2))` of the two embeddings
    (rows paired by node). Subclasses define :meth:`loss`.

    Args:
        encoder (Module): The shared encoder :math:`f`
            ``(x, edge_index[, edge_weight]) -> [N, D]``.
        view1 (Module): The corruption :math:`t_1` drawing the first view
            from ``(x, edge_index[, edge_weight])``, e.g.
            ``Compose([EdgeDrop(0.2), FeatureMask(0.3)])``.
        view2 (Module): The corruption :math:`t_2` drawing the second view.

    The full-batch step takes the CSR path of
    :mod:`graphcl.models.gcn_views` where :meth:`fast_path_refusal`
    accepts both views (the same random draws; the plain path's loss and
    gradients up to float summation order). ``fast_path = False`` turns
    it off.
    """
    supports_minibatch = True
    supports_sparse_features = True  # minibatch_objective: CSR batch.x
    #: Two-view losses compare a seed with the other seeds (NT-Xent) or
    #: standardise over them (CCA-SSG): a batch of one seed is skipped.
    min_batch_size = 2

    def __init__(self, encoder: Module, view1: Module, view2: Module):
        super().__init__()
        self.encoder = encoder
        self.view1 = view1
        self.view2 = view2
        #: Whether :meth:`objective` may take the CSR path where it computes
        #: the same function (:meth:`fast_path_refusal`). Not an option of
        #: the method: it changes no result, only the float summation order.
        self.fast_path = True
        self._feature_rows = SparseFeatureCache()

    def loss(self, z1: Tensor, z2: Tensor) -> Tensor:
        r"""The loss of the embeddings :obj:`z1`, :obj:`z2` ``[N, D]`` of
        the two views (rows paired)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not define loss(z1, z2)")

    def fast_path_refusal(self, view: tuple) -> Optional[str]:
        r"""Why a view ``(x, edge_index[, edge_weight])`` is not encoded
        through its normalised CSR adjacency
        (:mod:`graphcl.models.gcn_views`: the same function, faster on
        CPU), or :obj:`None` when it is."""
        if not self.fast_path:
            return 'fast_path is off'
        return gcn_view_refusal((self.encoder, ), view)

    def objective(self, data) -> Tensor:
        r"""The loss of one full-batch step on :obj:`data` (through the
        fast path where :meth:`fast_path_refusal` accepts both views)."""
        self.check_input(data.x, data.edge_index, data)
        views, encode = draw_gcn_views(
            (self.view1, self.view2), encoder_inputs(data),
            self.fast_path_refusal, self.encoder,
            self._feature_rows if self.fast_path else None)
        check_views_keep_nodes(views, data.x.size(0))
        return self.loss(*(encode(self.encoder, v) for v in views))

    def minibatch_objective(self, batch) -> Tensor:
        r"""The loss on a sampled subgraph: both views are drawn from the
        subgraph (sparse feature rows stay sparse,
        :func:`~graphcl.models.minibatch.corrupt_subgraph`) and the first
        ``batch.batch_size`` rows, the seeds, are compared."""
        hops = sampled_hops(batch)
        views = subgraph_views((self.view1, self.view2), batch)
        # The seeds are the first rows of each view only while a view keeps
        # every node of the subgraph.
        check_views_keep_nodes(views, batch.x.size(0))
        z = [encode_seeds(self.encoder, x, edge_index, batch.batch_size,
                          _kept_hops(hops, kept), edge_weight=ew)
             for x, edge_index, ew, kept in views]
        return self.loss(z[0], z[1])


def _kept_hops(hops, kept: Tensor):
    # Per-hop edge counts of a sampled subgraph after an edge selection
    # that keeps the edges' order (kept: ascending edge ids); None (no
    # trimming, the same result) for any other selection.
    if hops is None or (kept.numel() > 1 and
                        bool((kept[1:] <= kept[:-1]).any())):
        return None
    nodes, edges = hops
    bounds = torch.tensor([0] + [int(e) for e in edges],
                          device=kept.device).cumsum(0)
    return nodes, torch.searchsorted(kept, bounds).diff().tolist()
