r"""The OGB graph property protocol on frozen graph embeddings: a linear
probe trained on the official (scaffold) training split, its weight decay
chosen on the validation split, scored with OGB's Evaluator."""
from typing import Callable, Dict, Optional

import torch
from torch import Tensor

from .linear_probe import ABSOLUTE_WEIGHT_DECAYS, ProbeResult, linear_probe

__all__ = ['graph_linear_probe']


def graph_linear_probe(z: Tensor, y: Tensor, split_idx: Dict[str, Tensor],
                       metric: Optional[Callable[[Tensor, Tensor], float]]
                       = None, scores: Optional[bool] = None,
                       **kwargs) -> ProbeResult:
    r"""Fits :func:`~graphcl.eval.linear_probe` on the graph embeddings of
    ``split_idx['train']``, chooses its weight decay on
    ``split_idx['valid']`` and scores ``split_idx['test']`` with
    :obj:`metric` (for ``ogbg-mol*`` datasets,
    :func:`graphcl.data.ogb_graph_metric`: ROC-AUC from OGB's Evaluator;
    the probe's two-class logits are turned into one score per graph).

    Graphs whose label is missing (NaN in OGB's label matrix) are left out
    of the fit and of the scores.

    Args:
        z (Tensor): Graph embeddings :math:`(G, D)`.
        y (Tensor): Labels :math:`(G)` or :math:`(G, 1)` (one task;
            NaN: missing).
        split_idx (dict): Index tensors under :obj:`"train"`,
            :obj:`"valid"` and :obj:`"test"` (OGB's ``get_idx_split()``).
        metric (callable, optional): ``metric(y_true, y_score) -> float``,
            given the probe's logits :math:`(M, C)` (see :obj:`scores`).
            (default: accuracy of the predicted classes)
        scores (bool, optional): Whether :obj:`metric` receives the
            probe's logits (a ranking metric such as ROC-AUC needs them:
            on predicted classes it would be a balanced accuracy) rather
            than predicted classes. (default: :obj:`True` when a
            :obj:`metric` is given)
        **kwargs: Passed to :func:`~graphcl.eval.linear_probe`. The graph
            protocol keeps the probe's absolute grid
            (:data:`~graphcl.eval.linear_probe.ABSOLUTE_WEIGHT_DECAYS`, no
            rescaling) unless :obj:`weight_decays` or :obj:`rescale` is
            given: its results (``docs/graph_methods.md``) were measured so.

    Raises:
        ValueError: For several tasks per graph (the probe fits one), a
            split missing from :obj:`split_idx`, or what
            :func:`~graphcl.eval.linear_probe` refuses.
    """
    y = torch.as_tensor(y)
    if y.dim() == 2 and y.size(1) != 1:
        raise ValueError(f"'y' has {y.size(1)} tasks per graph; the linear "
                         f"probe fits one: pass one column, y[:, task]")
    y = y.view(-1)
    if y.is_floating_point():  # OGB marks missing labels with NaN
        # (NaN only: nan_to_num would also turn +-inf into huge numbers,
        # read as unlabelled; linear_probe refuses infinite labels)
        y = torch.where(torch.isnan(y), torch.full_like(y, -1.0), y)
    missing = [k for k in ('train', 'valid', 'test') if k not in split_idx]
    if missing:
        raise ValueError(f"'split_idx' lacks {missing}; give OGB's "
                         f"get_idx_split() (keys 'train', 'valid', 'test')")
    if scores is None:
        scores = metric is not None
    kwargs.setdefault('weight_decays', ABSOLUTE_WEIGHT_DECAYS)
    kwargs.setdefault('rescale', False)
    return linear_probe(z, y, split_idx['train'], split_idx['valid'],
                        split_idx['test'], metric=metric, scores=scores,
                        **kwargs)
