r"""CCA-SSG: From Canonical Correlation Analysis to Self-supervised Graph
Neural Networks (`Zhang et al., NeurIPS 2021
<https://arxiv.org/abs/2106.12484>`_), wired from graphcl's parts.

Two views of the graph drawn with the same rates (edges dropped,
:class:`~graphcl.corruptions.EdgeDrop`; feature columns masked,
:class:`~graphcl.corruptions.FeatureMask`), one shared encoder, and
:func:`graphcl.losses.cca_ssg_loss` on the two embeddings standardised per
column: no projector, no negatives, no asymmetric networks. The encoder is
a GCN whose last layer has no activation (:class:`CCASSGEncoder`), or the
MLP of :class:`~graphcl.nn.MLPEncoder` (``encoder='mlp'``, the official
command for Coauthor-CS). The full-batch step, the CSR fast path and the
mini-batch step are :class:`~graphcl.models.two_view.TwoViewMethod`'s, as
GRACE's.

Defaults and per-dataset presets come from the official code
(github.com/hengruizhang98/CCA-SSG: ``main.py``'s defaults and the
README's command per dataset). Where this differs from it:

* The graph of a view is normalised by PyG's ``gcn_norm`` (self-loops
  added, degrees counted on the edges into each node). The reference code
  uses DGL's ``GraphConv(norm='both')``, which takes the source's
  out-degree; the two agree on undirected graphs and differ slightly on a
  view whose edges were dropped one direction at a time.
* The embeddings are computed in eval mode (the MLP's batch norm uses its
  running statistics; the reference code embeds in training mode).
* The linear probe is :func:`graphcl.eval.linear_probe` (the reference
  code trains an Adam logistic regression for 2,000 epochs with its own
  learning rate and weight decay, ``--lr2``/``--wd2``, and reports the
  test accuracy of its best validation epoch).
* Features are row-normalised by :func:`graphcl.run_experiment` unless
  ``normalize_features=False``; DGL gives the reference code row-normalised
  features for Cora, CiteSeer and PubMed and raw ones for Amazon and
  Coauthor.
"""
from typing import Callable, Optional, Union

import torch
from torch import Tensor
from torch.nn import Module

from ..corruptions import Compose, EdgeDrop, FeatureMask
from ..losses import cca_ssg_loss, check_decorrelation_weight
from ..nn.encoders import GCNEncoder, GNNEncoder
from ..nn.mlp_encoder import MLPEncoder
from ..validation import check_int, check_prob
from .cca_ssg_spec import CCA_SSG_DEFAULTS, METHOD  # noqa: F401 (re-exported)
from .two_view import TwoViewMethod

__all__ = ['CCASSG', 'CCASSGEncoder', 'build_cca_ssg', 'CCA_SSG_DEFAULTS',
           'METHOD']


class CCASSGEncoder(GCNEncoder):
    r"""CCA-SSG's GCN encoder: :obj:`num_layers` GCN layers of width
    :math:`D`, an activation after every layer but the last:

    .. math::
        \mathbf{H}^{(l+1)} = \sigma\left(\hat{\mathbf{D}}^{-1/2}
        \hat{\mathbf{A}} \hat{\mathbf{D}}^{-1/2} \mathbf{H}^{(l)}
        \mathbf{W}^{(l)}\right)\ (l < L - 1), \qquad
        \mathbf{H}^{(L)} = \hat{\mathbf{D}}^{-1/2} \hat{\mathbf{A}}
        \hat{\mathbf{D}}^{-1/2} \mathbf{H}^{(L-1)} \mathbf{W}^{(L-1)}

    A :class:`~graphcl.nn.GCNEncoder` (layer by layer, layer-wise
    inference) whose last activation is the identity.

    Args:
        in_channels (int): Input feature width :math:`F`.
        hidden_channels (int): Width :math:`D` of every layer.
        num_layers (int, optional): Number of GCN layers. (default: ``2``)
        act (str or callable, optional): Activation between layers.
            (default: ``'relu'``)

    Shapes:
        - **input:** node features :math:`(N, F)`, edge indices
          :math:`(2, E)`, optional edge weights :math:`(E)`
        - **output:** node embeddings :math:`(N, D)`
    """
    def __init__(self, in_channels: int, hidden_channels: int,
                 num_layers: int = 2,
                 act: Union[str, Callable, None] = 'relu'):
        super().__init__(in_channels, hidden_channels, num_layers, act=act)
        self.acts[-1] = torch.nn.Identity()


class CCASSG(TwoViewMethod):
    r"""CCA-SSG (`Zhang et al., NeurIPS 2021
    <https://arxiv.org/abs/2106.12484>`_).

    Each step draws two views :math:`\tilde G_1, \tilde G_2` of the graph,
    embeds both with the shared encoder :math:`f` and minimises
    (:func:`graphcl.losses.cca_ssg_loss`)

    .. math::
        \mathcal{L} = -\operatorname{tr}\left(\tilde{\mathbf{Z}}_1^\top
        \tilde{\mathbf{Z}}_2\right) / N + \lambda \left(\lVert \mathbf{I} -
        \tilde{\mathbf{Z}}_1^\top \tilde{\mathbf{Z}}_1 / N \rVert_F^2 +
        \lVert \mathbf{I} - \tilde{\mathbf{Z}}_2^\top \tilde{\mathbf{Z}}_2
        / N \rVert_F^2\right)

    with :math:`\tilde{\mathbf{Z}}_v` the embeddings
    :math:`f(\tilde G_v)` standardised per column. The probe sees the
    encoder's output on the whole graph, unstandardised.

    Args:
        encoder (Module): The shared encoder :math:`f`
            ``(x, edge_index[, edge_weight]) -> [N, D]``.
        view1 (Module): The corruption drawing the first view, e.g.
            ``Compose([EdgeDrop(0.4), FeatureMask(0.1)])``.
        view2 (Module): The corruption drawing the second view.
        lambd (float, optional): Weight :math:`\lambda \geq 0` of the
            decorrelation term. (default: ``1e-3``)

    Mini-batch training (the loss on the seed rows of a sampled subgraph,
    the columns standardised over them) needs a GNN encoder.
    """
    def __init__(self, encoder: Module, view1: Module, view2: Module,
                 lambd: float = 1e-3):
        lambd = check_decorrelation_weight(lambd)
        super().__init__(encoder, view1, view2)
        self.lambd = lambd
        # Layer-wise inference of the mini-batch path needs GNN layers.
        self.supports_minibatch = isinstance(encoder, GNNEncoder)

    def loss(self, z1: Tensor, z2: Tensor) -> Tensor:
        r"""CCA-SSG's loss of the embeddings :obj:`z1`, :obj:`z2`
        ``[N, D]`` of two views (rows paired)."""
        return cca_ssg_loss(z1, z2, self.lambd)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.encoder!r}, '
                f'lambd={self.lambd})')


#: The encoders ``build_cca_ssg`` accepts by name.
ENCODER_CHOICES = ('gcn', 'mlp')


def build_cca_ssg(in_channels: int, encoder: str, hidden: int, layers: int,
                  act: str, edge_drop: float, feature_mask: float,
                  lambd: float, seed: Optional[int] = None) -> CCASSG:
    r"""CCA-SSG from its options (see :data:`METHOD`); :obj:`seed` seeds the
    two views' corruptions (one private generator), :obj:`None` uses the
    global RNG."""
    if not isinstance(encoder, str) or encoder.lower() not in \
            ENCODER_CHOICES:
        raise ValueError(f"'encoder' must be one of {list(ENCODER_CHOICES)}, "
                         f"got {encoder!r}")
    check_int(hidden, "'hidden'", what='embedding width')
    check_int(layers, "'layers'", what='GCN layers')
    edge_drop = check_prob(edge_drop, "'edge_drop'")
    feature_mask = check_prob(feature_mask, "'feature_mask'")
    check_decorrelation_weight(lambd)
    gen = None if seed is None else torch.Generator().manual_seed(int(seed))
    views = [Compose([EdgeDrop(edge_drop, generator=gen),
                      FeatureMask(feature_mask, generator=gen)])
             for _ in range(2)]
    if encoder.lower() == 'mlp':
        # The reference MLP: Linear(F, D) - BatchNorm - ReLU - Linear(D, D).
        enc = MLPEncoder(in_channels, hidden, hidden, act=act)
    else:
        enc = CCASSGEncoder(in_channels, hidden, layers, act)
    return CCASSG(enc, views[0], views[1], lambd=lambd)
