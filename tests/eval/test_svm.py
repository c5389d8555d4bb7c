import numpy as np
import pytest
import torch

from graphcl.eval import SVM_C_GRID, svm_cross_validation


def test_constant_embeddings_score_the_majority_class():
    # Identical embeddings carry nothing: every fold's SVM predicts its
    # training folds' majority class. 60/40 labels in 10 stratified folds
    # give 6 + 4 test graphs per fold, so each fold scores exactly 0.6.
    z = torch.zeros(100, 4)
    y = torch.tensor([0] * 60 + [1] * 40)
    res = svm_cross_validation(z, y, seed=3, c_grid=(1e-3, 1.0, 1e3))
    assert res.fold_scores == pytest.approx((0.6,) * 10)
    assert res.mean == pytest.approx(0.6) and res.std == pytest.approx(0.0)
    assert len(res.chosen_c) == 10 and set(res.chosen_c) <= {1e-3, 1.0, 1e3}


def test_separable_classes_score_one():
    gen = torch.Generator().manual_seed(0)
    z = torch.cat([torch.randn(30, 3, generator=gen),
                   torch.randn(30, 3, generator=gen) + 8])
    y = torch.tensor([0] * 30 + [1] * 30).view(-1, 1)  # [G, 1] accepted
    res = svm_cross_validation(z, y, c_grid=(0.1, 10.0))
    assert res.fold_scores == (1.0,) * 10
    assert res.inner_mean == 1.0


def test_equals_the_reference_loop_and_is_seeded():
    # The reference protocol written out with scikit-learn: outer stratified
    # folds, C by an inner grid search on the training folds alone.
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.svm import SVC
    rng = np.random.default_rng(1)
    z = rng.normal(size=(60, 5))
    y = (z[:, 0] + 0.8 * rng.normal(size=60) > 0).astype(int)
    expected = []
    for tr, te in StratifiedKFold(5, shuffle=True,
                                  random_state=7).split(z, y):
        cv = StratifiedKFold(3, shuffle=True, random_state=7)
        gs = GridSearchCV(SVC(), {'C': list(SVM_C_GRID)}, cv=cv).fit(
            z[tr], y[tr])
        expected.append((gs.predict(z[te]) == y[te]).mean())
    res = svm_cross_validation(z, y, folds=5, inner_folds=3, seed=7)
    assert res.fold_scores == pytest.approx(expected)
    assert svm_cross_validation(z, y, folds=5, inner_folds=3, seed=7) == res
    assert 0.6 < res.mean < 1.0  # learnable, not trivial


@pytest.mark.parametrize('z,y,match', [
    (torch.zeros(20, 2), torch.zeros(20), 'at least two'),
    (torch.zeros(20, 2), torch.tensor([0] * 15 + [1] * 5), 'fewer than the 10'),
    (torch.zeros(20, 2), torch.zeros(19), 'one label per graph'),
    (torch.zeros(20), torch.zeros(20), r'\[num_graphs, channels\]'),
    (torch.full((20, 2), float('nan')), torch.arange(20) % 2, 'NaN'),
    (torch.zeros(20, 2), torch.zeros(20, 3), 'several tasks'),
    (torch.zeros(20, 2), torch.full((20,), 0.5), 'non-integer'),
])
def test_bad_input_is_refused(z, y, match):
    with pytest.raises(ValueError, match=match):
        svm_cross_validation(z, y)


def test_bad_settings_are_refused():
    z, y = torch.zeros(40, 2), torch.arange(40) % 2
    with pytest.raises(ValueError, match="'folds'"):
        svm_cross_validation(z, y, folds=1)
    with pytest.raises(ValueError, match="'c_grid'"):
        svm_cross_validation(z, y, c_grid=[0.0])
    with pytest.raises(ValueError, match='inner folds'):
        svm_cross_validation(z[:20], y[:20], inner_folds=10)
