r"""GRACE: Deep Graph Contrastive Representation Learning (`Zhu et al., 2020
<https://arxiv.org/abs/2006.04131>`_), wired from graphcl's parts.

Two views of the graph, each with its own edge-dropping and feature-masking
rates (:class:`~graphcl.corruptions.EdgeDrop`,
:class:`~graphcl.corruptions.FeatureMask`), one shared GCN encoder, a
projection head :math:`g` and NT-Xent with intra- and inter-view negatives,
symmetrised over the two views (:func:`graphcl.losses.nt_xent`, computed
in blocks so memory stays :math:`O(ND + BN)`). Defaults and per-dataset
presets come from GRACE's ``config.yaml`` (Cora, CiteSeer) and GCA's
``param/*.json`` (Amazon, Coauthor; the settings BGRL and GCA report GRACE
with).

The fast path: on CPU, PyG's ``GCNConv`` spends a full-batch step
gathering and scatter-adding one message per edge and channel. Where it
computes the same function, :meth:`GRACE.objective` instead normalises each
view's graph once (PyG's ``gcn_norm``) into a CSR matrix and runs every
layer as one sparse-dense product (:mod:`graphcl.models.gcn_views`, as
BGRL does; measured in ``benchmarks/results/grace_fast_path.md``).
Mostly-zero features (bag-of-words, under 10 % non-zero) are masked and
multiplied as CSR rows. The views come from the same random draws
(edge dropping, feature masks) on either path, so the loss and the
gradients are the plain path's up to float summation order. The path is
refused, and the plain one taken, unless the encoder is exactly a
:class:`~graphcl.nn.GCNEncoder` (:class:`GRACEEncoder` is one) that
overrides neither ``forward`` nor ``layer``, of exact PyG ``GCNConv``
layers (default flow, sum aggregation, ``normalize=True``, equal
``improved``/``add_self_loops`` in every layer, no cache), without
dropout while training, hooks or autocast, on features and edge weights
that need no gradient (:meth:`GRACE.fast_path_refusal` names the reason).
``fast_path = False`` turns it off.

Where this differs from the reference code, on purpose:

* ``act='prelu'`` learns one slope per channel and layer (GRACE's code
  shares one slope between its layers).
* The linear probe is :func:`graphcl.eval.linear_probe`, not GRACE's.
"""
from typing import Callable, Optional, Union

import torch
from torch import Tensor
from torch.nn import Module

from ..corruptions import Compose, EdgeDrop, FeatureMask
from ..losses import nt_xent
from ..nn.encoders import GCNEncoder, make_activation
from ..nn.heads import ProjectionHead
from ..validation import check_int, check_positive, check_prob
from .two_view import TwoViewMethod
from .grace_spec import GRACE_DEFAULTS, METHOD  # noqa: F401 (re-exported)

__all__ = ['GRACE', 'GRACEEncoder', 'build_grace', 'GRACE_DEFAULTS',
           'METHOD']

#: GCA's ``rrelu`` is ``F.rrelu(x)``, whose default ``training=False`` makes
#: it a leaky ReLU with the mean slope of RReLU's range [1/8, 1/3]; ``act=
#: 'rrelu'`` means that deterministic activation here.
RRELU_EVAL_SLOPE = (1 / 8 + 1 / 3) / 2


class GRACEEncoder(GCNEncoder):
    r"""GRACE's encoder: :obj:`num_layers` GCN layers, every inner one
    :math:`2D` wide and the last one :math:`D`, each followed by the
    activation:

    .. math::
        \mathbf{H}^{(l+1)} = \sigma\left(\hat{\mathbf{D}}^{-1/2}
        \hat{\mathbf{A}} \hat{\mathbf{D}}^{-1/2} \mathbf{H}^{(l)}
        \mathbf{W}^{(l)}\right), \qquad
        \mathbf{W}^{(l)} \in \mathbb{R}^{\cdot \times 2D}\ (l < L - 1),
        \quad \mathbf{W}^{(L-1)} \in \mathbb{R}^{2D \times D}

    A :class:`~graphcl.nn.GCNEncoder` (layer by layer, layer-wise
    inference), whose :obj:`out_channels` is :math:`D`.

    Args:
        in_channels (int): Input feature width :math:`F`.
        out_channels (int): Embedding width :math:`D`.
        num_layers (int, optional): Number of GCN layers. (default: ``2``)
        act (str or callable, optional): Activation after every layer
            (``'relu'``, ``'prelu'``, ``'rrelu'`` (see
            :data:`RRELU_EVAL_SLOPE`), ``'elu'``, ...). (default:
            ``'relu'``)

    Shapes:
        - **input:** node features :math:`(N, F)`, edge indices
          :math:`(2, E)`, optional edge weights :math:`(E)`
        - **output:** node embeddings :math:`(N, D)`
    """
    def __init__(self, in_channels: int, out_channels: int,
                 num_layers: int = 2,
                 act: Union[str, Callable, None] = 'relu'):
        if not isinstance(out_channels, int) or out_channels < 1:
            raise ValueError(f"'out_channels' must be a positive integer, "
                             f"got {out_channels!r}")
        inner = 2 * out_channels if num_layers > 1 else out_channels
        if isinstance(act, str) and act.lower() == 'rrelu':
            act = torch.nn.LeakyReLU(RRELU_EVAL_SLOPE)
        super().__init__(in_channels, inner, num_layers, act=act)
        if num_layers > 1:  # the last layer narrows 2D -> D
            self.convs[-1] = self.init_conv(inner, out_channels)
            self.acts[-1] = make_activation(act, out_channels)
            self.reset_parameters()
        self.out_channels = out_channels

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, '
                f'{self.out_channels}, num_layers={self.num_layers})')


class GRACE(TwoViewMethod):
    r"""GRACE (`Zhu et al., 2020 <https://arxiv.org/abs/2006.04131>`_).

    Each step draws two views :math:`\tilde G_1, \tilde G_2` of the graph
    (edges dropped with probability :math:`p_{e,v}`, feature columns masked
    with probability :math:`p_{f,v}`, per view :math:`v`), embeds both with
    the shared encoder :math:`f`, projects them with :math:`g` and
    minimises

    .. math::
        \mathcal{L} = \frac{1}{2N} \sum_{i=1}^{N} \left[
        \ell(\mathbf{u}_i, \mathbf{v}_i) + \ell(\mathbf{v}_i,
        \mathbf{u}_i)\right], \qquad
        \ell(\mathbf{u}_i, \mathbf{v}_i) = -\log
        \frac{e^{\theta(\mathbf{u}_i, \mathbf{v}_i)/\tau}}
        {e^{\theta(\mathbf{u}_i, \mathbf{v}_i)/\tau}
        + \sum_{k \neq i} e^{\theta(\mathbf{u}_i, \mathbf{v}_k)/\tau}
        + \sum_{k \neq i} e^{\theta(\mathbf{u}_i, \mathbf{u}_k)/\tau}}

    with :math:`\mathbf{u} = g(f(\tilde G_1))`,
    :math:`\mathbf{v} = g(f(\tilde G_2))` and :math:`\theta` the cosine
    similarity: :func:`graphcl.losses.nt_xent` over the :math:`2N` rows.

    Args:
        encoder (Module): The shared encoder :math:`f`
            ``(x, edge_index[, edge_weight]) -> [N, D]``.
        projector (Module): The projection head :math:`g`
            ``[N, D] -> [N, D']``.
        view1 (Module): The corruption drawing the first view from
            ``(x, edge_index[, edge_weight])``, e.g.
            ``Compose([EdgeDrop(0.2), FeatureMask(0.3)])``.
        view2 (Module): The corruption drawing the second view.
        tau (float, optional): Temperature :math:`\tau > 0`.
            (default: ``0.5``)
        block_size (int, optional): Rows per block of the loss
            (:func:`graphcl.losses.gram_logsumexp`); ``0`` computes one
            dense :math:`2N \times 2N` matrix. (default: ``512``)
    """
    def __init__(self, encoder: Module, projector: Module, view1: Module,
                 view2: Module, tau: float = 0.5, block_size: int = 512):
        tau = check_positive(tau, "'tau'", 'the temperature')
        if isinstance(block_size, bool) or not isinstance(block_size, int) \
                or block_size < 0:
            raise ValueError(f"'block_size' must be an integer >= 0 (rows "
                             f"per block of the loss; 0: one dense matrix), "
                             f"got {block_size!r}")
        super().__init__(encoder, view1, view2)
        self.projector = projector
        self.tau = tau
        self.block_size = block_size

    def loss(self, z1: Tensor, z2: Tensor) -> Tensor:
        r"""GRACE's loss of the embeddings :obj:`z1`, :obj:`z2` ``[N, D]``
        of two views (rows paired)."""
        return nt_xent(self.projector(z1), self.projector(z2), self.tau,
                       block_size=self.block_size or None)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.encoder!r}, '
                f'tau={self.tau})')


def build_grace(in_channels: int, hidden: int, proj_hidden: int,
                layers: int, act: str, edge_drop_1: float,
                edge_drop_2: float, feature_mask_1: float,
                feature_mask_2: float, tau: float, block_size: int,
                seed: Optional[int] = None) -> GRACE:
    r"""GRACE from its options (see :data:`METHOD`); :obj:`seed` seeds the
    two views' corruptions (one private generator), :obj:`None` uses the
    global RNG."""
    check_int(hidden, "'hidden'", what='embedding width')
    check_int(proj_hidden, "'proj_hidden'", what='projection width')
    check_int(layers, "'layers'", what='GCN layers')
    rates = {name: check_prob(value, f"'{name}'") for name, value in (
        ('edge_drop_1', edge_drop_1), ('edge_drop_2', edge_drop_2),
        ('feature_mask_1', feature_mask_1),
        ('feature_mask_2', feature_mask_2))}
    check_positive(tau, "'tau'", 'the temperature')
    gen = None if seed is None else torch.Generator().manual_seed(int(seed))
    views = [Compose([EdgeDrop(rates[f'edge_drop_{v}'], generator=gen),
                      FeatureMask(rates[f'feature_mask_{v}'], generator=gen)])
             for v in (1, 2)]
    encoder = GRACEEncoder(in_channels, hidden, layers, act)
    projector = ProjectionHead(hidden, proj_hidden, hidden, act='elu')
    return GRACE(encoder, projector, views[0], views[1], tau=tau,
                 block_size=block_size)
