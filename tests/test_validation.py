import math

import numpy as np
import pytest
import torch

from graphcl.corruptions import EdgeDrop, FeatureMask
from graphcl.models.grace import build_grace
from graphcl.validation import check_int, check_positive, check_prob


@pytest.mark.parametrize('value', [0, 0.0, 0.25, 1, 1.0, np.float32(0.5)])
def test_check_prob_accepts_probabilities(value):
    out = check_prob(value, "'p'")
    assert isinstance(out, float) and out == float(value)


@pytest.mark.parametrize('value', [-0.1, 1.01, math.nan, math.inf, True,
                                   '0.5', None, [0.5]])
def test_check_prob_names_the_option(value):
    with pytest.raises(ValueError, match=r"'edge_drop' \(rate\) must be a "
                       r"probability in \[0, 1\], got"):
        check_prob(value, "'edge_drop'", 'rate')


@pytest.mark.parametrize('value', [1e-9, 0.5, 3, np.float64(2.0)])
def test_check_positive_accepts_positive_numbers(value):
    assert check_positive(value, "'tau'") == float(value)


@pytest.mark.parametrize('value', [0, 0.0, -1.0, math.nan, math.inf, False,
                                   True, '1', None])
def test_check_positive_names_the_option(value):
    with pytest.raises(ValueError, match=r"'tau' \(the temperature\) must be "
                       r"a number > 0, got"):
        check_positive(value, "'tau'", 'the temperature')


@pytest.mark.parametrize('value', [0, -3, 1.0, True, '2'])
def test_check_int_names_the_option(value):
    with pytest.raises(ValueError, match="'hidden' must be a positive "
                       "integer"):
        check_int(value, "'hidden'")


def test_parts_and_builders_share_the_checks():
    # The corruptions and the method builders report bad rates and
    # temperatures the same way, naming the option.
    with pytest.raises(ValueError, match=r"'p' must be a probability"):
        EdgeDrop(1.5)
    with pytest.raises(ValueError, match=r"'p' must be a probability"):
        FeatureMask(True)
    options = dict(in_channels=8, hidden=16, proj_hidden=16, layers=1,
                   act='prelu', edge_drop_1=0.2, edge_drop_2=0.2,
                   feature_mask_1=0.1, feature_mask_2=0.1, tau=0.5,
                   block_size=None)
    with pytest.raises(ValueError, match=r"'feature_mask_2' must be a "
                       r"probability in \[0, 1\], got 2"):
        build_grace(**{**options, 'feature_mask_2': 2})
    with pytest.raises(ValueError, match=r"'tau' \(the temperature\)"):
        build_grace(**{**options, 'tau': torch.inf})
