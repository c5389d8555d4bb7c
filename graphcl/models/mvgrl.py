r"""MVGRL: Contrastive Multi-View Representation Learning on Graphs
(`Hassani and Khasahmadi, ICML 2020 <https://arxiv.org/abs/2006.05582>`_),
node level, wired from graphcl's parts.

Two views of one graph: its adjacency, :math:`\mathbf{A}_1 =
\hat{\mathbf{D}}^{-1/2}(\mathbf{A} + \mathbf{I})\hat{\mathbf{D}}^{-1/2}`,
and its personalised-PageRank diffusion :math:`\mathbf{S}`
(:class:`graphcl.diffusion.PPRDiffusion`), each with its own one-layer GCN
(PReLU). Every node of one view is contrasted with the summary of the
other (cross-view global-local), with DGI's bilinear critic, sigmoid-mean
readout and feature-shuffling corruption and the binary cross-entropy over
positive and negative pairs. The probe sees the sum of the two views'
embeddings, :math:`\mathbf{H}_1 + \mathbf{H}_2`, as in the paper.

Settings come from the official code (github.com/kavehhassani/mvgrl,
``node/train.py``, ``node/dataset.py``, ``utils.py``) and DGL's
reproduction (github.com/dmlc/dgl, ``examples/pytorch/mvgrl/node``,
``main.py`` and its README), which trains on the whole graph (Cora 83.5,
CiteSeer 73.7 there; the paper's 86.8 on Cora was not reproduced, "even
with the authors' codes"). Both: 512 channels, :math:`\alpha = 0.2`,
learning rate 0.001, early stopping after 20 epochs without a lower loss;
Cora's diffusion dense and unscaled, CiteSeer's thresholded at
:math:`\epsilon = 0.01` and min-max scaled per column.

Where this differs from the reference code, on purpose:

* Full-graph training, as DGL's ``main.py`` (the official code contrasts
  four subgraphs of 2,000 consecutive node indices per step; DGL's
  full-graph run is the better of its two reproductions on Cora and
  CiteSeer).
* The adjacency view is :math:`\hat{\mathbf{D}}^{-1/2}(\mathbf{A} +
  \mathbf{I})\hat{\mathbf{D}}^{-1/2}` (PyG's GCN, as DGL's; the official
  ``normalize_adj(adj + I)`` adds the identity a second time).
* The bilinear critic has no bias (graphcl's
  :class:`~graphcl.nn.BilinearDiscriminator`, Xavier-initialised as the
  code's ``nn.Bilinear``); PReLU learns one slope per channel.
* On graphs over ``exact_max_nodes`` nodes the diffusion is the sparse
  approximation (:func:`graphcl.diffusion.ppr_topk`); MVGRL's code has
  none (DGL's uses APPNP on PubMed).
* The probe is :func:`graphcl.eval.linear_probe` (weight decay chosen on
  the validation split).
"""
import warnings
from typing import Any, Dict, Optional, Tuple

import torch
from torch import Tensor
from torch.nn import Module
from torch_geometric.nn import GCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.nn.dense.linear import Linear as PyGLinear

from ..corruptions import FeatureShuffle
from ..diffusion import BLOCK_BYTES, SPARSE_DENSITY, PPRDiffusion
from ..losses import jsd_loss
from ..nn.discriminators import BilinearDiscriminator
from ..nn.encoders import GCNEncoder
from ..nn.readouts import SigmoidMeanReadout
from ..sampling.features import SPARSE_DENSITY as FEATURE_DENSITY
from ..sampling.features import mostly_zero, to_sparse_rows
from ..validation import check_int
from .base import GraphMethod, encoder_inputs
from .dgi_fast import _csr_pair, _SpMM
from .dgi_fast import _hooks_anywhere
from .mvgrl_spec import METHOD, MVGRL_DEFAULTS  # noqa: F401 (re-exported)
from .stamp import TensorStamp

__all__ = ['MVGRL', 'MVGRLEncoder', 'build_mvgrl', 'mvgrl_memory',
           'MVGRL_DEFAULTS', 'METHOD']


def _product(matrix, h: Tensor, bias: Optional[Tensor] = None) -> Tensor:
    # M H (+ b) for a dense M, a CSR M, or a (CSR M, CSR M^T) pair whose
    # backward is M^T G with the cached transpose (DGI's _SpMM).
    if isinstance(matrix, tuple):
        return _SpMM.apply(matrix[0], matrix[1], h, bias)
    with warnings.catch_warnings():  # "sparse CSR support is in beta"
        warnings.simplefilter('ignore', UserWarning)
        out = matrix @ h
    return out if bias is None else out + bias


class MVGRLEncoder(Module):
    r"""MVGRL's two encoders, one per view, and the diffusion they share:

    .. math::
        \mathbf{H}_1 = \sigma\left(\mathbf{A}_1\mathbf{X}\mathbf{W}_1
        + \mathbf{b}_1\right), \qquad
        \mathbf{H}_2 = \sigma\left(\mathbf{S}\mathbf{X}\mathbf{W}_2
        + \mathbf{b}_2\right)

    with :math:`\mathbf{A}_1` PyG's GCN normalisation of the graph
    (self-loops added where missing) and :math:`\mathbf{S}` its PPR
    diffusion (:class:`~graphcl.diffusion.PPRDiffusion`, computed on the
    first call for a graph and cached). Called as an encoder it returns
    the embeddings the probe sees, :math:`\mathbf{H}_1 + \mathbf{H}_2`.

    The parameters are two one-layer :class:`~graphcl.nn.GCNEncoder`\ s
    (:obj:`adj_encoder`; :obj:`diff_encoder` with ``normalize=False``
    and no added self-loops: its edge weights are :math:`\mathbf{S}`'s).
    :meth:`views` applies their layers as matrix products,
    :math:`\mathbf{M}(\mathbf{X}\mathbf{W}) + \mathbf{b}`, with
    :math:`\mathbf{M}` a CSR matrix or, for a dense diffusion (all of
    Cora's :math:`2708^2` entries), a dense one: the same function as
    PyG's message passing over :math:`\mathbf{M}`'s entries, which would
    gather one message per entry and channel (15 GiB on Cora).

    Args:
        in_channels (int): Input feature width :math:`F`.
        hidden_channels (int, optional): Embedding width :math:`D`.
            (default: ``512``)
        diffusion (PPRDiffusion, optional): The diffusion. (default:
            :class:`~graphcl.diffusion.PPRDiffusion` with its defaults)
        act (str, optional): Activation of both encoders. (default:
            ``'prelu'``)

    Shapes:
        - **input:** node features :math:`(N, F)`, edge indices
          :math:`(2, E)`, optional edge weights :math:`(E)`
        - **output:** node embeddings :math:`(N, D)`
    """
    def __init__(self, in_channels: int, hidden_channels: int = 512,
                 diffusion: Optional[PPRDiffusion] = None,
                 act: str = 'prelu'):
        super().__init__()
        self.adj_encoder = GCNEncoder(in_channels, hidden_channels, 1,
                                      act=act)
        self.diff_encoder = GCNEncoder(in_channels, hidden_channels, 1,
                                       act=act, normalize=False,
                                       add_self_loops=False)
        self.diffusion = PPRDiffusion() if diffusion is None else diffusion
        self.in_channels = in_channels
        self.out_channels = hidden_channels
        self._adj_stamp = TensorStamp()
        self._adj = None
        self._x_stamp = TensorStamp()
        self._x_csr = None
        self._diff = None

    def __getstate__(self) -> dict:
        # Copies and pickles start without the caches (CSR matrices, which
        # deepcopy cannot copy; the stamps start empty on their own).
        state = dict(super().__getstate__())
        state.update(_adj=None, _x_csr=None, _diff=None)
        return state

    def reset_parameters(self):
        r"""Resets all learnable parameters of the module."""
        self.adj_encoder.reset_parameters()
        self.diff_encoder.reset_parameters()

    def adjacency(self, edge_index: Tensor, num_nodes: int,
                  edge_weight: Optional[Tensor] = None,
                  dtype: torch.dtype = torch.float32) -> Tensor:
        r""":math:`\mathbf{A}_1` ``[N, N]`` as a CSR matrix (PyG's
        :func:`~torch_geometric.nn.conv.gcn_conv.gcn_norm`, row :math:`i`
        gathering the messages into node :math:`i`), cached with its
        transpose for the last graph."""
        return self._adjacency_pair(edge_index, num_nodes, edge_weight,
                                    dtype)[0]

    def _adjacency_pair(self, edge_index, num_nodes, edge_weight, dtype):
        tensors = (edge_index, edge_weight)
        extra = (num_nodes, dtype)
        if self._adj is None or not self._adj_stamp.matches(tensors, extra):
            self._adj = None
            ei, ew = gcn_norm(edge_index, edge_weight, num_nodes,
                              improved=False, add_self_loops=True,
                              flow='source_to_target', dtype=dtype)
            self._adj = _csr_pair(ei[1], ei[0], ew, (num_nodes, num_nodes))
            self._adj_stamp.set(tensors, extra)
        return self._adj

    def sparse_features(self, x: Tensor) -> Optional[Tensor]:
        r"""A CSR copy of mostly-zero dense features (bag-of-words: 1 % of
        Cora's entries are non-zero), cached for the last :obj:`x`, else
        :obj:`None`: :math:`\mathbf{X}\mathbf{W}` from it is the same
        product at a fraction of the cost."""
        if x.layout != torch.strided or x.requires_grad:
            return None
        pair = self._sparse_feature_pair(x)
        return None if pair is None else pair[0]

    def _sparse_feature_pair(self, x: Tensor):
        if x.layout != torch.strided or x.requires_grad:
            return None
        if not self._x_stamp.matches((x,)):
            self._x_csr = None
            if mostly_zero(x):
                coo = to_sparse_rows(x).to_sparse_coo().coalesce()
                (row, col), val = coo.indices(), coo.values()
                self._x_csr = _csr_pair(row, col, val, tuple(x.shape))
            self._x_stamp.set((x,))
        return self._x_csr

    def use_sparse_features(self, x: Tensor) -> bool:
        r"""Whether :meth:`views` computes :math:`\mathbf{X}\mathbf{W}`
        from a CSR copy of :obj:`x` (:meth:`sparse_features`): both
        encoders' linear maps are PyG's own, without hooks."""
        return all(type(enc.convs[0].lin) is PyGLinear and
                   _hooks_anywhere(enc.convs[0].lin) is None
                   for enc in (self.adj_encoder, self.diff_encoder))

    def operators(self, x: Tensor, edge_index: Tensor,
                  edge_weight: Optional[Tensor] = None
                  ) -> Tuple[Tensor, Tensor]:
        r"""The two views' matrices :math:`(\mathbf{A}_1, \mathbf{S})`."""
        adj, diff = self._operator_pairs(x, edge_index, edge_weight)
        return adj[0], (diff if torch.is_tensor(diff) else diff[0])

    def _operator_pairs(self, x, edge_index, edge_weight):
        # Sparse matrices as (CSR, CSR transpose): the backward pass's
        # product M^T G without transposing M at every step.
        n = x.size(0)
        adj = self._adjacency_pair(edge_index, n, edge_weight, x.dtype)
        s = self.diffusion.matrix(edge_index, n, edge_weight, x.dtype)
        if s.layout == torch.strided:
            return adj, s
        if self._diff is None or self._diff[0] is not s:
            self._diff = None
            coo = s.to_sparse_coo().coalesce()
            (row, col), val = coo.indices(), coo.values()
            self._diff = (s, _csr_pair(row, col, val, tuple(s.shape)))
        return adj, self._diff[1]

    @staticmethod
    def apply_layer(encoder: GCNEncoder, matrix: Tensor, x: Tensor,
                    perm: Optional[Tensor] = None) -> Tuple[Tensor, ...]:
        r"""The one GCN layer of :obj:`encoder` over :obj:`matrix` (dense,
        CSR, or a pair of CSR matrices: it and its transpose, used by the
        backward pass; :obj:`x` likewise dense, CSR or such a pair):
        :math:`\sigma(\mathbf{M}\mathbf{X}\mathbf{W} + \mathbf{b})`, and
        with :obj:`perm` also that of the shuffled features
        :math:`\mathbf{P}\mathbf{X}`, sharing :math:`\mathbf{X}\mathbf{W}`
        (:math:`\mathbf{P}\mathbf{X}\mathbf{W} =
        \mathbf{P}(\mathbf{X}\mathbf{W})`) and one product with
        :math:`\mathbf{M}`."""
        conv, act = encoder.convs[0], encoder.acts[0]
        if type(conv) is not GCNConv or len(encoder.convs) != 1 or \
                encoder.dropout > 0 or _hooks_anywhere(conv) is not None or \
                conv.aggr != 'add' or conv.flow != 'source_to_target':
            raise ValueError(
                f"MVGRL's views are one plain PyG GCNConv each (sum "
                f"aggregation, no dropout, no hooks), applied as a matrix "
                f"product; got {encoder!r}: build it with MVGRLEncoder")
        if not torch.is_tensor(x) or x.layout == torch.sparse_csr:
            # PyG's Linear on sparse features: x W^T (+ b)
            if type(conv.lin) is not PyGLinear or \
                    _hooks_anywhere(conv.lin) is not None:
                raise ValueError("Sparse features need the encoder's own "
                                 "PyG Linear layer (no hooks); pass dense "
                                 "features")
            xw = _product(x, conv.lin.weight.t(), conv.lin.bias)
        else:
            xw = conv.lin(x)
        d = xw.size(1)
        if perm is not None:
            xw = torch.cat([xw, xw[perm]], dim=1)
        bias = conv.bias
        if bias is not None and perm is not None:
            bias = bias.repeat(2)
        out = _product(matrix, xw, bias)
        if perm is None:
            return (act(out),)
        return act(out[:, :d]), act(out[:, d:])

    def views(self, x: Tensor, edge_index: Tensor,
              edge_weight: Optional[Tensor] = None,
              perm: Optional[Tensor] = None) -> Tuple[Tensor, ...]:
        r"""The views' embeddings :math:`(\mathbf{H}_1, \mathbf{H}_2)`;
        with a row permutation :obj:`perm` also those of the shuffled
        features, :math:`(\mathbf{H}_1, \mathbf{H}_2, \tilde{\mathbf{H}}_1,
        \tilde{\mathbf{H}}_2)`, each :math:`(N, D)`."""
        adj, diff = self._operator_pairs(x, edge_index, edge_weight)
        xs = self._sparse_feature_pair(x) if self.use_sparse_features(x) \
            else None
        xs = x if xs is None else xs
        h1 = self.apply_layer(self.adj_encoder, adj, xs, perm)
        h2 = self.apply_layer(self.diff_encoder, diff, xs, perm)
        if perm is None:
            return h1[0], h2[0]
        return h1[0], h2[0], h1[1], h2[1]

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        h1, h2 = self.views(x, edge_index, edge_weight)
        return h1 + h2

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, '
                f'{self.out_channels}, {self.diffusion!r})')


class MVGRL(GraphMethod):
    r"""MVGRL, node level (`Hassani and Khasahmadi, ICML 2020
    <https://arxiv.org/abs/2006.05582>`_).

    Each step embeds the graph and its feature-shuffled corruption
    :math:`\mathbf{P}\mathbf{X}` in both views (:class:`MVGRLEncoder`),
    reads out one summary per view from the clean embeddings,
    :math:`\mathbf{s}_v = \sigma(\frac{1}{N}\sum_i \mathbf{h}_{v,i})`,
    and scores each node of one view against the other view's summary
    with the bilinear critic :math:`\mathcal{D}(\mathbf{h}, \mathbf{s}) =
    \mathbf{h}^\top\mathbf{W}\mathbf{s}`:

    .. math::
        \mathcal{L} = -\frac{1}{4N}\sum_{i=1}^{N}\Big[
        \log\sigma(\mathcal{D}(\mathbf{h}_{2,i}, \mathbf{s}_1))
        + \log\sigma(\mathcal{D}(\mathbf{h}_{1,i}, \mathbf{s}_2))
        + \log(1 - \sigma(\mathcal{D}(\tilde{\mathbf{h}}_{2,i},
        \mathbf{s}_1)))
        + \log(1 - \sigma(\mathcal{D}(\tilde{\mathbf{h}}_{1,i},
        \mathbf{s}_2)))\Big]

    (the mean binary cross-entropy of the code's ``BCEWithLogitsLoss``
    over the :math:`2N` positive and :math:`2N` negative logits:
    :func:`graphcl.losses.jsd_loss` halved). The probe's embeddings are
    :math:`\mathbf{H}_1 + \mathbf{H}_2` of the clean graph (the encoder's
    output).

    Mini-batch training is not supported: the diffusion view needs the
    whole graph's diffusion.

    Args:
        encoder (MVGRLEncoder): The two views' encoders and the diffusion.
        discriminator (Module, optional): The critic ``(h, s) -> [N]``.
            (default: :class:`~graphcl.nn.BilinearDiscriminator` with
            ``init='xavier'``)
        readout (Module, optional): The summary. (default:
            :class:`~graphcl.nn.SigmoidMeanReadout`)
        corruption (FeatureShuffle, optional): Draws the row permutation
            of the negatives. (default:
            :class:`~graphcl.corruptions.FeatureShuffle`)

    Shapes:
        - **objective:** a PyG :class:`~torch_geometric.data.Data` with
          ``x`` :math:`(N, F)`, ``edge_index`` :math:`(2, E)` -> scalar
        - **embed:** -> :math:`(N, D)`
    """
    supports_minibatch = False

    def __init__(self, encoder: MVGRLEncoder,
                 discriminator: Optional[Module] = None,
                 readout: Optional[Module] = None,
                 corruption: Optional[FeatureShuffle] = None):
        super().__init__()
        if not isinstance(encoder, MVGRLEncoder):
            raise TypeError(f"MVGRL's encoder must be an MVGRLEncoder (two "
                            f"views and the diffusion), got "
                            f"{type(encoder).__name__}")
        corruption = FeatureShuffle() if corruption is None else corruption
        if not isinstance(corruption, FeatureShuffle):
            raise TypeError(f"MVGRL's corruption must be a FeatureShuffle "
                            f"(its negatives are shuffled rows), got "
                            f"{type(corruption).__name__}")
        self.encoder = encoder
        self.discriminator = BilinearDiscriminator(
            encoder.out_channels, init='xavier') if discriminator is None \
            else discriminator
        self.readout = SigmoidMeanReadout() if readout is None else readout
        self.corruption = corruption

    def loss(self, h1: Tensor, h2: Tensor, h1_neg: Tensor,
             h2_neg: Tensor) -> Tensor:
        r"""The cross-view loss of the clean views' embeddings :obj:`h1`,
        :obj:`h2` and the shuffled ones' :obj:`h1_neg`, :obj:`h2_neg`
        ``[N, D]``."""
        s1, s2 = self.readout(h1), self.readout(h2)
        pos = torch.cat([self.discriminator(h2, s1),
                         self.discriminator(h1, s2)])
        neg = torch.cat([self.discriminator(h2_neg, s1),
                         self.discriminator(h1_neg, s2)])
        return 0.5 * jsd_loss(pos, neg)

    def objective(self, data) -> Tensor:
        r"""The loss of one full-batch step on :obj:`data`."""
        self.check_input(data.x, data.edge_index, data)
        x, edge_index, *rest = encoder_inputs(data)
        perm = self.corruption.permutation(x.size(0), x.device)
        h1, h2, h1_neg, h2_neg = self.encoder.views(
            x, edge_index, rest[0] if rest else None, perm=perm)
        return self.loss(h1, h2, h1_neg, h2_neg)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.encoder!r})'


def build_mvgrl(in_channels: int, hidden: int, act: str, alpha: float,
                diffusion: str, eps: float, topk: int,
                diffusion_scale: str, exact_max_nodes: int, ppr_tol: float,
                seed: Optional[int] = None) -> MVGRL:
    r"""MVGRL from its options (see :data:`METHOD`); :obj:`seed` seeds the
    feature shuffling (:obj:`None`: the global RNG)."""
    check_int(hidden, "'hidden'", what='embedding width')
    diff = PPRDiffusion(alpha=alpha, diffusion=diffusion, eps=eps,
                        topk=topk, scale=diffusion_scale,
                        exact_max_nodes=exact_max_nodes, tol=ppr_tol)
    gen = None if seed is None else torch.Generator().manual_seed(int(seed))
    encoder = MVGRLEncoder(in_channels, hidden, diff, act=act)
    return MVGRL(encoder, corruption=FeatureShuffle(generator=gen))


def mvgrl_memory(stats, options: Dict[str, Any], model: Module):
    r"""MVGRL's memory hook (:mod:`graphcl.memory`).

    * Constants: :math:`\mathbf{A}_1` as CSR (:math:`E + N` entries),
      mostly-zero features as CSR with their transpose, and the diffusion
      :math:`\mathbf{S}`: exact, a dense :math:`N \times N` matrix (also
      when thresholded: it is computed dense); approximate, CSR matrices
      of at most :math:`Nk` entries (the cached one, the encoder's copy
      and its transpose).
    * Training step: computing :math:`\mathbf{S}` at the first step (the
      exact inverse holds two more :math:`N^2` matrices; the
      approximation a block of five :math:`N \times B` work matrices and
      its top-:math:`k`), or a step's activations, whichever is larger:
      per view :math:`\mathbf{X}\mathbf{W}` ``[N, D]``, the two branches'
      products, pre-activations and outputs ``[N, 2D]`` each, and their
      gradients (about :math:`12ND` values per view).
    * Embedding: per view :math:`\mathbf{X}\mathbf{W}` and its product
      ``[N, D]``, the sum, or the probe, whichever is larger.

    ``diffusion='exact'`` on a graph over ``exact_max_nodes`` raises here,
    before training (:meth:`graphcl.diffusion.PPRDiffusion.path`).
    """
    from ..diffusion import dense_bytes
    from ..memory import Breakdown, FLOAT, csr_bytes, larger, probe_bytes
    n = stats.num_nodes
    d = int(options.get('hidden') or 512)
    topk = int(options.get('topk') or 64)
    exact_max = int(options.get('exact_max_nodes') or 5000)
    mode = options.get('diffusion', 'auto')
    if mode == 'exact' and n > exact_max:
        # the run would fail at its first step: say so before training
        PPRDiffusion(diffusion='exact', exact_max_nodes=exact_max,
                     topk=topk).path(n)
    exact = mode == 'exact' or (mode == 'auto' and n <= exact_max)
    constants = Breakdown()
    constants.add('normalised adjacency (CSR)',
                  csr_bytes(n, stats.edges_with_self_loops))
    if stats.sparse_features or stats.density <= FEATURE_DENSITY:
        nnz_x = stats.feature_nnz if stats.feature_nnz is not None else \
            n * stats.num_features
        constants.add('features as CSR and its transpose',
                      csr_bytes(n, nnz_x) + csr_bytes(stats.num_features,
                                                      nnz_x))
    nd = n * d * FLOAT
    activations = Breakdown()
    activations.add('activations and gradients (12 x N x D per view, 2 '
                    'views)', 2 * 12 * nd, nd)
    compute = Breakdown()
    if exact:
        # Computed dense; kept dense, or as CSR (with its transpose and
        # the cache's copy) when thresholded: counted dense.
        constants.add(f'PPR diffusion (dense {n:,} x {n:,})', dense_bytes(n))
        compute.add('PPR inverse (two more N x N matrices)',
                    2 * dense_bytes(n))
    else:
        k = min(topk, n)
        nnz = n * k
        if nnz > SPARSE_DENSITY * n * n:
            constants.add(f'PPR diffusion (dense {n:,} x {n:,})',
                          dense_bytes(n))
        else:
            constants.add(f'PPR diffusion (CSR, {k} per node: the cached '
                          f'matrix, its copy and transpose)',
                          3 * csr_bytes(n, nnz))
        block = max(1, min(n, BLOCK_BYTES // (5 * n * FLOAT)))
        compute.add(f'conjugate gradients ({block} columns at a time)',
                    5 * n * block * FLOAT + 2 * k * block * 8)
        compute.add('kept entries before coalescing', 2 * nnz * 24)
        compute.add('transition matrix (CSR)',
                    csr_bytes(n, stats.edges_with_self_loops))
    training = larger(activations, compute)
    embedding = larger({'embedding pass (4 x N x D)': 4 * nd},
                       probe_bytes(stats, d))
    from ..memory import MethodMemory
    return MethodMemory(constants, training, embedding)
