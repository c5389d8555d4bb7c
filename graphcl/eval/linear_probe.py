r"""Linear probe on frozen embeddings: the standard evaluation protocol of
self-supervised node representation learning (DGI, GRACE, BGRL)."""
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['ProbeResult', 'LogisticRegression', 'linear_probe']

DEFAULT_WEIGHT_DECAYS = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)


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


def _index(mask: Tensor, n: int, name: str) -> Tensor:
    if mask is None:
        raise ValueError(f"'{name}' is missing: give a boolean mask or index "
                         f"tensor (see graphcl.data.random_node_split)")
    mask = torch.as_tensor(mask)
    if mask.dtype == torch.bool:
        if mask.numel() != n:
            raise ValueError(f"'{name}' has {mask.numel()} entries but there "
                             f"are {n} embeddings")
        return mask.nonzero().view(-1)
    idx = mask.view(-1).long()
    if idx.numel() and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"'{name}' holds indices outside [0, {n})")
    return idx


def accuracy(y_true: Tensor, y_pred: Tensor) -> float:
    return (y_true == y_pred).float().mean().item() if y_true.numel() else 0.0


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
        self.lin = torch.nn.Linear(in_channels, num_classes)
        self.weight_decay = weight_decay
        self.max_iter = max_iter

    def reset_parameters(self):
        torch.nn.init.zeros_(self.lin.weight)
        torch.nn.init.zeros_(self.lin.bias)

    def forward(self, z: Tensor) -> Tensor:
        return self.lin(z)

    def fit(self, z: Tensor, y: Tensor) -> 'LogisticRegression':
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
        return self

    @torch.no_grad()
    def predict(self, z: Tensor) -> Tensor:
        return self.lin(z).argmax(dim=-1)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.lin.in_features}, '
                f'{self.lin.out_features}, '
                f'weight_decay={self.weight_decay})')


def linear_probe(z: Tensor, y: Tensor, train_mask: Tensor, val_mask: Tensor,
                 test_mask: Tensor,
                 weight_decays: Sequence[float] = DEFAULT_WEIGHT_DECAYS,
                 max_iter: int = 100, standardize: bool = False,
                 metric: Optional[Callable[[Tensor, Tensor], float]] = None
                 ) -> ProbeResult:
    r"""Fits a logistic regression on the frozen embeddings of the training
    nodes for each weight decay, keeps the one with the best validation
    score (the first of tied ones) and reports its test score. The scores
    of every fit are kept in :obj:`ProbeResult.grid`, so that several
    pretraining runs can share one choice (:func:`select_pooled`).

    Args:
        z (Tensor): Frozen embeddings, :math:`(N, D)`.
        y (Tensor): Labels, :math:`(N)`.
        train_mask, val_mask, test_mask (Tensor): Boolean masks :math:`(N)`
            or index tensors.
        weight_decays (sequence of float, optional): Grid of L2 strengths.
        max_iter (int, optional): L-BFGS iterations per fit.
            (default: ``100``)
        standardize (bool, optional): Scale each embedding dimension to
            zero mean and unit variance with statistics of the training
            nodes (conditions L-BFGS; a linear map, so the model class is
            unchanged). (default: ``False``)
        metric (callable, optional): ``metric(y_true, y_pred) -> float``,
            e.g. an OGB evaluator; accuracy by default.
    """
    if z.dim() != 2:
        raise ValueError(f"'z' must have shape [num_nodes, channels], got "
                         f"{tuple(z.shape)}")
    if y is None:
        raise ValueError("The linear probe needs labels: set data.y")
    y = y.view(-1).long().to(z.device)
    if y.numel() != z.size(0):
        raise ValueError(f"'y' has {y.numel()} labels but there are "
                         f"{z.size(0)} embeddings")
    if not torch.isfinite(z).all():
        raise ValueError("The embeddings contain NaN or infinite values; "
                         "pretraining diverged (lower the learning rate)")
    n = z.size(0)
    train = _index(train_mask, n, 'train_mask').to(z.device)
    val = _index(val_mask, n, 'val_mask').to(z.device)
    test = _index(test_mask, n, 'test_mask').to(z.device)
    if train.numel() == 0:
        raise ValueError("The training split is empty")
    metric = metric or accuracy
    z = z.detach().float()
    if standardize:
        mean, std = z[train].mean(0), z[train].std(0)
        z = (z - mean) / std.clamp_min(1e-8)
    num_classes = int(y.max()) + 1
    grid = []
    for wd in weight_decays:
        clf = LogisticRegression(z.size(1), num_classes, wd, max_iter)
        clf.to(z.device).fit(z[train], y[train])
        pred = clf.predict(z)
        val_score = metric(y[val], pred[val]) if val.numel() else 0.0
        grid.append((wd, val_score, metric(y[test], pred[test])))
    if not grid:
        raise ValueError("'weight_decays' is empty: give at least one L2 "
                         "strength")
    # The first fit with the best validation score (ties: earlier in grid).
    wd, val_score, test_score = max(grid, key=lambda g: g[1])
    return ProbeResult(val_score, test_score, wd, tuple(grid))
