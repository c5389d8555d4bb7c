r"""Evaluation of frozen representations: linear probe with all and with few
labels, and k-nearest neighbours.

The linear probe is graphcl's one logistic-regression protocol
(:func:`graphcl.eval.linear_probe`: multinomial logistic regression fitted
with L-BFGS, its L2 weight decay :math:`\lambda` chosen on validation
accuracy). Image and sequence data come as train/test splits without a
validation split, so the validation examples are held out of the labelled
training examples (stratified; stratified :math:`k`-fold, with
:math:`\lambda` chosen on the mean validation accuracy over folds by
:func:`graphcl.eval.select_pooled`, when there are too few labels to hold
out a split), and the classifier is then refitted with the chosen
:math:`\lambda` on all of them. Features are standardised with the
training examples' statistics first, so the grid :data:`WEIGHT_DECAYS`
reaches stronger L2 than the graph default (made for unscaled node
embeddings and a hundred or more labels): with 5 labels per class the
validation choice often wants :math:`\lambda \geq 1`. The kNN probe and
the few-label sampling have no graph counterpart and are the adapters'
own.

The probes run BLAS/OpenMP single-threaded (:mod:`threadpoolctl`): these
problems are small, and multi-threaded OpenBLAS next to PyTorch's own
thread pool was measured up to 100x slower on 2 cores.
"""
import functools
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import Tensor

from ..eval import LogisticRegression, select_pooled
from ..eval import linear_probe as graph_linear_probe
from ..eval.linear_probe import accuracy

__all__ = ['embed', 'few_label_indices', 'linear_probe', 'knn_probe',
           'probe_all', 'PROBES', 'WEIGHT_DECAYS']

PROBES = ('linear_all', 'linear_few', 'knn')

#: L2 strengths :math:`\lambda` tried by :func:`linear_probe` (on
#: standardised features; the loss is the mean cross-entropy plus
#: :math:`\frac{\lambda}{2}\|W\|^2`).
WEIGHT_DECAYS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)


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
    reproducible from :obj:`seed`; labels below ``0`` (unlabelled) are
    never drawn."""
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    idx = []
    for c in np.unique(y[y >= 0]):
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


def _validation_splits(y: np.ndarray, val_fraction: float, seed: int
                       ) -> List[Tuple[np.ndarray, np.ndarray]]:
    r"""(train, validation) index pairs held out of the training labels:
    one stratified split, or stratified k-fold (k <= 5) when a class would
    get fewer than 2 validation examples; none when a class has a single
    example."""
    from sklearn.model_selection import StratifiedKFold, train_test_split
    counts = np.bincount(np.unique(y, return_inverse=True)[1])
    if counts.min() * val_fraction >= 2:
        return [tuple(train_test_split(np.arange(len(y)),
                                       test_size=val_fraction,
                                       random_state=seed, stratify=y))]
    k = int(min(5, counts.min()))
    if k < 2:
        return []
    skf = StratifiedKFold(k, shuffle=True, random_state=seed)
    return list(skf.split(np.zeros(len(y)), y))


def _features(x, name: str) -> Tensor:
    x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x)
    if x.dim() != 2:
        raise ValueError(f"'{name}' must be a matrix [num_examples, "
                         f"features], got shape {tuple(x.shape)}; flatten "
                         f"the features first, e.g. x.reshape(len(x), -1)")
    return x.detach().double().cpu()


def _class_labels(y, n: int, name: str) -> Tensor:
    y = torch.as_tensor(np.asarray(y) if not torch.is_tensor(y) else y)
    if y.dim() != 1 or y.numel() != n:
        raise ValueError(f"'{name}' must hold one label per example ({n}), "
                         f"got shape {tuple(y.shape)}")
    if y.is_floating_point() and bool((y != y.round()).any()):
        raise ValueError(f"'{name}' must hold class indices, got "
                         f"non-integer values")
    return y.long().cpu()


@_single_threaded
def linear_probe(x_train, y_train, x_test, y_test,
                 weight_decays: Sequence[float] = WEIGHT_DECAYS,
                 val_fraction: float = 0.2, seed: int = 0,
                 max_iter: int = 100) -> float:
    r"""Test accuracy (in %) of graphcl's logistic-regression probe
    (:func:`graphcl.eval.linear_probe`) whose weight decay is chosen on
    validation examples held out of the training examples, then refitted
    on all of them (see the module documentation). Labels below ``0`` mark
    unlabelled examples: they are neither fitted nor scored.

    Args:
        x_train (array or Tensor): Training features ``[N, D]``.
        y_train (array or Tensor): Training labels ``[N]``.
        x_test (array or Tensor): Test features ``[M, D]``.
        y_test (array or Tensor): Test labels ``[M]``.
        weight_decays (sequence of float, optional): Grid of L2 strengths
            :math:`\lambda`. (default: :data:`WEIGHT_DECAYS`)
        val_fraction (float, optional): Fraction of the training examples
            held out for validation (stratified k-fold when a class would
            get fewer than 2). (default: ``0.2``)
        seed (int, optional): Seed of the hold-out split. (default: ``0``)
        max_iter (int, optional): L-BFGS iterations per fit.
            (default: ``100``)
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"'val_fraction' must be in (0, 1), got "
                         f"{val_fraction}")
    weight_decays = list(weight_decays)
    if not weight_decays:
        raise ValueError("'weight_decays' is empty: give at least one L2 "
                         "strength")
    z_train, z_test = _features(x_train, 'x_train'), _features(x_test,
                                                               'x_test')
    if z_train.size(1) != z_test.size(1):
        raise ValueError(f"'x_train' has {z_train.size(1)} features but "
                         f"'x_test' has {z_test.size(1)}")
    y_train = _class_labels(y_train, z_train.size(0), 'y_train')
    y_test = _class_labels(y_test, z_test.size(0), 'y_test')
    z_train, y_train = z_train[y_train >= 0], y_train[y_train >= 0]
    z_test, y_test = z_test[y_test >= 0], y_test[y_test >= 0]
    if y_train.numel() == 0 or y_test.numel() == 0:
        raise ValueError("The linear probe needs labelled training and test "
                         "examples (labels >= 0)")
    if not (bool(torch.isfinite(z_train).all())
            and bool(torch.isfinite(z_test).all())):
        raise ValueError("The features hold NaN or infinite values; "
                         "pre-training diverged (lower the learning rate)")

    # Standardised with the training examples' statistics (as scikit-learn's
    # StandardScaler, population std), once for the selection and the refit.
    mean, std = z_train.mean(0), z_train.std(0, unbiased=False)
    std = std.clamp_min(1e-12)
    z = ((torch.cat([z_train, z_test]) - mean) / std).float()
    y = torch.cat([y_train, y_test])
    n = z_train.size(0)
    test = torch.arange(n, z.size(0))

    splits = _validation_splits(y_train.numpy(), val_fraction, seed)
    if splits:
        results = [graph_linear_probe(z, y, torch.as_tensor(tr),
                                      torch.as_tensor(va), test,
                                      weight_decays, max_iter=max_iter,
                                      # standardised above: unit scale
                                      rescale=False)
                   for tr, va in splits]
        wd, _ = select_pooled(results)
    else:  # one example in some class: nothing to validate on
        wd = weight_decays[len(weight_decays) // 2]
    clf = LogisticRegression(z.size(1), int(y.max()) + 1, wd, max_iter)
    clf.fit(z[:n], y_train)
    return 100.0 * accuracy(y_test, clf.predict(z[n:]))


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
