import pytest
import torch

from graphcl.eval import LogisticRegression, ProbeResult, linear_probe


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
