r"""The one statistics convention of graphcl's reports.

Every ``mean ± std`` graphcl prints or writes (``graphcl train``,
``graphcl adapters``, ``metrics.json``, the benchmarks) is the mean and the
**population** standard deviation (``numpy.std`` with ``ddof=0``, as in
DGI's, GRACE's and PyGCL's evaluation code) across pretraining seeds;
``metrics.json`` names it under ``config['std']``.
"""
import statistics
from typing import Any, Dict, Sequence, Tuple

__all__ = ['STD_CONVENTION', 'mean_std', 'summarize']

#: How :func:`mean_std` computes the spread (recorded in metrics.json).
STD_CONVENTION = 'population (ddof=0) across seeds'


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
    r"""Mean and population standard deviation of :obj:`values` (``0`` for
    one value); an empty sequence raises :class:`ValueError`."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError("mean_std needs at least one value")
    return statistics.fmean(values), statistics.pstdev(values)


def summarize(values: Sequence[float]) -> Dict[str, Any]:
    r"""``{'per_seed': [...], 'mean': m, 'std': s}`` with :math:`m, s` from
    :func:`mean_std` (population std, ``0`` for one value): how
    ``graphcl adapters`` reports every probe in ``metrics.json``."""
    values = [float(v) for v in values]
    mean, std = mean_std(values)
    return {'per_seed': values, 'mean': mean, 'std': std}
