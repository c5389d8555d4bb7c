r"""GCN encoders on a view's graph through one normalised CSR adjacency:
the fast path of two-view methods whose views drop edges every step
(:class:`~graphcl.models.bgrl.BGRL`, :class:`~graphcl.models.grace.GRACE`;
:func:`draw_gcn_views` draws their views and picks the path).

PyG's ``GCNConv`` propagates by gathering, weighting and scatter-adding
one message per edge and channel, in three passes over an :math:`E \times D`
tensor (and their backward passes). Here each view's graph is normalised
once per step by PyG's own :func:`~torch_geometric.nn.conv.gcn_conv.gcn_norm`
(the same self-loops and degrees), stored as a CSR matrix
:math:`\hat{\mathbf{A}}` with its transpose, and every layer of every
encoder that reads the view (online and target) is

.. math::
    \mathbf{H}^{(l+1)} = \sigma\left(\hat{\mathbf{A}} (\mathbf{H}^{(l)}
    \mathbf{W}^{(l)}) + \mathbf{b}^{(l)}\right)

one sparse-dense product (backward: :math:`\hat{\mathbf{A}}^\top
\mathbf{G}`), the same function up to float summation order: duplicate
edges are summed as the scatter sums them. Measured on Amazon-Photo
(one thread, CPU time per training step): BGRL's preset 0.62-0.79 s
against 3.3 s; GRACE's, see ``benchmarks/results/grace_fast_path.md``.

The path is taken only where it computes what the plain path computes
(:func:`gcn_view_refusal` says why not otherwise): exactly
:class:`~graphcl.nn.GCNEncoder` (or a subclass that overrides neither
``forward`` nor ``layer``) of exactly PyG ``GCNConv`` layers with the
default flow, sum aggregation, normalisation on and alike in every layer,
no cache, a bias-free PyG ``Linear``, no dropout while training, no hooks,
no autocast, dense or CSR features that need no gradient. Mostly-zero
features are multiplied as CSR (:class:`SparseFeatureCache`).
"""
from typing import Callable, List, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch.nn import Module
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from ..nn.encoders import GCNEncoder, GNNEncoder
from ..sampling.features import densify, is_sparse_rows, mostly_zero, \
    to_sparse_rows
# The DGI fast path's CSR product (backward with the transpose), CSR
# builder and checks for hooks, monkey-patched methods and autocast.
from .dgi_fast import _csr_pair, _hooks_anywhere, \
    _overridden, _SpMM, gcn_layers_refusal, graph_input_refusal
from .minibatch import _sparse_linear, corrupt_subgraph
from .stamp import TensorStamp

__all__ = ['gcn_view_refusal', 'view_adjacency', 'gcn_view_forward',
           'gcn_embed', 'GCNViewsEmbed', 'SparseFeatureCache',
           'draw_gcn_views']

Adjacency = Tuple[Tensor, Tensor]


def _encoder_refusal(enc: Module) -> Optional[str]:
    if not isinstance(enc, GCNEncoder) or \
            type(enc).forward is not GNNEncoder.forward or \
            type(enc).layer is not GNNEncoder.layer or \
            _overridden(enc, 'forward', 'layer'):
        return 'the encoder is not a GCNEncoder with its own forward/layer'
    if any(getattr(c, 'normalize', True) is False for c in enc.convs):
        return 'GCNConv(normalize=False)'
    return gcn_layers_refusal(enc) or _hooks_anywhere(enc)


def gcn_view_refusal(encoders, inputs: tuple) -> Optional[str]:
    r"""Why :func:`gcn_view_forward` would not compute what the
    :obj:`encoders` compute on the view :obj:`inputs` ``(x, edge_index[,
    edge_weight])``, or :obj:`None` when it would."""
    for enc in encoders:
        why = _encoder_refusal(enc)
        if why is not None:
            return why
    if len(inputs) not in (2, 3):
        return 'the encoder inputs are not (x, edge_index[, edge_weight])'
    x, edge_index = inputs[0], inputs[1]
    edge_weight = inputs[2] if len(inputs) > 2 else None
    weight = encoders[0].convs[0].lin.weight
    if not isinstance(x, Tensor) or x.dim() != 2 or x.size(0) == 0 or \
            x.layout not in (torch.strided, torch.sparse_csr):
        return 'x is not a dense or CSR 2-D tensor with nodes'
    if x.dtype != weight.dtype or x.device != weight.device:
        return "x's dtype or device differs from the weights'"
    return graph_input_refusal(x, edge_index, edge_weight)


def view_adjacency(encoder: GCNEncoder, inputs: tuple) -> Adjacency:
    r"""The normalised adjacency of a view's graph as the encoder's layers
    normalise it (PyG's ``gcn_norm`` with their ``improved`` and
    ``add_self_loops``): CSR :math:`\hat{\mathbf{A}}` (row :math:`i`: the
    edges into node :math:`i`) and its transpose."""
    x, edge_index = inputs[0], inputs[1]
    edge_weight = inputs[2] if len(inputs) > 2 and \
        encoder.supports_edge_weight else None
    conv = encoder.convs[0]
    n = x.size(0)
    edge_index, weight = gcn_norm(edge_index, edge_weight, n, conv.improved,
                                  conv.add_self_loops, conv.flow, x.dtype)
    return _csr_pair(edge_index[1], edge_index[0], weight, (n, n))


def gcn_view_forward(encoder: GCNEncoder, x: Tensor,
                     adjacency: Adjacency) -> Tensor:
    r"""The encoder's output on features :obj:`x` over the graph whose
    :func:`view_adjacency` is :obj:`adjacency` (check
    :func:`gcn_view_refusal` first)."""
    a, a_t = adjacency
    for conv, act in zip(encoder.convs, encoder.acts):
        h = _sparse_linear(conv.lin, x) if is_sparse_rows(x) else conv.lin(x)
        x = act(_SpMM.apply(a, a_t, h, conv.bias))
    return x


def gcn_embed(encoder: Module, inputs: tuple,
              features: Optional[Callable[[], Optional[Tensor]]] = None,
              adjacency: Optional[Adjacency] = None) -> Optional[Tensor]:
    r"""``encoder(*inputs)`` on one graph as sparse products
    (:func:`gcn_view_forward`) where :func:`gcn_view_refusal` accepts the
    encoder and the inputs, else :obj:`None` (the caller runs the encoder
    as it is). One pass in the plain path's order, so any activation module
    runs as it would there. No per-edge messages: on Coauthor-Physics, at
    512 channels, PyG's ``GCNConv`` holds a 2.2 GiB message tensor where
    this holds two :math:`(N, D)` ones.

    Args:
        features (callable, optional): Returns the CSR form of the
            features to multiply instead of ``inputs[0]`` (the same
            values), or :obj:`None`; called only once the path is taken.
        adjacency (tuple, optional): The graph's :func:`view_adjacency`,
            when already built."""
    if gcn_view_refusal([encoder], inputs) is not None:
        return None
    rows = features() if features is not None else None
    if adjacency is None:
        adjacency = view_adjacency(encoder, inputs)
    return gcn_view_forward(encoder, inputs[0] if rows is None else rows,
                            adjacency)


class GCNViewsEmbed:
    r"""Mixin of the two-view methods on this path (GRACE, BGRL): their
    :meth:`~graphcl.models.GraphMethod.embed` runs the encoder through
    :func:`gcn_embed` while ``fast_path`` is on, with the mostly-zero
    features' CSR rows of the training steps (``_feature_rows``, a
    :class:`SparseFeatureCache`)."""
    def encode(self, inputs: tuple) -> Tensor:
        if self.fast_path:
            z = gcn_embed(self.encoder, inputs,
                          lambda: self._feature_rows(inputs[0]))
            if z is not None:
                return z
        return super().encode(inputs)


class SparseFeatureCache:
    r"""The CSR form (:func:`~graphcl.sampling.features.to_sparse_rows`) of
    mostly-zero dense features (bag-of-words: Coauthor-Physics has 0.4 %
    non-zero), or :obj:`None` for denser ones, kept while the very same
    feature tensor comes back unchanged (:class:`TensorStamp`). Views
    drawn from the CSR rows by
    :func:`~graphcl.models.minibatch.corrupt_subgraph` stay sparse (the
    same random draws), and :func:`gcn_view_forward` multiplies them as
    CSR: the first layer's product and the masked copies cost the
    non-zeros, not :math:`N \times F`."""
    def __init__(self):
        self.stamp = TensorStamp()
        self.rows: Optional[Tensor] = None

    def __call__(self, x: Tensor) -> Optional[Tensor]:
        if not self.stamp.matches((x, )):
            self.stamp.clear()
            self.rows = None
            if x.layout == torch.strided and x.is_floating_point() and \
                    not x.requires_grad and mostly_zero(x):
                self.rows = to_sparse_rows(x)
            self.stamp.set((x, ))
        return self.rows

    def __deepcopy__(self, memo) -> 'SparseFeatureCache':
        return SparseFeatureCache()


def _encode_plain(encoder: Module, view: tuple) -> Tensor:
    return encoder(*view)


def _encode_fast(encoder: GCNEncoder, view: tuple) -> Tensor:
    return gcn_view_forward(encoder, *view)


def draw_gcn_views(corruptions: Sequence[Module], inputs: tuple,
                   refusal: Callable[[tuple], Optional[str]],
                   encoder: GCNEncoder,
                   cache: Optional[SparseFeatureCache] = None,
                   ) -> Tuple[List[tuple], Callable[[Module, tuple], Tensor]]:
    r"""One view per corruption of the graph :obj:`inputs` ``(x,
    edge_index[, edge_weight])``, drawn in order with the plain path's
    random draws, and ``encode(encoder, view)``, the function that embeds
    a view with any encoder that reads it.

    * Where :obj:`refusal` (``view -> reason or None``, e.g. a method's
      ``fast_path_refusal``) accepts every view, each view is ``(x,
      adjacency)``, its graph normalised once (:func:`view_adjacency`
      with :obj:`encoder`'s options) for all the encoders that read it,
      and ``encode`` is :func:`gcn_view_forward`.
    * Otherwise the views are the corruptions' outputs and ``encode``
      calls the encoder on them, as the plain path does.

    Features given as CSR, and with a :obj:`cache` (:obj:`None` when the
    fast path is off) mostly-zero dense features, are corrupted as CSR rows
    (:func:`~graphcl.models.minibatch.corrupt_subgraph`: the same draws,
    views kept sparse) and densified if a view is refused."""
    # CSR rows only where the inputs themselves would be accepted: no wasted
    # conversion for an encoder the path refuses anyway.
    # Features given as CSR are corrupted as CSR rows whatever the path.
    rows = inputs[0] if is_sparse_rows(inputs[0]) else \
        cache(inputs[0]) if cache is not None and \
        refusal(inputs) is None else None
    if rows is not None:
        views = [corrupt_subgraph(c, rows, *inputs[1:]) for c in corruptions]
        if any(refusal(v) is not None for v in views):
            views = [(densify(v[0]), ) + tuple(v[1:]) for v in views]
    else:
        views = [c(*inputs) for c in corruptions]
    if any(refusal(v) is not None for v in views):
        return views, _encode_plain
    return [(v[0], view_adjacency(encoder, v)) for v in views], _encode_fast
