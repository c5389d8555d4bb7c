r"""GGD: Graph Group Discrimination (`Zheng et al., NeurIPS 2022
<https://arxiv.org/abs/2206.01535>`_, "Rethinking and Scaling Up Graph
Contrastive Learning: An Extremely Efficient Approach with Group
Discrimination"), wired from graphcl's parts.

DGI's corruption (:class:`~graphcl.corruptions.FeatureShuffle`) makes a
second, corrupted group of nodes; instead of contrasting every node with a
summary, GGD scores each node on its own and tells the two groups apart
with a binary cross-entropy: one projected, channel-summed logit per node,
:math:`O(1)` per node. After training the embeddings are smoothed by a
parameter-free multi-hop propagation, :math:`\mathbf{H} +
\hat{\mathbf{A}}^n \mathbf{H}`.

Settings (defaults and per-dataset presets) come from the official code,
github.com/zyzisastudyreallyhardguy/Graph-Group-Discrimination:
``GGD-citation/execute.py`` (Cora, CiteSeer, PubMed: a one-layer GCN, 512
channels, PReLU, one linear projector, learning rate 0.001, 500 epochs with
the lowest-loss state kept, 20 % of the feature columns dropped, power
:math:`n = 5`) and ``GGD-amco/train_coauthor.py`` with the README's
commands (Amazon-Photo: 512 channels, learning rate 0.0005, 2000 epochs;
Amazon-Computers: 1024 channels, learning rate 0.0001, 1500 epochs; both
with early stopping after 500 epochs without a lower loss and
:math:`n = 10`; Coauthor: that script's defaults).

Where this differs from the official code, on purpose:

* The feature dropping is :class:`~graphcl.corruptions.FeatureMask`: each
  column is dropped with probability :math:`p` (the code drops exactly
  :math:`\lfloor pF \rfloor` columns).
* ``act='prelu'`` learns one slope per channel (as ``GGD-amco``;
  ``GGD-citation`` shares one slope).
* The probe is :func:`graphcl.eval.linear_probe` (weight decay chosen on
  the validation split), not the code's Adam-trained logistic regression.
"""
import warnings
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch.nn import Module
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import to_torch_csr_tensor

from ..corruptions import (Compose, EdgeDrop, FeatureMask, FeatureShuffle,
                           Identity)
from ..losses import jsd_loss
from ..nn.activations import PReLU
from ..nn.encoders import GCNEncoder, get_encoder
from ..validation import check_int, check_prob
from .base import GraphMethod, encoder_inputs
from .dgi_fast import (SAFE_ACTIVATIONS, FastGCNCache, _hooks_anywhere,
                       _overridden, gcn_layers_refusal, graph_input_refusal)
from .ggd_spec import GGD_DEFAULTS, METHOD  # noqa: F401 (re-exported)

__all__ = ['GGD', 'build_ggd', 'GGD_DEFAULTS', 'METHOD']

class _PReLUScore(torch.autograd.Function):
    r""":math:`\mathbf{s} = \mathrm{PReLU}_{\mathbf{a}}(\mathbf{U})
    \mathbf{v} + c` ``[N]`` with a short backward: the gradient reaching
    the activation's output is rank one, :math:`\mathbf{g}
    \mathbf{v}^\top`, so

    .. math::
        \nabla_{\mathbf{U}} = \mathrm{slope}(\mathbf{U}) \odot
        \mathbf{g}\mathbf{v}^\top, \quad
        \nabla_{\mathbf{a}} = \mathbf{v} \odot (\min(\mathbf{U}, 0)^\top
        \mathbf{g}), \quad
        \nabla_{\mathbf{v}} = \mathrm{PReLU}(\mathbf{U})^\top\mathbf{g},
        \quad \nabla_c = \mathbf{1}^\top\mathbf{g}

    (slope 1 where :math:`u > 0`, :math:`a` elsewhere, as PyTorch's)."""
    @staticmethod
    def forward(ctx, u: Tensor, a: Tensor, v: Tensor, c: Tensor) -> Tensor:
        out = torch.nn.functional.prelu(u, a)
        ctx.save_for_backward(u, out, a, v)
        return torch.addmv(c.expand(u.size(0)), out, v)

    @staticmethod
    def backward(ctx, g: Tensor):
        u, out, a, v = ctx.saved_tensors
        grad_u = grad_a = grad_v = grad_c = None
        if ctx.needs_input_grad[0]:
            # slope(u) g v^T in place; sign() then clamp is the step u > 0
            # (several times faster here than a boolean mask and where)
            grad_u = torch.sign(u).clamp_min_(0).mul_(1 - a).add_(a)
            grad_u.mul_(g.unsqueeze(-1)).mul_(v)
        if ctx.needs_input_grad[1]:
            grad_a = v * (g @ u.clamp_max(0))
            if a.numel() == 1:
                grad_a = grad_a.sum().view_as(a)
        if ctx.needs_input_grad[2]:
            grad_v = g @ out
        if ctx.needs_input_grad[3]:
            grad_c = g.sum()
        return grad_u, grad_a, grad_v, grad_c


class GGD(GraphMethod):
    r"""Graph Group Discrimination (`Zheng et al., NeurIPS 2022
    <https://arxiv.org/abs/2206.01535>`_).

    Each step draws one augmented graph :math:`\tilde G` (by default
    feature columns dropped, :math:`\mathbf{X}\,\mathrm{diag}(\mathbf{m})`),
    embeds it, :math:`\mathbf{H} = f(\tilde G)`, and its feature-shuffled
    corruption, :math:`\tilde{\mathbf{H}} = f(\mathbf{P}\tilde{\mathbf{X}},
    \tilde{\mathbf{A}})`, scores every node with the projector :math:`g`
    summed over its output channels, and discriminates the two groups
    (original nodes label 1, corrupted nodes label 0):

    .. math::
        s_i = \sum_c g(\mathbf{h}_i)_c, \qquad
        \mathcal{L} = -\frac{1}{2N} \sum_{i=1}^{N} \left[\log
        \sigma(s_i) + \log\left(1 - \sigma(\tilde s_i)\right)\right]

    (:func:`graphcl.losses.jsd_loss` halved: the mean binary cross-entropy
    over the :math:`2N` nodes). The embeddings handed to the probe are the
    local ones plus their parameter-free :math:`n`-hop propagation
    (:meth:`propagate`):

    .. math::
        \mathbf{Z} = \mathbf{H} + \hat{\mathbf{A}}^{n}\mathbf{H}, \qquad
        \hat{\mathbf{A}} = \hat{\mathbf{D}}^{-1/2}(\mathbf{A} +
        \mathbf{I})\hat{\mathbf{D}}^{-1/2}

    with :math:`\mathbf{H} = f(G)` embedded without augmentation.

    A linear projector (:class:`torch.nn.Linear` or a
    :class:`torch.nn.Sequential` of them, as in the paper) is applied in
    closed form, :math:`s_i = \mathbf{h}_i^\top \mathbf{v} + c` with
    :math:`\mathbf{v} = \mathbf{W}_1^\top \cdots \mathbf{W}_K^\top
    \mathbf{1}`: :math:`O(D)` per node instead of :math:`O(D^2)`, the same
    function. With a :class:`~graphcl.nn.GCNEncoder` the two groups share
    one feature product, :math:`\mathbf{P}\mathbf{X}\mathbf{W} =
    \mathbf{P}(\mathbf{X}\mathbf{W})`, and the dropped columns are dropped
    from :math:`\mathbf{W}` instead of :math:`\mathbf{X}`, on DGI's sparse
    fast-path kernels (:class:`~graphcl.models.dgi_fast.FastGCNCache`),
    and a last PReLU and the score are one step whose backward uses that
    the gradient reaching the activation is rank one (:class:`_PReLUScore`);
    :meth:`fast_path_refusal` says when that path is not taken (the plain
    path then computes the same loss).

    Mini-batch training is not supported (:attr:`supports_minibatch` is
    :obj:`False`): the engine's mini-batch embeddings come from layer-wise
    inference of the encoder alone, without GGD's propagation.

    Args:
        encoder (Module): The encoder :math:`f`
            ``(x, edge_index[, edge_weight]) -> [N, D]``.
        projector (Module): The projector :math:`g` ``[N, D] -> [N, D']``.
        corruption (Module, optional): Makes the corrupted group from the
            augmented graph. (default:
            :class:`~graphcl.corruptions.FeatureShuffle`)
        augment (Module, optional): The augmentation applied once per step
            before both groups, e.g. ``FeatureMask(0.2)``; :obj:`None` for
            none. (default: :obj:`None`)
        power (int, optional): The propagation power :math:`n \geq 0`.
            (default: ``5``)
        fast_path (bool, optional): Allow the fast path (same results; off
            to force the plain one). (default: :obj:`True`)

    Shapes:
        - **objective:** a PyG :class:`~torch_geometric.data.Data` with
          ``x`` :math:`(N, F)`, ``edge_index`` :math:`(2, E)` -> scalar
        - **embed:** -> :math:`(N, D)`
    """
    supports_minibatch = False

    def __init__(self, encoder: Module, projector: Module,
                 corruption: Optional[Module] = None,
                 augment: Optional[Module] = None, power: int = 5,
                 fast_path: bool = True):
        super().__init__()
        check_int(power, "'power'", minimum=0,
                  what='propagation steps of the global embedding')
        self.encoder = encoder
        self.projector = projector
        self.corruption = FeatureShuffle() if corruption is None \
            else corruption
        self.augment = augment
        self.power = power
        self.fast_path = bool(fast_path)
        self._fast_cache = FastGCNCache()

    # Scores and loss -----------------------------------------------------
    def _linear_chain(self) -> Optional[Sequence[torch.nn.Linear]]:
        # The projector's linear layers when it is exactly a Linear or a
        # Sequential of Linears (so that the closed form is the same map).
        proj = self.projector
        layers = [proj] if type(proj) is torch.nn.Linear else (
            list(proj) if type(proj) is torch.nn.Sequential else None)
        if not layers or _hooks_anywhere(proj) is not None or \
                _overridden(proj, 'forward'):
            return None
        for lin in layers:
            if type(lin) is not torch.nn.Linear or _overridden(lin,
                                                               'forward'):
                return None
        return layers

    def _closed_form(self, like: Tensor) -> Optional[Tuple[Tensor, Tensor]]:
        # (v, c) with sum_c g(h)_c = h v + c for a linear projector, else
        # None (the projector then runs as it is, hooks included).
        layers = self._linear_chain()
        if layers is None:  # (hooks, global ones too: _linear_chain)
            return None
        v = like.new_ones(layers[-1].out_features)
        c = like.new_zeros(())
        for lin in reversed(layers):  # sum_c (x W^T + b)_c v_c
            if lin.bias is not None:
                c = c + lin.bias @ v
            v = v @ lin.weight
        return v, c

    def score(self, h: Tensor) -> Tensor:
        r"""One logit per node, :math:`s_i = \sum_c g(\mathbf{h}_i)_c`
        ``[N]`` (in closed form for a linear projector)."""
        form = self._closed_form(h)
        if form is None:
            return self.projector(h).sum(dim=-1)
        return h @ form[0] + form[1]

    def loss(self, pos_z: Tensor, neg_z: Tensor) -> Tensor:
        r"""The group discrimination loss of the original nodes'
        embeddings :obj:`pos_z` and the corrupted ones' :obj:`neg_z`
        ``[N, D]``: the mean binary cross-entropy over both groups."""
        return 0.5 * jsd_loss(self.score(pos_z), self.score(neg_z))

    # Training ------------------------------------------------------------
    def objective(self, data) -> Tensor:
        r"""The loss of one full-batch step on :obj:`data`."""
        self.check_input(data.x, data.edge_index, data)
        inputs = encoder_inputs(data)
        if self.fast_path_refusal(inputs) is None:
            return self._fast_loss(inputs)
        if self.augment is not None:
            inputs = self.augment(*inputs)
        pos_z = self.encoder(*inputs)
        neg_z = self.encoder(*self.corruption(*inputs))
        return self.loss(pos_z, neg_z)

    # Embeddings ----------------------------------------------------------
    def propagate(self, h: Tensor, edge_index: Tensor,
                  edge_weight: Optional[Tensor] = None) -> Tensor:
        r""":math:`\hat{\mathbf{A}}^n \mathbf{H}` ``[N, D]``, with
        :math:`\hat{\mathbf{A}}` PyG's
        :func:`~torch_geometric.nn.conv.gcn_conv.gcn_norm` of the graph
        (self-loops added where missing, symmetric normalisation, messages
        from source to target) as a CSR matrix."""
        n = h.size(0)
        if self.power == 0:
            return h
        ei, ew = gcn_norm(edge_index, edge_weight, n, improved=False,
                          add_self_loops=True, flow='source_to_target',
                          dtype=h.dtype)
        # Row i of the matrix gathers the messages into node i (target).
        with warnings.catch_warnings():  # "sparse CSR support is in beta"
            warnings.simplefilter('ignore', UserWarning)
            adj = to_torch_csr_tensor(ei.flip(0), ew, size=(n, n))
        out = h
        for _ in range(self.power):
            out = adj @ out
        return out

    @torch.no_grad()
    def embed(self, data) -> Tensor:
        r"""Frozen node embeddings :math:`\mathbf{H} + \hat{\mathbf{A}}^n
        \mathbf{H}` ``[N, D]`` of a PyG
        :class:`~torch_geometric.data.Data` (encoder in eval mode, no
        augmentation)."""
        self.check_input(data.x, data.edge_index, data)
        inputs = encoder_inputs(data)
        was_training = self.training
        self.eval()
        try:
            if self.fast_path_refusal(inputs, augment=False) is None:
                h = self._fast_encode(inputs, pair=False)[0]
            else:
                h = self.encoder(*inputs)
        finally:
            self.train(was_training)
        edge_weight = inputs[2] if len(inputs) > 2 else None
        return h + self.propagate(h, inputs[1], edge_weight)

    # The fast path -------------------------------------------------------
    def fast_path_refusal(self, inputs: Tuple,
                          augment: bool = True) -> Optional[str]:
        r"""Why the fast path would not compute what the plain path
        computes for these encoder inputs ``(x, edge_index[,
        edge_weight])``, or :obj:`None` when it would. Strict: exact types
        (:class:`~graphcl.nn.GCNEncoder` of PyG
        :class:`~torch_geometric.nn.GCNConv` layers,
        :class:`~graphcl.corruptions.FeatureShuffle`, no augmentation or
        exactly :class:`~graphcl.corruptions.FeatureMask`), every option
        that changes the maths, hooks, autocast and the inputs checked.
        :obj:`augment=False` checks the single-branch path of
        :meth:`embed`."""
        if not self.fast_path:
            return 'the fast path is turned off'
        cor, aug = self.corruption, self.augment
        if augment:
            if type(cor) is not FeatureShuffle or _overridden(
                    cor, 'forward', 'corrupt', 'permutation', '_randperm'):
                return 'the corruption is not exactly FeatureShuffle'
            if aug is not None and (type(aug) not in (FeatureMask, Identity)
                                    or _overridden(aug, 'forward', 'corrupt',
                                                   '_rand')):
                return 'the augmentation is not exactly FeatureMask'
        enc = self.encoder
        if type(enc) is not GCNEncoder or _overridden(enc, 'forward',
                                                      'layer'):
            return 'the encoder is not exactly GCNEncoder'
        why = gcn_layers_refusal(enc, SAFE_ACTIVATIONS)
        if why is not None:
            return why
        weight = enc.convs[0].lin.weight
        if len(inputs) not in (2, 3):
            return 'the encoder inputs are not (x, edge_index[, edge_weight])'
        x, edge_index = inputs[0], inputs[1]
        edge_weight = inputs[2] if len(inputs) > 2 else None
        if not isinstance(x, Tensor) or x.layout != torch.strided or \
                x.dim() != 2 or x.size(0) == 0 or x.size(1) != weight.size(1) \
                or x.dtype != weight.dtype or x.device != weight.device:
            return 'x is not a dense [N, F] tensor matching the first layer'
        return graph_input_refusal(x, edge_index, edge_weight) or \
            _hooks_anywhere(self)

    def _fused_head(self) -> Optional[Module]:
        # The last activation when the loss may be computed by _PReLUScore
        # (loss and score not overridden, a channel-wise PReLU, a linear
        # projector), else None.
        cls = type(self)
        if cls.loss is not GGD.loss or cls.score is not GGD.score or \
                _overridden(self, 'loss', 'score'):
            return None
        act = self.encoder.acts[-1]
        if type(act) not in (PReLU, torch.nn.PReLU) or \
                act.weight.numel() not in (1, self.encoder.out_channels) or \
                self._linear_chain() is None:
            return None
        return act

    def _fast_loss(self, inputs: Tuple) -> Tensor:
        # The loss on the fast path; with a PReLU last layer and a linear
        # projector the activation and the score are one step
        # (_PReLUScore), the same function and gradients in fewer passes.
        act = self._fused_head()
        if act is None:
            return self.loss(*self._fast_encode(inputs, pair=True))
        pre = self._fast_encode(inputs, pair=True, last_act=False)
        v, c = self._closed_form(pre[0])
        pos, neg = (_PReLUScore.apply(u, act.weight, v, c) for u in pre)
        return 0.5 * jsd_loss(pos, neg)

    def _fast_encode(self, inputs: Tuple, pair: bool,
                     last_act: bool = True) -> Tuple[Tensor, ...]:
        # The embeddings of the (augmented) graph and, with pair=True, of
        # its shuffled corruption, drawing the augmentation's mask and the
        # permutation exactly as the plain path does (same order); with
        # last_act=False, before the last activation.
        x, edge_index = inputs[0], inputs[1]
        edge_weight = inputs[2] if len(inputs) > 2 else None
        enc = self.encoder
        cache = self._fast_cache.update(enc.convs[0], x, edge_index,
                                        edge_weight)
        weight = enc.convs[0].lin.weight
        if pair and type(self.augment) is FeatureMask:
            # X diag(m) W^T = X (W diag(m))^T: the mask the augmentation
            # draws for x, read off a row of ones, drops columns of W
            # (the same numbers: check_input refuses non-finite x).
            keep = self.augment(x.new_ones(1, x.size(1)))[0][0]
            weight = weight * keep
        h = cache.transform(x, weight)
        hs = [h]
        if pair:
            perm = self.corruption.permutation(x.size(0), x.device)
            hs.append(h.index_select(0, perm))
        out = []
        last = len(enc.convs) - 1
        for h in hs:
            for i, (conv, act) in enumerate(zip(enc.convs, enc.acts)):
                if i > 0:
                    h = h @ conv.lin.weight.t()
                h = cache.propagate(h, conv.bias)
                if last_act or i < last:
                    h = act(h)
            out.append(h)
        return tuple(out)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.encoder!r}, '
                f'power={self.power})')


def build_ggd(in_channels: int, encoder: str, hidden: int, layers: int,
              act: str, proj_layers: int, feature_mask: float,
              edge_drop: float, power: int,
              seed: Optional[int] = None) -> GGD:
    r"""GGD from its options (see :data:`METHOD`): a one-generator
    augmentation (edge dropping, then feature-column dropping; both
    groups of a step share it) and corruption seeded by :obj:`seed`
    (:obj:`None`: the global RNG)."""
    feature_mask = check_prob(feature_mask, "'feature_mask'")
    edge_drop = check_prob(edge_drop, "'edge_drop'")
    check_int(power, "'power'", minimum=0,
              what='propagation steps of the global embedding')
    check_int(proj_layers, "'proj_layers'", what='linear projector layers')
    check_int(hidden, "'hidden'", what='embedding width')
    check_int(layers, "'layers'", what='encoder layers')
    gen = None if seed is None else torch.Generator().manual_seed(int(seed))
    parts = []
    if edge_drop > 0:
        parts.append(EdgeDrop(edge_drop, generator=gen))
    if feature_mask > 0:
        parts.append(FeatureMask(feature_mask, generator=gen))
    augment = None if not parts else (parts[0] if len(parts) == 1
                                      else Compose(parts))
    enc = get_encoder(encoder, in_channels, hidden_channels=hidden,
                      num_layers=layers, act=act)
    projector = torch.nn.Linear(hidden, hidden) if proj_layers == 1 else \
        torch.nn.Sequential(*[torch.nn.Linear(hidden, hidden)
                              for _ in range(proj_layers)])
    return GGD(enc, projector, FeatureShuffle(generator=gen), augment,
               power=power)
