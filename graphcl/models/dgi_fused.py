r"""DGI's whole training objective for a one-layer GCN encoder (DGI's
transductive setup) as one operation with hand-written gradients.

With :math:`\mathbf{H} = \mathbf{X}\mathbf{W}^{\top}` and the shuffle's
permutation matrix :math:`\mathbf{\Pi}`, the two branches are

.. math::
    \mathbf{P} = \hat{\mathbf{A}}\mathbf{H} + \mathbf{b}, \qquad
    \tilde{\mathbf{P}} = (\hat{\mathbf{A}}\mathbf{\Pi})\mathbf{H} +
    \mathbf{b}

where :math:`\hat{\mathbf{A}}\mathbf{\Pi}` is :math:`\hat{\mathbf{A}}` with
its column indices permuted (no copy of :math:`\mathbf{H}`), and the
backward accumulates :math:`\hat{\mathbf{A}}^{\top}\partial\mathbf{P} +
(\hat{\mathbf{A}}\mathbf{\Pi})^{\top}\partial\tilde{\mathbf{P}}` into one
buffer. The head (PReLU, sigmoid-mean readout, bilinear critic, JSD) is
:func:`~graphcl.models.dgi_head.jsd_head_grads`. All gradients are computed
in the forward pass in three :math:`(N, D)` work buffers that are kept
between epochs, so the activations stay in cache on small graphs and are
not page-faulted again on large ones.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from .dgi_fast import (FastGCNCache, column_sum, inverse_permutation,
                       spmm, transpose_into)
from .dgi_head import jsd_head_grads, precomputed_backward

__all__ = ['fused_gcn_dgi_loss', 'permute_columns', 'permute_rows']


def permute_columns(a: Tensor, perm: Tensor) -> Tensor:
    r"""CSR :math:`\mathbf{A}\mathbf{\Pi}` with :math:`(\mathbf{\Pi}
    \mathbf{H})_j = \mathbf{H}_{\pi(j)}`: entry :math:`(i, j)` moves to
    column :math:`\pi(j)`, :math:`O(\mathrm{nnz})`."""
    return torch.sparse_csr_tensor(a.crow_indices(),
                                   perm[a.col_indices()], a.values(),
                                   a.shape, check_invariants=False)


def permute_rows(a: Tensor, inv: Tensor) -> Tensor:
    r"""CSR whose row :math:`r` is row ``inv[r]`` of ``a``, i.e.
    :math:`\mathbf{\Pi}^{\top}\mathbf{A}` for ``inv`` the inverse of
    :math:`\pi`, :math:`O(N + \mathrm{nnz})`."""
    crow = a.crow_indices()
    lengths = crow.diff()[inv]
    new_crow = torch.cat([crow.new_zeros(1), lengths.cumsum(0)])
    shift = crow[:-1][inv] - new_crow[:-1]
    src = torch.arange(a.values().numel(), device=crow.device)
    src += torch.repeat_interleave(shift, lengths,
                                   output_size=a.values().numel())
    return torch.sparse_csr_tensor(new_crow, a.col_indices()[src],
                                   a.values()[src], a.shape,
                                   check_invariants=False)


class _FusedGCNDGI(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weight: Tensor, bias: Optional[Tensor], slope: Tensor,
                disc: Tensor, x: Tensor, cache: FastGCNCache,
                perm: Tensor) -> Tensor:
        n, (d, f) = x.size(0), weight.shape
        buf_hb, buf_pos, buf_neg, buf_t = cache.workspace(n, d, f, weight)
        buf_h = buf_hb[:n]  # H; the last row holds the bias

        if cache.x is not None:  # sparse features: X W^T with a row-major
            # (F, D) operand, the weight's transpose in a private buffer
            # (the parameter itself stays PyG's row-major (D, F))
            spmm(cache.x, transpose_into(weight, buf_t), out=buf_h)
        else:  # dense: BLAS takes the transposed operand as it is
            torch.mm(x, weight.t(), out=buf_h)
        if bias is None:
            spmm(cache.adj, buf_h, out=buf_pos)
            spmm(permute_columns(cache.adj, perm), buf_h, out=buf_neg)
        else:  # [A | 1] [H; b] = A H + b, one product each
            buf_hb[n].copy_(bias)
            adj = cache.adj_bias
            spmm(adj, buf_hb, out=buf_pos)
            spmm(permute_columns(adj, torch.cat([perm, perm.new_full(
                (1, ), n)])), buf_hb, out=buf_neg)

        need = any(ctx.needs_input_grad)
        # The input gradients overwrite buf_pos / buf_neg; buf_h is scratch.
        loss, grads = jsd_head_grads(buf_pos, buf_neg, slope, disc, need,
                                     out_pos=buf_pos, out_neg=buf_neg,
                                     scratch=buf_h)
        ctx.grads = None
        if not need:
            return loss
        g_pos, g_neg, g_slope, g_disc = grads
        g_bias = (None if bias is None else
                  column_sum(g_pos) + column_sum(g_neg))
        g_h = spmm(cache.adj_t, g_pos, out=buf_h)
        g_h.addmm_(permute_rows(cache.adj_t, inverse_permutation(perm)),
                   g_neg)
        # The weight gradient as a fresh row-major (D, F) tensor, which
        # autograd keeps as weight.grad without a copy.
        if cache.x is not None:  # X^T G into the (F, D) buffer, then
            # transposed by PyTorch's blocked copy (NumPy's strided copy is
            # 3-4x slower from a 2 KiB row pitch: cache-set conflicts)
            g_w = weight.new_empty(d, f).copy_(
                cache.feature_gradient(g_h, buf_t).t())
        else:
            g_w = torch.mm(g_h.t(), x)
        ctx.grads = (g_w, g_bias, g_slope, g_disc, None, None, None)
        return loss

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):
        return precomputed_backward(ctx, grad)


def fused_gcn_dgi_loss(model, cache: FastGCNCache, inputs: tuple,
                       head: Tuple[Tensor, Tensor]) -> Tensor:
    r"""DGI's loss for a one-layer GCN encoder with DGI's head, drawing the
    permutation from the model's
    :class:`~graphcl.corruptions.FeatureShuffle` exactly as the plain path
    does; equal, with its gradients, to
    :meth:`~graphcl.models.DeepGraphInfomax.forward` +
    :meth:`~graphcl.models.DeepGraphInfomax.loss`."""
    x, edge_index = inputs[0], inputs[1]
    edge_weight = inputs[2] if len(inputs) > 2 else None
    conv = model.encoder.convs[0]
    cache.update(conv, x, edge_index, edge_weight)
    perm = model.corruption.permutation(x.size(0), x.device)
    return _FusedGCNDGI.apply(conv.lin.weight, conv.bias, *head, x, cache,
                              perm)
