import math

import pytest

from graphcl.stats import STD_CONVENTION, mean_std, summarize


def test_population_std():
    mean, std = mean_std([1.0, 2.0, 4.0])
    assert mean == pytest.approx(7 / 3)
    assert std == pytest.approx(math.sqrt(
        sum((v - 7 / 3) ** 2 for v in (1, 2, 4)) / 3))
    assert mean_std([5]) == (5.0, 0.0)
    with pytest.raises(ValueError, match='at least one'):
        mean_std([])
    assert 'population' in STD_CONVENTION


def test_summarize():
    s = summarize([90, 92])
    assert s == {'per_seed': [90.0, 92.0], 'mean': 91.0, 'std': 1.0}
    assert isinstance(s['per_seed'][0], float)
