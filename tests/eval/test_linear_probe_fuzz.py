r"""Property tests of :func:`graphcl.eval.linear_probe` on random embeddings
(extreme values, NaN, no nodes), labels with unlabelled nodes (``-1``) and
splits given as boolean masks or index tensors (empty, overlapping, without
labelled nodes, or stored ambiguously): each case either raises the
documented :class:`ValueError` or returns finite scores that are fractions
of the labelled nodes of each split."""
import math
import warnings

import pytest
import torch
from hypothesis import event, given
from hypothesis import strategies as st

from graphcl.eval import linear_probe
from strategies import MAX_NODES, labels, masks, matrices

SPLITS = ('train_mask', 'val_mask', 'test_mask')
GRID = (0.0, 1e-2)


@st.composite
def probe_inputs(draw, non_finite: bool = False):
    n = draw(st.integers(0, MAX_NODES))
    z = draw(matrices(n, draw(st.integers(1, 4)), non_finite=non_finite))
    y = draw(labels(n, num_classes=3))
    splits = {}
    for key in SPLITS:
        mask = draw(masks(n))
        as_index = draw(st.booleans())
        splits[key] = mask.nonzero().view(-1) if as_index else mask
    return z, y, splits


def expected_error(z, y, splits):
    r"""The documented reason to refuse these inputs, or :obj:`None`."""
    if not bool(torch.isfinite(z).all()):
        return 'NaN or infinite'
    for key in SPLITS:
        idx = splits[key]
        if idx.dtype == torch.bool:
            idx = idx.nonzero().view(-1)
        if idx.numel() == 0:
            return 'is empty'
        if not bool((y[idx] >= 0).any()):
            return 'no labelled node'
    return None


def labelled(idx, y):
    if idx.dtype == torch.bool:
        idx = idx.nonzero().view(-1)
    return int((y[idx] >= 0).sum())


def overlap(splits):
    sets = []
    for key in SPLITS:
        idx = splits[key]
        sets.append(set((idx.nonzero().view(-1) if idx.dtype == torch.bool
                         else idx).tolist()))
    return any(sets[i] & sets[j] for i in range(3) for j in range(i + 1, 3))


@given(inputs=probe_inputs(non_finite=True), standardize=st.booleans())
def test_probe_scores_or_documented_error(inputs, standardize):
    z, y, splits = inputs
    expected = expected_error(z, y, splits)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            result = linear_probe(z, y, *splits.values(), weight_decays=GRID,
                                  max_iter=15, standardize=standardize)
        except ValueError as e:
            message = str(e)
            event(f'refused: {expected or "diverged"}')
            assert expected is not None and expected in message or \
                expected is None and 'diverged' in message, message
            return
    assert expected is None, f'accepted inputs that should raise: {expected}'
    event('scored')
    shared = [w for w in caught if 'share' in str(w.message)]
    assert bool(shared) == overlap(splits)
    assert result.weight_decay in GRID and len(result.grid) == len(GRID)
    for score, key in ((result.val_acc, 'val_mask'),
                       (result.test_acc, 'test_mask')):
        assert math.isfinite(score) and 0.0 <= score <= 1.0
        count = labelled(splits[key], y)  # a fraction of these nodes
        assert abs(score * count - round(score * count)) < 1e-4 * count


@given(inputs=probe_inputs(),
       encoding=st.sampled_from(('float', 'uint8', 'int 0/1', '2-D')))
def test_ambiguous_splits_are_refused(inputs, encoding):
    z, y, splits = inputs
    n = z.size(0)
    mask = splits['train_mask']
    mask = mask if mask.dtype == torch.bool else torch.zeros(
        n, dtype=torch.bool).index_fill_(0, mask, True)
    bad = {'float': mask.float(), 'uint8': mask.to(torch.uint8),
           'int 0/1': mask.long(), '2-D': mask.view(-1, 1)}[encoding]
    if bad.numel() == 0 or (encoding == 'int 0/1' and n < 3):
        return  # nothing ambiguous: no node, or a valid index list
    splits = dict(splits, train_mask=bad)
    with pytest.raises(ValueError) as info:
        linear_probe(z, y, *splits.values(), weight_decays=GRID, max_iter=5)
    assert 'train_mask' in str(info.value) or 'NaN' in str(info.value)
