import warnings

import pytest
import torch

from graphcl.eval import ABSOLUTE_WEIGHT_DECAYS, DEFAULT_WEIGHT_DECAYS, \
    LogisticRegression, ProbeResult, linear_probe
from graphcl.eval.linear_probe import accuracy


def separable(n_per_class=30, num_classes=3, dim=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    centers = 10.0 * torch.eye(num_classes, dim)
    y = torch.arange(num_classes).repeat_interleave(n_per_class)
    z = centers[y] + 0.5 * torch.randn(y.numel(), dim, generator=gen)
    perm = torch.randperm(y.numel(), generator=gen)
    n = y.numel()
    train = torch.zeros(n, dtype=torch.bool)
    val = torch.zeros(n, dtype=torch.bool)
    test = torch.zeros(n, dtype=torch.bool)
    train[perm[:n // 3]] = True
    val[perm[n // 3:2 * n // 3]] = True
    test[perm[2 * n // 3:]] = True
    return z, y, train, val, test


def test_separable_data_is_classified_perfectly():
    z, y, train, val, test = separable()
    result = linear_probe(z, y, train, val, test)
    assert isinstance(result, ProbeResult)
    assert result.val_acc == 1.0 and result.test_acc == 1.0


def test_random_labels_are_near_chance():
    z, _, train, val, test = separable(n_per_class=100)
    y = torch.randint(3, (z.size(0), ), generator=torch.Generator()
                      .manual_seed(1))
    result = linear_probe(z, y, train, val, test)
    assert result.test_acc < 0.6


def test_weight_decay_is_chosen_on_validation():
    # 1-D embeddings. Training: 8 nodes of class 0 at -1, 2 of class 1 at +1.
    # Validation: class 0 at +1, so the unregularised fit (which calls +1
    # class 1) scores 0 and a huge weight decay (weights ~ 0, the bias
    # predicts the majority class 0 everywhere) scores 1. Test: half and
    # half, where the unregularised fit would have been perfect.
    z = torch.tensor([-1.0] * 8 + [1.0] * 2 + [1.0] * 5 + [-1.0] * 3 +
                     [1.0] * 3).view(-1, 1)
    y = torch.tensor([0] * 8 + [1] * 2 + [0] * 5 + [0] * 3 + [1] * 3)
    train, val, test = torch.arange(10), torch.arange(10, 15), \
        torch.arange(15, 21)
    only_zero = linear_probe(z, y, train, val, test, weight_decays=[0.0])
    assert only_zero.val_acc == 0.0 and only_zero.test_acc == 1.0
    result = linear_probe(z, y, train, val, test,
                          weight_decays=[0.0, 1e-3, 1e3])
    assert result.weight_decay == 1e3
    assert result.val_acc == 1.0 and result.test_acc == 0.5


def test_ties_keep_the_first_weight_decay():
    z, y, train, val, test = separable()
    result = linear_probe(z, y, train, val, test, weight_decays=[1e-4, 0.0])
    assert result.weight_decay == 1e-4


def test_masks_and_index_tensors_agree():
    z, y, train, val, test = separable()
    a = linear_probe(z, y, train, val, test, weight_decays=[0.0, 1e-2])
    b = linear_probe(z, y, train.nonzero().view(-1), val.nonzero().view(-1),
                     test.nonzero().view(-1), weight_decays=[0.0, 1e-2])
    assert a == b


def test_standardize_and_custom_metric():
    z, y, train, val, test = separable()
    result = linear_probe(1e3 * z + 5.0, y, train, val, test,
                          standardize=True)
    assert result.test_acc == 1.0
    calls = []

    def errors(y_true, y_pred):
        calls.append(y_true.numel())
        return float((y_true != y_pred).sum())

    result = linear_probe(z, y, train, val, test, weight_decays=[0.0],
                          metric=errors)
    assert result.test_acc == 0.0 and len(calls) == 2


def test_logistic_regression_module():
    z, y, train, _, _ = separable()
    clf = LogisticRegression(8, 3, weight_decay=1e-3).fit(z[train], y[train])
    assert (clf.predict(z) == y).float().mean() == 1.0
    assert clf(z).shape == (z.size(0), 3)
    assert repr(clf) == 'LogisticRegression(8, 3, weight_decay=0.001)'


def test_errors():
    z, y, train, val, test = separable()
    with pytest.raises(ValueError, match='labels'):
        linear_probe(z, None, train, val, test)
    with pytest.raises(ValueError, match="'y' has 89 labels"):
        linear_probe(z, y[:-1], train, val, test)
    with pytest.raises(ValueError, match=r'shape \[num_nodes, channels\]'):
        linear_probe(z[:, 0], y, train, val, test)
    bad = z.clone()
    bad[4, 2] = float('nan')
    with pytest.raises(ValueError, match='NaN'):
        linear_probe(bad, y, train, val, test)
    bad[4, 2] = float('inf')
    with pytest.raises(ValueError, match='infinite'):
        linear_probe(bad, y, train, val, test)
    with pytest.raises(ValueError, match="'val_mask' has 89 entries"):
        linear_probe(z, y, train, val[:-1], test)
    with pytest.raises(ValueError, match="'test_mask' holds indices outside"):
        linear_probe(z, y, train, val, torch.tensor([0, 90]))
    with pytest.raises(ValueError, match="'train_mask' is missing"):
        linear_probe(z, y, None, val, test)
    with pytest.raises(ValueError, match='training split is empty'):
        linear_probe(z, y, torch.zeros_like(train), val, test)


def test_grid_keeps_every_fit_in_order():
    z, y, train, val, test = separable()
    result = linear_probe(z, y, train, val, test,
                          weight_decays=[0.0, 1e-2, 1e3])
    assert [g[0] for g in result.grid] == [0.0, 1e-2, 1e3]
    chosen = [g for g in result.grid if g[0] == result.weight_decay][0]
    assert (chosen[1], chosen[2]) == (result.val_acc, result.test_acc)
    # A huge weight decay predicts one class: a third of the nodes.
    assert result.grid[2][1] < 0.5


def test_empty_grid_is_an_error():
    z, y, train, val, test = separable()
    with pytest.raises(ValueError, match='weight_decays'):
        linear_probe(z, y, train, val, test, weight_decays=[])


# Splits: boolean masks or explicit index tensors, nothing ambiguous.

def random_data(n=300, num_classes=3, dim=16, seed=0):
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, dim, generator=gen)
    y = torch.randint(num_classes, (n, ), generator=gen)
    _, _, train, val, test = separable(n_per_class=n // num_classes,
                                       num_classes=num_classes, seed=seed)
    return z, y, train, val, test


@pytest.mark.parametrize('dtype', [torch.uint8, torch.int8, torch.int32,
                                   torch.int64, torch.float32,
                                   torch.float64])
@pytest.mark.parametrize('which', [0, 1, 2])
def test_masks_stored_as_numbers_are_refused(dtype, which):
    # Read as indices, a 0/1 mask selects nodes 0 and 1 only: random
    # embeddings then scored 100%.
    z, y, *splits = random_data()
    name = ('train_mask', 'val_mask', 'test_mask')[which]
    splits[which] = splits[which].to(dtype)
    with pytest.raises(ValueError, match=rf"'{name}'.*{name}\.bool\(\)"):
        linear_probe(z, y, *splits)


def test_random_embeddings_with_a_valid_mask_are_near_chance():
    z, y, train, val, test = random_data()
    result = linear_probe(z, y, train, val, test)
    assert result.test_acc < 0.6 and result.val_acc < 0.6


def test_index_tensors_of_any_integer_width_equal_the_mask():
    z, y, train, val, test = random_data()
    a = linear_probe(z, y, train, val, test, weight_decays=[0.0, 1e-2])
    for dtype in (torch.int16, torch.int32, torch.int64):
        idx = [m.nonzero().view(-1).to(dtype) for m in (train, val, test)]
        assert linear_probe(z, y, *idx, weight_decays=[0.0, 1e-2]) == a
    lists = [m.nonzero().view(-1).tolist() for m in (train, val, test)]
    assert linear_probe(z, y, *lists, weight_decays=[0.0, 1e-2]) == a
    # A few explicit indices are fine, even 0 and 1.
    small = linear_probe(z, y, torch.tensor([0, 1, 5, 7]), torch.tensor([9]),
                         torch.tensor([2, 3]), weight_decays=[0.0])
    assert 0.0 <= small.test_acc <= 1.0


def test_bad_index_tensors_are_refused():
    z, y, train, val, test = separable()
    with pytest.raises(ValueError, match=r"'test_mask' holds indices "
                                         r"outside \[0, 90\)"):
        linear_probe(z, y, train, val, torch.tensor([-1, 5]))
    with pytest.raises(ValueError, match=r"'val_mask' repeats 2 node "
                                         r"indices.*unique\(\)"):
        linear_probe(z, y, train, torch.tensor([3, 3, 4, 4, 5]), test)
    with pytest.raises(ValueError, match=r"'val_mask' must be a 1-D tensor"):
        linear_probe(z, y, train, torch.tensor([[3, 4], [5, 6]]), test)
    with pytest.raises(ValueError, match=r"'train_mask' must be a boolean "
                                         r"mask of shape \[90\].*\[:, 0\]"):
        linear_probe(z, y, torch.stack([train, train], dim=1), val, test)
    with pytest.raises(ValueError, match="'train_mask' must be a boolean"):
        linear_probe(z, y, object(), val, test)


# Labels below 0: unlabelled, neither fitted nor scored.

@pytest.mark.parametrize('which', [0, 1, 2])
def test_unlabelled_nodes_are_left_out_of_each_split(which):
    z, y, *splits = random_data()
    hidden = splits[which].nonzero().view(-1)[::3]
    y_missing = y.clone()
    y_missing[hidden] = -1
    result = linear_probe(z, y_missing, *splits, weight_decays=[0.0, 1e-2])
    labelled = y_missing >= 0
    expected = linear_probe(z, y, *[m & labelled for m in splits],
                            weight_decays=[0.0, 1e-2])
    assert result == expected
    # Index tensors behave the same way.
    idx = [m.nonzero().view(-1) for m in splits]
    assert linear_probe(z, y_missing, *idx,
                        weight_decays=[0.0, 1e-2]) == expected


def test_unlabelled_nodes_do_not_count_as_errors():
    z, y, train, val, test = separable()
    y = y.clone()
    y[val.nonzero().view(-1)[:5]] = -1
    y[test.nonzero().view(-1)[:5]] = -7
    y[train.nonzero().view(-1)[:5]] = -1
    result = linear_probe(z, y, train, val, test)
    assert result.val_acc == 1.0 and result.test_acc == 1.0


def test_labels_of_shape_n_by_1_and_integral_floats():
    z, y, train, val, test = separable()
    a = linear_probe(z, y, train, val, test, weight_decays=[0.0])
    assert linear_probe(z, y.view(-1, 1), train, val, test,
                        weight_decays=[0.0]) == a
    assert linear_probe(z, y.float(), train, val, test,
                        weight_decays=[0.0]) == a


def test_bad_labels_are_refused():
    z, y, train, val, test = separable()
    with pytest.raises(ValueError, match='non-integer'):
        linear_probe(z, y.float() + 0.5, train, val, test)
    nan = y.float()
    nan[0] = float('nan')
    with pytest.raises(ValueError, match=r'nan_to_num\(y, nan=-1\)'):
        linear_probe(z, nan, train, val, test)
    with pytest.raises(ValueError, match='single-label'):
        linear_probe(z, torch.stack([y, y], dim=1), train, val, test)


@pytest.mark.parametrize('which,split', [(0, 'training'), (1, 'validation'),
                                         (2, 'test')])
def test_a_split_without_labelled_nodes_is_refused(which, split):
    z, y, *splits = separable()
    y = y.clone()
    y[splits[which]] = -1
    name = ('train_mask', 'val_mask', 'test_mask')[which]
    with pytest.raises(ValueError, match=f"The {split} split has no "
                                         f"labelled node.*'{name}'"):
        linear_probe(z, y, *splits)


# Empty and overlapping splits.

@pytest.mark.parametrize('which,split', [(0, 'training'), (1, 'validation'),
                                         (2, 'test')])
@pytest.mark.parametrize('empty', ['mask', 'index', 'list'])
def test_empty_splits_are_refused(which, split, empty):
    z, y, *splits = separable()
    splits[which] = {'mask': torch.zeros(z.size(0), dtype=torch.bool),
                     'index': torch.tensor([], dtype=torch.long),
                     'list': []}[empty]
    name = ('train_mask', 'val_mask', 'test_mask')[which]
    with pytest.raises(ValueError, match=f"The {split} split is empty: "
                                         f"'{name}' selects no node"):
        linear_probe(z, y, *splits)


def test_overlapping_splits_warn_and_disjoint_ones_do_not():
    z, y, train, val, test = separable()
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        linear_probe(z, y, train, val, test, weight_decays=[0.0])
    leaky = test.clone()
    leaky[train.nonzero().view(-1)[:4]] = True
    with pytest.warns(UserWarning, match="'train_mask' and 'test_mask' "
                                         "share 4 nodes") as record:
        linear_probe(z, y, train, val, leaky, weight_decays=[0.0])
    assert len(record) == 1
    with pytest.warns(UserWarning, match="'train_mask' and 'val_mask' "
                                         "share 30 nodes"):
        linear_probe(z, y, train, train, test, weight_decays=[0.0])


# Other inputs that could produce a number without meaning.

def test_embeddings_that_overflow_float32_are_refused():
    z, y, train, val, test = separable()
    big = z.double()
    big[3] = 1e300
    with pytest.raises(ValueError, match=r'infinite values \(as float32\) '
                                         r'in 1 of 90 rows'):
        linear_probe(big, y, train, val, test)


def test_bad_weight_decays_and_metrics_are_refused():
    z, y, train, val, test = separable()
    for wd in (-1e-3, float('nan'), float('inf'), 'big'):
        with pytest.raises(ValueError, match='not an L2 strength'):
            linear_probe(z, y, train, val, test, weight_decays=[0.0, wd])
    with pytest.raises(ValueError, match="'metric' returned nan on the "
                                         "validation nodes"):
        linear_probe(z, y, train, val, test,
                     metric=lambda t, p: float('nan'))
    with pytest.raises(ValueError, match="'metric' must return one number"):
        linear_probe(z, y, train, val, test, metric=lambda t, p: None)
    # A 0-d tensor is a number.
    result = linear_probe(z, y, train, val, test, weight_decays=[0.0],
                          metric=lambda t, p: (t == p).float().mean())
    assert result.test_acc == 1.0


def test_standardize_with_one_training_node_stays_finite():
    z, y, train, val, test = separable()
    one = torch.zeros_like(train)
    one[train.nonzero()[0]] = True
    result = linear_probe(z, y, one, val, test, standardize=True,
                          weight_decays=[0.0])
    # One class seen: that class everywhere, a third of the nodes.
    assert 0.2 < result.test_acc < 0.5


def test_accuracy_refuses_empty_and_mismatched_inputs():
    assert accuracy(torch.tensor([0, 1, 2]),
                    torch.tensor([[0], [1], [0]])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match='no node to score'):
        accuracy(torch.tensor([]), torch.tensor([]))
    with pytest.raises(ValueError, match='3 labels but 2 predictions'):
        accuracy(torch.tensor([0, 1, 2]), torch.tensor([0, 1]))


def test_logistic_regression_refuses_unlabelled_and_bad_input():
    z, y, train, _, _ = separable()
    clf = LogisticRegression(8, 3)
    bad = y.clone()
    bad[0] = -1
    with pytest.raises(ValueError, match=r'class indices in \[0, 3\).*'
                                         r'unlabelled'):
        clf.fit(z, bad)
    with pytest.raises(ValueError, match=r'class indices in \[0, 3\)'):
        clf.fit(z, y + 1)
    with pytest.raises(ValueError, match=r'shape \[num_nodes, 8\]'):
        clf.fit(z[:, :4], y)
    with pytest.raises(ValueError, match='one label per row'):
        clf.fit(z, y[:-1])
    with pytest.raises(ValueError, match='not an L2 strength'):
        LogisticRegression(8, 3, weight_decay=-1.0)


def test_huge_class_index_refused_before_allocating():
    z = torch.randn(6, 3)
    y = torch.tensor([0, 1, 0, 1, 10**9, 0])
    mask = torch.tensor([True, True, False, False, False, False])
    with pytest.raises(ValueError, match=r'number the classes 0\.\.C-1'):
        linear_probe(z, y, mask, mask.roll(2), mask.roll(4))


# Audit of the evaluation path (regressions).

def test_index_order_does_not_change_the_result():
    # A split is a set of nodes: its indices in the order a permutation
    # gives them (random splits, OGB index files) must give the mask's
    # result. Before, the fit summed the rows in the order given, and on
    # this draw the validation accuracy moved from 0.46 to 0.47.
    gen = torch.Generator().manual_seed(15)
    y = torch.randint(4, (300, ), generator=gen)
    z = torch.randn(300, 16, generator=gen) + \
        0.3 * torch.randn(4, 16, generator=gen)[y]
    perm = torch.randperm(300, generator=gen)
    idx = [perm[:100], perm[100:200], perm[200:]]
    masks = [torch.zeros(300, dtype=torch.bool).index_fill_(0, i, True)
             for i in idx]
    expected = linear_probe(z, y, *masks, weight_decays=[0.0])
    got = linear_probe(z, y, *idx, weight_decays=[0.0])
    assert got == expected and got.grid == expected.grid
    flipped = [i.flip(0) for i in idx]
    assert linear_probe(z, y, *flipped, weight_decays=[0.0]).grid == \
        expected.grid


def test_float64_embeddings_are_standardised_before_the_float32_cast():
    # A large offset and a small spread, both exact in float64: float32
    # keeps ~7 digits, so casting first left only rounding noise (chance
    # accuracy, 0.30) where standardising first scores as on z itself.
    z, y, train, val, test = separable()
    shifted = 1e5 + 1e-4 * z.double()
    a = linear_probe(z.double(), y, train, val, test, standardize=True,
                     weight_decays=[0.0])
    b = linear_probe(shifted, y, train, val, test, standardize=True,
                     weight_decays=[0.0])
    assert a.test_acc == 1.0 and b.test_acc == 1.0


def test_scores_give_the_metric_logits():
    z, y, train, val, test = separable()
    seen = []

    def metric(y_true, y_score):
        seen.append(tuple(y_score.shape))
        return float((y_score.argmax(-1) == y_true).float().mean())

    result = linear_probe(z, y, train, val, test, weight_decays=[0.0],
                          metric=metric, scores=True)
    assert seen == [(int(val.sum()), 3), (int(test.sum()), 3)]
    assert result == linear_probe(z, y, train, val, test,
                                  weight_decays=[0.0])
    with pytest.raises(ValueError, match="'scores=True'.*no metric"):
        linear_probe(z, y, train, val, test, scores=True)


def test_weight_decays_must_be_a_grid():
    z, y, train, val, test = separable()
    for bad in (1e-3, '1e-3', 0):
        with pytest.raises(ValueError, match=r"'weight_decays' is .*not a "
                                             r"grid.*weight_decays=\["):
            linear_probe(z, y, train, val, test, weight_decays=bad)
    # Unsorted grids and repeats are fine: ties go to the earlier entry.
    result = linear_probe(z, y, train, val, test,
                          weight_decays=(1e-2, 0.0, 1e-2))
    assert result.weight_decay == 1e-2 and len(result.grid) == 3


def test_float_labels_beyond_int64_are_refused():
    # float('1e30') is a whole number, but .long() wraps it to a negative
    # index: the node was silently treated as unlabelled.
    z, y, train, val, test = separable()
    y = y.double()
    y[train.nonzero()[0]] = 1e30
    with pytest.raises(ValueError, match="not class indices"):
        linear_probe(z, y, train, val, test)


def test_labels_need_not_start_at_zero_or_be_contiguous():
    z, y, train, val, test = separable(num_classes=2)
    a = linear_probe(z, y, train, val, test, weight_decays=[0.0, 1e-2])
    b = linear_probe(z, torch.where(y == 0, 3, 7), train, val, test,
                     weight_decays=[0.0, 1e-2])
    assert a.grid == b.grid


def test_sparse_float16_and_integer_embeddings():
    z, y, train, val, test = separable()
    a = linear_probe(z, y, train, val, test, weight_decays=[0.0])
    assert linear_probe(z.to_sparse(), y, train, val, test,
                        weight_decays=[0.0]) == a
    assert linear_probe(z.half(), y, train, val, test,
                        weight_decays=[0.0]).test_acc == 1.0
    assert linear_probe(z.round().long(), y, train, val, test,
                        weight_decays=[0.0]).test_acc == 1.0


def test_logistic_regression_fits_float64_embeddings():
    # LogisticRegression used on its own: float64 embeddings are fitted in
    # the classifier's float32, as the float32 copy would be.
    from graphcl.eval.linear_probe import LogisticRegression
    g = torch.Generator().manual_seed(0)
    z = torch.randn(30, 4, generator=g, dtype=torch.float64)
    y = (z[:, 0] > 0).long()
    a = LogisticRegression(4, 2).fit(z, y)
    b = LogisticRegression(4, 2).fit(z.float(), y)
    assert torch.equal(a.lin.weight, b.lin.weight)
    assert torch.equal(a.predict(z), b.predict(z.float()))


@pytest.mark.parametrize('exponent', [-12, -3, 0, 5])
def test_the_probe_is_blind_to_the_scale_of_the_embeddings(exponent):
    # Multiplying by a power of two is exact in floating point, and so is
    # the rms rescaling of the product: every fit of the grid is the same.
    z, y, train, val, test = separable(n_per_class=40, dim=12, seed=3)
    z = z + 3.0 * torch.randn(z.shape, generator=torch.Generator()
                              .manual_seed(4))  # not separable
    base = linear_probe(z, y, train, val, test)
    scaled = linear_probe(z * 2.0 ** exponent, y, train, val, test)
    assert scaled.grid == base.grid
    assert scaled.weight_decay == base.weight_decay
    assert scaled.scale == base.scale * 2.0 ** exponent


def test_rescale_divides_by_the_rms_entry_of_the_training_rows():
    z, y, train, val, test = separable()
    z = 1e-3 * z
    fit = linear_probe(z, y, train, val, test)
    rms = float(z[train].double().pow(2).mean().sqrt())
    assert fit.scale == pytest.approx(rms, rel=1e-12)
    by_hand = linear_probe(z / fit.scale, y, train, val, test,
                           rescale=False)
    assert by_hand.grid == fit.grid and by_hand.scale == 1.0


def test_without_rescale_the_grid_meets_the_embeddings_as_given():
    # Tiny embeddings: every non-zero weight decay of the absolute grid
    # flattens the classifier to the majority class, so only weight decay 0
    # separates the classes; rescaled, a penalty of the grid does too.
    z, y, train, val, test = separable(n_per_class=40)
    z = 1e-4 * z
    raw = linear_probe(z, y, train, val, test, rescale=False,
                       weight_decays=ABSOLUTE_WEIGHT_DECAYS)
    assert raw.scale == 1.0
    assert [g[0] for g in raw.grid] == list(ABSOLUTE_WEIGHT_DECAYS)
    assert all(g[1] < 0.5 for g in raw.grid[2:])  # 1e-4 and stronger
    fit = linear_probe(z, y, train, val, test)
    assert [g[0] for g in fit.grid] == list(DEFAULT_WEIGHT_DECAYS)
    assert all(g[1] == 1.0 for g in fit.grid[:6])  # up to 1e-1


def test_all_zero_embeddings_are_not_rescaled():
    z, y, train, val, test = separable()
    fit = linear_probe(torch.zeros_like(z), y, train, val, test)
    assert fit.scale == 1.0
    assert fit.test_acc < 0.5
