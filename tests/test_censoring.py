"""``grokclaims.analysis.censoring`` and the verdict on a ratio of censored medians."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grokclaims.analysis.censoring import (
    censored_median,
    median_of_observed,
    median_ratio,
    rank_censored,
)
from grokclaims.verdicts import Verdict, decide_median_ratio


def test_censored_median_counts_never_reached_as_later_than_everything():
    assert censored_median([100, None, 300]) == 300.0  # None sorts last
    assert censored_median([None, None, 100]) == math.inf  # more than half censored
    assert math.isnan(censored_median([]))
    assert median_of_observed([None, 1.0, 3.0]) == 2.0
    assert math.isnan(median_of_observed([None]))


def test_rank_censored_places_missing_values_after_the_budget():
    np.testing.assert_array_equal(rank_censored([5, None, 7], 100), [5.0, 101.0, 7.0])
    t = np.array([[1.0, np.nan], [np.nan, 2.0]])
    np.testing.assert_array_equal(rank_censored(t, 10), [[1.0, 11.0], [11.0, 2.0]])


def test_median_ratio_exact_bounded_and_undefined():
    exact = median_ratio([400, 400], [100, 100], 1000)
    assert exact.estimate == 4.0 and exact.bounds is None
    slow_censored = median_ratio([None, None], [100, 100], 1000)  # > 1000 / 100
    assert slow_censored.estimate == 10.0 and slow_censored.bounds == (10.0, math.inf)
    fast_censored = median_ratio([500, 500], [None, None], 1000)  # < 500 / 1000
    assert fast_censored.estimate == 0.5 and fast_censored.bounds == (0.0, 0.5)
    both = median_ratio([None], [None], 1000)
    assert math.isnan(both.estimate) and both.bounds is None


def test_decide_median_ratio():
    ok = decide_median_ratio("r", median_ratio([400], [100], 1000), 3, math.inf, ">= 3")
    assert ok.verdict is Verdict.SUPPORTED and ok.interval is None
    assert ok.details == {"median_num": 400.0, "median_den": 100.0, "budget": 1000}
    bound = decide_median_ratio("r", median_ratio([None], [100], 1000), 3, math.inf, ">= 3")
    assert bound.verdict is Verdict.SUPPORTED and bound.interval == (10.0, math.inf)
    assert "one-sided bound" in bound.details["note"]
    short = decide_median_ratio("r", median_ratio([None], [600], 1000), 3, math.inf, ">= 3")
    assert short.verdict is Verdict.INCONCLUSIVE  # > 1.67 cannot show >= 3
    none = decide_median_ratio("r", median_ratio([None], [None], 1000), 3, math.inf, ">= 3")
    assert none.verdict is Verdict.INCONCLUSIVE and math.isnan(none.estimate)
    assert none.rule == "inconclusive: neither median is observed within the budget"
    assert decide_median_ratio("r", median_ratio([100], [100], 9), 0, 1.5, "").estimate == (
        pytest.approx(1.0)
    )
