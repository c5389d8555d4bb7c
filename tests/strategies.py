r"""Hypothesis strategies for the fuzz tests (``tests/**/test_*_fuzz.py``):
random small PyG graphs and the tensors the parts take.

Graphs have :math:`N \in [0, 30]` nodes (empty graphs included), float32
features ``x`` ``[N, F]`` mixing ordinary values with extreme ones (``0``,
``-0``, ``±1e30``, ``±1e-30``, the smallest subnormal), ``edge_index``
``[2, E]`` of int64 or int32 whose edges are random pairs (so isolated
nodes are common), plus self-loops, duplicate edges and reversed copies
when drawn; optionally ``edge_weight``, labels ``y`` (``-1`` for
unlabelled nodes) and boolean split masks.

The fuzz tests import this module as ``strategies`` (``tests/conftest.py``
puts ``tests/`` on ``sys.path``); the Hypothesis profiles are registered
there too.
"""
from typing import Optional, Sequence

import numpy as np
import torch
from hypothesis import strategies as st
from torch import Tensor
from torch_geometric.data import Data

__all__ = ['EXTREMES', 'MAX_NODES', 'INDEX_DTYPES', 'values', 'matrices',
           'edge_indices', 'edge_weights', 'labels', 'masks', 'graphs']

#: The most nodes a drawn graph has.
MAX_NODES = 30
#: Both index dtypes PyG meets in practice.
INDEX_DTYPES = (torch.int64, torch.int32)
#: Extreme but finite float32 values mixed into the features.
EXTREMES = (0.0, -0.0, 1e30, -1e30, 1e-30, -1e-30,
            float(np.finfo(np.float32).smallest_subnormal), 1.0, -1.0)


def values(extreme: bool = True, bound: float = 100.0,
           non_finite: bool = False) -> st.SearchStrategy:
    r"""Float32 scalars in :math:`[-\text{bound}, \text{bound}]`, mixed with
    :data:`EXTREMES` when :obj:`extreme`, and with NaN and :math:`\pm\infty`
    when :obj:`non_finite`."""
    out = st.floats(-bound, bound, width=32)
    if extreme:
        out = st.one_of(out, st.sampled_from(EXTREMES))
    if non_finite:
        out = st.one_of(out, st.sampled_from(
            (float('nan'), float('inf'), float('-inf'))))
    return out


@st.composite
def matrices(draw, rows: int, cols: int, extreme: bool = True,
             bound: float = 100.0, non_finite: bool = False) -> Tensor:
    r"""Float32 tensors ``[rows, cols]``: a base drawn from a seed (normal
    values of a drawn scale, small integers with many ties, zeros, or one
    constant of :func:`values`) with up to 8 entries overwritten by
    :data:`EXTREMES`, :math:`\pm` :obj:`bound` and, when
    :obj:`non_finite`, NaN and :math:`\pm\infty`. Much cheaper to draw than
    one value per entry, and it shrinks to a plain normal matrix."""
    kind = draw(st.sampled_from(('normal', 'integers', 'zeros', 'constant')))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    if kind == 'normal':
        scale = draw(st.sampled_from((1.0, 1e-3, bound)))
        x = (torch.randn(rows, cols, generator=gen) * scale).clamp_(
            -bound, bound)
    elif kind == 'integers':
        x = torch.randint(-3, 4, (rows, cols), generator=gen).float()
    elif kind == 'zeros':
        x = torch.zeros(rows, cols)
    else:
        x = torch.full((rows, cols), draw(values(extreme, bound, non_finite)))
    if rows * cols:
        palette = (bound, -bound, 0.5, -2.0) + (EXTREMES if extreme else ())
        if non_finite:
            palette += (float('nan'), float('inf'), float('-inf'))
        cell = st.tuples(st.integers(0, rows - 1), st.integers(0, cols - 1),
                         st.sampled_from(palette))
        for r, c, v in draw(st.lists(cell, max_size=8)):
            x[r, c] = v
    return x


@st.composite
def edge_indices(draw, num_nodes: int, max_edges: int = 60,
                 dtypes: Sequence[torch.dtype] = INDEX_DTYPES) -> Tensor:
    r"""``edge_index`` ``[2, E]`` over :obj:`num_nodes` nodes (indices in
    range): up to 10 drawn pairs and up to :obj:`max_edges` random ones
    (from a drawn seed), then, when drawn, a self-loop on every node,
    duplicated edges and reversed edges; its dtype is drawn from
    :obj:`dtypes`."""
    dtype = draw(st.sampled_from(tuple(dtypes)))
    if num_nodes == 0:
        return torch.empty(2, 0, dtype=dtype)
    node = st.integers(0, num_nodes - 1)
    pairs = draw(st.lists(st.tuples(node, node), max_size=10))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    num_random = draw(st.integers(0, max_edges))
    edge_index = torch.cat([
        torch.tensor(pairs, dtype=torch.long).view(-1, 2).t(),
        torch.randint(num_nodes, (2, num_random), generator=gen)], dim=1)
    if draw(st.booleans()):  # reversed copies: undirected graphs
        edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    if draw(st.booleans()):  # self-loops
        loops = torch.arange(num_nodes).repeat(2, 1)
        edge_index = torch.cat([edge_index, loops], dim=1)
    if edge_index.size(1) > 0 and draw(st.booleans()):  # duplicates
        edge_index = torch.cat([edge_index, edge_index[:, ::2]], dim=1)
    return edge_index.to(dtype).contiguous()


@st.composite
def edge_weights(draw, num_edges: int, tiny: bool = True) -> Tensor:
    r"""Finite non-negative float32 weights ``[E]``: uniform in
    :math:`[0, 10)` from a drawn seed, or all ones, with up to 4 of them set
    to ``0``, ``10`` or, when :obj:`tiny`, ``1e-30``."""
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    weight = (torch.rand(num_edges, generator=gen) * 10 if draw(
        st.booleans()) else torch.ones(num_edges))
    if num_edges:
        cell = st.tuples(st.integers(0, num_edges - 1), st.sampled_from(
            (0.0, 10.0, 1e-30) if tiny else (0.0, 10.0)))
        for i, v in draw(st.lists(cell, max_size=4)):
            weight[i] = v
    return weight


@st.composite
def labels(draw, num_nodes: int, num_classes: int = 3,
           unlabelled: bool = True) -> Tensor:
    r"""Class indices ``[N]`` (long) in :math:`[0, C)`, with ``-1``
    (unlabelled) among them when :obj:`unlabelled`."""
    low = -1 if unlabelled else 0
    y = draw(st.lists(st.integers(low, num_classes - 1),
                      min_size=num_nodes, max_size=num_nodes))
    return torch.tensor(y, dtype=torch.long).view(-1)


@st.composite
def masks(draw, num_nodes: int) -> Tensor:
    r"""A boolean mask ``[N]``."""
    bits = draw(st.lists(st.booleans(), min_size=num_nodes,
                         max_size=num_nodes))
    return torch.tensor(bits, dtype=torch.bool).view(-1)


@st.composite
def graphs(draw, min_nodes: int = 0, max_nodes: int = MAX_NODES,
           num_features: Optional[int] = None, max_features: int = 6,
           index_dtypes: Sequence[torch.dtype] = INDEX_DTYPES,
           edge_weight: Optional[bool] = None, extreme: bool = True,
           non_finite: bool = False, with_labels: bool = False,
           num_classes: int = 3, with_masks: bool = False,
           max_edges: int = 60) -> Data:
    r"""A random small :class:`~torch_geometric.data.Data`.

    Args:
        min_nodes, max_nodes (int): Range of :math:`N`.
        num_features (int, optional): :math:`F`; drawn from
            :math:`[1, \text{max\_features}]` when :obj:`None`.
        index_dtypes (sequence of torch.dtype): Dtypes ``edge_index`` is
            drawn from (int64 and int32 by default).
        edge_weight (bool, optional): Add ``edge_weight`` ``[E]``
            (:func:`edge_weights`, tiny ones only next to features of
            magnitude :math:`\leq 10^3`): always (:obj:`True`), never
            (:obj:`False`) or when drawn (:obj:`None`).
        extreme (bool): Mix :data:`EXTREMES` into the features.
        non_finite (bool): Mix NaN and :math:`\pm\infty` into them too.
        with_labels (bool): Add ``y`` ``[N]`` (``-1``: unlabelled).
        num_classes (int): Classes of ``y``.
        with_masks (bool): Add boolean ``train_mask``/``val_mask``/
            ``test_mask`` ``[N]`` (possibly empty or overlapping).
        max_edges (int): The most random edges (before the reversed
            copies, self-loops and duplicates).
    """
    n = draw(st.integers(min_nodes, max_nodes))
    f = num_features if num_features is not None else draw(
        st.integers(1, max_features))
    data = Data(x=draw(matrices(n, f, extreme=extreme,
                                non_finite=non_finite)),
                edge_index=draw(edge_indices(n, max_edges, index_dtypes)))
    num_edges = data.edge_index.size(1)
    if edge_weight or (edge_weight is None and draw(st.booleans())):
        # Not both 1e30 features and 1e-30 weights: GCN normalisation of
        # near-zero degrees scales such features beyond float32 (a NaN
        # loss, which pretrain's finite-loss check reports).
        tiny = n == 0 or bool(data.x.abs().max() <= 1e3)
        data.edge_weight = draw(edge_weights(num_edges, tiny))
    if with_labels:
        data.y = draw(labels(n, num_classes))
    if with_masks:
        for key in ('train_mask', 'val_mask', 'test_mask'):
            data[key] = draw(masks(n))
    return data
