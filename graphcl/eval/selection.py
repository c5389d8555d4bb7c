r"""One probe regularisation for several pretraining runs, chosen on their
pooled validation scores."""
import math
import statistics
from typing import List, Sequence, Tuple

from .linear_probe import ProbeResult

__all__ = ['select_pooled']


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def select_pooled(results: Sequence[ProbeResult]
                  ) -> Tuple[float, List[ProbeResult]]:
    r"""Chooses one weight decay for all runs: the one with the highest
    validation score averaged over the runs,

    .. math::
        \lambda^{\star} = \operatorname*{arg\,max}_{\lambda \in \Lambda}
        \frac{1}{S} \sum_{s=1}^{S} \mathrm{val}_s(\lambda),

    and returns it with each run's result at :math:`\lambda^{\star}`: one
    hyperparameter per dataset, as when a hyperparameter is chosen across
    repeated runs (the alternative is each run's own choice, which
    :func:`linear_probe` makes). Ties go to the earlier weight decay of the
    grid. With one run it equals that run's own choice. Grids with NaN or
    infinite entries are refused (a NaN mean would make the choice
    arbitrary).

    Args:
        results (sequence of ProbeResult): One :func:`linear_probe` result
            per pretraining run, all fitted on the same weight-decay grid.

    Returns:
        (float, list of ProbeResult): :math:`\lambda^{\star}` and the
        results at it (their :obj:`grid` kept).
    """
    if not results:
        raise ValueError("'results' is empty: give one linear_probe result "
                         "per pretraining run")
    for i, r in enumerate(results):
        if not isinstance(r, ProbeResult):
            raise ValueError(f"Run {i} is a {type(r).__name__}, not a "
                             f"ProbeResult: pass results returned by "
                             f"graphcl.eval.linear_probe")
    grids = [r.grid for r in results]
    if any(not g for g in grids):
        raise ValueError("A result has no grid: pass results returned by "
                         "graphcl.eval.linear_probe")
    for i, g in enumerate(grids):
        for row in g:
            if len(row) != 3 or not all(_finite(v) for v in row):
                raise ValueError(f"Run {i} has the grid row {row!r}; each "
                                 f"row must be (weight_decay, val_acc, "
                                 f"test_acc) with finite numbers")
    decays = [g[0] for g in grids[0]]
    for i, g in enumerate(grids[1:], start=1):
        if [c[0] for c in g] != decays:
            raise ValueError(f"Run {i} was probed on the weight decays "
                             f"{[c[0] for c in g]}, run 0 on {decays}; use "
                             f"one grid for all runs")
    means = [statistics.fmean(g[j][1] for g in grids)
             for j in range(len(decays))]
    best = max(range(len(decays)), key=means.__getitem__)
    chosen = [ProbeResult(g[best][1], g[best][2], decays[best], g, r.scale)
              for g, r in zip(grids, results)]
    return decays[best], chosen
