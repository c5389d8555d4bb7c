import numpy as np
import pytest

from graphcl.adapters.probe import (few_label_indices, knn_probe,
                                    linear_probe, probe_all)


def _blobs(n_per_class=30, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (classes, 4))
    y = np.repeat(np.arange(classes), n_per_class)
    return centres[y] + rng.normal(0, 0.5, (len(y), 4)), y


def test_few_label_indices_per_class_and_seeded():
    _, y = _blobs()
    idx = few_label_indices(y, 5, seed=1)
    assert np.bincount(y[idx]).tolist() == [5, 5, 5]
    assert np.array_equal(idx, few_label_indices(y, 5, seed=1))
    assert not np.array_equal(idx, few_label_indices(y, 5, seed=2))
    with pytest.raises(ValueError, match='fewer than per_class'):
        few_label_indices(y, 31)


def test_probes_on_separable_data():
    x, y = _blobs()
    xt, yt = _blobs(seed=0)
    assert linear_probe(x, y, xt, yt) == pytest.approx(100.0)
    assert knn_probe(x, y, xt, yt) == pytest.approx(100.0)
    accs = probe_all(x, y, xt, yt, few_per_class=3, seed=0)
    assert set(accs) == {'linear_all', 'linear_few', 'knn'}
    assert all(0.0 <= v <= 100.0 for v in accs.values())
    assert accs['linear_few'] > 90.0


def test_random_labels_give_chance_accuracy():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(300, 8)), rng.integers(0, 2, 300)
    xt, yt = rng.normal(size=(300, 8)), rng.integers(0, 2, 300)
    assert 35.0 < linear_probe(x, y, xt, yt) < 65.0


def test_linear_probe_is_the_graph_protocol_then_a_refit():
    # The weight decay is the graph probe's validation choice on the
    # held-out split; the reported accuracy is the refit on all training
    # examples with it.
    import torch
    from sklearn.model_selection import train_test_split

    from graphcl.eval import LogisticRegression
    from graphcl.eval import linear_probe as graph_probe
    from graphcl.adapters.probe import WEIGHT_DECAYS
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(200, 6)), rng.integers(0, 3, 200)
    x[:, 0] += 1.5 * y  # learnable, not separable
    xt, yt = rng.normal(size=(100, 6)), rng.integers(0, 3, 100)
    xt[:, 0] += 1.5 * yt
    acc = linear_probe(x, y, xt, yt, seed=3)

    mean, std = x.mean(0), x.std(0)
    z = torch.tensor((np.concatenate([x, xt]) - mean) / std).float()
    yy = torch.tensor(np.concatenate([y, yt]))
    tr, va = train_test_split(np.arange(200), test_size=0.2, random_state=3,
                              stratify=y)
    chosen = graph_probe(z, yy, torch.tensor(tr), torch.tensor(va),
                         torch.arange(200, 300), WEIGHT_DECAYS)
    clf = LogisticRegression(6, 3, chosen.weight_decay).fit(z[:200],
                                                            yy[:200])
    expected = 100 * (clf.predict(z[200:]) == yy[200:]).float().mean()
    assert acc == pytest.approx(expected.item())


def test_few_labels_use_k_fold_and_one_label_per_class_still_probes():
    x, y = _blobs(n_per_class=30)
    few = few_label_indices(y, 3, seed=0)  # 3 per class: 3-fold
    assert linear_probe(x[few], y[few], x, y) > 90.0
    one = few_label_indices(y, 1, seed=0)  # nothing to validate on
    assert 0.0 <= linear_probe(x[one], y[one], x, y) <= 100.0


def test_unlabelled_examples_are_neither_fitted_nor_scored():
    x, y = _blobs()
    xt, yt = _blobs(seed=0)
    y_unl, yt_unl = y.copy(), yt.copy()
    y_unl[::7] = -1
    yt_unl[::5] = -1
    keep, keep_t = y_unl >= 0, yt_unl >= 0
    assert linear_probe(x, y_unl, xt, yt_unl) == pytest.approx(
        linear_probe(x[keep], y[keep], xt[keep_t], yt[keep_t]))
    assert -1 not in y[few_label_indices(y_unl, 3)]


def test_linear_probe_bad_input():
    x, y = _blobs()
    with pytest.raises(ValueError, match='features'):
        linear_probe(x, y, x[:, :2], y)
    with pytest.raises(ValueError, match='one label per example'):
        linear_probe(x, y[:-1], x, y)
    with pytest.raises(ValueError, match='flatten'):
        linear_probe(x[:, :, None], y, x, y)
    with pytest.raises(ValueError, match='NaN'):
        linear_probe(np.full_like(x, np.nan), y, x, y)
    with pytest.raises(ValueError, match='val_fraction'):
        linear_probe(x, y, x, y, val_fraction=1.0)
