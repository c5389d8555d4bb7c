r"""GraphMAE: Self-Supervised Masked Graph Autoencoders (`Hou et al., KDD
2022 <https://arxiv.org/abs/2205.10803>`_), wired from graphcl's parts.

A random half of the nodes (``mask_rate``) has its features replaced by a
learnable mask token (a few, ``replace_rate``, by another node's features
instead); a GAT encoder embeds the masked graph; the embeddings are
projected, the masked nodes' rows are *re-masked* (set to zero), and a
one-layer GAT decoder reconstructs the features, scored on the masked
nodes only by the scaled cosine error
(:func:`graphcl.losses.scaled_cosine_error`). The encoder's embeddings of
the unmasked graph are what the probe sees.

Settings (defaults and per-dataset presets) come from the official code,
github.com/THUDM/GraphMAE: ``configs.yml`` (Cora, CiteSeer, PubMed,
ogbn-arxiv), ``graphmae/models/edcoder.py`` (masking, re-masking, the
encoder-to-decoder projection) and ``graphmae/models/gat.py`` (the GAT,
:class:`~graphcl.nn.graphmae_gat.GraphMAEGAT`); see
:data:`graphcl.models.graphmae_spec.METHOD`.

Where this differs from the official code, on purpose:

* Of the masked nodes, exactly ``int(replace_rate * M)`` get another
  node's features and all the others the token (the code takes
  ``int((1 - replace_rate) M)`` token nodes, so rounding can leave one
  masked node with its own features).
* PyG's :class:`~torch_geometric.nn.GATConv` adds the self-loops the code
  adds to its DGL graph; its residual projection is always a linear map
  (the code uses the identity when the widths agree).
* The probe is :func:`graphcl.eval.linear_probe` (weight decay chosen on
  the validation split), not the code's Adam-trained logistic regression
  (``lr_f``, ``weight_decay_f``, ``max_epoch_f``, test accuracy of the
  last epoch).
"""
import math
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.nn import Module

from ..corruptions import EdgeDrop
from ..losses import scaled_cosine_error
from ..nn.graphmae_gat import NORMS, GraphMAEGAT
from ..validation import check_int, check_positive, check_prob
from .base import GraphMethod
from .graphmae_spec import GRAPHMAE_DEFAULTS, METHOD  # noqa: F401

__all__ = ['GraphMAE', 'build_graphmae', 'graphmae_memory',
           'GRAPHMAE_DEFAULTS', 'METHOD', 'LR_SCHEDULES']

#: Learning-rate schedules over a run (the code's ``scheduler``: True for
#: every node dataset of configs.yml).
LR_SCHEDULES = ('cosine', 'constant')


class GraphMAE(GraphMethod):
    r"""GraphMAE (`Hou et al., KDD 2022
    <https://arxiv.org/abs/2205.10803>`_).

    Each step draws the masked nodes :math:`\mathcal{M}` (a fraction
    :math:`p_m` of the nodes) and replaces their features: a fraction
    :math:`p_r` of them by the features of random nodes, the others by
    the learnable token :math:`\mathbf{x}_{[M]}`, giving
    :math:`\tilde{\mathbf{X}}`. Then

    .. math::
        \mathbf{H} = f_E(\mathbf{A}, \tilde{\mathbf{X}}), \qquad
        \tilde{\mathbf{H}} = \mathbf{H}\mathbf{W}_{ED}, \quad
        \tilde{\mathbf{h}}_i = \mathbf{0}\ (i \in \mathcal{M}), \qquad
        \mathbf{Z} = f_D(\mathbf{A}, \tilde{\mathbf{H}}),

    .. math::
        \mathcal{L} = \frac{1}{|\mathcal{M}|} \sum_{i \in \mathcal{M}}
        \left(1 - \frac{\mathbf{x}_i^\top \mathbf{z}_i}
        {\lVert\mathbf{x}_i\rVert\,\lVert\mathbf{z}_i\rVert}\right)^{\alpha}

    Args:
        encoder (Module): :math:`f_E`, ``(x, edge_index) -> [N, D]``.
        decoder (Module): :math:`f_D`, ``(h, edge_index) -> [N, F]``.
        in_channels (int): Feature width :math:`F` (of the mask token).
        hidden_channels (int): Embedding width :math:`D`.
        mask_rate (float, optional): :math:`p_m \in (0, 1)`.
            (default: ``0.5``)
        replace_rate (float, optional): :math:`p_r \in [0, 1)`, the share of
            masked nodes given a random node's features. (default:
            ``0.05``)
        alpha (float, optional): :math:`\alpha > 0` of the scaled cosine
            error. (default: ``3.0``)
        augment (Module, optional): A corruption of the encoder's graph
            (e.g. :class:`~graphcl.corruptions.EdgeDrop`); the decoder sees
            the whole graph. (default: :obj:`None`)
        generator (torch.Generator, optional): Draws the masks.
            (default: :obj:`None`, the global RNG)
        lr_schedule (str, optional): ``'cosine'``: the engine's optimiser
            follows GraphMAE's cosine decay to zero over the run
            (:meth:`begin_training`); ``'constant'``: its rate is left
            alone. (default: ``'cosine'``)

    Shapes:
        - **input:** node features :math:`(N, F)`, edge indices
          :math:`(2, E)`
        - **output of** :meth:`embed`: :math:`(N, D)`
    """
    def __init__(self, encoder: Module, decoder: Module, in_channels: int,
                 hidden_channels: int, mask_rate: float = 0.5,
                 replace_rate: float = 0.05, alpha: float = 3.0,
                 augment: Optional[Module] = None,
                 generator: Optional[torch.Generator] = None,
                 lr_schedule: str = 'cosine'):
        super().__init__()
        mask_rate = check_prob(mask_rate, "'mask_rate'")
        if not 0 < mask_rate < 1:
            raise ValueError(f"'mask_rate' must be in (0, 1) (some nodes "
                             f"masked, some not), got {mask_rate!r}")
        replace_rate = check_prob(replace_rate, "'replace_rate'")
        if replace_rate >= 1:
            raise ValueError(f"'replace_rate' must be in [0, 1) (the share "
                             f"of masked nodes given another node's "
                             f"features), got {replace_rate!r}")
        self.encoder = encoder
        self.decoder = decoder
        self.encoder_to_decoder = torch.nn.Linear(
            hidden_channels, hidden_channels, bias=False)
        self.mask_token = torch.nn.Parameter(torch.zeros(1, in_channels))
        self.augment = augment
        self.mask_rate = mask_rate
        self.replace_rate = replace_rate
        self.alpha = check_positive(alpha, "'alpha'",
                                    'the exponent of the scaled cosine error')
        self.generator = generator
        if lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"'lr_schedule' must be one of "
                             f"{list(LR_SCHEDULES)}, got {lr_schedule!r}")
        self.lr_schedule = lr_schedule

    def reset_parameters(self):
        super().reset_parameters()
        torch.nn.init.zeros_(self.mask_token)

    def _randperm(self, n: int, device) -> Tensor:
        gen = self.generator
        if gen is None:
            return torch.randperm(n, device=device)
        return torch.randperm(n, generator=gen).to(device)

    def mask_nodes(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        r"""Draws the masked nodes and returns ``(x_masked, masked,
        token, noise)``: the masked features, the masked nodes'
        indices :math:`\mathcal{M}` (``int(mask_rate * N)`` of them),
        those given the token and those given a random node's features
        (``int(replace_rate * |M|)``)."""
        n = x.size(0)
        num_mask = int(self.mask_rate * n)
        if num_mask < 1:
            raise ValueError(f"mask_rate={self.mask_rate} masks no node of "
                             f"a graph with {n} nodes; raise 'mask_rate'")
        masked = self._randperm(n, x.device)[:num_mask]
        num_noise = int(self.replace_rate * num_mask)
        out = x
        if num_noise > 0:
            order = masked[self._randperm(num_mask, x.device)]
            token, noise = order[:num_mask - num_noise], \
                order[num_mask - num_noise:]
            source = self._randperm(n, x.device)[:num_noise]
            out = x.index_copy(0, noise, x[source])
        else:
            token, noise = masked, masked[:0]
        is_token = torch.zeros(n, 1, dtype=torch.bool, device=x.device)
        is_token[token] = True
        out = torch.where(is_token, self.mask_token.to(x.dtype), out)
        return out, masked, token, noise

    def remask(self, h: Tensor, masked: Tensor) -> Tensor:
        r"""The decoder's input: :math:`\mathbf{H}\mathbf{W}_{ED}` with
        the masked nodes' rows set to zero (with the
        :class:`torch.nn.Linear` :math:`\mathbf{W}_{ED}`, only the other
        rows are projected: the same values; another projection, which
        may mix rows, sees them all)."""
        proj = self.encoder_to_decoder
        if type(proj) is not torch.nn.Linear or 'forward' in vars(proj):
            return proj(h).index_fill(0, masked, 0.0)
        keep = torch.ones(h.size(0), dtype=torch.bool, device=h.device)
        keep[masked] = False
        keep = keep.nonzero().view(-1)
        rep = self.encoder_to_decoder(h[keep])
        return rep.new_zeros(h.size(0), rep.size(1)).index_copy(0, keep, rep)

    def reconstruct(self, x: Tensor, edge_index: Tensor
                    ) -> Tuple[Tensor, Tensor]:
        r"""One masked pass: returns the reconstruction of the masked
        nodes' features, ``[|M|, F]`` (row :math:`k` is node
        ``masked[k]``), and their indices ``masked``."""
        x_masked, masked, _, _ = self.mask_nodes(x)
        enc_edges = edge_index
        if self.augment is not None:
            x_masked, enc_edges = self.augment(x_masked, edge_index)[:2]
        rep = self.remask(self.encoder(x_masked, enc_edges), masked)
        dec = self.decoder
        if isinstance(dec, GraphMAEGAT) and \
                type(dec).forward is GraphMAEGAT.forward and \
                'forward' not in vars(dec):  # the masked rows only
            return dec(rep, edge_index, rows=masked), masked
        return dec(rep, edge_index)[masked], masked

    def loss(self, recon: Tensor, x: Tensor, masked: Tensor) -> Tensor:
        r"""The scaled cosine error of the reconstructions :obj:`recon`
        ``[|M|, F]`` of the masked nodes against their features."""
        return scaled_cosine_error(recon, x[masked], self.alpha)

    def objective(self, data) -> Tensor:
        r"""The loss of one full-batch step on :obj:`data`."""
        self.check_input(data.x, data.edge_index, data)
        recon, masked = self.reconstruct(data.x, data.edge_index)
        return self.loss(recon, data.x, masked)

    def begin_training(self, optimizer: torch.optim.Optimizer, epochs: int,
                       steps_per_epoch: int = 1) -> None:
        r"""Called by the engine before training: with
        ``lr_schedule='cosine'`` every later step's learning rate follows
        GraphMAE's cosine decay from the optimiser's learning rate
        :math:`\eta_0` to zero over the run's :math:`T` steps,
        :math:`\eta_t = \eta_0 (1 + \cos(\pi t / T)) / 2` after
        :math:`t` steps (set in :meth:`on_step`; :math:`t` is read from
        the optimiser's state, so a resumed run continues the schedule)."""
        if self.lr_schedule != 'cosine':
            self._schedule = None
            return
        self._schedule = (optimizer, [g['lr'] for g in
                                      optimizer.param_groups],
                          max(1, int(epochs) * int(steps_per_epoch)))
        for group, lr in zip(optimizer.param_groups, self._schedule[1]):
            group['lr'] = lr  # t = 0: the full rate

    def on_step(self) -> None:
        r"""Sets the learning rate of the next step (see
        :meth:`begin_training`)."""
        schedule = getattr(self, '_schedule', None)
        if schedule is None:
            return
        optimizer, base, total = schedule
        steps = [s['step'] for s in optimizer.state.values() if 'step' in s]
        if not steps:
            return
        t = int(max(float(v) for v in steps))
        scale = 0.5 * (1.0 + math.cos(math.pi * min(t, total) / total))
        for group, lr in zip(optimizer.param_groups, base):
            group['lr'] = lr * scale

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.encoder!r}, '
                f'mask_rate={self.mask_rate}, '
                f'replace_rate={self.replace_rate}, alpha={self.alpha})')


def build_graphmae(in_channels: int, hidden: int, heads: int, layers: int,
                   act: str, in_drop: float, attn_drop: float, norm: str,
                   residual: bool, negative_slope: float, mask_rate: float,
                   replace_rate: float, alpha: float, edge_drop: float,
                   lr_schedule: str, seed: Optional[int] = None
                   ) -> GraphMAE:
    r"""GraphMAE from its options (see
    :data:`~graphcl.models.graphmae_spec.METHOD`); :obj:`seed` seeds the
    masks and edge dropping (one private generator), :obj:`None` uses the
    global RNG."""
    check_int(hidden, "'hidden'", what='embedding width')
    check_int(heads, "'heads'", what='attention heads of the encoder')
    check_int(layers, "'layers'", what='GAT layers of the encoder')
    if hidden % heads:
        raise ValueError(f"'hidden' ({hidden}) must be divisible by 'heads' "
                         f"({heads}): each head has hidden / heads channels")
    for name, value in (('in_drop', in_drop), ('attn_drop', attn_drop)):
        if check_prob(value, f"'{name}'") >= 1:
            raise ValueError(f"'{name}' must be in [0, 1), got {value!r}")
    if norm not in NORMS:
        raise ValueError(f"'norm' must be one of {list(NORMS)}, got "
                         f"{norm!r}")
    if not isinstance(residual, bool):
        raise ValueError(f"'residual' must be True or False, got "
                         f"{residual!r}")
    edge_drop = check_prob(edge_drop, "'edge_drop'")
    check_positive(alpha, "'alpha'",
                                    'the exponent of the scaled cosine error')
    if lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"'lr_schedule' must be one of "
                         f"{list(LR_SCHEDULES)}, got {lr_schedule!r}")
    gen = None if seed is None else torch.Generator().manual_seed(int(seed))
    gat = dict(act=act, dropout=in_drop, attn_dropout=attn_drop,
               negative_slope=negative_slope)
    encoder = GraphMAEGAT(in_channels, hidden, layers, heads, norm=norm,
                          residual=residual, **gat)
    decoder = GraphMAEGAT(hidden, in_channels, 1, heads=1,
                          **{**gat, 'act': None})
    augment = EdgeDrop(edge_drop, generator=gen) if edge_drop > 0 else None
    return GraphMAE(encoder, decoder, in_channels, hidden,
                    mask_rate=mask_rate, replace_rate=replace_rate,
                    alpha=alpha, augment=augment, generator=gen,
                    lr_schedule=lr_schedule)


def graphmae_memory(stats, options, model):
    r"""GraphMAE's memory (:mod:`graphcl.memory`), from what one training
    step keeps for the backward pass (measured against the peak resident
    size of steps on Coauthor-CS and Coauthor-Physics). With :math:`N`
    nodes, :math:`F` features, :math:`M` masked nodes
    (``int(mask_rate * N)``), :math:`E'` edges with self-loops (the
    encoder's: a fraction of them with ``edge_drop``), in float32:

    * the encoder's first layer: its dropped input and the dropout's
      noise (:math:`2 \times (N, F)`; PyTorch's CPU dropout multiplies by
      a float noise tensor and keeps it) or, without input dropout, the
      masked features themselves (:math:`(N, F)`);
    * per GAT layer: the dropped input and noise of the later layers
      (:math:`2 \times (N, c_\mathrm{in})`), the projected rows (saved by
      the attention scores) and the aggregated output (saved by the
      activation; one more with a norm), :math:`2 \times (N, c)`; the
      gathered rows of every edge, saved by their product with the
      attention (:math:`(E', c)`, or :math:`(E', c_\mathrm{in})` for a
      layer that aggregates first); four :math:`(E', K)` attention
      tensors (logits, softmax, dropout noise and output);
    * the re-masked embeddings' kept rows (:math:`(N - M, D)`);
    * the decoder (one head, aggregating first where its output is wider
      than its input, :func:`~graphcl.nn.graphmae_gat.aggregate_first`,
      computing the masked rows only): its dropped input and noise
      (:math:`2 \times (N, D)`), the gathered rows of the edges into the
      masked nodes (:math:`(E'M/N, D)`), their aggregation
      :math:`(M, D)` and the reconstruction :math:`(M, F)`;
    * the normalised targets :math:`(M, F)` the loss keeps;
    * on top of it, the largest of the transients: in the backward pass
      the loss's gradients through the row normalisation
      (:math:`4 \times (M, F)`) or, at a GAT layer, the gradient of its
      messages gathered per edge and its products with the attention and
      with the gathered rows (:math:`3 \times (E', c)`); in the forward
      pass the masked features (:math:`(N, F)`, alive until the decoder
      is done).

    The embeddings: the encoder's forward pass through PyG's GAT layers
    (:func:`~graphcl.memory.plain_inference`), or the probe."""
    from ..memory import (FLOAT, Breakdown, Layer, MethodMemory, larger,
                          plain_inference, probe_bytes)
    from ..nn.graphmae_gat import can_aggregate_first
    n, f = stats.num_nodes, stats.num_features
    m = max(1, int(float(getattr(model, 'mask_rate', 0.5)) * n))
    keep = 1.0 - float(options.get('edge_drop') or 0.0)
    e_enc = int(stats.num_edges * keep) + n
    e_dec = stats.num_edges + n

    def aggregates_first(coder, conv):
        probe = torch.empty(1, conv.in_channels, device='meta')
        return bool(getattr(coder, 'fast_path', False)) and \
            can_aggregate_first(conv, probe)

    out = Breakdown()
    enc, convs = model.encoder, model.encoder.convs
    in_drop = float(getattr(enc, 'dropout', 0.0) or 0.0) > 0
    norm = getattr(enc, 'norm', 'none') != 'none'
    nf = n * f * FLOAT
    out.add('first layer input: dropped features and the dropout noise '
            '(2 x N x F)' if in_drop else
            'first layer input: the masked features (N x F)',
            (2 if in_drop else 1) * nf, nf)
    rows = later = edges = attention = 0
    messages = (0, '')  # the widest layer's message gradients (backward)
    for i, conv in enumerate(convs):
        c = conv.heads * conv.out_channels
        if i > 0 and in_drop:
            later += 2 * n * conv.in_channels * FLOAT
        rows += (2 + int(norm)) * n * c * FLOAT
        width = conv.in_channels if aggregates_first(enc, conv) else c
        edges += e_enc * width * FLOAT
        attention += 4 * e_enc * conv.heads * FLOAT
        messages = max(messages, (3 * e_enc * width * FLOAT,
                                  f'encoder layer {i + 1}: {e_enc:,} x '
                                  f'{width}'))
    d = convs[-1].heads * convs[-1].out_channels
    nd = n * d * FLOAT
    out.add('later layers: dropped inputs and dropout noise (2 x N x c)',
            later, nd)
    out.add(f'encoder: projected rows and outputs ({2 + int(norm)} x N x c '
            f'per layer, {len(convs)} layers)', rows, nd)
    out.add(f'encoder: gathered rows of every edge ({e_enc:,} x c per '
            f'layer)', edges, e_enc * d * FLOAT)
    out.add('encoder: attention per edge (4 x E\' x heads per layer)',
            attention, e_enc * FLOAT)
    out.add('re-masked embeddings, kept rows ((N - M) x D)',
            (n - m) * d * FLOAT, nd)
    dec = model.decoder
    dec_drop = float(getattr(dec, 'dropout', 0.0) or 0.0) > 0
    recon = m * f * FLOAT
    for conv in dec.convs:
        c_in = conv.in_channels
        first = aggregates_first(dec, conv)
        # Aggregating first, only the edges into the masked rows are
        # gathered; otherwise every edge's (heads x out) message and
        # every node's output, of which the masked rows are taken.
        e = e_dec * m // max(n, 1) if first else e_dec
        width = c_in if first else conv.heads * conv.out_channels
        out.add('decoder: dropped input and dropout noise (2 x N x D)'
                if dec_drop else '', 2 * n * c_in * FLOAT if dec_drop
                else 0, nd)
        out.add(f'decoder: gathered rows ({e:,} x {width})',
                e * width * FLOAT, e * width * FLOAT)
        messages = max(messages, (3 * e * width * FLOAT,
                                  f'decoder: {e:,} x {width}'))
        out.add('decoder: aggregated rows (M x D)' if first else
                'decoder: output of every node (N x F)',
                m * c_in * FLOAT if first else nf, nd)
    out.add('reconstruction of the masked rows and their normalised '
            'targets (2 x M x F)', 2 * recon, recon)
    transient = max(
        (4 * recon, 'loss gradients through the row normalisation (4 x M x '
         'F, backward)', recon),
        (messages[0], f'message gradients per edge, 3 x E\' x c '
         f'({messages[1]}, backward)', messages[0] // 3),
        (nf, 'masked features (N x F, forward)', nf))
    out.add(transient[1], transient[0], transient[2])
    enc_layers = [Layer(c.in_channels, c.heads * c.out_channels,
                        c.heads * c.out_channels, True, 2) for c in convs]
    embedding = larger(plain_inference(stats, enc_layers),
                       probe_bytes(stats, d))
    return MethodMemory({}, out, embedding)
