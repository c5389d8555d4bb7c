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
