r"""Evaluation of frozen representations: linear probe with all and with few
labels, and k-nearest neighbours.

The linear probe is scikit-learn's multinomial logistic regression on
standardised features; its inverse regularisation :math:`C` is picked on a
held-out validation split of the labelled training examples (stratified
k-fold when there are too few labels to hold out a split).

The probes run BLAS/OpenMP single-threaded (:mod:`threadpoolctl`): these
problems are small, and multi-threaded OpenBLAS next to PyTorch's own
thread pool was measured up to 100x slower on 2 cores.
"""
import functools
from typing import Callable, Dict, Optional, Sequence

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import Tensor

__all__ = ['embed', 'few_label_indices', 'linear_probe', 'knn_probe',
           'probe_all', 'PROBES', 'DEFAULT_CS']

DEFAULT_CS = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)
PROBES = ('linear_all', 'linear_few', 'knn')


@torch.no_grad()
def embed(fn: Callable[[Tensor], Tensor], x: Tensor, batch_size: int = 512,
          device: Optional[torch.device] = None) -> np.ndarray:
    r"""Applies :obj:`fn` (e.g. a frozen encoder in eval mode) to :obj:`x` in
    batches and returns a float64 array ``[N, D]``."""
    out = []
    for i in range(0, x.size(0), batch_size):
        xb = x[i:i + batch_size]
        if device is not None:
            xb = xb.to(device)
        out.append(fn(xb).detach().reshape(xb.size(0), -1).cpu())
    return torch.cat(out).double().numpy()


def few_label_indices(y: np.ndarray, per_class: int,
                      seed: int = 0) -> np.ndarray:
    r"""Indices of :obj:`per_class` random examples of every class (sorted),
    reproducible from :obj:`seed`."""
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    idx = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        if len(members) < per_class:
            raise ValueError(f"Class {c} has only {len(members)} examples, "
                             f"fewer than per_class={per_class}")
        idx.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(idx))


def _single_threaded(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1):
            return fn(*args, **kwargs)
    return wrapper


def _fit(x: np.ndarray, y: np.ndarray, C: float, seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    clf = LogisticRegression(C=C, max_iter=2000, random_state=seed)
    return make_pipeline(StandardScaler(), clf).fit(x, y)


def _select_c(x: np.ndarray, y: np.ndarray, Cs: Sequence[float],
              val_fraction: float, seed: int) -> float:
    from sklearn.model_selection import StratifiedKFold, train_test_split
    counts = np.bincount(np.unique(y, return_inverse=True)[1])
    if counts.min() * val_fraction >= 2:
        splits = [train_test_split(np.arange(len(y)), test_size=val_fraction,
                                   random_state=seed, stratify=y)]
    else:  # too few labels for one split: stratified k-fold instead
        k = int(min(5, counts.min()))
        if k < 2:
            return float(np.median(Cs))
        skf = StratifiedKFold(k, shuffle=True, random_state=seed)
        splits = list(skf.split(x, y))
    scores = []
    for C in Cs:
        scores.append(np.mean([_fit(x[tr], y[tr], C, seed).score(x[va], y[va])
                               for tr, va in splits]))
    return float(Cs[int(np.argmax(scores))])


@_single_threaded
def linear_probe(x_train: np.ndarray, y_train: np.ndarray,
                 x_test: np.ndarray, y_test: np.ndarray,
                 Cs: Sequence[float] = DEFAULT_CS, val_fraction: float = 0.2,
                 seed: int = 0) -> float:
    r"""Test accuracy (in %) of a logistic-regression probe whose :math:`C` is
    chosen on a validation split of the training examples, then refit on all
    of them."""
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    C = _select_c(x_train, y_train, Cs, val_fraction, seed)
    return 100.0 * _fit(x_train, y_train, C, seed).score(x_test, y_test)


@_single_threaded
def knn_probe(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
              y_test: np.ndarray, k: int = 5) -> float:
    r"""Test accuracy (in %) of a :obj:`k`-nearest-neighbour classifier with
    cosine distance."""
    from sklearn.neighbors import KNeighborsClassifier
    knn = KNeighborsClassifier(n_neighbors=min(k, len(y_train)),
                               metric='cosine')
    return 100.0 * knn.fit(x_train, np.asarray(y_train)).score(
        x_test, np.asarray(y_test))


@_single_threaded
def probe_all(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
              y_test: np.ndarray, few_per_class: int = 5, seed: int = 0,
              k: int = 5) -> Dict[str, float]:
    r"""The three probes of graphcl's adapter benchmarks: linear with all
    training labels (``'linear_all'``), linear with :obj:`few_per_class`
    labels per class drawn with :obj:`seed` (``'linear_few'``), and
    :obj:`k`-NN with all labels (``'knn'``). Accuracies in %."""
    y_train = np.asarray(y_train)
    few = few_label_indices(y_train, few_per_class, seed)
    return {
        'linear_all': linear_probe(x_train, y_train, x_test, y_test,
                                   seed=seed),
        'linear_few': linear_probe(x_train[few], y_train[few], x_test,
                                   y_test, seed=seed),
        'knn': knn_probe(x_train, y_train, x_test, y_test, k),
    }
