r"""Linear probe on frozen embeddings: the standard evaluation protocol of
self-supervised node representation learning (DGI, GRACE, BGRL)."""
import math
import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['ProbeResult', 'LogisticRegression', 'linear_probe',
           'DEFAULT_WEIGHT_DECAYS', 'ABSOLUTE_WEIGHT_DECAYS',
           'PROBE_PROTOCOL']

#: The weight decays of :func:`linear_probe`, met by embeddings rescaled to
#: a root-mean-square entry of 1 (``rescale=True``): eight decades, so that
#: both the strong penalties of a few hundred labels (Planetoid) and the
#: weak ones of thousands (Amazon, Coauthor) are on the grid whatever the
#: embeddings' scale.
DEFAULT_WEIGHT_DECAYS = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0,
                         1000.0)

#: The grid of graphcl's node-level probe before December 2026, when it
#: did not rescale the embeddings: applied to the embeddings as they are,
#: its penalties presume entries of about unit scale. The graph-level probe
#: (:func:`graphcl.eval.graph_linear_probe`) keeps it.
ABSOLUTE_WEIGHT_DECAYS = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)

#: The name of the node-level protocol, written beside its results
#: (``metrics.json``, the benchmarks' per-seed files), so that numbers of
#: another probe are never mixed in silently.
PROBE_PROTOCOL = 'rms-rescaled L2 grid 0,1e-5..1e3'

#: The name given to results of the earlier probe (the embeddings as they
#: were, :data:`ABSOLUTE_WEIGHT_DECAYS`), which were saved without one.
EARLIER_PROBE_PROTOCOL = 'absolute L2 grid 0,1e-5..1e-1'


@dataclass
class ProbeResult:
    r"""Outcome of :func:`linear_probe` (scores in :math:`[0, 1]`).

    :obj:`val_acc`, :obj:`test_acc` and :obj:`weight_decay` belong to the
    chosen fit; :obj:`grid` holds ``(weight_decay, val_acc, test_acc)`` of
    every fit, in grid order (used by :func:`select_pooled`).
    """
    val_acc: float
    test_acc: float
    weight_decay: float
    grid: Tuple[Tuple[float, float, float], ...] = field(
        default=(), repr=False)
    #: The number the embeddings were divided by before the fits (``1.0``
    #: without ``rescale``): the chosen penalty on the embeddings as given
    #: is ``weight_decay / scale**2``.
    scale: float = 1.0


def _index(mask, n: int, name: str) -> Tensor:
    r"""Reads a split as node indices: a boolean mask of shape :math:`(N)`,
    or a 1-D integer tensor of distinct node indices in :math:`[0, N)`.
    Everything else is refused, as is an integer tensor that looks like a
    0/1 mask stored as integers (read as indices it would select nodes 0
    and 1 over and over)."""
    if mask is None:
        raise ValueError(f"'{name}' is missing: give a boolean mask or index "
                         f"tensor (see graphcl.data.random_node_split)")
    if not torch.is_tensor(mask):
        try:
            mask = torch.as_tensor(mask)
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"'{name}' must be a boolean mask of shape "
                             f"[{n}] or a 1-D tensor of node indices, got "
                             f"{type(mask).__name__}") from None
    mask = mask.cpu()
    if mask.dtype == torch.bool:
        if mask.dim() != 1:
            raise ValueError(f"'{name}' must be a boolean mask of shape [{n}],"
                             f" got shape {tuple(mask.shape)}; for a mask "
                             f"with one column per split pick one, e.g. "
                             f"{name}[:, 0]")
        if mask.numel() != n:
            raise ValueError(f"'{name}' has {mask.numel()} entries but there "
                             f"are {n} embeddings: give one entry per node")
        return mask.nonzero().view(-1)
    if mask.numel() == 0:
        return mask.new_zeros(0, dtype=torch.long)
    if mask.is_floating_point() or mask.is_complex():
        raise ValueError(f"'{name}' has dtype {mask.dtype}, which is neither "
                         f"a mask nor indices: if it holds 0/1 flags per "
                         f"node pass {name}.bool(), if it holds node indices "
                         f"pass {name}.long()")
    if mask.dtype == torch.uint8:
        raise ValueError(f"'{name}' has dtype torch.uint8, which is "
                         f"ambiguous (PyTorch used to read it as a mask): "
                         f"if it holds 0/1 flags per node pass {name}.bool(),"
                         f" if it holds node indices pass {name}.long()")
    if mask.dim() != 1:
        raise ValueError(f"'{name}' must be a 1-D tensor of node indices, got "
                         f"shape {tuple(mask.shape)}; flatten it with "
                         f"{name}.view(-1), or give a boolean mask of shape "
                         f"[{n}]")
    idx = mask.long()
    if (idx.numel() == n or idx.numel() > 2) and \
            bool(((idx == 0) | (idx == 1)).all()):
        raise ValueError(f"'{name}' is an integer tensor of {idx.numel()} "
                         f"zeros and ones: a mask stored as integers, which "
                         f"would be read as indices of nodes 0 and 1. Pass "
                         f"{name}.bool() (integer tensors are read as node "
                         f"indices)")
    if idx.min() < 0 or idx.max() >= n:
        raise ValueError(f"'{name}' holds indices outside [0, {n}) (from "
                         f"{int(idx.min())} to {int(idx.max())}); index "
                         f"tensors hold node indices of the {n} embeddings")
    repeats = idx.numel() - idx.unique().numel()
    if repeats:
        raise ValueError(f"'{name}' repeats {repeats} node indices, which "
                         f"would count those nodes several times; give each "
                         f"node once, e.g. {name}.unique()")
    # A split is a set of nodes: in ascending order, as a mask gives it, so
    # that the fit (whose float sums depend on the row order) is the same
    # for a mask and for its indices in any order.
    return idx.sort().values


def _labels(y, n: int) -> Tensor:
    if y is None:
        raise ValueError("The linear probe needs labels: set data.y")
    y = torch.as_tensor(y)
    if y.dim() == 2 and y.size(1) == 1:
        y = y.view(-1)
    if y.dim() != 1:
        raise ValueError(f"'y' must hold one class index per node, of shape "
                         f"[{n}] or [{n}, 1], got shape {tuple(y.shape)}; the "
                         f"linear probe is single-label multi-class")
    if y.numel() != n:
        raise ValueError(f"'y' has {y.numel()} labels but there are {n} "
                         f"embeddings")
    if y.is_complex():
        raise ValueError(f"'y' must hold class indices, got dtype {y.dtype}")
    if y.is_floating_point():
        if bool(torch.isinf(y).any()):
            # (nan_to_num would turn them into huge numbers, and .long()
            # those into negative ones: unlabelled without a word)
            raise ValueError("'y' holds infinite values, which are not "
                             "class indices; mark unlabelled nodes with -1, "
                             "e.g. y = torch.where(y.isfinite(), y, -1)"
                             ".long()")
        if not bool(torch.isfinite(y).all()):
            raise ValueError("'y' holds NaN or infinite values; mark "
                             "unlabelled nodes with -1 instead, e.g. "
                             "y = torch.nan_to_num(y, nan=-1).long()")
        if bool((y != y.round()).any()):
            raise ValueError("'y' holds non-integer values, but the linear "
                             "probe classifies: give class indices "
                             "(dtype long)")
        if bool((y.abs() > 2 ** 53).any()):
            # .long() would wrap them to negative numbers: unlabelled.
            raise ValueError(f"'y' holds values up to {float(y.abs().max()):g}"
                             f", which are not class indices; number the "
                             f"classes 0..C-1 (-1 for unlabelled nodes)")
    return y.long()


def _score(metric: Callable[[Tensor, Tensor], float], y_true: Tensor,
           y_pred: Tensor, split: str) -> float:
    score = metric(y_true, y_pred)
    try:
        score = float(score)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"'metric' must return one number, got "
                         f"{type(score).__name__}") from None
    if not math.isfinite(score):
        raise ValueError(f"'metric' returned {score} on the {split} nodes; "
                         f"it must return a finite score")
    return score


def accuracy(y_true: Tensor, y_pred: Tensor) -> float:
    r"""Fraction of nodes whose predicted class equals the true class;
    refuses empty or mismatched inputs rather than reporting a score."""
    y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
    if y_true.numel() != y_pred.numel():
        raise ValueError(f"accuracy: {y_true.numel()} labels but "
                         f"{y_pred.numel()} predictions")
    if y_true.numel() == 0:
        raise ValueError("accuracy: no node to score")
    return (y_true == y_pred).float().mean().item()


def _check_weight_decay(wd) -> None:
    try:
        ok = math.isfinite(float(wd)) and float(wd) >= 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"Weight decay {wd!r} is not an L2 strength: give "
                         f"finite numbers >= 0")


class LogisticRegression(torch.nn.Module):
    r"""Multinomial logistic regression fitted to convergence with L-BFGS:

    .. math::
        \min_{\mathbf{W}, \mathbf{b}} \; \frac{1}{|\mathcal{T}|}
        \sum_{i \in \mathcal{T}} \mathrm{CE}(\mathbf{W}\mathbf{z}_i +
        \mathbf{b}, y_i) + \frac{\lambda}{2} \|\mathbf{W}\|_F^2

    Args:
        in_channels (int): Embedding width.
        num_classes (int): Number of classes.
        weight_decay (float, optional): :math:`\lambda`. (default: ``0.0``)
        max_iter (int, optional): L-BFGS iterations. (default: ``100``)
    """
    def __init__(self, in_channels: int, num_classes: int,
                 weight_decay: float = 0.0, max_iter: int = 100):
        super().__init__()
        _check_weight_decay(weight_decay)
        if int(max_iter) < 1:
            raise ValueError(f"'max_iter' must be at least 1, got "
                             f"{max_iter}")
        self.lin = torch.nn.Linear(in_channels, num_classes)
        self.weight_decay = weight_decay
        self.max_iter = max_iter

    def reset_parameters(self):
        torch.nn.init.zeros_(self.lin.weight)
        torch.nn.init.zeros_(self.lin.bias)

    def forward(self, z: Tensor) -> Tensor:
        return self.lin(z)

    def fit(self, z: Tensor, y: Tensor) -> 'LogisticRegression':
        r"""Fits the classifier to embeddings :obj:`z` :math:`(M, D)` and
        class indices :obj:`y` :math:`(M)` in :math:`[0, C)`; unlabelled
        nodes must be left out beforehand (:func:`linear_probe` does)."""
        num_classes = self.lin.out_features
        if z.dim() != 2 or z.size(1) != self.lin.in_features:
            raise ValueError(f"'z' must have shape [num_nodes, "
                             f"{self.lin.in_features}], got "
                             f"{tuple(z.shape)}")
        if y.dim() != 1 or y.numel() != z.size(0):
            raise ValueError(f"'y' must hold one label per row of 'z' "
                             f"({z.size(0)}), got shape {tuple(y.shape)}")
        if y.numel() == 0:
            raise ValueError("Nothing to fit: 'z' and 'y' are empty")
        if bool((y < 0).any()) or bool((y >= num_classes).any()):
            raise ValueError(f"'y' must hold class indices in [0, "
                             f"{num_classes}), got values from "
                             f"{int(y.min())} to {int(y.max())}; leave out "
                             f"unlabelled nodes (y < 0) before fitting")
        if not bool(torch.isfinite(z).all()):
            raise ValueError("'z' holds NaN or infinite values")
        # Embeddings of another float type (float64, float16) are fitted in
        # the classifier's own, as predict() reads them.
        z = z.to(self.lin.weight.dtype)
        self.reset_parameters()
        opt = torch.optim.LBFGS(self.parameters(), lr=1.0,
                                max_iter=self.max_iter,
                                line_search_fn='strong_wolfe')

        def closure():
            opt.zero_grad()
            loss = F.cross_entropy(self.lin(z), y)
            if self.weight_decay > 0:
                loss = loss + 0.5 * self.weight_decay * \
                    self.lin.weight.pow(2).sum()
            loss.backward()
            return loss

        with torch.enable_grad():
            opt.step(closure)
        if not all(bool(torch.isfinite(p).all()) for p in self.parameters()):
            raise ValueError(f"The fit with weight_decay={self.weight_decay}"
                             f" diverged (non-finite weights); scale the "
                             f"embeddings, e.g. linear_probe(..., "
                             f"standardize=True)")
        return self

    @torch.no_grad()
    def predict(self, z: Tensor) -> Tensor:
        return self.lin(z.to(self.lin.weight.dtype)).argmax(dim=-1)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.lin.in_features}, '
                f'{self.lin.out_features}, '
                f'weight_decay={self.weight_decay})')


def linear_probe(z: Tensor, y: Tensor, train_mask: Tensor, val_mask: Tensor,
                 test_mask: Tensor,
                 weight_decays: Sequence[float] = DEFAULT_WEIGHT_DECAYS,
                 max_iter: int = 100, standardize: bool = False,
                 metric: Optional[Callable[[Tensor, Tensor], float]] = None,
                 scores: bool = False, rescale: bool = True) -> ProbeResult:
    r"""Fits a logistic regression on the frozen embeddings of the training
    nodes for each weight decay, keeps the one with the best validation
    score (the first of tied ones) and reports its test score. The scores
    of every fit are kept in :obj:`ProbeResult.grid`, so that several
    pretraining runs can share one choice (:func:`select_pooled`).

    Labels below :obj:`0` (e.g. :obj:`-1`) mark unlabelled nodes: they are
    left out of the training fit and of the validation and test scores, so
    the result equals the probe run on the labelled nodes of each split
    alone.

    Each split is either a boolean mask of shape :math:`(N)` or a 1-D
    integer tensor of distinct node indices in :math:`[0, N)`. Anything
    else raises a :class:`ValueError` saying how to fix it: float masks,
    :obj:`torch.uint8` tensors, and an integer tensor of zeros and ones
    (a mask stored as integers; pass :obj:`mask.bool()`). Empty splits,
    splits without a labelled node, and NaN or infinite embeddings are
    refused too. Splits that share nodes raise a warning naming them. A
    split is a set: a mask and its node indices, in any order, give the
    same result.

    Args:
        z (Tensor): Frozen embeddings, :math:`(N, D)`.
        y (Tensor): Class indices, :math:`(N)` or :math:`(N, 1)`; labels
            below :obj:`0` mean unlabelled.
        train_mask, val_mask, test_mask (Tensor): Boolean masks :math:`(N)`
            or 1-D index tensors of distinct node indices.
        weight_decays (sequence of float, optional): Grid of L2 strengths
            (on the rescaled embeddings with :obj:`rescale`).
            (default: :data:`DEFAULT_WEIGHT_DECAYS`)
        max_iter (int, optional): L-BFGS iterations per fit.
            (default: ``100``)
        standardize (bool, optional): Scale each embedding dimension to
            zero mean and unit variance with statistics of the training
            nodes (conditions L-BFGS; a linear map, so the model class is
            unchanged), in float64 for float64 embeddings. (default:
            ``False``)
        metric (callable, optional): ``metric(y_true, y_pred) -> float``,
            e.g. an OGB evaluator; accuracy by default. Higher must be
            better (the fit with the highest validation score is kept: pass
            an error rate or a loss negated). It must return a finite
            number.
        scores (bool, optional): Give :obj:`metric` the probe's logits
            :math:`(M, C)` instead of the predicted classes :math:`(M)`:
            for ranking metrics such as ROC-AUC
            (:func:`graphcl.data.ogb_graph_metric`), which predicted
            classes would turn into a balanced accuracy. Needs a
            :obj:`metric`. (default: ``False``)
        rescale (bool, optional): Divide the embeddings by the
            root-mean-square entry of the training rows before the fits
            (after :obj:`standardize`); :obj:`ProbeResult.scale` holds the
            divisor. (default: :obj:`True`)
    """
    if not torch.is_tensor(z) or z.dim() != 2:
        shape = tuple(z.shape) if torch.is_tensor(z) else type(z).__name__
        raise ValueError(f"'z' must have shape [num_nodes, channels], got "
                         f"{shape}")
    n = z.size(0)
    y = _labels(y, n).to(z.device)
    z = z.detach()
    if z.layout != torch.strided:  # sparse embeddings
        z = z.to_dense()
    if z.dtype != torch.float64:  # float64 is standardised before the cast
        z = z.float()
    bad = int((~torch.isfinite(z.float())).any(dim=1).sum())
    if bad:
        raise ValueError(f"The embeddings contain NaN or infinite values (as "
                         f"float32) in {bad} of {n} rows; pretraining "
                         f"diverged (lower the learning rate)")
    if isinstance(weight_decays, (str, bytes)) or \
            not isinstance(weight_decays, Iterable):
        raise ValueError(f"'weight_decays' is {weight_decays!r}, not a grid: "
                         f"give a list of L2 strengths, e.g. "
                         f"weight_decays=[{weight_decays!r}] for one")
    weight_decays = list(weight_decays)
    if not weight_decays:
        raise ValueError("'weight_decays' is empty: give at least one L2 "
                         "strength")
    for wd in weight_decays:
        _check_weight_decay(wd)
    if int(max_iter) < 1:
        raise ValueError(f"'max_iter' must be at least 1, got {max_iter}")
    if scores and metric is None:
        raise ValueError("'scores=True' gives the metric the probe's logits,"
                         " but no metric was given (accuracy scores "
                         "predicted classes): pass a metric that takes "
                         "scores, e.g. graphcl.data.ogb_graph_metric, or "
                         "drop scores")

    labelled = y >= 0
    names = {'train_mask': 'training', 'val_mask': 'validation',
             'test_mask': 'test'}
    given, kept = {}, {}
    for key, mask in zip(names, (train_mask, val_mask, test_mask)):
        idx = _index(mask, n, key)
        if idx.numel() == 0:
            raise ValueError(f"The {names[key]} split is empty: '{key}' "
                             f"selects no node; give at least one (see "
                             f"graphcl.data.random_node_split)")
        idx = idx.to(z.device)
        given[key] = idx
        kept[key] = idx[labelled[idx]]
        if kept[key].numel() == 0:
            raise ValueError(f"The {names[key]} split has no labelled node: "
                             f"all {idx.numel()} nodes of '{key}' have "
                             f"labels below 0 (unlabelled); put labelled "
                             f"nodes in it")
    keys = list(names)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            seen = torch.zeros(n, dtype=torch.bool, device=z.device)
            seen[given[a]] = True
            shared = int(seen[given[b]].sum())
            if shared:
                nodes = 'node' if shared == 1 else 'nodes'
                warnings.warn(f"'{a}' and '{b}' share {shared} {nodes}: the "
                              f"{names[b]} score is measured partly on "
                              f"{names[a]} nodes; make the splits disjoint",
                              stacklevel=2)
    train, val, test = kept['train_mask'], kept['val_mask'], kept['test_mask']

    metric = metric or accuracy
    if standardize:
        mean = z[train].mean(0)
        std = z[train].std(0) if train.numel() > 1 else torch.ones_like(mean)
        z = (z - mean) / std.clamp_min(1e-8)
    scale = 1.0
    if rescale:
        # One number for the whole matrix, in float64 (a float32 sum of
        # squares over a million entries would lose digits).
        rms = float(z[train].double().pow(2).mean().sqrt())
        if math.isfinite(rms) and rms > 0:
            scale = rms
            z = z / rms
    z = z.float()
    num_classes = int(y[labelled].max()) + 1
    if num_classes > int(labelled.sum()) and num_classes > 1024:
        # The classifier has one row per class index up to the largest: a
        # label like 10**9 would allocate gigabytes for classes that never
        # occur.
        raise ValueError(f"'y' holds class indices up to {num_classes - 1} "
                         f"but only {int(labelled.sum())} labelled nodes; "
                         f"number the classes 0..C-1, e.g. y = torch.unique("
                         f"y, return_inverse=True)[1] (keeping -1 for "
                         f"unlabelled nodes)")
    grid = []
    for wd in weight_decays:
        clf = LogisticRegression(z.size(1), num_classes, wd, max_iter)
        clf.to(z.device).fit(z[train], y[train])
        with torch.no_grad():
            logits = clf(z)
        pred = logits if scores else logits.argmax(dim=-1)
        grid.append((wd, _score(metric, y[val], pred[val], 'validation'),
                     _score(metric, y[test], pred[test], 'test')))
    # The first fit with the best validation score (ties: earlier in grid).
    wd, val_score, test_score = max(grid, key=lambda g: g[1])
    return ProbeResult(val_score, test_score, wd, tuple(grid), scale)
