"""``grokclaims.analysis.censoring``: ranks of censored runs and medians of observed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grokclaims.analysis.censoring import median_of_observed, observed_median, rank_censored


def test_rank_censored_places_missing_values_after_the_budget():
    np.testing.assert_array_equal(rank_censored([5, None, 7], 100), [5.0, 101.0, 7.0])
    t = np.array([[1.0, np.nan], [np.nan, 2.0]])
    np.testing.assert_array_equal(rank_censored(t, 10), [[1.0, 11.0], [11.0, 2.0]])


def test_medians_of_the_observed_values_leave_never_reached_runs_out():
    assert median_of_observed([100, None, 300]) == 200.0
    assert math.isnan(median_of_observed([None, None]))
    assert observed_median([100, None, 300, 500]) == 300.0
    assert observed_median([]) is None and observed_median([None]) is None
    with pytest.raises(TypeError):
        observed_median([1, "a"])
