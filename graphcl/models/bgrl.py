r"""BGRL: Large-Scale Representation Learning on Graphs via Bootstrapping
(`Thakoor et al., ICLR 2022 <https://arxiv.org/abs/2102.06514>`_), wired
from graphcl's parts.

Two views of the graph (:class:`~graphcl.corruptions.EdgeDrop` then
:class:`~graphcl.corruptions.FeatureMask`, rates of their own per view, as
GRACE's), an online GCN encoder with batch norm and PReLU after every
layer, a predictor MLP (:class:`~graphcl.nn.ProjectionHead`), and a target
encoder that gets no gradient: after every optimiser step it moves towards
the online encoder (an exponential moving average whose momentum rises
from :math:`\tau_0` to 1 on a cosine schedule, :meth:`BGRL.on_step`). The
loss is the symmetric cosine loss between each view's prediction and the
other view's target embedding: no negatives, :math:`O(ND)` memory.

The target's weights are buffers, not parameters: they are saved with the
model's ``state_dict`` (so checkpoints and ``--resume`` restore them), but
``model.parameters()``, hence the optimiser, never sees them.

Settings and the reference code (github.com/nerdslab/bgrl), and where this
differs on purpose:

* The learning rate warms up linearly and decays on a cosine, as in the
  reference code, over the run's optimiser steps; the warm-up is given as
  a fraction of them (``lr_warmup=0.1``: the reference code's 1,000 of
  10,000 epochs). The engine hands the optimiser and the run's length to
  :meth:`BGRL.begin_training`.
* The optimiser is the reference code's AdamW (decoupled weight decay,
  :meth:`BGRL.configure_optimizer`); ``optimizer='adam'`` gives Adam with
  weight decay as an L2 term, as the engine trains other methods.
* The linear probe is :func:`graphcl.eval.linear_probe` on 10/10/80
  random splits (the reference code's logistic regression uses the same
  split sizes).
"""
import copy
import math
import numbers
import weakref
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Module, ModuleList

from ..corruptions import Compose, EdgeDrop, FeatureMask
from ..nn.activations import PReLU
from ..nn.encoders import GCNEncoder
from ..nn.heads import ProjectionHead
from ..perf import make_adam, make_adamw
from ..validation import check_int, check_prob
from .base import GraphMethod, encoder_inputs
from .gcn_views import (GCNViewsEmbed, SparseFeatureCache, draw_gcn_views,
                        gcn_view_refusal)
from .bgrl_spec import (BGRL_DEFAULTS, LR_SCHEDULES, METHOD,  # noqa: F401
                        OPTIMIZERS)
from .minibatch import check_views_keep_nodes, encode_seeds, subgraph_views

__all__ = ['BGRL', 'BGRLEncoder', 'BatchNormPReLU', 'bootstrap_loss',
           'cosine_momentum', 'warmup_cosine', 'build_bgrl', 'BGRL_DEFAULTS',
           'METHOD']


class BatchNormPReLU(Module):
    r"""Batch norm, then PReLU with one slope: what BGRL's encoder applies
    after every GCN layer,

    .. math::
        \mathrm{PReLU}\left(\gamma \odot \frac{\mathbf{h} -
        \boldsymbol{\mu}}{\sqrt{\boldsymbol{\sigma}^2 + \epsilon}} +
        \boldsymbol{\beta}\right)

    Args:
        channels (int): Width of the rows.
        momentum (float, optional): Batch norm's running-statistics
            momentum in PyTorch's convention (the weight of the newest
            batch). (default: ``0.99``, BGRL's)

    Shapes:
        - **input:** :math:`(N, C)`
        - **output:** :math:`(N, C)`
    """
    def __init__(self, channels: int, momentum: float = 0.99):
        super().__init__()
        self.norm = torch.nn.BatchNorm1d(channels, momentum=momentum)
        self.act = PReLU(1)

    def reset_parameters(self):
        self.norm.reset_parameters()
        self.act.reset_parameters()

    def forward(self, h: Tensor) -> Tensor:
        return self.act(self.norm(h))

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.norm.num_features})'


class BGRLEncoder(GCNEncoder):
    r"""BGRL's encoder: :obj:`num_layers` GCN layers, every inner one
    :obj:`hidden_channels` wide and the last :obj:`out_channels`, each
    followed by batch norm and PReLU (:class:`BatchNormPReLU`):

    .. math::
        \mathbf{H}^{(l+1)} = \mathrm{PReLU}\left(\mathrm{BN}\left(
        \hat{\mathbf{D}}^{-1/2} \hat{\mathbf{A}} \hat{\mathbf{D}}^{-1/2}
        \mathbf{H}^{(l)} \mathbf{W}^{(l)}\right)\right)

    A :class:`~graphcl.nn.GCNEncoder` (layer by layer, so layer-wise
    inference and the mini-batch path run it unchanged; batch norm in eval
    mode is a per-row map).

    Args:
        in_channels (int): Input feature width :math:`F`.
        hidden_channels (int): Width of the inner layers.
        out_channels (int): Embedding width :math:`D`.
        num_layers (int, optional): Number of GCN layers. (default: ``2``)
        bn_momentum (float, optional): Batch norm's momentum (PyTorch's
            convention). (default: ``0.99``)

    Shapes:
        - **input:** node features :math:`(N, F)`, edge indices
          :math:`(2, E)`, optional edge weights :math:`(E)`
        - **output:** node embeddings :math:`(N, D)`
    """
    def __init__(self, in_channels: int, hidden_channels: int,
                 out_channels: int, num_layers: int = 2,
                 bn_momentum: float = 0.99):
        check_int(out_channels, "'out_channels'", what='embedding width')
        check_int(hidden_channels, "'hidden_channels'",
                  what='inner layer width')
        check_int(num_layers, "'num_layers'")
        widths = [hidden_channels] * (num_layers - 1) + [out_channels]
        super().__init__(in_channels, widths[0], num_layers, act=None)
        for i in range(1, num_layers):
            self.convs[i] = self.init_conv(widths[i - 1], widths[i])
        self.acts = ModuleList(BatchNormPReLU(w, bn_momentum)
                               for w in widths)
        self.out_channels = out_channels
        self.reset_parameters()

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, '
                f'{self.out_channels}, num_layers={self.num_layers})')


def bootstrap_loss(q: Tensor, y: Tensor) -> Tensor:
    r"""BGRL's loss of predictions :obj:`q` against target embeddings
    :obj:`y` (rows paired; :obj:`y` gets no gradient):

    .. math::
        \ell(\mathbf{Q}, \mathbf{Y}) = 1 - \frac{1}{N} \sum_{i=1}^{N}
        \frac{\mathbf{q}_i^\top \mathbf{y}_i}{\|\mathbf{q}_i\|
        \|\mathbf{y}_i\|}

    Shapes:
        - **input:** :math:`(N, D)`, :math:`(N, D)`
        - **output:** a scalar
    """
    if q.shape != y.shape or q.dim() != 2 or q.size(0) == 0:
        raise ValueError(f"bootstrap_loss needs two [N, D] matrices of the "
                         f"same shape with N > 0, got {tuple(q.shape)} and "
                         f"{tuple(y.shape)}")
    return 1 - F.cosine_similarity(q, y.detach(), dim=-1).mean()


def cosine_momentum(step: int, total: int, base: float) -> float:
    r"""The target's momentum after optimiser step :obj:`step` (counted
    from 0) of :obj:`total`, rising from :obj:`base` to 1:

    .. math::
        \tau_k = 1 - (1 - \tau_0) \frac{\cos(\pi k / K) + 1}{2}

    (steps beyond :math:`K` keep :math:`\tau = 1`)."""
    k = min(max(step, 0), total)
    return 1 - (1 - base) * (math.cos(math.pi * k / total) + 1) / 2


def warmup_cosine(step: int, total: int, warmup: int) -> float:
    r"""The learning rate's factor at optimiser step :obj:`step` (counted
    from 0) of :obj:`total`: a linear warm-up over :obj:`warmup` steps,
    then a cosine decay to 0 at step :math:`K`,

    .. math::
        \eta_k / \eta = \begin{cases} k / W & k < W \\
        \frac{1}{2}\left(1 + \cos\frac{\pi (k - W)}{K - W}\right)
        & W \leq k \leq K \end{cases}

    (0 beyond :math:`K`), the reference code's ``CosineDecayScheduler``."""
    if step < warmup:
        return step / warmup
    if step > total:
        return 0.0
    return (1 + math.cos(math.pi * (step - warmup) / (total - warmup))) / 2


def _check_twins(encoder: Module, target: Module):
    # The target must hold a weight of the same name and shape for every
    # parameter of the online encoder (the moving average pairs them).
    online = {n: tuple(p.shape) for n, p in encoder.named_parameters()}
    twin = {n: tuple(p.shape) for n, p in target.named_parameters()}
    if online != twin:
        raise ValueError(f"'target_encoder' must have the online encoder's "
                         f"parameters (names and shapes); they differ in "
                         f"{sorted(set(online.items()) ^ set(twin.items()))}")


def _as_buffers(module: Module) -> Module:
    # Every parameter of module (and its children) becomes a buffer of the
    # same name and value: saved in state_dict, moved by .to(), never
    # returned by parameters().
    for sub in module.modules():
        for name, param in list(sub.named_parameters(recurse=False)):
            delattr(sub, name)
            sub.register_buffer(name, param.detach().clone())
    return module


class BGRL(GCNViewsEmbed, GraphMethod):
    r"""BGRL (`Thakoor et al., ICLR 2022
    <https://arxiv.org/abs/2102.06514>`_).

    Each step draws two views :math:`\tilde G_1, \tilde G_2` of the graph,
    embeds both with the online encoder :math:`f_\theta` and the target
    encoder :math:`f_\phi`, predicts with :math:`p_\theta` and minimises

    .. math::
        \mathcal{L} = \ell\left(p_\theta(f_\theta(\tilde G_1)),
        f_\phi(\tilde G_2)\right) + \ell\left(p_\theta(f_\theta(\tilde
        G_2)), f_\phi(\tilde G_1)\right)

    (:func:`bootstrap_loss`, the target side without gradient). After the
    optimiser's step, :meth:`on_step` moves the target,

    .. math::
        \phi \leftarrow \tau_k \phi + (1 - \tau_k) \theta,

    with :math:`\tau_k` :func:`cosine_momentum` over the run's :math:`K`
    steps (told by :meth:`begin_training`; a constant :math:`\tau_0`
    without it). The target starts from its own random initialisation, as
    in the reference code, and its batch norm statistics are its own.

    Args:
        encoder (Module): The online encoder :math:`f_\theta`
            ``(x, edge_index[, edge_weight]) -> [N, D]``; the target is a
            copy, re-initialised, whose weights are buffers.
        predictor (Module): The predictor :math:`p_\theta`
            ``[N, D] -> [N, D]``.
        view1 (Module): The corruption drawing the first view, e.g.
            ``Compose([EdgeDrop(0.5), FeatureMask(0.2)])``.
        view2 (Module): The corruption drawing the second view.
        momentum (float, optional): The target's initial momentum
            :math:`\tau_0 \in [0, 1]`. (default: ``0.99``)
        lr_warmup (float, optional): The learning rate's linear warm-up,
            as a fraction of the run's steps, in :math:`[0, 1)`.
            (default: ``0.1``)
        lr_schedule (str, optional): ``'cosine'`` (warm-up, then cosine
            decay, :func:`warmup_cosine`) or ``'constant'`` (the
            optimiser's rate, untouched). (default: ``'cosine'``)
        target_encoder (Module, optional): The target's initial network,
            of the online encoder's structure (its parameters become
            buffers); :obj:`None` copies :obj:`encoder` and re-initialises
            the copy. (default: :obj:`None`)
        optimizer (str, optional): The optimiser
            :meth:`configure_optimizer` gives the engine: ``'adamw'``
            (decoupled weight decay, the reference code's) or ``'adam'``
            (weight decay as an L2 term). (default: ``'adamw'``)
    """
    supports_minibatch = True
    supports_sparse_features = True  # minibatch_objective: CSR batch.x

    def __init__(self, encoder: Module, predictor: Module, view1: Module,
                 view2: Module, momentum: float = 0.99,
                 lr_warmup: float = 0.1, lr_schedule: str = 'cosine',
                 target_encoder: Optional[Module] = None,
                 optimizer: str = 'adamw'):
        super().__init__()
        self.optimizer_name = _check_optimizer(optimizer)
        self.momentum = check_prob(momentum, "'momentum'")
        self.lr_warmup = _check_warmup(lr_warmup)
        self.lr_schedule = _check_schedule(lr_schedule)
        self.encoder = encoder
        self.predictor = predictor
        self.view1 = view1
        self.view2 = view2
        if target_encoder is None:
            target_encoder = copy.deepcopy(encoder)
            if hasattr(target_encoder, 'reset_parameters'):
                target_encoder.reset_parameters()
        _check_twins(encoder, target_encoder)
        self.target_encoder = _as_buffers(target_encoder)
        #: Optimiser steps taken so far (a buffer: checkpoints keep it).
        self.register_buffer('num_steps', torch.zeros((), dtype=torch.long))
        #: Whether :meth:`objective` may take the CSR path where it computes
        #: the same function (:meth:`fast_path_refusal`).
        self.fast_path = True
        self._feature_rows = SparseFeatureCache()
        self.total_steps: Optional[int] = None
        self.warmup_steps = 0
        self._optimizer: Optional[Callable] = None

    def reset_parameters(self):
        r"""Resets the online and target networks (independently) and the
        step count."""
        super().reset_parameters()
        self.num_steps.zero_()

    def configure_optimizer(self, lr: float, weight_decay: float = 0.0
                            ) -> torch.optim.Optimizer:
        r"""AdamW (decoupled weight decay), as the reference code trains
        BGRL, or Adam with weight decay as an L2 term
        (:obj:`optimizer='adam'`), over the online network's parameters
        (the target's weights are buffers)."""
        make = make_adamw if self.optimizer_name == 'adamw' else make_adam
        return make(self.parameters(), lr=lr, weight_decay=weight_decay)

    # --- schedules ---------------------------------------------------

    def begin_training(self, optimizer: torch.optim.Optimizer, epochs: int,
                       steps_per_epoch: int = 1) -> None:
        r"""Sets the schedules' length, :math:`K` = :obj:`epochs` x
        :obj:`steps_per_epoch` optimiser steps, and the learning rate of
        the next step in :obj:`optimizer` (whose rate at this call, kept
        as each group's ``'initial_lr'``, is the peak rate)."""
        check_int(epochs, "'epochs'")
        check_int(steps_per_epoch, "'steps_per_epoch'")
        self.total_steps = epochs * steps_per_epoch
        self.warmup_steps = min(int(round(self.lr_warmup * self.total_steps)),
                                self.total_steps - 1)
        self._optimizer = weakref.ref(optimizer)
        for group in optimizer.param_groups:
            group.setdefault('initial_lr', group['lr'])
        self._set_lr(int(self.num_steps))

    def current_momentum(self) -> float:
        r"""The momentum of the next target update."""
        if self.total_steps is None:
            return self.momentum
        return cosine_momentum(int(self.num_steps), self.total_steps,
                               self.momentum)

    def _set_lr(self, step: int):
        optimizer = self._optimizer() if self._optimizer else None
        if optimizer is None or self.lr_schedule == 'constant':
            return
        factor = warmup_cosine(step, self.total_steps, self.warmup_steps)
        for group in optimizer.param_groups:
            group['lr'] = group['initial_lr'] * factor

    @torch.no_grad()
    def update_target(self, momentum: float) -> None:
        r""":math:`\phi \leftarrow \tau \phi + (1 - \tau) \theta` for every
        weight of the target encoder (its batch norm statistics are its
        own)."""
        target = dict(self.target_encoder.named_buffers())
        for name, param in self.encoder.named_parameters():
            target[name].mul_(momentum).add_(param.detach(),
                                             alpha=1 - momentum)

    def on_step(self) -> None:
        r"""After every optimiser step: the target's moving-average
        update with :meth:`current_momentum`, then the learning rate of
        the next step."""
        self.update_target(self.current_momentum())
        self.num_steps += 1
        self._set_lr(int(self.num_steps))

    # --- the loss ----------------------------------------------------

    def loss(self, h1: Tensor, h2: Tensor, y1: Tensor, y2: Tensor) -> Tensor:
        r"""BGRL's symmetric loss of the online embeddings :obj:`h1`,
        :obj:`h2` and the target embeddings :obj:`y1`, :obj:`y2` of the
        two views ``[N, D]``."""
        return (bootstrap_loss(self.predictor(h1), y2)
                + bootstrap_loss(self.predictor(h2), y1))

    def _views_loss(self, encode: Callable, v1: tuple, v2: tuple) -> Tensor:
        h1, h2 = encode(self.encoder, v1), encode(self.encoder, v2)
        with torch.no_grad():
            y1 = encode(self.target_encoder, v1)
            y2 = encode(self.target_encoder, v2)
        return self.loss(h1, h2, y1, y2)

    def fast_path_refusal(self, view: tuple) -> Optional[str]:
        r"""Why a view is not encoded through its normalised CSR adjacency
        (:mod:`graphcl.models.gcn_views`: the same function, 4-5x faster
        on CPU), or :obj:`None` when it is."""
        if not self.fast_path:
            return 'fast_path is off'
        return gcn_view_refusal((self.encoder, self.target_encoder), view)

    def objective(self, data) -> Tensor:
        r"""The loss of one full-batch step on :obj:`data`."""
        self.check_input(data.x, data.edge_index, data)
        # Each view's graph normalised once, for both encoders (fast path).
        views, encode = draw_gcn_views(
            (self.view1, self.view2), encoder_inputs(data),
            self.fast_path_refusal, self.encoder,
            self._feature_rows if self.fast_path else None)
        check_views_keep_nodes(views, data.x.size(0))
        return self._views_loss(encode, *views)

    def minibatch_objective(self, batch) -> Tensor:
        r"""The loss on a sampled subgraph: both views are drawn from the
        subgraph (sparse feature rows stay sparse,
        :func:`~graphcl.models.minibatch.corrupt_subgraph`), both encoders
        run on them and the first ``batch.batch_size`` rows, the seeds,
        enter the loss."""
        views = [v[:3] for v in subgraph_views((self.view1, self.view2),
                                               batch)]
        check_views_keep_nodes(views, batch.x.size(0))

        def encode(encoder, v):
            # No per-hop counts: GCN layers are not trimmed (their symmetric
            # normalisation reads source degrees), any layer runs whole.
            return encode_seeds(encoder, v[0], v[1], batch.batch_size,
                                edge_weight=v[2])
        return self._views_loss(encode, *views)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.encoder!r}, '
                f'momentum={self.momentum})')


def _check_warmup(value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
            not math.isfinite(float(value)) or not 0 <= float(value) < 1:
        raise ValueError(f"'lr_warmup' (the learning rate's warm-up, a "
                         f"fraction of the run's steps) must be in [0, 1), "
                         f"got {value!r}")
    return float(value)


def _check_schedule(value) -> str:
    if value not in LR_SCHEDULES:
        raise ValueError(f"'lr_schedule' must be one of {list(LR_SCHEDULES)}"
                         f", got {value!r}")
    return value


def _check_optimizer(value) -> str:
    if value not in OPTIMIZERS:
        raise ValueError(f"'optimizer' must be one of {list(OPTIMIZERS)}, "
                         f"got {value!r}")
    return value


def build_bgrl(in_channels: int, hidden: int, out_channels: int,
               layers: int, pred_hidden: int, edge_drop_1: float,
               edge_drop_2: float, feature_mask_1: float,
               feature_mask_2: float, momentum: float, lr_warmup: float,
               lr_schedule: str, bn_momentum: float,
               optimizer: str = 'adamw',
               seed: Optional[int] = None) -> BGRL:
    r"""BGRL from its options (see :data:`METHOD`); :obj:`seed` seeds the
    two views' corruptions (one private generator), :obj:`None` uses the
    global RNG."""
    rates = {name: check_prob(value, f"'{name}'") for name, value in (
        ('edge_drop_1', edge_drop_1), ('edge_drop_2', edge_drop_2),
        ('feature_mask_1', feature_mask_1),
        ('feature_mask_2', feature_mask_2))}
    check_prob(momentum, "'momentum'")
    check_prob(bn_momentum, "'bn_momentum'")
    _check_warmup(lr_warmup)
    _check_schedule(lr_schedule)
    _check_optimizer(optimizer)
    check_int(hidden, "'hidden'", what='inner layer width')
    check_int(out_channels, "'out_channels'", what='embedding width')
    check_int(layers, "'layers'", what='GCN layers')
    check_int(pred_hidden, "'pred_hidden'", what="the predictor's width")
    gen = None if seed is None else torch.Generator().manual_seed(int(seed))
    views = [Compose([EdgeDrop(rates[f'edge_drop_{v}'], generator=gen),
                      FeatureMask(rates[f'feature_mask_{v}'], generator=gen)])
             for v in (1, 2)]
    encoder, target = (BGRLEncoder(in_channels, hidden, out_channels, layers,
                                   bn_momentum) for _ in range(2))
    predictor = ProjectionHead(out_channels, pred_hidden, out_channels,
                               act=PReLU(1))
    return BGRL(encoder, predictor, views[0], views[1], momentum=momentum,
                lr_warmup=lr_warmup, lr_schedule=lr_schedule,
                target_encoder=target, optimizer=optimizer)
