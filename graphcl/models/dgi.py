r"""Deep Graph Infomax, a drop-in for PyG's class with pluggable parts."""
import copy
from typing import Callable, Optional, Tuple

import torch
from torch import Tensor
from torch.nn import Module

from ..losses import JSDLoss
from ..nn.discriminators import BilinearDiscriminator, Discriminator
from .base import GraphMethod, _reset, encoder_inputs
from .dgi_fast import (FastGCNCache, fast_encode_pair,
                       fast_path_supported)
from .dgi_fused import fused_gcn_dgi_loss
from .dgi_head import dgi_jsd_head, fused_head_parts

__all__ = ['DeepGraphInfomax']


def _pyg_state_dict_hook(state_dict, prefix, *args):
    # Checkpoints of PyG's DeepGraphInfomax keep the bilinear weight as
    # 'weight'; here it lives in the discriminator.
    old, new = prefix + 'weight', prefix + 'discriminator.weight'
    if old in state_dict and new not in state_dict:
        state_dict[new] = state_dict.pop(old)


class DeepGraphInfomax(GraphMethod):
    r"""The Deep Graph Infomax model from the `"Deep Graph Infomax"
    <https://arxiv.org/abs/1809.10341>`_ paper (Veličković et al., ICLR 2019)
    with encoder :math:`\mathcal{E}`, readout :math:`\mathcal{R}`, corruption
    :math:`\mathcal{C}` and discriminator :math:`\mathcal{D}`:

    .. math::
        \mathbf{Z} = \mathcal{E}(\mathbf{X}, \mathbf{A}), \quad
        \tilde{\mathbf{Z}} = \mathcal{E}(\mathcal{C}(\mathbf{X},
        \mathbf{A})), \quad \mathbf{s} = \mathcal{R}(\mathbf{Z})

    .. math::
        \mathcal{L} = -\frac{1}{N}\sum_{i=1}^N \log
        \sigma(\mathcal{D}(\mathbf{z}_i, \mathbf{s}))
        -\frac{1}{N}\sum_{i=1}^N \log\left(1 -
        \sigma(\mathcal{D}(\tilde{\mathbf{z}}_i, \mathbf{s}))\right)

    The constructor, :meth:`forward`, :meth:`discriminate`, :meth:`loss`,
    :meth:`test`, :meth:`reset_parameters` and ``repr`` match
    :class:`torch_geometric.nn.models.DeepGraphInfomax`, so PyG code runs
    unchanged after switching the import. On top, the discriminator and the
    mutual-information objective are pluggable.

    Args:
        hidden_channels (int): The latent space dimensionality :math:`D`.
        encoder (torch.nn.Module): The encoder :math:`\mathcal{E}`; its output
            must have :obj:`hidden_channels` columns.
        summary (callable): The readout :math:`\mathcal{R}`, called as
            ``summary(z, *args, **kwargs)``.
        corruption (callable): The corruption :math:`\mathcal{C}`, called
            with the encoder's arguments; returns them corrupted (a tuple, or
            a single tensor when the encoder takes one argument).
        discriminator (torch.nn.Module, optional): The critic
            :math:`\mathcal{D}` (see :mod:`graphcl.nn.discriminators`).
            (default: :class:`~graphcl.nn.BilinearDiscriminator`)
        loss_fn (torch.nn.Module, optional): A ``(pos_logits, neg_logits)``
            objective from :mod:`graphcl.losses`.
            (default: :class:`~graphcl.losses.JSDLoss`)
        fast (bool, optional): Let :meth:`objective` take the fast path of
            :mod:`graphcl.models.dgi_fast` when it computes the same thing
            (exactly a :class:`~graphcl.nn.GCNEncoder` of plain
            :class:`~torch_geometric.nn.GCNConv` layers and
            :class:`~graphcl.corruptions.FeatureShuffle`; see
            :func:`~graphcl.models.dgi_fast.fast_path_refusal`).
            :meth:`forward` always runs the plain path. (default: ``True``)

    Shapes:
        - **forward input:** the encoder's arguments
        - **forward output:** :math:`(N, D)`, :math:`(N, D)`, :math:`(D)`
          (or :math:`(B, D)` summaries with a batch vector)
    """
    supports_minibatch = True
    supports_sparse_features = True  # minibatch_objective: CSR batch.x

    def __init__(self, hidden_channels: int, encoder: Module,
                 summary: Callable, corruption: Callable,
                 discriminator: Optional[Discriminator] = None,
                 loss_fn: Optional[Module] = None, fast: bool = True):
        super().__init__()
        if not isinstance(hidden_channels, int) or hidden_channels < 1:
            raise ValueError(f"'hidden_channels' must be a positive integer, "
                             f"got {hidden_channels!r}")
        self.hidden_channels = hidden_channels
        self.encoder = encoder
        self.summary = summary
        self.corruption = corruption
        self.discriminator = (discriminator if discriminator is not None else
                              BilinearDiscriminator(hidden_channels))
        self.loss_fn = loss_fn if loss_fn is not None else JSDLoss()
        self.fast = fast
        self._fast_cache = FastGCNCache()
        self._checked = False
        self._register_load_state_dict_pre_hook(_pyg_state_dict_hook)
        self.reset_parameters()

    @property
    def weight(self) -> Tensor:
        r"""The bilinear weight :math:`\mathbf{W}` (as in PyG's class)."""
        if not hasattr(self.discriminator, 'weight'):
            raise AttributeError(f"{self.discriminator!r} has no 'weight'")
        return self.discriminator.weight

    def reset_parameters(self):
        r"""Resets all learnable parameters of the module."""
        _reset(self.encoder)
        _reset(self.summary)
        _reset(self.discriminator)
        self._checked = False

    def _check_width(self, shape: tuple):
        if len(shape) < 2 or shape[-1] != self.hidden_channels:
            raise ValueError(
                f"The encoder returned embeddings of shape "
                f"[{', '.join(map(str, shape))}], "
                f"but DeepGraphInfomax was built with hidden_channels="
                f"{self.hidden_channels}; make the encoder's output width "
                f"equal hidden_channels (or pass hidden_channels="
                f"{shape[-1]})")
        self._checked = True

    def clear_cache(self):
        r"""Forgets the inputs seen so far (the fast path's graph constants
        and work buffers, and which inputs were validated). Needed only
        after writing into input tensors behind PyTorch's back (through
        ``.data``, ``.numpy()`` or DLPack), which the version counters
        that the caches check do not see."""
        self._fast_cache.clear()
        self.forget_inputs()

    def forward(self, *args, **kwargs) -> Tuple[Tensor, Tensor, Tensor]:
        r"""Returns the embeddings of the input, of its corruption, and the
        summary of the input's embeddings. Inputs ``(x, edge_index, ...)``
        are validated (dtype, shape, index range, finite features) the
        first time they are seen."""
        if (len(args) >= 2 and isinstance(args[0], Tensor)
                and isinstance(args[1], Tensor)
                and args[0].layout == torch.strided
                and args[1].layout == torch.strided):
            weight = args[2] if len(args) > 2 else kwargs.get('edge_weight')
            self.check_input(args[0], args[1], edge_weight=weight if
                             isinstance(weight, Tensor) else None)
        pos_z = self.encoder(*args, **kwargs)
        if not self._checked:
            self._check_width(tuple(pos_z.shape))

        cor = self.corruption(*args, **kwargs)
        cor = cor if isinstance(cor, tuple) else (cor, )
        cor_args = cor[:len(args)]
        cor_kwargs = copy.copy(kwargs)
        for key, value in zip(kwargs.keys(), cor[len(args):]):
            cor_kwargs[key] = value
        neg_z = self.encoder(*cor_args, **cor_kwargs)

        summary = self.summary(pos_z, *args, **kwargs)
        return pos_z, neg_z, summary

    def discriminate(self, z: Tensor, summary: Tensor,
                     sigmoid: bool = True) -> Tensor:
        r"""Scores the patch-summary pairs :obj:`z` and :obj:`summary`.

        Args:
            z (torch.Tensor): The latent space, :math:`(N, D)`.
            summary (torch.Tensor): The summary vector, :math:`(D)`.
            sigmoid (bool, optional): If :obj:`False`, returns logits.
                (default: :obj:`True`)
        """
        value = self.discriminator(z, summary)
        return torch.sigmoid(value) if sigmoid else value

    def loss(self, pos_z: Tensor, neg_z: Tensor, summary: Tensor,
             batch: Optional[Tensor] = None) -> Tensor:
        r"""Computes the mutual-information objective from logits (stable
        form of PyG's :math:`-\log(\sigma + \epsilon)`).

        Args:
            pos_z (Tensor): Embeddings of the input, :math:`(N, D)`.
            neg_z (Tensor): Embeddings of the corruption, :math:`(N, D)`.
            summary (Tensor): :math:`(D)`, or :math:`(B, D)` with
                :obj:`batch`.
            batch (Tensor, optional): Graph of each node, :math:`(N)`.
        """
        pos = self.discriminator(pos_z, summary, batch)
        neg = self.discriminator(neg_z, summary, batch)
        return self.loss_fn(pos, neg)

    encoder_inputs = staticmethod(encoder_inputs)

    def objective(self, data) -> Tensor:
        r"""The training loss on a PyG :class:`Data` (one full-batch step),
        through the fast path of :mod:`graphcl.models.dgi_fast` where it
        applies (same loss and gradients as :meth:`forward` +
        :meth:`loss`)."""
        self.check_input(data.x, data.edge_index, data)
        inputs = self.encoder_inputs(data)
        if self.fast and fast_path_supported(self, inputs):
            head = fused_head_parts(self)
            if head is not None:  # DGI's own head: fused, same gradients
                if not self._checked:
                    conv = self.encoder.convs[-1]
                    self._check_width(('N', conv.out_channels))
                if len(self.encoder.convs) == 1:
                    return fused_gcn_dgi_loss(self, self._fast_cache, inputs,
                                              head)
                pre = fast_encode_pair(self, self._fast_cache, inputs,
                                       last_act=False)
                return dgi_jsd_head(*pre, *head)
            pos_z, neg_z = fast_encode_pair(self, self._fast_cache, inputs)
            if not self._checked:
                self._check_width(tuple(pos_z.shape))
            return self.loss(pos_z, neg_z, self.summary(pos_z, *inputs))
        return self.loss(*self(*inputs))

    def minibatch_objective(self, batch) -> Tensor:
        r"""The loss on a neighbour-sampled subgraph (the large-graph setup
        of the DGI paper, Sec. 4.3): with :math:`\mathcal{B}` the seed nodes
        (the first ``batch.batch_size`` rows) of the sampled subgraph
        :math:`\mathcal{S}`,

        .. math::
            \mathbf{Z}_\mathcal{B} = \mathcal{E}(\mathbf{X}_\mathcal{S},
            \mathbf{A}_\mathcal{S})_\mathcal{B}, \quad
            \tilde{\mathbf{Z}}_\mathcal{B} = \mathcal{E}(\mathcal{C}(
            \mathbf{X}_\mathcal{S}, \mathbf{A}_\mathcal{S}))_\mathcal{B},
            \quad \mathbf{s}_\mathcal{B} = \mathcal{R}(\mathbf{Z}_\mathcal{B})

        The corruption acts on the whole subgraph; the summary and the loss
        use the seed nodes only."""
        from .minibatch import corrupt_subgraph, encode_seeds, sampled_hops
        batch_size = int(getattr(batch, 'batch_size', batch.num_nodes))
        x, edge_index = batch.x, batch.edge_index
        edge_weight = getattr(batch, 'edge_weight', None)
        hops = sampled_hops(batch)
        pos_z = encode_seeds(self.encoder, x, edge_index, batch_size, hops,
                             edge_weight)
        if not self._checked:
            self._check_width(tuple(pos_z.shape))
        args = (x, edge_index) if edge_weight is None else \
            (x, edge_index, edge_weight)
        cor = corrupt_subgraph(self.corruption, *args)
        cor = cor if isinstance(cor, tuple) else (cor, )
        cor_x, cor_edge_index = cor[0], cor[1] if len(cor) > 1 else edge_index
        cor_weight = cor[2] if len(cor) > 2 else edge_weight
        if cor_x.size(0) != x.size(0):
            raise ValueError(
                f"The corruption changed the number of nodes ({x.size(0)} -> "
                f"{cor_x.size(0)}); mini-batch DGI needs the seed nodes to "
                f"stay the first rows: use a corruption that keeps nodes "
                f"(e.g. 'shuffle', 'feature_mask', 'edge_drop')")
        neg_z = encode_seeds(self.encoder, cor_x, cor_edge_index, batch_size,
                             hops if cor_edge_index is edge_index else None,
                             cor_weight)
        return self.loss(pos_z, neg_z, self.summary(pos_z))

    @torch.no_grad()
    def embed(self, data) -> Tensor:
        r"""Frozen node embeddings :math:`(N, D)` of a PyG :class:`Data`
        (validated as :meth:`objective` validates it). With :obj:`fast`, a
        GCN encoder that :func:`~graphcl.models.gcn_views.gcn_view_refusal`
        accepts runs as sparse products on the fast path's cached graph and
        features (:func:`~graphcl.models.gcn_views.gcn_embed`: the same
        embeddings, without PyG's per-edge messages); any other runs as it
        is."""
        self.check_input(data.x, data.edge_index, data)
        was_training = self.training
        self._fast_cache.release()  # training's work buffers
        self.eval()
        try:
            inputs = self.encoder_inputs(data)
            z = self._fast_embed(inputs) if self.fast else None
            return self.encoder(*inputs) if z is None else z
        finally:
            self.train(was_training)

    def _fast_embed(self, inputs: tuple) -> Optional[Tensor]:
        from .gcn_views import gcn_embed, gcn_view_refusal
        enc = self.encoder
        if gcn_view_refusal([enc], inputs) is not None:
            return None
        # The graph as the encoder sees it: edge weights only where it
        # takes them (GNNEncoder.layer); the cache is keyed on these inputs.
        weight = inputs[2] if len(inputs) > 2 and \
            enc.supports_edge_weight else None
        cache = self._fast_cache.update(enc.convs[0], inputs[0], inputs[1],
                                        weight)
        return gcn_embed(enc, inputs, lambda: cache.x,
                         (cache.adj, cache.adj_t))

    def test(self, train_z: Tensor, train_y: Tensor, test_z: Tensor,
             test_y: Tensor, solver: str = 'lbfgs', *args, **kwargs) -> float:
        r"""Evaluates the latent space with scikit-learn's logistic
        regression (as PyG's class does); returns the test accuracy in
        :math:`[0, 1]`. For the full protocol with validation-chosen
        regularisation see :func:`graphcl.eval.linear_probe`."""
        from sklearn.linear_model import LogisticRegression
        clf = LogisticRegression(*args, solver=solver, **kwargs).fit(
            train_z.detach().cpu().numpy(), train_y.detach().cpu().numpy())
        return clf.score(test_z.detach().cpu().numpy(),
                         test_y.detach().cpu().numpy())

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.hidden_channels})'
