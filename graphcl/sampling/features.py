r"""Sparse node features on the sampled path: wide bag-of-words features
(Coauthor-Physics: 8,415 columns, 0.4 % non-zero) are kept as
``torch.sparse_csr`` rows from the graph to the first layer, instead of
dense copies of mostly-zero rows.

* :func:`to_sparse_rows`: the CSR form of a feature matrix (dense, COO or
  CSR), built once.
* :func:`csr_rows`: rows of a CSR matrix gathered into a new CSR matrix
  (what a sampled batch's ``x`` is: ``x[n_id]``), vectorised.
* :func:`mostly_zero`: whether a dense matrix is sparse enough for CSR to
  pay off.
"""
import warnings
from typing import Optional

import torch
from torch import Tensor

__all__ = ['SPARSE_DENSITY', 'is_sparse_rows', 'to_sparse_rows', 'csr_rows',
           'csr_tensor', 'mostly_zero', 'densify']

#: Dense features with at most this fraction of non-zero entries are kept
#: as CSR on the sampled path (graphcl's DGI fast path uses the same bound;
#: bag-of-words datasets are far below it: Cora 1.3 %, Physics 0.4 %).
SPARSE_DENSITY = 0.10


def csr_tensor(crow: Tensor, col: Tensor, value: Tensor, shape) -> Tensor:
    r"""``torch.sparse_csr_tensor`` without PyTorch's "sparse CSR support is
    in beta" warning and without the invariant check (callers build valid
    indices)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        return torch.sparse_csr_tensor(crow, col, value, tuple(shape),
                                       check_invariants=False)


def is_sparse_rows(x) -> bool:
    r"""Whether :obj:`x` is a 2-D ``torch.sparse_csr`` tensor."""
    return isinstance(x, Tensor) and x.layout == torch.sparse_csr \
        and x.dim() == 2


def mostly_zero(x: Tensor, max_density: float = SPARSE_DENSITY,
                sample_rows: int = 4096) -> bool:
    r"""Whether at most :obj:`max_density` of the entries of the dense
    matrix :obj:`x` are non-zero, judged on up to :obj:`sample_rows` rows
    spread evenly over the matrix (the answer only picks a representation;
    results do not depend on it)."""
    if x.dim() != 2 or x.numel() == 0:
        return False
    n = x.size(0)
    rows = x if n <= sample_rows else x.index_select(0, torch.linspace(
        0, n - 1, sample_rows, device=x.device).long())
    return int(torch.count_nonzero(rows)) <= max_density * rows.numel()


def to_sparse_rows(x: Tensor, chunk: int = 4096) -> Tensor:
    r"""The ``torch.sparse_csr`` form of the node features :obj:`x`
    ``[N, F]`` (dense, ``sparse_coo`` or ``sparse_csr``; a CSR input is
    returned as is). A dense input is converted in chunks of :obj:`chunk`
    rows, so the temporary memory is one chunk's, not the matrix's.
    Every stored value is kept exactly (explicit zeros of a sparse input
    included); a dense input stores its non-zero entries (NaN included)."""
    if x.dim() != 2:
        raise ValueError(f"Node features must be a 2-D matrix [N, F], got "
                         f"shape {tuple(x.shape)}")
    if x.layout == torch.sparse_csr:
        return x
    if x.layout == torch.sparse_coo:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', UserWarning)
            return x.coalesce().to_sparse_csr()
    if x.layout != torch.strided:
        raise ValueError(f"Node features of layout {x.layout} are not "
                         f"supported; give a dense, sparse_coo or sparse_csr "
                         f"tensor")
    n, f = x.shape
    counts, cols, vals = [], [], []
    for start in range(0, n, chunk):
        part = x[start:start + chunk]
        nz = (part != 0).nonzero()  # row-major order: sorted (row, col)
        counts.append(torch.bincount(nz[:, 0], minlength=part.size(0)))
        cols.append(nz[:, 1])
        vals.append(part[nz[:, 0], nz[:, 1]])
    crow = torch.zeros(n + 1, dtype=torch.long, device=x.device)
    if n:
        torch.cumsum(torch.cat(counts), 0, out=crow[1:])
    col = torch.cat(cols) if cols else torch.zeros(0, dtype=torch.long,
                                                   device=x.device)
    val = torch.cat(vals) if vals else x.new_zeros(0)
    return csr_tensor(crow, col, val, (n, f))


def csr_rows(x: Tensor, index: Tensor) -> Tensor:
    r"""Rows :obj:`index` of the CSR matrix :obj:`x`, in that order, as a
    new CSR matrix ``[len(index), F]``: ``csr_rows(x, i).to_dense()``
    equals ``x.to_dense()[i]``. Costs time and memory linear in the
    gathered rows' stored entries (the dense rows are never built).

    Args:
        x (Tensor): A ``torch.sparse_csr`` matrix ``[N, F]``.
        index (Tensor): Row ids ``[M]`` (long), repeats allowed.
    """
    if not is_sparse_rows(x):
        raise ValueError(f"csr_rows expects a 2-D torch.sparse_csr matrix, "
                         f"got layout {getattr(x, 'layout', type(x))}")
    index = index.to(device=x.device, dtype=torch.long).view(-1)
    crow, col, val = x.crow_indices(), x.col_indices(), x.values()
    start = crow.index_select(0, index)
    count = crow.index_select(0, index + 1) - start
    new_crow = torch.zeros(index.numel() + 1, dtype=crow.dtype,
                           device=crow.device)
    torch.cumsum(count, 0, out=new_crow[1:])
    nnz = int(new_crow[-1])
    # entry k of output row r sits at start[r] + (k - new_crow[r])
    shift = torch.repeat_interleave(start - new_crow[:-1], count,
                                    output_size=nnz)
    pos = torch.arange(nnz, dtype=shift.dtype, device=shift.device) + shift
    return csr_tensor(new_crow, col.index_select(0, pos),
                      val.index_select(0, pos), (index.numel(), x.size(1)))


def densify(x: Tensor, rows: Optional[int] = None) -> Tensor:
    r"""A dense copy of the first :obj:`rows` rows (default: all) of a
    CSR matrix; dense inputs are returned as they are (sliced)."""
    if not is_sparse_rows(x):
        return x if rows is None else x[:rows]
    if rows is not None and rows < x.size(0):
        x = csr_rows(x, torch.arange(rows, device=x.device))
    return x.to_dense()
