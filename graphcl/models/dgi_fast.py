r"""The fast path of Deep Graph Infomax with GCN encoders.

DGI with feature shuffling spends most of an epoch on arithmetic the method
does not need. With :math:`\mathbf{P}` the shuffle's permutation matrix and
:math:`\hat{\mathbf{A}}` the normalised adjacency, the first GCN layer of
the two branches is

.. math::
    \mathbf{Z} = \sigma(\hat{\mathbf{A}}\mathbf{X}\mathbf{W} + \mathbf{b}),
    \qquad \tilde{\mathbf{Z}} = \sigma(\hat{\mathbf{A}}\mathbf{P}\mathbf{X}
    \mathbf{W} + \mathbf{b}) = \sigma(\hat{\mathbf{A}}\mathbf{P}
    (\mathbf{X}\mathbf{W}) + \mathbf{b})

so :math:`\mathbf{X}\mathbf{W}` is computed once and its rows permuted for
the corrupted branch (forward and backward). Further:

* :math:`\hat{\mathbf{A}}` is normalised once and cached as a CSR matrix
  (with its transpose, shared when the graph is undirected); each
  propagation is one sparse-dense product whose backward is the product
  with :math:`\hat{\mathbf{A}}^\top`.
* Sparse input features (bag-of-words, typically 1 % non-zero, or given as
  a ``torch.sparse_coo``/``sparse_csr`` tensor, which only the fast path
  accepts) are cached in CSR form and :math:`\mathbf{X}\mathbf{W}` is a
  sparse product (backward :math:`\mathbf{X}^\top \mathbf{G}` from a
  cached CSR transpose).

It computes the same function as the plain path: for the same weights,
inputs and permutation the loss and every gradient agree to float
tolerance (tested in ``tests/models/test_dgi_fast.py``). Two rules keep it
so:

* **Strict eligibility** (:func:`fast_path_refusal`): exact types
  (:class:`~graphcl.nn.GCNEncoder` of :class:`~torch_geometric.nn.GCNConv`
  layers, :class:`~graphcl.corruptions.FeatureShuffle`, a known
  element-wise activation), every option that changes the maths checked
  (``flow``, ``aggr``, ``cached``, ``improved``/``add_self_loops``/
  ``normalize`` equal in every layer, dropout while training, hooks,
  autocast, inputs that require gradients, dtypes). Anything else takes the
  plain path.
* **A cache that cannot serve another graph's answer**
  (:class:`TensorStamp`): the cache holds references to the exact tensor
  objects it was built from and compares identity and PyTorch's in-place
  version counter (the check autograd itself uses for saved tensors). A
  held tensor cannot be freed, so its identity cannot be reused by a new
  graph; any in-place edit (``x[0] = ...``, ``edge_index.add_(1)``,
  ``x.values().mul_(2)`` on sparse features, edits through views) bumps the
  version. Writes that bypass the version counter (through ``.data``,
  ``.numpy()`` or DLPack) are not seen, as autograd does not see them:
  call :meth:`FastGCNCache.clear` (or
  :meth:`~graphcl.models.DeepGraphInfomax.clear_cache`) after such writes.
"""
import warnings
from typing import Optional, Tuple

import torch
import torch.nn.modules.module as _torch_module
from torch import Tensor
from torch_geometric.nn import GCNConv
from torch_geometric.nn.aggr import SumAggregation
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.nn.dense.linear import Linear

from ..corruptions import FeatureShuffle
from ..nn.activations import PReLU
from ..nn.encoders import GCNEncoder
from .stamp import TensorStamp

__all__ = ['FastGCNCache', 'TensorStamp', 'fast_path_supported',
           'fast_path_refusal', 'gcn_conv_refusal', 'gcn_layers_refusal',
           'graph_input_refusal', 'fast_encode_pair']

# Features sparser than this are multiplied as CSR (measured on Cora: 1.3 %
# non-zero, CSR product 7 ms against 75 ms dense, forward + backward).
SPARSE_FEATURE_DENSITY = 0.10


def spmm(a: Tensor, h: Tensor, bias: Optional[Tensor] = None,
         out: Optional[Tensor] = None) -> Tensor:
    r"""``a @ h (+ bias)`` for a sparse CSR ``a`` and a dense ``h``, written
    straight into ``out`` (a fresh tensor when ``None``). (``a @ h`` itself
    zero-fills a buffer and copies it into the output first: two extra
    passes over the result.)"""
    h = h.contiguous()
    if out is None:
        out = h.new_empty(a.size(0), h.size(1))
    if bias is not None:
        return torch.addmm(bias.expand_as(out), a, h, out=out)
    return torch.addmm(out, a, h, beta=0, out=out)  # beta=0: out not read


def append_ones_column(a: Tensor) -> Tensor:
    r"""The CSR matrix :math:`[\mathbf{A} \;|\; \mathbf{1}]`: a column of
    ones appended (as the last entry of every row)."""
    crow, col, val = a.crow_indices(), a.col_indices(), a.values()
    n, m = a.shape
    rows = torch.arange(n + 1, device=crow.device, dtype=crow.dtype)
    new_crow = crow + rows
    # entry k of row r moves r places on: the r ones before it
    old_pos = torch.arange(val.numel(), device=crow.device) + \
        torch.repeat_interleave(rows[:-1], crow.diff(),
                                output_size=val.numel())
    new_col = col.new_full((val.numel() + n, ), m)
    new_col[old_pos] = col
    new_val = val.new_ones(val.numel() + n)
    new_val[old_pos] = val
    return torch.sparse_csr_tensor(new_crow, new_col, new_val, (n, m + 1),
                                   check_invariants=False)


def column_sum(t: Tensor) -> Tensor:
    r"""Column sums of a 2-D tensor as a BLAS matrix-vector product (2-3x
    faster than ``t.sum(0)`` on CPU here)."""
    return t.new_ones(t.size(0)) @ t


def inverse_permutation(perm: Tensor) -> Tensor:
    r"""``inv`` with ``inv[perm[i]] = i``."""
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(perm.numel(), device=perm.device)
    return inv


class _SpMM(torch.autograd.Function):
    r"""``A @ H (+ b)`` as one ``addmm`` for a constant CSR matrix ``A``;
    backward ``A^T @ G`` (and the column sums of ``G`` for ``b``)."""
    @staticmethod
    def forward(ctx, a: Tensor, a_t: Tensor, h: Tensor,
                bias: Optional[Tensor]) -> Tensor:
        ctx.a_t = a_t
        return spmm(a, h, bias)

    @staticmethod
    def backward(ctx, grad: Tensor):
        grad_bias = column_sum(grad) if ctx.needs_input_grad[3] else None
        return None, None, spmm(ctx.a_t, grad), grad_bias


class _Permute(torch.autograd.Function):
    r"""``h[perm]`` whose backward gathers with the inverse permutation
    (``g[inv]``) instead of scattering with accumulation."""
    @staticmethod
    def forward(ctx, h: Tensor, perm: Tensor) -> Tensor:
        ctx.perm = perm
        return h.index_select(0, perm)

    @staticmethod
    def backward(ctx, grad: Tensor):
        return grad.index_select(0, inverse_permutation(ctx.perm)), None


def _coalesced(row: Tensor, col: Tensor, value: Tensor, num_cols: int
               ) -> Tuple[Tensor, Tensor, Tensor]:
    r"""The COO entries sorted by (row, column), duplicates summed in their
    given order: what ``coalesce()`` gives, from one stable sort of the
    linear index (3x faster on the CPU here: 14 ms against 42 ms for
    150,000 edges of a dropped view of Amazon-Photo, one thread). Where
    every index fits in 32 bits the sort runs on 32-bit keys: the same
    order (a stable sort of the same values), in half the time (10 against
    20 ms for 200,000 edges, one thread)."""
    key = row * num_cols + col
    if key.numel() and key.device.type == 'cpu' and \
            int(key.max()) <= torch.iinfo(torch.int32).max:
        key, order = torch.sort(key.to(torch.int32), stable=True)
        key = key.long()
    else:
        key, order = torch.sort(key, stable=True)
    value = value[order]
    if key.numel() > 1:
        first = torch.ones_like(key, dtype=torch.bool)
        torch.ne(key[1:], key[:-1], out=first[1:])
        if not bool(first.all()):  # duplicates: one entry per (row, col)
            segment = first.cumsum(0) - 1
            key = key[first]
            value = value.new_zeros(key.numel()).index_add_(0, segment,
                                                            value)
    row = torch.div(key, num_cols, rounding_mode='floor')
    return row, key - row * num_cols, value


def _csr(row: Tensor, col: Tensor, value: Tensor,
         shape: Tuple[int, int]) -> Tensor:
    # CSR from coalesced (sorted, unique) entries.
    crow = torch.zeros(shape[0] + 1, dtype=torch.long, device=row.device)
    torch.cumsum(torch.bincount(row, minlength=shape[0]), 0, out=crow[1:])
    with warnings.catch_warnings():  # "sparse CSR support is in beta"
        warnings.simplefilter('ignore', UserWarning)
        return torch.sparse_csr_tensor(crow, col, value, shape,
                                       check_invariants=False)


def _csr_pair(row: Tensor, col: Tensor, value: Tensor,
              shape: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
    r"""CSR matrix of the COO entries (duplicates summed) and its
    transpose (the same object when symmetric)."""
    row, col = row.long(), col.long()
    r, c, v = _coalesced(row, col, value, shape[1])
    a = _csr(r, c, v, shape)
    r_t, c_t, v_t = _coalesced(c, r, v, shape[0])  # unique already
    symmetric = (shape[0] == shape[1] and torch.equal(r, r_t)
                 and torch.equal(c, c_t) and torch.equal(v, v_t))
    return a, (a if symmetric else _csr(r_t, c_t, v_t, shape[::-1]))


#: Bytes of rows of G gathered per block of X^T G: about a core's L2 cache.
GATHER_BLOCK_BYTES = 1 << 20
#: At most this many blocks (each block's product reads and writes the
#: whole output).
MAX_GATHER_BLOCKS = 8


def _column_blocks(x: Tensor, rows: int) -> list:
    r"""``[(X_b^T, start_b)]``: the transposes (CSR, :math:`(F, n_b)`) of
    consecutive row blocks of the CSR matrix ``x`` of ``rows`` rows each."""
    crow, col, val = x.crow_indices(), x.col_indices(), x.values()
    n, f = x.shape
    blocks = []
    for start in range(0, n, rows):
        end = min(start + rows, n)
        lo, hi = int(crow[start]), int(crow[end])
        row = torch.repeat_interleave(
            torch.arange(end - start, device=crow.device),
            crow[start + 1:end + 1] - crow[start:end], output_size=hi - lo)
        a_t, _ = _csr_pair(col[lo:hi], row, val[lo:hi], (f, end - start))
        blocks.append((a_t, start))
    return blocks


def transpose_into(src: Tensor, out: Tensor) -> Tensor:
    r"""``out.copy_(src.t())`` for a 2-D ``src`` and a contiguous ``out``.
    On the CPU it goes through NumPy's strided copy, 1.5-2x faster than
    PyTorch's blocked transpose here (a ``[512, 1433]`` float matrix: 0.43-
    0.70 ms against 0.74-1.0 ms, one thread, measured); PyTorch's own copy
    elsewhere (and where NumPy cannot view the tensors)."""
    if src.device.type == 'cpu' and out.is_contiguous():
        try:
            import numpy as np
            np.copyto(out.detach().numpy(), src.detach().numpy().T)
            return out
        except (ImportError, RuntimeError, TypeError, ValueError):
            pass  # no NumPy, or a dtype it cannot view (bfloat16)
    return out.copy_(src.t())


class FastGCNCache:
    r"""Per-graph constants of the fast path: the normalised adjacency and,
    for sparse features, :math:`\mathbf{X}` in CSR form, plus the work
    buffers of the fused objective. Rebuilt whenever the input tensors are
    not the very objects it was built from, unchanged
    (:class:`TensorStamp`), or the normalisation options differ."""
    def __init__(self):
        self.stamp = TensorStamp()
        self.adj = self.adj_t = None
        self.x = self.x_t = None
        self._adj_bias = None
        self._x_t_blocks = None
        self._work = None

    # The cache holds derived CSR tensors only: copies and pickles start empty
    # (sparse CSR tensors cannot be deep-copied) and rebuild on first use.
    def __deepcopy__(self, memo) -> 'FastGCNCache':
        return FastGCNCache()

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict):
        self.__init__()

    def clear(self):
        r"""Drops everything (the graph constants, the references to the
        input tensors and the work buffers); the next call rebuilds."""
        self.__init__()

    def update(self, conv, x: Tensor, edge_index: Tensor,
               edge_weight: Optional[Tensor]) -> 'FastGCNCache':
        options = (conv.improved, conv.add_self_loops, conv.normalize,
                   conv.flow)
        inputs = (x, edge_index, edge_weight)
        if self.stamp.matches(inputs, options):
            return self
        self.stamp.clear()  # a failed build must not leave a stale stamp
        n = x.size(0)
        if conv.normalize:
            ei, ew = gcn_norm(edge_index, edge_weight, n, conv.improved,
                              conv.add_self_loops, conv.flow, x.dtype)
        else:
            ei = edge_index
            ew = (edge_weight if edge_weight is not None else
                  torch.ones(edge_index.size(1), dtype=x.dtype,
                             device=x.device))
        # Messages flow source -> target: out[i] = sum_j A[i, j] h[j].
        self.adj, self.adj_t = _csr_pair(ei[1], ei[0], ew.to(x.dtype), (n, n))
        self._adj_bias = self._x_t_blocks = None
        if x.layout != torch.strided:  # sparse features given as such
            coo = x.to_sparse_coo().coalesce()
            idx = coo.indices()
            self.x, self.x_t = _csr_pair(idx[0], idx[1], coo.values(),
                                         tuple(x.shape))
        elif (int(torch.count_nonzero(x)) / max(x.numel(), 1)
              < SPARSE_FEATURE_DENSITY):  # count_nonzero: no N x F mask
            nz = x.nonzero().t()
            self.x, self.x_t = _csr_pair(nz[0], nz[1], x[nz[0], nz[1]],
                                         tuple(x.shape))
        else:
            self.x = self.x_t = None
        self.stamp.set(inputs, options)
        return self

    def workspace(self, n: int, d: int, f: int, like: Tensor) -> list:
        r"""The work buffers of the fused objective, :math:`(N + 1, D)`, two
        :math:`(N, D)` and one :math:`(F, D)` (for :math:`\mathbf{W}^{\top}`
        and then :math:`\mathbf{X}^{\top}\mathbf{G}`), kept between calls
        (reused epoch after epoch: no page faults, and on small graphs they
        stay in cache) until :meth:`release`."""
        key = (n, d, f, like.dtype, like.device)
        if self._work is None or self._work[0] != key:
            self._work = None  # free the old ones first
            self._work = (key, [like.new_empty(n + 1, d),
                                like.new_empty(n, d), like.new_empty(n, d),
                                like.new_empty(f, d)])
        return self._work[1]

    @property
    def adj_bias(self) -> Tensor:
        r""":math:`[\hat{\mathbf{A}} \;|\; \mathbf{1}]`, :math:`(N, N + 1)`:
        times :math:`[\mathbf{H}; \mathbf{b}^{\top}]` it gives
        :math:`\hat{\mathbf{A}}\mathbf{H} + \mathbf{b}` in one product
        written straight into its output (adding the bias otherwise costs a
        pass that fills the output with it). Built on first use."""
        if self._adj_bias is None:
            self._adj_bias = append_ones_column(self.adj)
        return self._adj_bias

    def feature_gradient(self, g: Tensor, out: Tensor) -> Tensor:
        r""":math:`\mathbf{X}^{\top}\mathbf{G}` for the cached sparse
        :math:`\mathbf{X}`, written into ``out`` :math:`(F, D)`, summed over
        blocks of nodes whose rows of :math:`\mathbf{G}` fit in a core's
        L2 cache (:data:`GATHER_BLOCK_BYTES`). One product gathers the
        rows of :math:`\mathbf{G}` in the order of each feature's nodes,
        from all of :math:`\mathbf{G}` (Cora: 49k gathers from 5.5 MB);
        per block they come from cache. Each block reads and writes all of
        ``out``, so there are at most :data:`MAX_GATHER_BLOCKS`. Measured
        on Cora (one thread, a busy host): 16.3 ms in one product,
        11.8-12.3 ms in 3-6 blocks."""
        row_bytes = max(1, g.size(1) * g.element_size())
        rows = max(1, GATHER_BLOCK_BYTES // row_bytes,
                   -(-g.size(0) // MAX_GATHER_BLOCKS))
        if self._x_t_blocks is None or self._x_t_blocks[0] != rows:
            self._x_t_blocks = (rows, _column_blocks(self.x, rows))
        for i, (a_t, start) in enumerate(self._x_t_blocks[1]):
            part = g[start:start + a_t.size(1)]
            if i == 0:
                spmm(a_t, part, out=out)
            else:
                out.addmm_(a_t, part)
        if not self._x_t_blocks[1]:  # no nodes
            out.zero_()
        return out

    def release(self):
        r"""Frees the work buffers (the graph constants stay)."""
        self._work = None

    def propagate(self, h: Tensor, bias: Optional[Tensor] = None) -> Tensor:
        r""":math:`\hat{\mathbf{A}}\mathbf{H} (+ \mathbf{b})`."""
        return _SpMM.apply(self.adj, self.adj_t, h, bias)

    def transform(self, x: Tensor, weight: Tensor) -> Tensor:
        r""":math:`\mathbf{X}\mathbf{W}^\top` (sparse when cached)."""
        if self.x is None:
            return x @ weight.t()
        return _SpMM.apply(self.x, self.x_t, weight.t(), None)


# Activations the fast path may apply itself: deterministic and element-wise
# (no random numbers, so the order of the two branches does not matter).
SAFE_ACTIVATIONS = (
    torch.nn.Identity, torch.nn.ReLU, torch.nn.ReLU6, torch.nn.LeakyReLU,
    torch.nn.PReLU, PReLU, torch.nn.ELU, torch.nn.CELU, torch.nn.SELU,
    torch.nn.GELU, torch.nn.SiLU, torch.nn.Mish, torch.nn.Softplus,
    torch.nn.Sigmoid, torch.nn.Tanh, torch.nn.Hardtanh, torch.nn.Softsign,
    torch.nn.Hardswish, torch.nn.Hardsigmoid, torch.nn.LogSigmoid,
    torch.nn.Tanhshrink)

_GLOBAL_HOOKS = ('_global_forward_hooks', '_global_forward_pre_hooks',
                 '_global_backward_hooks', '_global_backward_pre_hooks',
                 '_global_forward_hooks_always_called')


# Hooks that run when a module (or PyG's propagate/message/aggregate) runs,
# which the fast path does not call; state-dict hooks do not touch the maths.
_MODULE_HOOKS = ('_forward_hooks', '_forward_pre_hooks', '_backward_hooks',
                 '_backward_pre_hooks')
_PYG_HOOKS = tuple(f'_{what}_forward{pre}_hooks' for what in (
    'propagate', 'message', 'aggregate', 'message_and_aggregate',
    'edge_update') for pre in ('', '_pre'))


def _hooks_anywhere(model) -> Optional[str]:
    for name in _GLOBAL_HOOKS:
        hooks = getattr(_torch_module, name, None)
        if hooks is None:  # a PyTorch that keeps them elsewhere: cannot tell
            return f'cannot check torch.nn global hooks ({name} missing)'
        if hooks:
            return 'global module hooks are registered'
    for m in model.modules():
        d = m.__dict__
        for name in _MODULE_HOOKS + (_PYG_HOOKS if '_propagate_forward_hooks'
                                     in d else ()):
            if d.get(name):
                return f'{type(m).__name__} has {name.lstrip("_")}'
    return None


def _overridden(module, *names: str) -> bool:
    # Instance attributes replacing methods (monkey-patched forward, ...).
    d = vars(module)
    return any(name in d for name in names)


def _autocast_on(x: Tensor) -> bool:
    try:
        return torch.is_autocast_enabled(x.device.type)
    except TypeError:  # older signature: CUDA autocast only
        return torch.is_autocast_enabled()


def gcn_conv_refusal(conv) -> Optional[str]:
    r"""Why :obj:`conv` is not a plain PyG ``GCNConv`` whose propagation a
    sparse product reproduces (exact type, no overridden message passing,
    the default flow, sum aggregation, no cache, not explaining), or
    :obj:`None`. Shared by every fast path over GCN layers."""
    if type(conv) is not GCNConv or _overridden(
            conv, 'forward', 'propagate', 'message', 'aggregate', 'update',
            'message_and_aggregate'):
        return 'a convolution is not exactly GCNConv'
    if conv.flow != 'source_to_target':
        return f"GCNConv(flow='{conv.flow}')"
    if conv.aggr != 'add' or type(conv.aggr_module) is not SumAggregation:
        return f'GCNConv(aggr={conv.aggr!r})'
    if conv.node_dim not in (0, -2):
        return f'GCNConv(node_dim={conv.node_dim})'
    if conv.cached:  # PyG reuses the first graph's normalisation: its own
        return 'GCNConv(cached=True)'  # path, with its own cache
    if conv.explain:
        return 'GCNConv in explain mode'
    return None


def gcn_layers_refusal(enc, activations: Optional[tuple] = None
                       ) -> Optional[str]:
    r"""Why the layers of the GCN encoder :obj:`enc` are not ones the
    sparse GCN kernels reproduce (as many convolutions as activations and
    layers, no dropout while training, every convolution a plain
    ``GCNConv`` (:func:`gcn_conv_refusal`) normalising the graph as the
    others do, with an initialised bias-free PyG ``Linear``), or
    :obj:`None`. With :obj:`activations`, every activation must be exactly
    one of those types. The caller checks the encoder's own type. Shared by
    every fast path over GCN layers."""
    convs, acts = enc.convs, enc.acts
    if not (len(convs) == len(acts) == enc.num_layers >= 1):
        return 'the encoder has a different number of convs, acts, layers'
    if enc.dropout > 0 and enc.training:
        return 'dropout while training'
    first = convs[0]
    options = (first.improved, first.add_self_loops, first.normalize)
    for c in convs:
        why = gcn_conv_refusal(c)
        if why is not None:
            return why
        if (c.improved, c.add_self_loops, c.normalize) != options:
            return 'the layers normalise the graph differently'
        lin = c.lin
        if type(lin) is not Linear or _overridden(lin, 'forward') or \
                lin.bias is not None or isinstance(
                    lin.weight, torch.nn.parameter.UninitializedParameter):
            return 'GCNConv.lin is not an initialised bias-free Linear'
        if c.bias is not None and c.bias.shape != (lin.weight.size(0), ):
            return 'GCNConv.bias has an unexpected shape'
    if activations is not None:
        for a in acts:
            if type(a) not in activations or _overridden(a, 'forward'):
                return f'activation {type(a).__name__} is not a known ' \
                    'deterministic element-wise one'
    return None


def graph_input_refusal(x: Tensor, edge_index, edge_weight) -> Optional[str]:
    r"""Why the graph inputs of a fast path (features :obj:`x` already
    checked as a tensor) are not ``edge_index`` a :math:`[2, E]` long
    tensor and ``edge_weight`` :obj:`None` or an :math:`[E]` tensor of the
    dtype and device of :obj:`x`, none needing gradients, autocast off; or
    :obj:`None`. Shared by every fast path over GCN layers."""
    if x.requires_grad or (isinstance(edge_weight, Tensor)
                           and edge_weight.requires_grad):
        return 'an input requires gradients'
    if not isinstance(edge_index, Tensor) or \
            edge_index.layout != torch.strided or edge_index.dim() != 2 or \
            edge_index.size(0) != 2 or edge_index.dtype != torch.long or \
            edge_index.device != x.device:
        return 'edge_index is not a [2, E] long tensor on the device of x'
    if edge_weight is not None and (
            not isinstance(edge_weight, Tensor) or
            edge_weight.layout != torch.strided or
            edge_weight.shape != (edge_index.size(1), ) or
            edge_weight.dtype != x.dtype or edge_weight.device != x.device):
        return 'edge_weight is not an [E] tensor of the dtype of x'
    if _autocast_on(x):
        return 'autocast is on'
    return None


def fast_path_refusal(model, inputs: tuple) -> Optional[str]:
    r"""Why :func:`fast_encode_pair` would not compute the same thing as the
    plain path (:meth:`~graphcl.models.DeepGraphInfomax.forward` +
    :meth:`~graphcl.models.DeepGraphInfomax.loss`) for this model and these
    encoder inputs, or :obj:`None` when it would. Strict: exact types, and
    every option that changes the maths checked."""
    from .dgi import DeepGraphInfomax
    if not isinstance(model, DeepGraphInfomax) or \
            type(model).forward is not DeepGraphInfomax.forward or \
            _overridden(model, 'forward'):
        return 'the model overrides forward'
    cor = model.corruption
    if type(cor) is not FeatureShuffle or _overridden(
            cor, 'forward', 'corrupt', 'permutation', '_randperm'):
        return 'the corruption is not exactly FeatureShuffle'
    enc = model.encoder
    if type(enc) is not GCNEncoder or _overridden(enc, 'forward', 'layer'):
        return 'the encoder is not exactly GCNEncoder'
    why = gcn_layers_refusal(enc, SAFE_ACTIVATIONS)
    if why is not None:
        return why
    if not all(isinstance(c.lin.weight, torch.nn.Parameter)
               for c in enc.convs):
        return 'GCNConv.lin is not an initialised bias-free Linear'
    if len(inputs) not in (2, 3):
        return 'the encoder inputs are not (x, edge_index[, edge_weight])'
    x, edge_index = inputs[0], inputs[1]
    edge_weight = inputs[2] if len(inputs) > 2 else None
    weight = enc.convs[0].lin.weight
    if not isinstance(x, Tensor) or x.dim() != 2 or x.size(0) == 0 or \
            x.layout not in (torch.strided, torch.sparse_coo,
                             torch.sparse_csr):
        return 'x is not a 2-D dense, COO or CSR tensor with nodes'
    if x.layout == torch.sparse_coo and x.dense_dim() != 0:
        return 'x is a hybrid sparse tensor'
    if x.dtype != weight.dtype or x.device != weight.device:
        return "x's dtype or device differs from the weights'"
    if x.size(1) != weight.size(1):
        return "x's width differs from the first layer's input width"
    why = graph_input_refusal(x, edge_index, edge_weight)
    if why is not None:
        return why
    if edge_weight is not None and not enc.supports_edge_weight:
        return 'the encoder ignores edge weights'
    return _hooks_anywhere(model)


def fast_path_supported(model, inputs: tuple) -> bool:
    r"""Whether :func:`fast_encode_pair` computes the same thing as the
    plain path for this model and these encoder inputs (see
    :func:`fast_path_refusal` for the reason when not)."""
    return fast_path_refusal(model, inputs) is None


def fast_encode_pair(model, cache: FastGCNCache, inputs: tuple,
                     last_act: bool = True) -> Tuple[Tensor, Tensor]:
    r"""Embeddings of the input and of its feature-shuffled corruption,
    :math:`(\mathbf{Z}, \tilde{\mathbf{Z}})`, drawing the permutation from
    the model's :class:`~graphcl.corruptions.FeatureShuffle` exactly as the
    plain path does. With ``last_act=False`` the last layer's activation is
    left out (for :func:`~graphcl.models.dgi_head.dgi_jsd_head`)."""
    x, edge_index = inputs[0], inputs[1]
    edge_weight = inputs[2] if len(inputs) > 2 else None
    enc = model.encoder
    cache.update(enc.convs[0], x, edge_index, edge_weight)
    perm = model.corruption.permutation(x.size(0), x.device)

    num_layers = len(enc.convs)
    conv = enc.convs[0]
    h = cache.transform(x, conv.lin.weight)
    pos = cache.propagate(h, conv.bias)
    neg = cache.propagate(_Permute.apply(h, perm), conv.bias)
    for i in range(num_layers):
        if i > 0:
            conv = enc.convs[i]
            pos = cache.propagate(pos @ conv.lin.weight.t(), conv.bias)
            neg = cache.propagate(neg @ conv.lin.weight.t(), conv.bias)
        if last_act or i < num_layers - 1:
            pos, neg = enc.acts[i](pos), enc.acts[i](neg)
    return pos, neg
