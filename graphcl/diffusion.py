r"""Personalised-PageRank (PPR) graph diffusion, exact on small graphs and
a sparse approximation on large ones: the second view of MVGRL
(`Hassani and Khasahmadi, ICML 2020 <https://arxiv.org/abs/2006.05582>`_).

With :math:`\hat{\mathbf{A}} = \mathbf{A} + \mathbf{I}` (a self-loop of
weight one added to every node, as PyG's
:class:`~torch_geometric.transforms.GDC` adds them),
:math:`\hat{\mathbf{D}}` its degrees and teleport probability
:math:`\alpha`:

.. math::
    \mathbf{T} = \hat{\mathbf{D}}^{-1/2} \hat{\mathbf{A}}
    \hat{\mathbf{D}}^{-1/2}, \qquad
    \mathbf{S} = \alpha \left(\mathbf{I} - (1 - \alpha)\mathbf{T}
    \right)^{-1}

(MVGRL's ``compute_ppr``). Matrices here are in aggregation orientation:
``S[i, j]`` is the weight of node ``j``'s message to node ``i``, so a
layer computes :math:`\mathbf{S}\mathbf{H}` (for an undirected graph
:math:`\mathbf{S}` is symmetric and the orientation does not matter).

* :func:`ppr_exact`: the dense :math:`N \times N` inverse; :math:`O(N^2)`
  memory and :math:`O(N^3)` time, for small graphs.
* :func:`ppr_topk`: each column of :math:`\mathbf{S}` solved by conjugate
  gradients, blocks of columns at a time, keeping the :math:`k` largest
  entries of each node (and those :math:`\geq \epsilon`): :math:`O(Nk)`
  memory. For an undirected graph
  :math:`\mathbf{M} = \mathbf{I} - (1-\alpha)\mathbf{T}` is symmetric with
  eigenvalues in :math:`[\alpha, 2 - \alpha]`, so conjugate gradients
  converge fast (condition number at most :math:`(2-\alpha)/\alpha`) and a
  residual :math:`\lVert \mathbf{r}_j \rVert_2 \leq \alpha\,\tau` bounds the
  error of column :math:`j` by :math:`\lVert \mathbf{s}_j -
  \tilde{\mathbf{s}}_j \rVert_2 \leq \lVert \mathbf{M}^{-1} \rVert_2
  \lVert \mathbf{r}_j \rVert_2 \leq \tau` (the tolerance :math:`\tau`
  bounds every entry's error; the kept entries are those :math:`k`
  largest of the approximate column).
* :class:`PPRDiffusion`: the diffusion a model uses, with its options
  (exact, approximate, or chosen by the graph's size), the threshold
  :math:`\epsilon`, MVGRL's optional column min-max scaling, and a cache.

PyG's :class:`~torch_geometric.transforms.GDC` computes the same exact
matrix (its transition matrix is used here), but its approximate PPR needs
``numba`` and has no top-:math:`k` for sparse results, hence
:func:`ppr_topk`.
"""
import hashlib
import math
import numbers
import warnings
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch_geometric.transforms import GDC
from torch_geometric.utils import (add_self_loops, coalesce, is_undirected,
                                   to_torch_csr_tensor)

__all__ = ['ppr_transition', 'ppr_exact', 'ppr_topk', 'minmax_columns',
           'PPRDiffusion', 'DIFFUSIONS', 'SCALINGS']

#: What :class:`PPRDiffusion` computes: ``'exact'``, ``'approx'``, or
#: ``'auto'`` (exact up to ``exact_max_nodes`` nodes, approximate above).
DIFFUSIONS = ('auto', 'exact', 'approx')
#: Scalings of the diffusion matrix: ``'none'``, or ``'minmax'`` (each
#: column to [0, 1], as scikit-learn's ``MinMaxScaler`` in MVGRL's code).
SCALINGS = ('none', 'minmax')

#: A matrix with at most this fraction of non-zeros is kept as CSR, a
#: denser one dense (a dense product was 16x faster than CSR per stored
#: entry on Cora's 2708 x 2708 matrix, one thread).
SPARSE_DENSITY = 0.05


def _check_alpha(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or \
            not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"'alpha' (the PPR teleport probability) must be "
                         f"in (0, 1), got {alpha!r}")
    return float(alpha)


def _check_edges(edge_index: Tensor, num_nodes: int,
                 edge_weight: Optional[Tensor]) -> Tensor:
    if isinstance(num_nodes, bool) or not isinstance(num_nodes, int) or \
            num_nodes < 1:
        raise ValueError(f"'num_nodes' must be a positive integer, got "
                         f"{num_nodes!r}")
    if not torch.is_tensor(edge_index) or edge_index.dim() != 2 or \
            edge_index.size(0) != 2 or edge_index.dtype != torch.long:
        raise ValueError("'edge_index' must be an int64 tensor of shape "
                         "[2, num_edges]")
    if edge_index.numel() and (int(edge_index.min()) < 0 or
                               int(edge_index.max()) >= num_nodes):
        raise ValueError(f"'edge_index' holds node indices outside "
                         f"[0, {num_nodes})")
    if edge_weight is None:
        return torch.ones(edge_index.size(1), device=edge_index.device)
    if edge_weight.shape != (edge_index.size(1),) or \
            not edge_weight.is_floating_point() or \
            not bool(torch.isfinite(edge_weight).all()) or \
            bool((edge_weight < 0).any()):
        raise ValueError("'edge_weight' must hold one finite float >= 0 "
                         "per edge")
    return edge_weight


def ppr_transition(edge_index: Tensor, num_nodes: int,
                   edge_weight: Optional[Tensor] = None,
                   dtype: torch.dtype = torch.float32
                   ) -> Tuple[Tensor, Tensor]:
    r"""The transition matrix :math:`\mathbf{T} = \hat{\mathbf{D}}^{-1/2}
    (\mathbf{A} + \mathbf{I}) \hat{\mathbf{D}}^{-1/2}` as ``(edge_index,
    edge_weight)`` (``edge_index[0]`` the source): self-loops of weight one
    added to every node (to an existing self-loop too), parallel edges
    summed, and PyG's :meth:`GDC.transition_matrix
    <torch_geometric.transforms.GDC.transition_matrix>` with ``'sym'``
    normalisation (degrees summed over incoming edges)."""
    ei, ew = _self_looped(edge_index, num_nodes, edge_weight, dtype)
    return GDC().transition_matrix(ei, ew, num_nodes, 'sym')


def _self_looped(edge_index: Tensor, num_nodes: int,
                 edge_weight: Optional[Tensor], dtype: torch.dtype
                 ) -> Tuple[Tensor, Tensor]:
    # A + I, coalesced (parallel edges summed), before normalisation.
    edge_weight = _check_edges(edge_index, num_nodes, edge_weight)
    ei, ew = add_self_loops(edge_index, edge_weight.to(dtype),
                            fill_value=1.0, num_nodes=num_nodes)
    return coalesce(ei, ew, num_nodes)


def dense_bytes(num_nodes: int, dtype: torch.dtype = torch.float32) -> int:
    r"""Bytes of one dense :math:`N \times N` matrix."""
    return num_nodes * num_nodes * torch.empty((), dtype=dtype).element_size()


def ppr_exact(edge_index: Tensor, num_nodes: int, alpha: float = 0.2,
              edge_weight: Optional[Tensor] = None,
              dtype: torch.dtype = torch.float32) -> Tensor:
    r"""The dense PPR matrix :math:`\mathbf{S} = \alpha(\mathbf{I} -
    (1-\alpha)\mathbf{T})^{-1}` ``[N, N]`` (aggregation orientation:
    ``S[i, j]`` weighs node ``j``'s message to ``i``). Holds about three
    :math:`N \times N` matrices while it runs (:func:`dense_bytes` each).

    Args:
        edge_index (Tensor): Edges ``[2, E]`` (source, target).
        num_nodes (int): :math:`N`.
        alpha (float, optional): Teleport probability :math:`\alpha \in
            (0, 1)`. (default: ``0.2``)
        edge_weight (Tensor, optional): Edge weights ``[E]``, :math:`\geq
            0`. (default: ones)
        dtype (torch.dtype, optional): Precision. (default:
            ``torch.float32``)
    """
    alpha = _check_alpha(alpha)
    ei, ew = ppr_transition(edge_index, num_nodes, edge_weight, dtype)
    m = torch.zeros(num_nodes, num_nodes, dtype=dtype,
                    device=edge_index.device)
    m[ei[1], ei[0]] = -(1.0 - alpha) * ew  # coalesced: no duplicates
    m.diagonal().add_(1.0)
    s = torch.linalg.inv(m)
    del m
    return s.mul_(alpha)


def _symmetric_csr(edge_index: Tensor, num_nodes: int,
                   edge_weight: Optional[Tensor], dtype: torch.dtype
                   ) -> Tensor:
    # Symmetry is judged on A + I itself: the normalised weights
    # d_i^-1/2 w d_j^-1/2, multiplied left to right as GDC does, can
    # differ between (i, j) and (j, i) in the last bit when w is not 1
    # (a weighted undirected graph was refused as directed).
    ei, ew = _self_looped(edge_index, num_nodes, edge_weight, dtype)
    if not is_undirected(ei, ew, num_nodes):
        raise ValueError(
            "The approximate PPR (conjugate gradients) needs an undirected "
            "graph: every edge (i, j) with a reverse edge (j, i) of the same "
            "weight. Make the graph undirected (torch_geometric.transforms."
            "ToUndirected()) or use the exact diffusion (diffusion='exact')")
    # T = D^-1/2 (A + I) D^-1/2 with the two degree factors multiplied
    # first (a commutative product): T is then exactly symmetric, as
    # conjugate gradients assume.
    deg = torch.zeros(num_nodes, dtype=ew.dtype, device=ew.device)
    deg.index_add_(0, ei[1], ew)  # >= 1: every node has its self-loop
    d = deg.pow(-0.5)
    ew = d[ei[0]] * d[ei[1]] * ew
    with warnings.catch_warnings():  # "sparse CSR support is in beta"
        warnings.simplefilter('ignore', UserWarning)
        return to_torch_csr_tensor(ei.flip(0), ew, size=(num_nodes,
                                                         num_nodes))


#: Memory of one block of conjugate-gradient columns (five N x B work
#: matrices) that :func:`ppr_topk` aims at when no block size is given.
BLOCK_BYTES = 256 * 2**20


def ppr_topk(edge_index: Tensor, num_nodes: int, alpha: float = 0.2,
             topk: int = 64, eps: float = 0.0,
             edge_weight: Optional[Tensor] = None, tol: float = 1e-4,
             block_size: Optional[int] = None, max_iter: int = 1000,
             dtype: torch.dtype = torch.float32) -> Tuple[Tensor, Tensor]:
    r"""Sparse approximate PPR: the :obj:`topk` largest entries of every
    node's row of :math:`\mathbf{S}` that are also :math:`\geq`
    :obj:`eps` (and :math:`> 0`), as ``(edge_index, edge_weight)``
    (``edge_index[0]`` the source :math:`j`, ``edge_index[1]`` the target
    :math:`i`, weight :math:`\tilde S_{ij}`), at most :math:`Nk` entries.

    Columns of :math:`\mathbf{S}` are solved by conjugate gradients on
    :math:`(\mathbf{I} - (1-\alpha)\mathbf{T})\mathbf{s}_j = \alpha
    \mathbf{e}_j`, :obj:`block_size` columns at a time (dense :math:`N
    \times B` work matrices), until every column's residual is at most
    :math:`\alpha\,\tau`: each entry is then within :math:`\tau` =
    :obj:`tol` of the exact one (see the module's docstring), and for an
    undirected graph column :math:`j` is row :math:`j`. Needs an undirected
    graph; a directed one is refused, naming the fix.

    Args:
        edge_index (Tensor): Edges ``[2, E]`` of an undirected graph.
        num_nodes (int): :math:`N`.
        alpha (float, optional): Teleport probability. (default: ``0.2``)
        topk (int, optional): Entries kept per node. (default: ``64``)
        eps (float, optional): Entries below it are dropped. (default:
            ``0.0``)
        edge_weight (Tensor, optional): Symmetric edge weights ``[E]``.
        tol (float, optional): Error bound :math:`\tau` per entry.
            (default: ``1e-4``)
        block_size (int, optional): Columns per block (default: as many as
            fit in :data:`BLOCK_BYTES`).
        max_iter (int, optional): Iterations per block before giving up
            with an error. (default: ``1000``)
        dtype (torch.dtype, optional): Precision of the solve; float32
            cannot reach a :obj:`tol` much under :math:`10^{-6}`.
            (default: ``torch.float32``)
    """
    alpha = _check_alpha(alpha)
    _check_topk(topk)
    eps = _check_eps(eps)
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or \
            not math.isfinite(float(tol)) or not tol > 0:
        raise ValueError(f"'tol' (the error bound per entry) must be a "
                         f"number > 0, got {tol!r}")
    n = num_nodes
    t = _symmetric_csr(edge_index, n, edge_weight, dtype)
    dev = t.device
    if block_size is None:
        itemsize = torch.empty((), dtype=dtype).element_size()
        block_size = max(1, min(n, BLOCK_BYTES // (5 * n * itemsize)))
    k = min(int(topk), n)
    beta_t = 1.0 - alpha
    limit = alpha * float(tol)
    tiny = torch.finfo(dtype).tiny
    src, dst, val = [], [], []
    for start in range(0, n, block_size):
        cols = torch.arange(start, min(start + block_size, n), device=dev)
        b = cols.numel()
        x = torch.zeros(n, b, dtype=dtype, device=dev)
        r = torch.zeros(n, b, dtype=dtype, device=dev)
        r[cols, torch.arange(b, device=dev)] = alpha
        p = r.clone()
        rs = (r * r).sum(0)
        for it in range(max_iter + 1):
            if bool((rs.sqrt() <= limit).all()):
                break
            if it == max_iter:
                raise RuntimeError(
                    f"The approximate PPR did not reach tol={tol:g} in "
                    f"{max_iter} conjugate-gradient iterations (largest "
                    f"residual {float(rs.sqrt().max()) / alpha:.3g}); with "
                    f"{dtype} a tol under about 1e-6 is out of reach: raise "
                    f"tol or use dtype=torch.float64")
            # ap = M p = p - (1 - alpha) T p in one pass; in-place updates
            with warnings.catch_warnings():  # "CSR support is in beta"
                warnings.simplefilter('ignore', UserWarning)
                ap = torch.addmm(p, t, p, alpha=-beta_t)
            pap = torch.linalg.vecdot(p, ap, dim=0)
            step = torch.where(pap > 0, rs / pap.clamp_min(tiny),
                               torch.zeros_like(rs))
            x.addcmul_(p, step)
            r.addcmul_(ap, step, value=-1.0)
            del ap
            rs_new = torch.linalg.vecdot(r, r, dim=0)
            ratio = torch.where(rs > 0, rs_new / rs.clamp_min(tiny),
                                torch.zeros_like(rs))
            p.mul_(ratio).add_(r)
            rs = rs_new
        values, rows = torch.topk(x, k, dim=0)  # [k, B]
        keep = values > 0
        if eps > 0:
            keep &= values >= eps
        src.append(rows[keep])
        dst.append(cols.expand(k, b)[keep])
        val.append(values[keep])
    # Column j of S is row j (S symmetric): node j aggregates from `rows`.
    ei = torch.stack([torch.cat(src), torch.cat(dst)])
    return coalesce(ei, torch.cat(val), n)


def _check_topk(topk) -> int:
    if isinstance(topk, bool) or not isinstance(topk, int) or topk < 1:
        raise ValueError(f"'topk' (PPR entries kept per node by the sparse "
                         f"approximation) must be a positive integer, got "
                         f"{topk!r}")
    return topk


def _check_eps(eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or \
            not math.isfinite(float(eps)) or eps < 0:
        raise ValueError(f"'eps' (PPR entries below it are dropped) must be "
                         f"a number >= 0, got {eps!r}")
    return float(eps)


def minmax_columns(matrix: Tensor) -> Tensor:
    r"""Each column of a dense or sparse (CSR/COO) :math:`N \times N`
    matrix scaled to [0, 1], :math:`(s_{ij} - \min_i s_{ij}) / (\max_i
    s_{ij} - \min_i s_{ij})` (a column of one value: minus its minimum,
    not divided), as scikit-learn's ``MinMaxScaler`` fitted on the dense
    matrix, which MVGRL's code applies to CiteSeer's thresholded diffusion.
    A sparse column with unstored entries has minimum 0, so its zeros stay
    zeros; the result has the input's layout."""
    if matrix.layout == torch.strided:
        lo = matrix.min(dim=0).values
        span = matrix.max(dim=0).values - lo
        span = torch.where(span > 0, span, torch.ones_like(span))
        return (matrix - lo) / span
    coo = matrix.to_sparse_coo().coalesce()
    col, val = coo.indices()[1], coo.values()
    n_rows, n_cols = coo.shape
    counts = torch.bincount(col, minlength=n_cols)
    full = counts == n_rows
    inf = torch.full((n_cols,), float('inf'), dtype=val.dtype,
                     device=val.device)
    lo = inf.scatter_reduce(0, col, val, 'amin')
    hi = (-inf).scatter_reduce(0, col, val, 'amax')
    # Unstored entries are zeros: in the minimum and maximum too.
    lo = torch.where(full, lo, lo.clamp(max=0.0))
    hi = torch.where(full, hi, hi.clamp(min=0.0))
    lo = torch.where(counts > 0, lo, torch.zeros_like(lo))
    hi = torch.where(counts > 0, hi, torch.zeros_like(hi))
    if bool((~full & (lo < 0)).any()):
        raise ValueError("minmax_columns: a sparse column with a negative "
                         "minimum would turn its unstored zeros positive; "
                         "scale the dense matrix instead")
    span = hi - lo
    span = torch.where(span > 0, span, torch.ones_like(span))
    out = torch.sparse_coo_tensor(coo.indices(), (val - lo[col]) / span[col],
                                  coo.shape)
    return out.coalesce() if matrix.layout == torch.sparse_coo else \
        _to_csr(out.coalesce())


def _to_csr(matrix: Tensor) -> Tensor:
    with warnings.catch_warnings():  # "sparse CSR support is in beta"
        warnings.simplefilter('ignore', UserWarning)
        return matrix.to_sparse_csr()


class PPRDiffusion:
    r"""The PPR diffusion matrix of a graph, computed once per graph and
    cached: the operator :math:`\mathbf{S}` of MVGRL's second view.

    1. :math:`\mathbf{S}` exactly (:func:`ppr_exact`, dense) or
       approximately (:func:`ppr_topk`: the :obj:`topk` largest entries of
       each node, each within :obj:`tol` of the exact value);
       ``diffusion='auto'`` computes it exactly up to
       :obj:`exact_max_nodes` nodes and approximately above (a dense
       :math:`N \times N` matrix of Coauthor-Physics' 34,493 nodes would
       take 4.4 GiB, three times over while it is inverted);
       ``diffusion='exact'`` on a larger graph is refused with the
       memory it would need and the options that fit.
    2. Entries below :obj:`eps` are dropped (MVGRL's CiteSeer: 0.01).
    3. ``scale='minmax'``: each column scaled to [0, 1]
       (:func:`minmax_columns`, MVGRL's CiteSeer).

    :meth:`matrix` returns a dense ``[N, N]`` tensor when more than
    :data:`SPARSE_DENSITY` of the entries are non-zero, else a CSR tensor:
    the same values; a layer computes ``S @ H`` either way.

    The cache holds the last graph's matrix, keyed on the graph's content
    (a SHA-1 of ``edge_index`` and the edge weights) and the options, so
    the seeds of one process share it.

    Args:
        alpha (float, optional): Teleport probability :math:`\alpha \in
            (0, 1)`. (default: ``0.2``)
        diffusion (str, optional): ``'auto'``, ``'exact'`` or ``'approx'``.
            (default: ``'auto'``)
        eps (float, optional): Threshold :math:`\epsilon \geq 0`.
            (default: ``0.0``)
        topk (int, optional): Entries per node the approximation keeps.
            (default: ``64``)
        scale (str, optional): ``'none'`` or ``'minmax'``.
            (default: ``'none'``)
        exact_max_nodes (int, optional): Largest graph ``'auto'`` diffuses
            exactly. (default: ``5000``)
        tol (float, optional): Error bound per entry of the approximation.
            (default: ``1e-4``)
    """
    def __init__(self, alpha: float = 0.2, diffusion: str = 'auto',
                 eps: float = 0.0, topk: int = 64, scale: str = 'none',
                 exact_max_nodes: int = 5000, tol: float = 1e-4):
        self.alpha = _check_alpha(alpha)
        if diffusion not in DIFFUSIONS:
            raise ValueError(f"'diffusion' must be one of {list(DIFFUSIONS)}"
                             f", got {diffusion!r}")
        if scale not in SCALINGS:
            raise ValueError(f"'diffusion_scale' must be one of "
                             f"{list(SCALINGS)}, got {scale!r}")
        self.diffusion = diffusion
        self.eps = _check_eps(eps)
        self.topk = _check_topk(topk)
        self.scale = scale
        if isinstance(exact_max_nodes, bool) or \
                not isinstance(exact_max_nodes, int) or exact_max_nodes < 1:
            raise ValueError(f"'exact_max_nodes' (the largest graph diffused"
                             f" exactly) must be a positive integer, got "
                             f"{exact_max_nodes!r}")
        self.exact_max_nodes = exact_max_nodes
        if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or \
                not math.isfinite(float(tol)) or not tol > 0:
            raise ValueError(f"'ppr_tol' (the approximation's error bound "
                             f"per entry) must be a number > 0, got {tol!r}")
        self.tol = float(tol)
        self._key = None
        self._matrix = None
        self._stamp = None

    def path(self, num_nodes: int) -> str:
        r"""``'exact'`` or ``'approx'``: how a graph of :obj:`num_nodes`
        nodes is diffused (``diffusion='exact'`` on a graph over
        :obj:`exact_max_nodes` raises, saying why and what fits)."""
        if self.diffusion == 'approx':
            return 'approx'
        if num_nodes <= self.exact_max_nodes:
            return 'exact'
        if self.diffusion == 'auto':
            return 'approx'
        from .memory import format_bytes
        raise ValueError(
            f"diffusion='exact' on {num_nodes:,} nodes needs a dense "
            f"{num_nodes:,} x {num_nodes:,} matrix ({format_bytes(dense_bytes(num_nodes))}, "
            f"about three of them while it is inverted), over "
            f"exact_max_nodes={self.exact_max_nodes:,}: use diffusion='auto' "
            f"or 'approx' (sparse, the topk={self.topk} largest entries per "
            f"node, each within ppr_tol={self.tol:g} of the exact value), or "
            f"raise exact_max_nodes if the memory is there")

    def _content_key(self, edge_index: Tensor, num_nodes: int,
                     edge_weight: Optional[Tensor], dtype, device):
        h = hashlib.sha1()
        for t in (edge_index, edge_weight):
            if t is not None:
                h.update(t.detach().contiguous().cpu().numpy().tobytes())
            h.update(b'|')
        return (h.hexdigest(), num_nodes, tuple(edge_index.shape), dtype,
                str(device)) + self._options()

    def _options(self) -> tuple:
        # Everything besides the graph that the matrix depends on: part of
        # both cache keys (the attributes may be changed between calls).
        return (self.alpha, self.diffusion, self.eps, self.topk,
                self.scale, self.exact_max_nodes, self.tol)

    def compute(self, edge_index: Tensor, num_nodes: int,
                edge_weight: Optional[Tensor] = None,
                dtype: torch.dtype = torch.float32) -> Tensor:
        r"""The diffusion matrix ``[N, N]`` (dense or CSR), uncached."""
        if self.path(num_nodes) == 'exact':
            s = ppr_exact(edge_index, num_nodes, self.alpha, edge_weight,
                          dtype)
            if self.eps > 0:
                s = s.masked_fill_(s < self.eps, 0.0)
            if self.scale == 'minmax':
                s = minmax_columns(s)
            nnz = int(torch.count_nonzero(s))
            if nnz <= SPARSE_DENSITY * num_nodes * num_nodes:
                s = _to_csr(s.to_sparse_coo())
            return s
        ei, ew = ppr_topk(edge_index, num_nodes, self.alpha, self.topk,
                          self.eps, edge_weight, tol=self.tol, dtype=dtype)
        with warnings.catch_warnings():  # "sparse CSR support is in beta"
            warnings.simplefilter('ignore', UserWarning)
            s = to_torch_csr_tensor(ei.flip(0), ew, size=(num_nodes,
                                                          num_nodes))
        if self.scale == 'minmax':
            s = minmax_columns(s)
        if s.values().numel() > SPARSE_DENSITY * num_nodes * num_nodes:
            s = s.to_dense()
        return s

    def matrix(self, edge_index: Tensor, num_nodes: int,
               edge_weight: Optional[Tensor] = None,
               dtype: torch.dtype = torch.float32) -> Tensor:
        r"""The diffusion matrix of the graph (computed on the first call
        for a graph, then taken from the cache)."""
        from .models.stamp import TensorStamp
        tensors = (edge_index, edge_weight)
        extra = (num_nodes, dtype) + self._options()
        if self._stamp is not None and self._stamp.matches(tensors, extra):
            return self._matrix  # the very tensors of the last call
        key = self._content_key(edge_index, num_nodes, edge_weight, dtype,
                                edge_index.device)
        if key != self._key:
            # free the old one first; a failed computation leaves no stamp
            # (nor key) to serve the missing matrix from
            self._key, self._matrix, self._stamp = None, None, None
            self._matrix = self.compute(edge_index, num_nodes, edge_weight,
                                        dtype)
            self._key = key
        self._stamp = TensorStamp()
        self._stamp.set(tensors, extra)
        return self._matrix

    def clear(self):
        r"""Drops the cached matrix."""
        self._key, self._matrix, self._stamp = None, None, None

    def __getstate__(self):  # copies and pickles start without the cache
        state = dict(self.__dict__)
        state['_key'] = state['_matrix'] = state['_stamp'] = None
        return state

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(alpha={self.alpha}, '
                f'diffusion={self.diffusion!r}, eps={self.eps}, '
                f'topk={self.topk}, scale={self.scale!r})')
