r"""Memory estimates before training, and the check that stops a run which
would not fit, with the mini-batch command that would.

A full-batch run of a method holds at its peak, in bytes (:math:`N` nodes,
:math:`E` edges, :math:`F` features, :math:`P` bytes of parameters):

.. math::
    M = M_0 + M_\mathrm{data} + 5P + M_\mathrm{const}
        + \max(M_\mathrm{first},\, M_\mathrm{train},\,
               M_\mathrm{kept} + M_\mathrm{embed})

* :math:`M_0`: the process itself (Python, PyTorch, PyG, graphcl;
  :data:`BASELINE_BYTES`, measured).
* :math:`M_\mathrm{data}`: the features (dense :math:`4NF`, or CSR:
  12 bytes per non-zero) once (the engine replaces them by their
  row-normalised copy), ``edge_index`` (:math:`16E`), labels and masks.
* :math:`5P`: the parameters, their gradients, Adam's two moments and the
  early-stopping copy of the best state (parameters are counted exactly,
  from the method built under PyTorch's ``FakeTensorMode``: shapes without
  memory).
* :math:`M_\mathrm{const}`: the method's per-graph constants (DGI's fast
  path: the normalised adjacency as CSR matrices).
* :math:`M_\mathrm{first}`: the transients before and at the first step
  (:func:`first_steps`: both copies of the features while normalising,
  the input check's :math:`7NF` bytes; a method's own, such as DGI's and
  GGD's cache, :func:`fast_gcn_first_step`).
* :math:`M_\mathrm{train}`: the activations one training step holds at its
  peak, per layer and per view.
* :math:`M_\mathrm{embed}`: the full-graph forward pass that gives the
  embeddings to the linear probe, or the probe, whichever is larger.
* :math:`M_\mathrm{kept}`: the training step's blocks under glibc's mmap
  threshold, which :func:`graphcl.perf.tune_cpu_allocator` keeps resident
  after they are freed (up to :data:`TRIM_THRESHOLD`).

The constants, training step and embedding pass are the method's: a
:class:`~graphcl.models.MethodSpec` names a hook ``memory(stats, options,
model) -> MethodMemory`` (:data:`MemoryHook`); DGI's, GRACE's and GGD's
are :func:`dgi_memory`, :func:`grace_memory` and :func:`ggd_memory`
(BGRL's and GRACE's share the two-view fast path,
:func:`gcn_views_memory`); without one,
:func:`generic_memory` assumes plain PyG message passing over two views,
on the conservative side. The helpers here (:func:`csr_bytes`,
:func:`encoder_layers`, :func:`plain_training`, :func:`plain_inference`,
...) make a hook a few lines. Measured against real runs:
``benchmarks/results/memory_estimate.md`` and, for every node method on
Coauthor-Physics, ``benchmarks/results/memory_physics.md``.

Use:

.. code-block:: python

    from graphcl.memory import check_fits, estimate_full_batch
    estimate = estimate_full_batch(data, 'dgi', options)
    check_fits(estimate, max_bytes='8G')   # ValueError when it won't fit

:func:`check_fits` compares with :obj:`max_bytes` (``--max-memory``) or
the memory available now, and its :class:`OutOfMemoryEstimate` (a
:class:`ValueError`) names the estimate and the ``--batch-size`` command
whose own estimate (:func:`estimate_minibatch`) fits.
"""
import argparse
import math
import re
from dataclasses import dataclass, field
from typing import (Any, Callable, Dict, List, NamedTuple, Optional,
                    Sequence, Tuple, Union)

import torch
from torch import Tensor
from torch.nn import Module

__all__ = ['GraphStats', 'MethodMemory', 'MemoryEstimate', 'MemoryHook',
           'Breakdown', 'Layer', 'OutOfMemoryEstimate', 'MemorySizeError',
           'BASELINE_BYTES', 'estimate_full_batch', 'estimate_minibatch',
           'suggest_minibatch', 'check_fits', 'parse_memory', 'format_bytes',
           'memory_hook', 'csr_bytes', 'encoder_layers', 'plain_training',
           'plain_inference', 'fast_inference', 'probe_bytes', 'larger',
           'generic_memory', 'two_view_memory', 'cca_ssg_memory',
           'first_steps', 'INPUT_CHECK_BYTES',
           'gcn_views_path', 'gcn_views_memory', 'fast_gcn_constants',
           'fast_gcn_first_step',
           'dgi_memory', 'grace_memory', 'ggd_memory']

FLOAT = 4   # bytes of a float32 value
INDEX = 8   # bytes of an int64 index

#: Resident memory of a process that has imported PyTorch, PyG and graphcl
#: (CPU build, Linux) before it loads any data: 373 MiB measured
#: (benchmarks/memory_estimate.py); rounded up.
BASELINE_BYTES = 400 * 2**20

#: Batch sizes :func:`suggest_minibatch` tries, largest first.
SUGGESTED_BATCH_SIZES = (1024, 512, 256, 128, 64)

#: Fan-out per layer of the suggested mini-batch command.
SUGGESTED_FANOUT = 10


def format_bytes(n: float) -> str:
    r"""``n`` bytes in binary units: ``'1.5 GiB'``, ``'312 MiB'``."""
    for unit, size in (('TiB', 2**40), ('GiB', 2**30), ('MiB', 2**20),
                       ('KiB', 2**10)):
        if abs(n) >= size:
            value = n / size
            return f'{value:.1f} {unit}' if value < 100 else \
                f'{value:.0f} {unit}'
    return f'{int(n)} B'


class MemorySizeError(ValueError, argparse.ArgumentTypeError):
    r"""A memory size that cannot be read (a :class:`ValueError`; as an
    ``argparse`` type it gives this message, not argparse's generic one)."""


_UNITS = {'': 1, 'b': 1, 'k': 2**10, 'm': 2**20, 'g': 2**30, 't': 2**40}


def parse_memory(value: Union[str, int]) -> int:
    r"""Bytes from a memory size: an ``int`` of bytes, or a string such as
    ``'8G'``, ``'512M'``, ``'1.5GiB'``, ``'2048k'``, ``'1073741824'``.
    Units are binary (``K``, ``M``, ``G``, ``T`` = :math:`2^{10}`,
    :math:`2^{20}`, :math:`2^{30}`, :math:`2^{40}`, as in Slurm's
    ``--mem``), case-insensitive, with an optional ``B``/``iB``; usable as
    an ``argparse`` type. Anything else, or a size that is not positive,
    raises a :class:`ValueError` saying what is accepted."""
    if isinstance(value, bool):
        raise MemorySizeError(f"--max-memory must be a size such as 8G, "
                              f"512M or a number of bytes, got {value!r}")
    if isinstance(value, int):
        if value <= 0:
            raise MemorySizeError(f"--max-memory must be positive, got "
                                  f"{value} bytes")
        return value
    if not isinstance(value, str):
        raise MemorySizeError(f"--max-memory must be a size such as 8G, "
                              f"512M or a number of bytes, got "
                              f"{type(value).__name__}")
    m = re.fullmatch(r'\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(i?b)?\s*',
                     value, re.IGNORECASE)
    if m is None or (m.group(3) and m.group(3).lower() == 'ib'
                     and not m.group(2)):
        raise MemorySizeError(
            f"--max-memory {value!r} is not a memory size: give a number "
            f"with an optional unit K, M, G or T (binary: 8G = 8 GiB), "
            f"e.g. 8G, 512M, 1.5G or 1073741824 (bytes)")
    size = float(m.group(1)) * _UNITS[m.group(2).lower()]
    if not math.isfinite(size) or size < 1:
        raise MemorySizeError(f"--max-memory {value!r} must be at least one "
                              f"byte, e.g. 8G")
    return int(size)


def csr_bytes(rows: int, nnz: int, value_bytes: int = FLOAT) -> int:
    r"""Bytes of a CSR matrix with :obj:`rows` rows and :obj:`nnz`
    non-zeros (int64 row pointers and column indices)."""
    return (rows + 1) * INDEX + nnz * (INDEX + value_bytes)


@dataclass(frozen=True)
class GraphStats:
    r"""What an estimate needs to know of a graph.

    Args:
        num_nodes (int): :math:`N`.
        num_edges (int): :math:`E`, the columns of ``edge_index``.
        num_features (int): :math:`F`.
        feature_nnz (int, optional): Non-zero feature entries (for sparse
            features, the stored ones); :obj:`None`: unknown, taken as
            dense.
        sparse_features (bool): Whether ``x`` is stored as a sparse
            tensor. (default: :obj:`False`)
        name (str, optional): The dataset's name, for the suggested
            command.
    """
    num_nodes: int
    num_edges: int
    num_features: int
    feature_nnz: Optional[int] = None
    sparse_features: bool = False
    name: Optional[str] = None

    def __post_init__(self):
        for key in ('num_nodes', 'num_edges', 'num_features'):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or \
                    value < 0:
                raise ValueError(f"GraphStats.{key} must be an integer >= 0,"
                                 f" got {value!r}")
        if self.feature_nnz is not None and not (
                isinstance(self.feature_nnz, int)
                and 0 <= self.feature_nnz
                <= self.num_nodes * self.num_features):
            raise ValueError(f"GraphStats.feature_nnz must be an integer in "
                             f"[0, num_nodes * num_features], got "
                             f"{self.feature_nnz!r}")
        if self.sparse_features and self.feature_nnz is None:
            raise ValueError("GraphStats with sparse_features=True needs "
                             "feature_nnz (the stored entries)")

    @classmethod
    def from_data(cls, data, name: Optional[str] = None,
                  count_nonzero: bool = True) -> 'GraphStats':
        r"""The statistics of a PyG :class:`~torch_geometric.data.Data`.
        Dense features' non-zeros are counted in chunks of rows (no
        :math:`N \times F` temporary) unless :obj:`count_nonzero` is
        :obj:`False`."""
        x = getattr(data, 'x', None)
        if not torch.is_tensor(x) or x.dim() != 2:
            raise ValueError("The memory estimate needs data.x, a 2-D "
                             "tensor [num_nodes, num_features]")
        edge_index = getattr(data, 'edge_index', None)
        num_edges = int(edge_index.size(1)) if torch.is_tensor(
            edge_index) and edge_index.dim() == 2 else 0
        sparse = x.layout != torch.strided
        nnz = None
        if sparse:
            nnz = int(x._nnz()) if x.layout == torch.sparse_coo else \
                int(x.values().numel())
        elif count_nonzero:
            nnz = _count_nonzero(x)
        if name is None:
            name = getattr(data, 'name', None)
        return cls(int(data.num_nodes), num_edges, int(x.size(1)), nnz,
                   sparse, name if isinstance(name, str) else None)

    @property
    def density(self) -> float:
        r"""Fraction of non-zero features (1 when unknown)."""
        if self.feature_nnz is None:
            return 1.0
        return self.feature_nnz / max(self.num_nodes * self.num_features, 1)

    def feature_bytes(self) -> int:
        r"""Bytes of ``x`` as stored (dense float32 or CSR)."""
        if self.sparse_features:
            return csr_bytes(self.num_nodes, self.feature_nnz)
        return self.num_nodes * self.num_features * FLOAT

    @property
    def edges_with_self_loops(self) -> int:
        r""":math:`E + N`: the edges GCN normalisation propagates over."""
        return self.num_edges + self.num_nodes


def _count_nonzero(x: Tensor, chunk: int = 1 << 16) -> int:
    total = 0
    for start in range(0, x.size(0), chunk):
        total += int(torch.count_nonzero(x[start:start + chunk]))
    return total


#: glibc's largest mmap threshold (64-bit): blocks under it come from the
#: heap, which :func:`graphcl.perf.tune_cpu_allocator` keeps resident after
#: they are freed (up to :data:`TRIM_THRESHOLD`), so a training step's
#: smaller activations stay in the resident size through the embedding
#: phase that follows.
MMAP_THRESHOLD = 32 * 2**20
#: The heap's trim threshold that :func:`graphcl.perf.tune_cpu_allocator`
#: sets (its default): free memory up to it stays resident.
TRIM_THRESHOLD = 2**30


class Breakdown(dict):
    r"""``{label: bytes}`` that also counts, in :obj:`small`, the bytes
    allocated in blocks under :data:`MMAP_THRESHOLD`."""
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.small = 0

    def add(self, label: str, nbytes: int,
            unit: Optional[int] = None) -> 'Breakdown':
        r"""Adds :obj:`nbytes` under :obj:`label`, made of blocks of
        :obj:`unit` bytes (the size of one tensor; :obj:`None`: large)."""
        nbytes = int(nbytes)
        if nbytes <= 0:
            return self
        self[label] = self.get(label, 0) + nbytes
        if unit is not None and unit < MMAP_THRESHOLD:
            self.small += nbytes
        return self

    def freed(self, nbytes: int, unit: int) -> 'Breakdown':
        r"""Counts in :obj:`small` (only) :obj:`nbytes` allocated in
        blocks of :obj:`unit` bytes and freed within the step, not part of
        its peak: under :data:`MMAP_THRESHOLD` they stay resident too."""
        if unit < MMAP_THRESHOLD:
            self.small += max(int(nbytes), 0)
        return self

    def merge(self, other: Dict[str, int]) -> 'Breakdown':
        r"""Adds every part of :obj:`other` (and its small blocks)."""
        for k, v in other.items():
            self[k] = self.get(k, 0) + int(v)
        self.small += getattr(other, 'small', 0)
        return self


@dataclass
class MethodMemory:
    r"""A method's part of an estimate, each a ``{label: bytes}``
    breakdown (a :class:`Breakdown` also says what is allocated in small
    blocks).

    Args:
        constants (dict): Per-graph constants kept from the first step to
            the end (normalised adjacencies, caches).
        training (dict): What one training step holds at its peak beyond
            the data, parameters and constants: activations per layer and
            per view, transient messages, work buffers.
        embedding (dict): The peak of computing the embeddings of all
            nodes and probing them, beyond the same.
        first_step (dict, optional): A transient of the first step only
            (building a cache), beyond the data, parameters and constants
            alone; the estimate takes the largest of it and
            :func:`first_steps`.
    """
    constants: Dict[str, int] = field(default_factory=dict)
    training: Dict[str, int] = field(default_factory=dict)
    embedding: Dict[str, int] = field(default_factory=dict)
    first_step: Dict[str, int] = field(default_factory=dict)


#: ``memory(stats, options, model) -> MethodMemory``: a method's hook
#: (``MethodSpec.memory``). :obj:`model` is the method
#: built with :obj:`options` without memory (PyTorch's fake or meta
#: tensors: shapes only), for hooks that look at its layers.
MemoryHook = Callable[['GraphStats', Dict[str, Any], Module], MethodMemory]


@dataclass
class MemoryEstimate:
    r"""An estimate of a run's peak resident memory, with its breakdown
    (every part a ``{label: bytes}`` dict).

    :attr:`total` is ``baseline + data + parameters + constants +
    max(first step, training, retained + embedding)``, where
    :attr:`first_step` holds the transients before and at the first step
    (:func:`first_steps`: the features' row-normalisation, the input
    check), :attr:`training` a training step's peak and :attr:`retained`
    what of the training step the allocator keeps resident after it (its
    small blocks, when :func:`graphcl.perf.tune_cpu_allocator` is on);
    ``str(estimate)`` prints the breakdown.
    """
    method: str
    mode: str
    stats: GraphStats
    baseline: int
    data: Dict[str, int]
    parameters: Dict[str, int]
    constants: Dict[str, int]
    training: Dict[str, int]
    embedding: Dict[str, int]
    options: Dict[str, Any] = field(default_factory=dict)
    retained: int = 0
    command: str = ''
    normalize_features: bool = True
    first_step: Dict[str, int] = field(default_factory=dict)

    @property
    def parts(self) -> Dict[str, int]:
        return {'baseline': self.baseline, 'data': sum(self.data.values()),
                'parameters': sum(self.parameters.values()),
                'constants': sum(self.constants.values()),
                'first step': sum(self.first_step.values()),
                'training': sum(self.training.values()),
                'embedding': self.retained + sum(self.embedding.values())}

    @property
    def held(self) -> int:
        r"""Bytes held throughout: baseline, data, parameters, constants."""
        p = self.parts
        return p['baseline'] + p['data'] + p['parameters'] + p['constants']

    @property
    def peak_phase(self) -> str:
        r"""``'first step'``, ``'training'`` or ``'embedding'``: the phase
        of the peak (the later one on a tie)."""
        p = self.parts
        return max(('embedding', 'training', 'first step'),
                   key=lambda k: p[k])

    @property
    def total(self) -> int:
        r"""The estimated peak, in bytes."""
        p = self.parts
        return self.held + max(p['first step'], p['training'],
                               p['embedding'])

    @property
    def training_total(self) -> int:
        r"""The estimated peak until the end of training (the first step's
        transients or a training step's peak)."""
        p = self.parts
        return self.held + max(p['first step'], p['training'])

    @property
    def device_bytes(self) -> int:
        r"""The estimate without the process baseline (what goes to an
        accelerator's memory)."""
        return self.total - self.baseline - self.retained

    def summary(self) -> str:
        r"""One line: the total and its parts."""
        p = self.parts
        return (f"{format_bytes(self.total)} (process "
                f"{format_bytes(p['baseline'])}, data "
                f"{format_bytes(p['data'])}, parameters and optimizer "
                f"{format_bytes(p['parameters'])}, graph constants "
                f"{format_bytes(p['constants'])}, peak of "
                f"{self.peak_phase} {format_bytes(p[self.peak_phase])})")

    def __str__(self) -> str:
        s = self.stats
        lines = [f"Memory estimate of {self.method} ({self.mode}) on "
                 f"{s.name or 'the graph'}: {s.num_nodes:,} nodes, "
                 f"{s.num_edges:,} edges, {s.num_features:,} features: "
                 f"{format_bytes(self.total)}",
                 f"  process baseline: {format_bytes(self.baseline)}"]
        embedding = dict(self.embedding)
        if self.retained:
            embedding['training step\'s small blocks kept by the '
                      'allocator'] = self.retained
        for title, part in (('data', self.data),
                            ('parameters and optimizer', self.parameters),
                            ('graph constants', self.constants),
                            ('first step (peak)', self.first_step),
                            ('training step (peak)', self.training),
                            ('embedding and probe (peak)', embedding)):
            lines.append(f"  {title}: {format_bytes(sum(part.values()))}")
            lines += [f"    {k}: {format_bytes(v)}" for k, v in part.items()]
        lines.append(f"  total: baseline + data + parameters + constants + "
                     f"max(first step, training, embedding) = "
                     f"{format_bytes(self.total)}")
        return '\n'.join(lines)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.method}, {self.mode}, '
                f'total={format_bytes(self.total)})')


class OutOfMemoryEstimate(ValueError):
    r"""Raised by :func:`check_fits`: the estimate exceeds the limit. Holds
    the :obj:`estimate`, the :obj:`limit` in bytes and the
    :obj:`suggestion` (a :class:`MemoryEstimate` of the suggested
    mini-batch run, or :obj:`None`)."""
    def __init__(self, message: str, estimate: MemoryEstimate, limit: int,
                 suggestion: Optional[MemoryEstimate]):
        super().__init__(message)
        self.estimate = estimate
        self.limit = limit
        self.suggestion = suggestion


# ----------------------------------------------------------------------
# Building blocks for hooks.

class Layer(NamedTuple):
    r"""One message-passing layer as the estimate sees it: input and
    output width, the width of its per-edge messages, whether they are
    weighted (GCN normalisation, attention: self-loops added, one more
    per-edge tensor) and how many :math:`(N, c_\mathrm{out})` tensors its
    activation keeps for the backward pass (1 when it keeps its output
    only, as ReLU does)."""
    c_in: int
    c_out: int
    c_msg: int
    weighted: bool = True
    act_saves: int = 2


_OUTPUT_SAVING = ('ReLU', 'ReLU6', 'Sigmoid', 'Tanh', 'ELU', 'Identity')


def _conv_layer(conv: Module, act: Optional[Module]) -> Layer:
    name = type(conv).__name__
    c_in = getattr(conv, 'in_channels', None)
    c_out = getattr(conv, 'out_channels', None)
    if isinstance(c_in, (tuple, list)):
        c_in = max(c_in)
    heads = int(getattr(conv, 'heads', 1) or 1)
    if isinstance(c_out, int) and getattr(conv, 'concat', False):
        c_out = c_out * heads
    if not isinstance(c_in, int) or not isinstance(c_out, int):
        ws = [p.shape for p in conv.parameters() if p.dim() == 2]
        c_in = max((int(s[1]) for s in ws), default=1)
        c_out = max((int(s[0]) for s in ws), default=1)
    saves = 1 if act is not None and type(act).__name__ in \
        _OUTPUT_SAVING else 2
    if name == 'GCNConv':  # X W first, then weighted messages
        return Layer(c_in, c_out, c_out, True, saves)
    if name in ('SAGEConv', 'GINConv'):  # aggregate X, then transform
        return Layer(c_in, c_out, c_in, False, saves)
    return Layer(c_in, c_out, max(c_in, c_out), True, saves)


def encoder_layers(model: Module) -> List[Layer]:
    r"""The :class:`Layer` of every convolution of the model's encoder
    (``model.encoder.convs`` with ``acts``, or a module's own); ``[]``
    when it has none."""
    encoder = getattr(model, 'encoder', model)
    convs = getattr(encoder, 'convs', None)
    if convs is None:
        return []
    acts = list(getattr(encoder, 'acts', [])) or [None] * len(convs)
    return [_conv_layer(c, a) for c, a in zip(convs, acts)]


def _edges_for(stats: GraphStats, weighted: bool, keep: float = 1.0) -> int:
    # GCN/GAT normalisation adds self-loops; SAGE/GIN propagate E edges.
    e = int(stats.num_edges * min(1.0, max(0.0, keep)))
    return e + stats.num_nodes if weighted else e


def plain_training(stats: GraphStats, layers: Sequence[Layer],
                   views: int = 2, feature_copies: int = 1,
                   edge_keep: Sequence[float] = (),
                   saved: Optional[Dict[str, int]] = None,
                   transient: Optional[Dict[str, int]] = None
                   ) -> Breakdown:
    r"""A training step through PyG's gather-scatter message passing,
    :obj:`views` times over the graph with autograd: what the forward
    passes keep for the backward pass, and the largest transient on top of
    what is kept at that moment.

    Kept, per view and layer: the activation's output (and input, unless
    it keeps its output only), :math:`4N c_\mathrm{out}` each; weighted
    layers their normalised edges (:math:`20E'` bytes: indices and
    weights, rebuilt per layer); unweighted ones their aggregated input
    (:math:`4N c_\mathrm{msg}`) and transformed rows. Each view may keep
    a fraction of the edges (:obj:`edge_keep`, its own ``edge_index``) and
    the step :obj:`feature_copies` corrupted copies of the features;
    :obj:`saved` adds what a head or loss keeps.

    Transient: a layer's per-edge messages, :math:`4E'c_\mathrm{msg}`
    (twice when weighted: the gathered rows and their weighted copy), in
    the forward pass on top of what the layers before it kept, and in the
    backward pass on top of everything kept plus the gradients of one
    layer (:math:`4 \times 4N c_\mathrm{out}`) for the layers whose
    messages carry a gradient (all but an unweighted first layer, which
    aggregates the raw features); or any of :obj:`transient` (a loss's
    blocks) on top of everything kept."""
    n = stats.num_nodes
    out = Breakdown()
    widest = max((layer.c_out for layer in layers), default=1)
    nd = n * widest * FLOAT
    out.add('corrupted copies of the features', feature_copies *
            stats.feature_bytes(), n * stats.num_features * FLOAT)
    keep = list(edge_keep) + [1.0] * (views - len(edge_keep))
    acts = edges = own = 0
    kept = 0  # what is kept so far, in forward order
    forward = backward = (0, '', None)  # (bytes on top of kept, label, unit)
    for v in range(views):
        if keep[v] < 1.0:
            own += 2 * int(stats.num_edges * keep[v]) * INDEX
        for i, layer in enumerate(layers):
            e = _edges_for(stats, layer.weighted, keep[v])
            msg = e * layer.c_msg * FLOAT * (2 if layer.weighted else 1)
            label = (f'per-edge messages ({e:,} x {layer.c_msg}, one layer '
                     f'at a time)')
            step = msg + n * layer.c_out * FLOAT
            if kept + step > forward[0]:
                forward = (kept + step, label, e * layer.c_msg * FLOAT)
            if layer.weighted or i > 0:  # its messages carry a gradient
                if msg > backward[0]:
                    backward = (msg, label, e * layer.c_msg * FLOAT)
            if layer.weighted:
                layer_kept = n * layer.c_out * FLOAT * layer.act_saves
                edges += e * (2 * INDEX + FLOAT)
                kept += e * (2 * INDEX + FLOAT)
            else:
                layer_kept = n * (layer.c_msg + 2 * layer.c_out) * FLOAT
            acts += layer_kept
            kept += layer_kept
    extra = sum((saved or {}).values())
    grads = 4 * nd
    out.add(f'activations ({len(layers)} layers x {views} views)', acts, nd)
    out.add('normalised edges (per layer and view)', edges,
            max(_edges_for(stats, True), 1) * INDEX)
    out.add('edges of the views', own, stats.num_edges * INDEX)
    for label, nbytes in (saved or {}).items():
        out.add(label, nbytes, nd)
    # The largest transient on top of all that: the forward pass's comes
    # before the head and loss keep anything (so it counts only where it
    # exceeds them); the backward pass's comes with one layer's gradients.
    fwd = forward[0] - kept - extra
    bwd = backward[0] + grads
    loss = max((transient or {}).items(), key=lambda kv: kv[1],
               default=('', 0))
    if fwd >= max(bwd, loss[1]):
        out.add(forward[1], fwd, forward[2])
    elif bwd >= loss[1]:
        out.add(backward[1] + ' (backward)', backward[0], backward[2])
        out.add('gradients of one layer (4 x N x D)', grads, nd)
    else:
        out.add(loss[0], loss[1])
    return out


def plain_inference(stats: GraphStats, layers: Sequence[Layer]
                    ) -> Dict[str, int]:
    r"""The encoder's full-graph forward pass without gradients (PyG's
    gather-scatter), at its widest layer: its input (unless it is the
    features, held already), its transformed rows and aggregated output
    (:math:`2 \times 4N c_\mathrm{out}`), its per-edge messages
    (:math:`4E'c_\mathrm{msg}`, twice when weighted: the gathered rows
    and their weighted copy live until the aggregation ends) and, when
    weighted, the normalisation's edges and temporaries (:math:`48E'`).
    Measured for one ``GCNConv`` (100k nodes, 1.1M edges with self-loops,
    width 256): 2,410 MiB, this formula 2,391 MiB."""
    n = stats.num_nodes
    peak, label = 0, 'encoder forward'
    for i, layer in enumerate(layers):
        e = _edges_for(stats, layer.weighted)
        nbytes = (n * ((layer.c_in if i else 0) + 2 * layer.c_out) * FLOAT
                  + e * layer.c_msg * FLOAT * (2 if layer.weighted else 1)
                  + (e * (4 * INDEX + 4 * FLOAT) if layer.weighted
                     else 0))
        if nbytes > peak:
            peak = nbytes
            label = (f'encoder forward, layer {i + 1}: per-edge messages '
                     f'{e:,} x {layer.c_msg}')
    return {label: peak}


def fast_inference(stats: GraphStats, layers: Sequence[Layer],
                   adjacency: bool = True) -> Dict[str, int]:
    r"""The encoder's full-graph forward pass as sparse products
    (:func:`~graphcl.models.gcn_views.gcn_embed`): at the widest layer its
    transformed and propagated rows, :math:`2 \times 4N c_\mathrm{out}`,
    no per-edge messages; with :obj:`adjacency`, also the graph normalised
    for it (its edges and CSR matrix, 48 bytes per edge with self-loops;
    DGI reuses its training cache's instead)."""
    n = stats.num_nodes
    widest = max(layer.c_out for layer in layers)
    nbytes = 2 * n * widest * FLOAT
    label = f'encoder forward (sparse products: 2 x N x {widest})'
    if adjacency:
        nbytes += stats.edges_with_self_loops * (4 * INDEX + 4 * FLOAT)
        label += ' and its normalised graph'
    return {label: nbytes}


def probe_bytes(stats: GraphStats, width: int) -> Dict[str, int]:
    r"""The embeddings :math:`(N, D)` held during the linear probe, and the
    probe's own copies (its finite check, the training rows): half as
    much again."""
    n = stats.num_nodes
    return {f'embeddings {n:,} x {width} and the linear probe':
            n * width * FLOAT * 3 // 2}


def larger(*parts: Dict[str, int]) -> Dict[str, int]:
    r"""The breakdown with the largest sum: of phases that follow one
    another (the encoder's forward pass, then the probe), only the peak
    counts."""
    return max(parts, key=lambda p: sum(p.values()))


def _width(model: Module, options: Dict[str, Any]) -> int:
    hidden = options.get('hidden')
    widths = [int(p.shape[0]) for p in model.parameters() if p.dim() == 2]
    if isinstance(hidden, int):
        widths.append(hidden)
    return max(widths, default=1)


def generic_memory(stats: GraphStats, options: Dict[str, Any],
                   model: Module) -> MethodMemory:
    r"""The default for a method without a hook, meant to err on the high
    side: two views of plain message passing (:func:`plain_training`),
    each with a copy of the features, over the encoder's layers
    (``model.encoder.convs``; otherwise ``options['layers']`` layers, two
    when unset, as wide as the widest weight), plus a head that keeps four
    :math:`(N, D)` activations per view and a transient of four more."""
    layers = encoder_layers(model)
    width = _width(model, options)
    if not layers:
        count = options.get('layers')
        count = count if isinstance(count, int) and count > 0 else 2
        layers = [Layer(stats.num_features if i == 0 else width, width,
                        width) for i in range(count)]
    n = stats.num_nodes
    training = plain_training(
        stats, layers, views=2, feature_copies=2,
        saved={'head (4 x N x D per view)': 8 * n * width * FLOAT},
        transient={'head transient (4 x N x D)': 4 * n * width * FLOAT})
    embedding = larger(plain_inference(stats, layers),
                       probe_bytes(stats, width))
    return MethodMemory({}, training, embedding)


def gcn_views_path(model: Module, *encoders: str) -> bool:
    r"""Whether a two-view method's full-batch objective takes the CSR
    fast path of :mod:`graphcl.models.gcn_views` (BGRL, GRACE): the
    model's ``fast_path`` is on and every encoder named in
    :obj:`encoders` (attributes of :obj:`model`, e.g. ``'encoder'``,
    ``'target_encoder'``) passes the path's encoder checks. The graph's
    own checks (dense or CSR features without gradients, a ``[2, E]``
    ``edge_index``) pass for the graphs the engine trains on."""
    if not getattr(model, 'fast_path', False):
        return False
    from .models.gcn_views import _encoder_refusal
    found = [getattr(model, name, None) for name in encoders]
    return all(e is not None and _encoder_refusal(e) is None for e in found)


def gcn_views_memory(stats: GraphStats, layers: Sequence[Layer],
                     edge_keep: Sequence[float], masked: int,
                     tensors_per_layer: Optional[int] = None,
                     prefix: str = '') -> Tuple[Breakdown, Breakdown]:
    r"""``(constants, training)`` of the two-view CSR fast path
    (:func:`~graphcl.models.gcn_views.draw_gcn_views`,
    :func:`~graphcl.models.gcn_views.gcn_view_forward`), shared by the
    hooks of the methods that take it (:func:`grace_memory`,
    :func:`~graphcl.models.bgrl_memory.bgrl_memory`); the method adds its
    head, loss and gradients.

    * constants: features at most
      :data:`~graphcl.sampling.features.SPARSE_DENSITY` non-zero are
      cached as CSR rows
      (:class:`~graphcl.models.gcn_views.SparseFeatureCache`, 12 bytes
      per non-zero).
    * the :obj:`masked` views' feature copies: of the CSR rows, with the
      transposes the first layer's backward builds (two CSR matrices per
      view); of dense features, one :math:`(N, F)` copy per view.
    * per view (one per entry of :obj:`edge_keep`, the fraction of edges
      it keeps): its ``edge_index`` (:math:`16pE` bytes) and its
      normalised adjacency with the transpose, two CSR matrices of
      :math:`pE + N` non-zeros; no per-edge messages.
    * per layer and view with autograd, :obj:`tensors_per_layer`
      :math:`(N, c_\mathrm{out})` tensors kept for the backward pass
      (default: the layer's ``act_saves``: the propagated rows, which the
      activation saves, and its output, which the next layer or the head
      saves; one for an activation that keeps its output only). The
      transformed rows :math:`\mathbf{H}\mathbf{W}` are not kept (the
      sparse product needs only the adjacency for its backward pass):
      freed, they count among the small blocks the allocator keeps
      (:meth:`Breakdown.freed`).
    """
    from .sampling.features import SPARSE_DENSITY
    n = stats.num_nodes
    constants, training = Breakdown(), Breakdown()
    widest = max((layer.c_out for layer in layers), default=1)
    nd = n * widest * FLOAT
    if stats.feature_nnz is not None and (
            stats.sparse_features or stats.density <= SPARSE_DENSITY):
        nnz = stats.feature_nnz
        constants.add('features as CSR rows (cache)', csr_bytes(n, nnz))
        training.add('masked copies of the CSR rows and their transposes '
                     '(first layer backward)',
                     2 * masked * csr_bytes(n, nnz), nnz * INDEX)
    else:
        training.add('corrupted copies of the features',
                     masked * stats.feature_bytes(),
                     n * stats.num_features * FLOAT)
    edges = [int(stats.num_edges * k) + n for k in edge_keep]
    training.add('normalised adjacency and transpose per view (CSR)',
                 sum(2 * csr_bytes(n, e) for e in edges),
                 max(edges, default=0) * INDEX)
    training.add('edges of the views',
                 sum(2 * int(stats.num_edges * k) * INDEX
                     for k in edge_keep), stats.num_edges * INDEX)
    counts = {layer.act_saves if tensors_per_layer is None
              else tensors_per_layer for layer in layers}
    per_layer = f'{counts.pop()} x N x c' if len(counts) == 1 else \
        "the activation's N x c tensors"
    training.add(f'{prefix}activations ({per_layer} per layer, '
                 f'{len(layers)} layers x {len(edge_keep)} views)',
                 len(edge_keep) * sum(
                     (layer.act_saves if tensors_per_layer is None
                      else tensors_per_layer) * n * layer.c_out * FLOAT
                     for layer in layers), nd)
    for layer in layers:  # H W, freed after the product
        training.freed(len(edge_keep) * n * layer.c_out * FLOAT,
                       n * layer.c_out * FLOAT)
    return constants, training


def fast_gcn_constants(stats: GraphStats) -> Breakdown:
    r"""The graph constants of DGI's and GGD's fast path
    (:class:`~graphcl.models.dgi_fast.FastGCNCache`): the normalised
    adjacency and its transpose (CSR, :math:`E + N` non-zeros each) and,
    for features given sparse or under 10 % non-zero (the cache's bound),
    :math:`\mathbf{X}` and :math:`\mathbf{X}^\top` as CSR."""
    from .models.dgi_fast import SPARSE_FEATURE_DENSITY
    n, f = stats.num_nodes, stats.num_features
    out = Breakdown()
    out.add('normalised adjacency and transpose (CSR)',
            2 * csr_bytes(n, stats.edges_with_self_loops))
    if stats.sparse_features or stats.density < SPARSE_FEATURE_DENSITY:
        nnz = stats.feature_nnz if stats.feature_nnz is not None else n * f
        out.add('features and transpose (CSR cache)',
                csr_bytes(n, nnz) + csr_bytes(f, nnz))
    return out


def fast_gcn_first_step(stats: GraphStats) -> Breakdown:
    r"""The first step's transient of DGI's and GGD's fast path: for dense
    features, :class:`~graphcl.models.dgi_fast.FastGCNCache` judges their
    density with ``torch.count_nonzero`` (no :math:`N \times F` mask) and,
    for mostly-zero ones, gathers their non-zeros (``x.nonzero()``, two
    int64 indices, and the values: 20 bytes per non-zero) to build its CSR
    copy (a graph constant, :func:`fast_gcn_constants`)."""
    from .models.dgi_fast import SPARSE_FEATURE_DENSITY
    out = Breakdown()
    if not stats.sparse_features and \
            stats.density < SPARSE_FEATURE_DENSITY:
        nnz = stats.feature_nnz if stats.feature_nnz is not None else \
            stats.num_nodes * stats.num_features
        out.add("fast path cache: the features' non-zero indices and "
                "values (x.nonzero(), 20 bytes per non-zero)", 20 * nnz,
                nnz)
    return out


# ----------------------------------------------------------------------
# Built-in methods' hooks.

def _dgi_path(model: Module, stats: GraphStats) -> str:
    # 'fused', 'fast' or 'plain': the path DeepGraphInfomax.objective takes,
    # asked of the model itself on fake inputs of the graph's shape.
    try:
        from .models.dgi_fast import fast_path_refusal
        from .models.dgi_head import fused_head_parts
        w = model.encoder.convs[0].lin.weight
        with w.fake_mode:  # shapes, no memory
            x = torch.empty(stats.num_nodes, max(stats.num_features, 1),
                            dtype=w.dtype)
            ei = torch.empty(2, stats.num_edges, dtype=torch.long)
        if fast_path_refusal(model, (x, ei)) is not None:
            return 'plain'
        if fused_head_parts(model) is not None:
            return 'fused' if len(model.encoder.convs) == 1 else 'fast'
        return 'fast'
    except Exception:  # not DGI's parts, or no fake tensors: plain
        return 'plain'


def dgi_memory(stats: GraphStats, options: Dict[str, Any],
               model: Module) -> MethodMemory:
    r"""Deep Graph Infomax (:mod:`graphcl.models.dgi_builder`), by the path
    its objective takes (asked of the model itself:
    :func:`~graphcl.models.dgi_fast.fast_path_refusal`):

    * **fused** (one GCN layer, feature shuffling, DGI's head; the
      default): constants are the normalised adjacency and its transpose
      (CSR, :math:`E' = E + N` non-zeros each), the adjacency with a bias
      column and, for features under 10 % non-zero,
      :math:`\mathbf{X}` and :math:`\mathbf{X}^\top` as CSR; a step holds
      three :math:`(N, D)` work buffers and the permuted adjacency. The
      first step builds the cache (:func:`fast_gcn_first_step`: its
      density check of dense features, :math:`9NF` bytes).
    * **fast** (GCN layers, feature shuffling): the same constants but the
      bias column; per layer four :math:`(N, D)` activations (both
      branches before and after the activation), the head's two gradients
      and :math:`\mathbf{X}\mathbf{W}`.
    * **plain** (any other encoder or corruption): :func:`plain_training`
      over the two branches, with one corrupted copy of the features.

    The embeddings: on the fast or fused path the encoder runs as sparse
    products on the cached graph
    (:func:`~graphcl.models.gcn_views.gcn_embed`: the transformed and
    propagated rows, :math:`2 \times (N, D)` at the widest layer, no
    per-edge messages); otherwise PyG's layers (:func:`plain_inference`,
    which on graphs with many edges per node is the peak of the run).
    Then the probe, whichever is larger.
    """
    layers = encoder_layers(model)
    n, f = stats.num_nodes, stats.num_features
    d = int(getattr(model, 'hidden_channels', 0) or _width(model, options))
    layers = layers or [Layer(f, d, d)]
    path = _dgi_path(model, stats)
    constants = fast_gcn_constants(stats) if path != 'plain' else \
        Breakdown()
    first = fast_gcn_first_step(stats) if path != 'plain' else {}
    training = Breakdown()
    e1 = stats.edges_with_self_loops
    nd = n * d * FLOAT
    if path == 'fused':
        constants.add('adjacency with a bias column (CSR)',
                      csr_bytes(n, e1 + n))
        training.add('work buffers (3 x N x D, F x D)',
                     3 * nd + (d + f * d) * FLOAT, nd)
        training.add('permuted adjacency (forward and backward)',
                     (e1 + n) * INDEX + e1 * (2 * INDEX + FLOAT),
                     e1 * INDEX)
    elif path == 'fast':
        widths = [layer.c_out for layer in layers]
        training.add(f'activations (4 x N x D per layer, {len(widths)} '
                     f'layers)', sum(4 * n * w * FLOAT for w in widths), nd)
        training.add('head gradients and X W (3 x N x D)', 3 * nd, nd)
    else:
        training.merge(plain_training(stats, layers, views=2,
                                      feature_copies=1))
    encode = fast_inference(stats, layers, adjacency=False) \
        if path != 'plain' else plain_inference(stats, layers)
    embedding = larger(encode, probe_bytes(stats, d))
    return MethodMemory(constants, training, embedding, first)


def grace_memory(stats: GraphStats, options: Dict[str, Any],
                 model: Module) -> MethodMemory:
    r"""GRACE (:mod:`graphcl.models.grace`), by the path its objective
    takes (:func:`gcn_views_path`, asked of the model): two views, each
    with its own masked copy of the features (where its rate is above 0)
    and a fraction of the edges, through the shared encoder with autograd.

    * **fast path** (:mod:`graphcl.models.gcn_views`, the default for
      GRACE's GCN encoder): :func:`gcn_views_memory`: the CSR feature
      rows cached for features at most 10 % non-zero, the views' masked
      copies (CSR with their transposes, or dense), each view's
      normalised adjacency and its transpose (CSR, no per-edge
      messages), and per layer and view the propagated rows and the
      activation's output (two :math:`(N, c)` tensors; one for ReLU).
    * **plain path** (any other encoder, ``fast_path = False``):
      :func:`plain_training` over the two views (PyG's per-edge messages,
      the views' edge-dropping rates).

    Both add the projection head (per view its first layer's output,
    saved by the ELU, and the ELU's output, saved by the second layer:
    :math:`2 \times (N, P)`), the NT-Xent rows (the :math:`2N` pooled
    rows scaled by their largest entry, which the normalisation saves,
    and the normalised rows, which the loss saves:
    :math:`2 \times (2N, D)`) and, on top of all that, the larger of the
    loss's transient (blocked, :math:`O(ND + BN)`: in the backward pass
    two blocks of :math:`B \times 2N` similarities and the rows'
    gradient :math:`(2N, D)`; ``block_size=0``: three dense
    :math:`2N \times 2N` matrices) and, on the fast path, the gradients
    of one layer (:math:`4 \times (N, c)`). The embeddings: sparse
    products on the fast path (:func:`fast_inference`), PyG's layers
    otherwise (:func:`plain_inference`)."""
    n = stats.num_nodes
    d = int(options.get('hidden') or _width(model, options))
    proj = int(options.get('proj_hidden') or d)
    block = int(options.get('block_size') or 0)
    if block:
        rows = min(block, 2 * n)
        loss = (f'NT-Xent in blocks of {block} rows (backward: 2 x B x 2N '
                f'and 2N x D)', (2 * rows * 2 * n + 2 * n * d) * FLOAT,
                rows * 2 * n * FLOAT)
    else:
        loss = ('NT-Xent similarity matrix (3 x 2N x 2N)',
                3 * (2 * n) ** 2 * FLOAT, (2 * n) ** 2 * FLOAT)
    head = {'projection head (2 views: 2 x N x P)': 2 * n * 2 * proj * FLOAT,
            'NT-Xent rows, scaled and normalised (2 x 2N x D)':
            2 * 2 * n * d * FLOAT}
    rates = [(options.get(f'edge_drop_{v}', 0.0),
              options.get(f'feature_mask_{v}', 1.0)) for v in (1, 2)]
    return two_view_memory(stats, model, d, head, loss, *zip(*rates))


def cca_ssg_memory(stats: GraphStats, options: Dict[str, Any],
                   model: Module) -> MethodMemory:
    r"""CCA-SSG (:mod:`graphcl.models.cca_ssg`): the two views and shared
    encoder of :func:`two_view_memory` (the CSR fast path for its GCN
    encoder), no projector, and the loss's standardisation: per view the
    centred embeddings and the standardised ones, which the products of
    the three :math:`D \times D` correlation matrices save
    (:math:`2 \times 2 \times (N, D)`); in the backward pass their
    gradients (:math:`2 \times (N, D)`)."""
    n = stats.num_nodes
    d = int(options.get('hidden') or _width(model, options))
    head = {'centred and standardised embeddings (2 views: 2 x N x D)':
            2 * 2 * n * d * FLOAT,
            'correlation matrices (3 x D x D)': 3 * d * d * FLOAT}
    loss = ('gradients of the standardised embeddings (2 x N x D)',
            2 * n * d * FLOAT, n * d * FLOAT)
    # Both views drop edges and mask features at the same rates.
    edge_drop = options.get('edge_drop', 0.0)
    feature_mask = options.get('feature_mask', 1.0)
    return two_view_memory(stats, model, d, head, loss,
                           (edge_drop, edge_drop),
                           (feature_mask, feature_mask))


def two_view_memory(stats: GraphStats, model: Module, d: int,
                    head: Dict[str, int], loss: Tuple[str, int, int],
                    edge_drop: Sequence[Optional[float]],
                    feature_mask: Sequence[Optional[float]]
                    ) -> MethodMemory:
    r"""The part shared by the two-view methods on
    :class:`~graphcl.models.two_view.TwoViewMethod` (:func:`grace_memory`,
    :func:`cca_ssg_memory`): two views, each with its own masked copy of
    the features (where its rate is above 0) and a fraction of the edges
    (``edge_drop_1``/``edge_drop_2``, ``feature_mask_1``/``_2``), through
    the shared encoder with autograd (the views' rates :obj:`edge_drop`
    and :obj:`feature_mask`, one per view; a missing feature rate counts
    as a masked copy), by the path the objective takes
    (:func:`gcn_views_path`): :func:`gcn_views_memory` on the fast path,
    :func:`plain_training` otherwise. The method gives its :obj:`head`
    (tensors kept for the backward pass, by label) and its :obj:`loss`
    transient ``(label, bytes, allocator unit)``; on the fast path the
    larger of that transient and one layer's gradients
    (:math:`4 \times (N, c)`) is the peak. The embeddings: sparse
    products on the fast path (:func:`fast_inference`), PyG's layers
    otherwise (:func:`plain_inference`), or the probe, if larger."""
    n = stats.num_nodes
    layers = encoder_layers(model) or [Layer(stats.num_features, d, d)]
    keep = [1.0 - float(p or 0.0) for p in edge_drop]
    masked = sum(1 for p in feature_mask if float(p or 0.0) > 0)
    fast = gcn_views_path(model, 'encoder')
    if fast:
        constants, training = gcn_views_memory(stats, layers, keep, masked)
        nd = n * max(layer.c_out for layer in layers) * FLOAT
        for label, nbytes in head.items():
            training.add(label, nbytes, nd)
        # Both happen, one after the other: the larger is the peak.
        if 4 * nd >= loss[1]:
            training.add('gradients of one layer (4 x N x c)', 4 * nd, nd)
            training.freed(loss[1], loss[2])
        else:
            training.add(*loss)
            training.freed(4 * nd, nd)
    else:
        constants = Breakdown()
        training = plain_training(stats, layers, views=2,
                                  feature_copies=masked, edge_keep=keep,
                                  saved=head, transient=dict([loss[:2]]))
    encode = fast_inference(stats, layers) if fast else \
        plain_inference(stats, layers)
    embedding = larger(encode, probe_bytes(stats, d))
    return MethodMemory(constants, training, embedding)


def _ggd_fast(model: Module, stats: GraphStats, augment: bool) -> bool:
    # Whether GGD's objective (augment=True) or embed (augment=False)
    # takes the fast path, asked of the model on fake inputs of the
    # graph's shape.
    try:
        w = model.encoder.convs[0].lin.weight
        mode = getattr(w, 'fake_mode', None)
        if mode is None:  # a model with memory: fake inputs all the same
            from torch._subclasses.fake_tensor import FakeTensorMode
            mode = FakeTensorMode()
        with mode:  # shapes, no memory
            x = torch.empty(stats.num_nodes, max(stats.num_features, 1),
                            dtype=w.dtype, device=w.device)
            ei = torch.empty(2, stats.num_edges, dtype=torch.long,
                             device=w.device)
        return model.fast_path_refusal((x, ei), augment=augment) is None
    except Exception:  # not GGD's parts, or no fake tensors: plain
        return False


def ggd_memory(stats: GraphStats, options: Dict[str, Any],
               model: Module) -> MethodMemory:
    r"""GGD (:mod:`graphcl.models.ggd`), by the path its objective takes
    (asked of the model: :meth:`~graphcl.models.ggd.GGD.fast_path_refusal`
    on fake inputs of the graph's shape).

    * **fast path** (GCN encoder, feature shuffling, feature-column
      dropping or none: the default): the graph constants of
      :class:`~graphcl.models.dgi_fast.FastGCNCache`
      (:func:`fast_gcn_constants`). A step keeps, per branch (the
      augmented graph and its shuffled copy) and layer, the propagated
      rows and the activation's output (two :math:`(N, c)` tensors, the
      fused PReLU and score's too; one for ReLU); the column dropping
      acts on :math:`\mathbf{W}`, not on a copy of the features. On top
      of it the larger of the transients: :math:`\mathbf{X}\mathbf{W}`
      and its permuted rows in the forward pass, the gradients of one
      layer in the backward pass (:math:`4 \times (N, c)`).
      The first step builds the cache: for dense features its density
      check allocates :math:`9NF` bytes (:func:`fast_gcn_first_step`;
      2.4 GiB on Coauthor-Physics, the peak of the run).
    * **plain path** (any other encoder or augmentation):
      :func:`plain_training` over the two branches, with the augmented
      copy of the features (when columns are dropped) and the shuffled
      one.

    The embeddings: the encoder's forward pass without gradients (fast:
    two :math:`(N, D)`; plain: :func:`plain_inference`), then the
    propagation :math:`\mathbf{H} + \hat{\mathbf{A}}^n\mathbf{H}`,
    which holds :math:`\mathbf{H}`, the current power and the next
    (:math:`3 \times (N, D)`) with the normalised edges and their CSR
    matrix (48 bytes per edge with self-loops), or the probe, whichever
    is larger."""
    n, f = stats.num_nodes, stats.num_features
    d = int(options.get('hidden') or _width(model, options))
    layers = encoder_layers(model) or [Layer(f, d, d)]
    widest = max(layer.c_out for layer in layers)
    nd = n * widest * FLOAT
    keep = 1.0 - float(options.get('edge_drop') or 0.0)
    dropped = float(options.get('feature_mask') or 0.0) > 0
    first = {}
    if _ggd_fast(model, stats, augment=True):
        constants = fast_gcn_constants(stats)
        first = fast_gcn_first_step(stats)
        training = Breakdown()
        training.add(f'activations ({len(layers)} layers x 2 branches: the '
                     f'propagated rows and the activation\'s output)',
                     2 * sum(layer.act_saves * n * layer.c_out * FLOAT
                             for layer in layers), nd)
        training.add('gradients of one layer (4 x N x c)', 4 * nd, nd)
    else:
        constants = Breakdown()
        training = plain_training(stats, layers, views=2,
                                  feature_copies=1 + int(dropped),
                                  edge_keep=[keep, keep])
    if _ggd_fast(model, stats, augment=False):
        encode = {'encoder forward (fast path: 2 x N x D)': 2 * n * d * FLOAT}
    else:
        encode = plain_inference(stats, layers)
    power = options.get('power', 0)
    propagation = {}
    if isinstance(power, int) and power > 0:
        propagation = {
            f'propagation H + A^{power} H (3 x N x D, the normalised edges '
            f'and their CSR matrix)': 3 * n * d * FLOAT
            + stats.edges_with_self_loops * (4 * INDEX + 4 * FLOAT)}
    embedding = larger(encode, propagation, probe_bytes(stats, d))
    return MethodMemory(constants, training, embedding, first)


def memory_hook(spec) -> MemoryHook:
    r"""The memory hook of a :class:`~graphcl.models.MethodSpec`: its
    ``memory`` field (DGI: :func:`dgi_memory`, GRACE:
    :func:`grace_memory`, GGD: :func:`ggd_memory`), else
    :func:`generic_memory`."""
    from .models.registry import resolve
    hook = getattr(spec, 'memory', None)
    return generic_memory if hook is None else resolve(hook)


# ----------------------------------------------------------------------
# Estimates.

def _spec(method):
    from .models.registry import MethodSpec, get_method
    return method if isinstance(method, MethodSpec) else get_method(method)


def _stats(data) -> GraphStats:
    if isinstance(data, GraphStats):
        return data
    return GraphStats.from_data(data)


def _shape_model(spec, in_channels: int, options: Dict[str, Any]) -> Module:
    # The method with its real shapes and no storage: built under PyTorch's
    # FakeTensorMode (CPU tensors without memory, which every check of the
    # method's code accepts), else on the meta device. Unknown options
    # raise as build_method would.
    unknown = set(options) - set(spec.defaults)
    if unknown:
        raise ValueError(f"Unknown option(s) {sorted(unknown)} for method "
                         f"'{spec.name}'; known: {sorted(spec.defaults)}")
    kwargs = {**spec.defaults, **options}
    from .models.registry import resolve
    build = resolve(spec.build)
    try:
        from torch._subclasses.fake_tensor import FakeTensorMode
        with FakeTensorMode(allow_non_fake_inputs=True):
            return build(max(in_channels, 1), seed=0, **kwargs)
    except (ImportError, RuntimeError, NotImplementedError, TypeError):
        with torch.device('meta'):
            return build(max(in_channels, 1), seed=0, **kwargs)


def _parameter_bytes(model: Module) -> Dict[str, int]:
    p = sum(t.numel() * t.element_size() for t in model.parameters())
    b = sum(t.numel() * t.element_size() for t in model.buffers())
    return {'parameters': p, 'gradients': p, 'Adam moments (2x)': 2 * p,
            'best state (early stopping)': p + b}


def _data_bytes(stats: GraphStats, normalize_features: bool
                ) -> Dict[str, int]:
    # The engine replaces data.x by its row-normalised copy: one copy is
    # held through training (both only while normalising, see
    # first_steps).
    kind = 'sparse CSR' if stats.sparse_features else 'dense'
    out = {f'features ({kind})': stats.feature_bytes()}
    out['edge_index'] = 2 * stats.num_edges * INDEX
    out['labels and masks'] = stats.num_nodes * (INDEX + 3)
    return out


#: Bytes per feature entry of the input check every method makes on its
#: first step (:func:`graphcl.validation.check_node_data`:
#: ``torch.isfinite``, which computes :math:`|x|` (4 bytes) and three
#: bool masks: ``x == x``, ``|x| != inf`` and their conjunction), over at
#: most :data:`graphcl.validation.FINITE_CHECK_CHUNK` entries of dense
#: features at a time (all stored values of sparse ones). Measured before
#: the check was chunked: 833 MiB on Coauthor-CS's 18,333 x 6,805
#: features at once.
INPUT_CHECK_BYTES = 7


def first_steps(stats: GraphStats, normalize_features: bool = True
                ) -> List[Breakdown]:
    r"""The transients before and at the first training step, each on top
    of the data alone (nothing of a step is held yet): the row-normalised
    copy of the features while the original is alive
    (:obj:`normalize_features`), and the input check of the first step
    (:data:`INPUT_CHECK_BYTES` per stored feature entry: ``torch.isfinite``
    of dense features, of the stored values of sparse ones). The engine's
    own check of the loaded graph, before the estimate, is as large."""
    from .validation import FINITE_CHECK_CHUNK
    entries = (stats.feature_nnz if stats.sparse_features else
               min(stats.num_nodes * stats.num_features,
                   max(FINITE_CHECK_CHUNK, stats.num_features)))
    out = [Breakdown().add(
        "input check: isfinite(x), |x| and three bool masks "
        f"({INPUT_CHECK_BYTES} bytes per feature entry checked at once)",
        INPUT_CHECK_BYTES * entries, entries)]
    if normalize_features:
        out.append(Breakdown().add(
            'row-normalisation: the features before and after',
            stats.feature_bytes(), stats.num_nodes * stats.num_features
            * FLOAT))
    return out


def _command(spec, stats: GraphStats, batch_size: int,
             fanout: Sequence[int]) -> str:
    dataset = stats.name or 'DATASET'
    if any(c.isspace() for c in dataset):
        dataset = repr(dataset)
    return (f"graphcl train {spec.name} --dataset {dataset} --batch-size "
            f"{batch_size} --fanout {','.join(map(str, fanout))}")


def estimate_full_batch(data, method, options: Optional[Dict[str, Any]]
                        = None, *, normalize_features: bool = True,
                        seeds: int = 1,
                        baseline: int = BASELINE_BYTES,
                        allocator_tuned: Optional[bool] = None
                        ) -> MemoryEstimate:
    r"""Estimates the peak resident memory of full-batch training of
    :obj:`method` on :obj:`data`, and of embedding and probing after it.

    Args:
        data (Data or GraphStats): The graph (only its sizes are read, and
            the non-zeros of dense features counted) or its
            :class:`GraphStats`.
        method (str or MethodSpec): The method.
        options (dict, optional): The method's options (as resolved by
            :func:`graphcl.models.method_settings`; training settings are
            ignored); defaults for the rest.
        normalize_features (bool): Whether the run row-normalises the
            features first (into a copy that replaces them).
            (default: :obj:`True`)
        seeds (int): Seeds in the run: from the second one on, the
            previous seed's embeddings are held during training.
            (default: ``1``)
        baseline (int): The process's own memory
            (default: :data:`BASELINE_BYTES`).
        allocator_tuned (bool, optional): Whether
            :func:`graphcl.perf.tune_cpu_allocator` is on, so that the
            training step's small blocks stay resident (default: whether
            it has been applied in this process, as ``graphcl train``
            does on the CPU).
    """
    spec = _spec(method)
    stats = _stats(data)
    from .models.registry import TRAIN_DEFAULTS
    options = {k: v for k, v in dict(options or {}).items()
               if k not in TRAIN_DEFAULTS}
    model = _shape_model(spec, stats.num_features, options)
    part = memory_hook(spec)(stats, {**spec.defaults, **options}, model)
    training = Breakdown().merge(part.training)
    if seeds > 1:
        width = _width(model, options)
        training.add('previous seed\'s embeddings',
                     stats.num_nodes * width * FLOAT)
    return MemoryEstimate(
        spec.name, 'full batch', stats, int(baseline),
        _data_bytes(stats, normalize_features), _parameter_bytes(model),
        dict(part.constants), dict(training), dict(part.embedding), options,
        _retained(training, allocator_tuned),
        normalize_features=normalize_features,
        first_step=dict(larger(*first_steps(stats, normalize_features),
                               part.first_step)))


def _retained(training: Dict[str, int], tuned: Optional[bool]) -> int:
    if tuned is None:
        from . import perf
        tuned = bool(getattr(perf, '_tuned', False))
    if not tuned:
        return 0
    return min(getattr(training, 'small', 0), TRIM_THRESHOLD)


def _sampled_sizes(stats: GraphStats, batch_size: int,
                   fanout: Sequence[int]):
    # Nodes and edges of a sampled subgraph, at most: every hop multiplies
    # the frontier by its fan-out (capped by the graph and the mean degree).
    n, e = stats.num_nodes, stats.num_edges
    degree = e / max(n, 1)
    frontier = nodes = min(batch_size, n)
    edges = 0
    for k in fanout:
        grown = frontier * min(k, max(degree, 1.0))
        edges += int(grown)
        frontier = min(int(grown), n)
        nodes = min(nodes + frontier, n)
    return nodes, min(edges, e)


def estimate_minibatch(data, method, options: Optional[Dict[str, Any]]
                       = None, *, batch_size: int = 1024,
                       fanout: Sequence[int] = (10, 10),
                       inference_batch_size: int = 4096,
                       normalize_features: bool = True,
                       baseline: int = BASELINE_BYTES) -> MemoryEstimate:
    r"""Estimates the peak resident memory of neighbour-sampled training
    (``--batch-size``, ``--fanout``) and layer-wise inference: the whole
    graph stays in memory with its CSC adjacency for the sampler; a step
    holds one sampled subgraph (at most :math:`B \prod_l (1 + k_l)` nodes)
    with the method's activations on it; inference holds two
    :math:`(N, D)` layers and one chunk's messages. The method's
    mini-batch defaults (e.g. DGI's GraphSAGE encoder) apply over
    :obj:`options`, with one layer per fan-out."""
    spec = _spec(method)
    stats = _stats(data)
    from .models.registry import TRAIN_DEFAULTS
    fanout = [int(k) for k in fanout]
    options = {k: v for k, v in dict(options or {}).items()
               if k not in TRAIN_DEFAULTS}
    options.update(spec.minibatch_defaults)
    if 'layers' in spec.defaults:
        options['layers'] = len(fanout)
    model = _shape_model(spec, stats.num_features, options)
    nodes, edges = _sampled_sizes(stats, batch_size, fanout)
    density_nnz = None if stats.feature_nnz is None else \
        int(stats.density * nodes * stats.num_features)
    sub = GraphStats(nodes, edges, stats.num_features, density_nnz,
                     stats.sparse_features and density_nnz is not None,
                     stats.name)
    part = memory_hook(spec)(sub, {**spec.defaults, **options}, model)
    training = {f'sampled subgraph ({nodes:,} nodes, {edges:,} edges): '
                f'features and edges': sub.feature_bytes()
                + 2 * edges * INDEX + nodes * INDEX}
    training.update({f'{k} (on the subgraph)': v
                     for k, v in {**part.constants,
                                  **part.training}.items()})
    data_bytes = _data_bytes(stats, normalize_features)
    data_bytes['CSC adjacency of the sampler'] = \
        (stats.num_nodes + 1) * INDEX + 2 * stats.num_edges * INDEX
    layers = encoder_layers(model)
    width = _width(model, options)
    n = stats.num_nodes
    widest = max((layer.c_out for layer in layers), default=width)
    chunk = min(inference_batch_size, n)
    chunk_edges = int(chunk * stats.num_edges / max(n, 1))
    msg = max((layer.c_msg for layer in layers), default=width)
    embedding = larger({'layer-wise inference: two N x D layers':
                        2 * n * widest * FLOAT,
                        'one chunk\'s messages':
                        2 * chunk_edges * msg * FLOAT},
                       probe_bytes(stats, width))
    est = MemoryEstimate(spec.name, f'mini-batch: --batch-size {batch_size}'
                         f' --fanout {",".join(map(str, fanout))}', stats,
                         int(baseline), data_bytes, _parameter_bytes(model),
                         {}, training, embedding, options,
                         normalize_features=normalize_features,
                         first_step=dict(larger(*first_steps(
                             stats, normalize_features))))
    est.command = _command(spec, stats, batch_size, fanout)
    return est


def suggest_minibatch(estimate: MemoryEstimate, limit: int
                      ) -> Optional[MemoryEstimate]:
    r"""The estimate of the largest mini-batch run of
    :data:`SUGGESTED_BATCH_SIZES` (fan-out :data:`SUGGESTED_FANOUT` per
    layer of the full-batch run, the same options) that fits in
    :obj:`limit` bytes, or :obj:`None` when the method has no mini-batch
    mode or none fits."""
    spec = _spec(estimate.method)
    if not spec.minibatch:
        return None
    options = dict(estimate.options)
    layers = options.get('layers', spec.defaults.get('layers', 2))
    layers = layers if isinstance(layers, int) and layers > 0 else 2
    fanout = [SUGGESTED_FANOUT] * layers
    normalize = estimate.normalize_features
    for b in SUGGESTED_BATCH_SIZES:
        est = estimate_minibatch(estimate.stats, spec, options,
                                 batch_size=b, fanout=fanout,
                                 normalize_features=normalize,
                                 baseline=estimate.baseline)
        if est.total <= limit:
            return est
    return None


def _available(device) -> int:
    device = torch.device(device or 'cpu')
    if device.type == 'cuda':
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    import psutil
    return int(psutil.virtual_memory().available)


def check_fits(estimate: MemoryEstimate,
               max_bytes: Optional[Union[int, str]] = None, *,
               device: Union[str, torch.device] = 'cpu',
               available: Optional[int] = None) -> MemoryEstimate:
    r"""Returns :obj:`estimate` when it fits, else raises
    :class:`OutOfMemoryEstimate` (a :class:`ValueError`) whose message gives
    the estimate, the limit and the mini-batch command that fits (with its
    own estimate), or says that none does and why.

    The limit is :obj:`max_bytes` (``--max-memory``: an ``int`` of bytes
    or a size such as ``'8G'``, see :func:`parse_memory`) when given: the
    whole process's estimate must stay under it. Otherwise it is the
    memory available now (``psutil.virtual_memory().available``; on a
    CUDA :obj:`device`, the device's free memory and the estimate without
    the process baseline), plus what of the estimate this process holds
    already (its baseline and data, up to its resident size).

    Args:
        estimate (MemoryEstimate): From :func:`estimate_full_batch`.
        max_bytes (int or str, optional): The limit.
        device (str or torch.device): Where the run trains.
        available (int, optional): The memory available, in bytes
            (default: measured now).
    """
    device = torch.device(device)
    on_cuda = device.type == 'cuda'
    if max_bytes is not None:
        limit = parse_memory(max_bytes)
        need = estimate.total
        source = f'--max-memory {format_bytes(limit)}'
    else:
        free = _available(device) if available is None else int(available)
        if on_cuda:
            need = estimate.device_bytes
            limit = free
            source = f'{format_bytes(free)} free on {device}'
        else:
            import psutil
            rss = psutil.Process().memory_info().rss
            held = min(rss, estimate.baseline + sum(estimate.data.values()))
            need = estimate.total
            limit = free + held
            source = (f'{format_bytes(free)} available + '
                      f'{format_bytes(held)} this process holds')
    if need <= limit:
        return estimate
    suggestion = suggest_minibatch(
        estimate, limit + (estimate.baseline if on_cuda and max_bytes is None
                           else 0))
    what = (f"{estimate.method} {estimate.mode} on "
            f"{estimate.stats.name or 'this graph'} needs about "
            f"{estimate.summary()}, more than the limit ({source})")
    if suggestion is not None:
        msg = (f"{what}. Train on sampled mini-batches instead: "
               f"{suggestion.command} (estimate "
               f"{format_bytes(suggestion.total)}); or raise the limit with "
               f"--max-memory if the estimate is wrong for this machine")
    else:
        p = estimate.parts
        big = max(('parameters', 'data'), key=lambda k: p[k])
        width = ('reduce --hidden' if 'hidden' in estimate.options else
                 'make the model smaller')
        hint = (width + ' (the parameters and their optimizer state '
                'alone need ' + format_bytes(p['parameters']) + ')'
                if big == 'parameters' else
                'use a machine with more memory (the graph alone needs ' +
                format_bytes(p['data']) + ')')
        mb = ('' if not _spec(estimate.method).minibatch else
              'no --batch-size run fits either; ')
        msg = f"{what}; {mb}{hint}"
    raise OutOfMemoryEstimate(msg, estimate, limit, suggestion)
