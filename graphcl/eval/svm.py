r"""The TU graph classification protocol of InfoGraph and GraphCL: an SVM on
frozen graph embeddings, scored by stratified k-fold cross-validation with
the regularisation strength :math:`C` chosen by an inner cross-validation
on the training folds only."""
import math
from dataclasses import dataclass
from typing import Sequence, Tuple

import numpy as np
import torch

__all__ = ['SVMResult', 'svm_cross_validation', 'SVM_C_GRID']

#: The :math:`C` values searched (InfoGraph's and GraphCL's
#: ``evaluate_embedding.py``: ``[0.001, 0.01, 0.1, 1, 10, 100, 1000]``).
SVM_C_GRID: Tuple[float, ...] = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3)


@dataclass
class SVMResult:
    r"""Outcome of :func:`svm_cross_validation` (scores in :math:`[0, 1]`).

    Attributes:
        fold_scores: Test accuracy of each outer fold.
        chosen_c: The :math:`C` chosen by the inner cross-validation of
            each outer fold.
        inner_scores: The inner cross-validation accuracy of that
            :math:`C`, per outer fold (a validation score: it never sees
            the fold's test graphs).
    """
    fold_scores: Tuple[float, ...]
    chosen_c: Tuple[float, ...]
    inner_scores: Tuple[float, ...]

    @property
    def mean(self) -> float:
        r"""Mean accuracy over the outer folds."""
        return float(np.mean(self.fold_scores))

    @property
    def std(self) -> float:
        r"""Population standard deviation of the fold accuracies."""
        return float(np.std(self.fold_scores))

    @property
    def inner_mean(self) -> float:
        r"""Mean over the outer folds of the chosen :math:`C`'s inner
        cross-validation accuracy."""
        return float(np.mean(self.inner_scores))


def _as_numpy(z, y) -> Tuple[np.ndarray, np.ndarray]:
    if torch.is_tensor(z):
        z = z.detach().cpu().double().numpy()
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"'z' must hold one embedding per graph, shape "
                         f"[num_graphs, channels], got {tuple(z.shape)}")
    if torch.is_tensor(y):
        y = y.detach().cpu().numpy()
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"'y' must hold one class label per graph, shape "
                         f"[num_graphs] or [num_graphs, 1], got "
                         f"{tuple(y.shape)} (several tasks per graph are not "
                         f"a single classification)")
    if y.shape[0] != z.shape[0]:
        raise ValueError(f"'y' has {y.shape[0]} labels but 'z' has "
                         f"{z.shape[0]} embeddings: give one label per graph")
    if np.issubdtype(y.dtype, np.floating):
        if not np.isfinite(y).all():
            raise ValueError("'y' holds NaN or infinite labels; the SVM "
                             "protocol needs every graph labelled")
        if not (y == np.round(y)).all():
            raise ValueError("'y' holds non-integer values; the SVM protocol "
                             "classifies, give class indices")
    bad = int((~np.isfinite(z)).any(axis=1).sum())
    if bad:
        raise ValueError(f"The embeddings contain NaN or infinite values in "
                         f"{bad} of {z.shape[0]} rows; pretraining diverged "
                         f"(lower the learning rate)")
    return z, y


def svm_cross_validation(z, y, folds: int = 10,
                         c_grid: Sequence[float] = SVM_C_GRID,
                         inner_folds: int = 5, seed: int = 0,
                         kernel: str = 'rbf') -> SVMResult:
    r"""Scores frozen graph embeddings with an SVM under stratified
    :obj:`folds`-fold cross-validation, the protocol of InfoGraph (`Sun et
    al., ICLR 2020 <https://arxiv.org/abs/1908.01000>`_) and GraphCL (`You
    et al., NeurIPS 2020 <https://arxiv.org/abs/2010.13902>`_).

    For each outer fold :math:`k`, :math:`C` is chosen from :obj:`c_grid`
    by a stratified :obj:`inner_folds`-fold grid search on the other
    folds (the fold's test graphs are never seen), the SVM is refitted on
    all of them with that :math:`C`, and scored on fold :math:`k`:

    .. math::
        \mathrm{acc} = \frac{1}{K}\sum_{k=1}^{K}
        \mathrm{acc}\left(\mathrm{SVM}_{C_k}(\mathcal{D}_{-k}),
        \mathcal{D}_k\right), \qquad
        C_k = \arg\max_{C} \mathrm{CV}_{inner}(C; \mathcal{D}_{-k})

    As in the reference code (``SVC()`` in ``GridSearchCV``), the SVM is
    scikit-learn's :class:`~sklearn.svm.SVC` with its default RBF kernel
    and ``gamma='scale'``, on the embeddings as they are. The folds are
    shuffled with :obj:`seed` (the reference draws them unseeded), so a
    seed reproduces the result.

    Args:
        z (Tensor or array): Graph embeddings :math:`(G, D)`.
        y (Tensor or array): Class labels :math:`(G)` or :math:`(G, 1)`.
        folds (int, optional): Outer folds. (default: ``10``)
        c_grid (sequence of float, optional): :math:`C` values searched.
            (default: :data:`SVM_C_GRID`, :math:`10^{-3}` to :math:`10^3`)
        inner_folds (int, optional): Folds of the inner search.
            (default: ``5``)
        seed (int, optional): Seed of both fold shuffles. (default: ``0``)
        kernel (str, optional): :class:`~sklearn.svm.SVC`'s kernel.
            (default: ``'rbf'``)

    Raises:
        ValueError: For embeddings that are not finite, labels that do not
            match them, fewer than two classes, or a class with fewer
            graphs than :obj:`folds` (stratified folds need one of each
            class per fold).
    """
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.svm import SVC
    z, y = _as_numpy(z, y)
    for name, value, low in (('folds', folds, 2),
                             ('inner_folds', inner_folds, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or \
                value < low:
            raise ValueError(f"'{name}' must be an integer >= {low}, got "
                             f"{value!r}")
    c_grid = [float(c) for c in c_grid]
    if not c_grid or not all(math.isfinite(c) and c > 0 for c in c_grid):
        raise ValueError(f"'c_grid' must hold at least one finite C > 0, "
                         f"got {c_grid}")
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"The labels hold {len(classes)} class(es); an SVM "
                         f"needs at least two")
    if counts.min() < folds:
        raise ValueError(
            f"Class {classes[counts.argmin()]!r} has {counts.min()} graph(s),"
            f" fewer than the {folds} stratified folds (each fold needs one "
            f"of each class); use fewer folds or more graphs")
    # The inner search sees (folds-1)/folds of each class.
    smallest_train = counts.min() - -(-counts.min() // folds)
    if smallest_train < inner_folds:
        raise ValueError(
            f"Class {classes[counts.argmin()]!r} has {smallest_train} "
            f"graph(s) in a training fold, fewer than the {inner_folds} "
            f"inner folds; use fewer inner folds or more graphs")
    outer = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores, chosen, inner_scores = [], [], []
    for train, test in outer.split(z, y):
        inner = StratifiedKFold(n_splits=inner_folds, shuffle=True,
                                random_state=seed)
        search = GridSearchCV(SVC(kernel=kernel), {'C': c_grid}, cv=inner,
                              scoring='accuracy', refit=True)
        search.fit(z[train], y[train])
        scores.append(float((search.predict(z[test]) == y[test]).mean()))
        chosen.append(float(search.best_params_['C']))
        inner_scores.append(float(search.best_score_))
    return SVMResult(tuple(scores), tuple(chosen), tuple(inner_scores))
