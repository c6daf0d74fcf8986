"""grokclaims.analysis.bootstrap: exact enumeration, SciPy's Monte Carlo path, coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from grokclaims.analysis.bootstrap import (
    bootstrap_interval,
    exact_resamples,
    n_resamples_exact,
    resample_plan,
    weighted_quantile,
)
from grokclaims.analysis.bootstrap_coverage import simulate_coverage

values = st.lists(
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False), min_size=2, max_size=7
)


def test_exact_resamples_of_three_are_the_ten_multisets_with_multinomial_weights():
    idx, w = exact_resamples(3)
    assert idx.shape == (10, 3) and math.isclose(w.sum(), 1.0)
    weight = {tuple(row): wi for row, wi in zip(idx.tolist(), w)}
    assert math.isclose(weight[(0, 0, 0)], 1 / 27)
    assert math.isclose(weight[(0, 1, 2)], 6 / 27)
    assert math.isclose(weight[(0, 0, 1)], 3 / 27)


def test_counts_of_distinct_resamples():
    assert n_resamples_exact([3]) == 10
    assert n_resamples_exact([3, 3]) == 100
    assert n_resamples_exact([10]) == 92378
    idx, w, exact = resample_plan([3, 4])
    assert exact and idx[0].shape == (10 * 35, 3) and idx[1].shape == (350, 4)
    assert math.isclose(w.sum(), 1.0)


def test_mean_of_two_values_by_hand():
    # resamples {0,0}, {0,1}, {1,1} with probabilities 1/4, 1/2, 1/4: means 0, 0.5, 1
    r = bootstrap_interval([1.0, 0.0], np.mean, confidence=0.95)
    assert r.exact and r.n_resamples == 3 and r.interval == (0.0, 1.0)
    r = bootstrap_interval([1.0, 0.0], np.mean, confidence=0.4)  # quantiles 0.3 and 0.7
    assert r.interval == (0.5, 0.5)


def test_median_of_three_is_the_range():
    # P*(median <= x1) = 7/27 > 2.5 %: the interval is [min, max], coverage 75 % at best
    r = bootstrap_interval([3.0, 1.0, 2.0], np.median)
    assert (r.estimate, r.interval) == (2.0, (1.0, 3.0))


def test_two_sample_difference_is_exact_and_contains_the_point():
    def diff(a, b, axis=-1):
        return a.mean(axis=axis) - b.mean(axis=axis)

    r = bootstrap_interval(([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]), diff, method="BCa")
    assert r.exact and r.n_resamples == 100 and r.method == "BCa"
    assert r.low <= -3.0 <= r.high


def test_bca_on_constant_data_falls_back_to_percentile():
    r = bootstrap_interval([5.0, 5.0, 5.0], np.mean, method="BCa")
    assert r.interval == (5.0, 5.0) and "degenerate" in r.method


def test_monte_carlo_path_is_scipy_bootstrap_on_sorted_data():
    x = np.random.default_rng(3).normal(size=12)
    ours = bootstrap_interval(x, np.mean, rng=np.random.default_rng(7), n_resamples=999)
    theirs = stats.bootstrap(
        (np.sort(x),), np.mean, n_resamples=999, method="percentile", rng=np.random.default_rng(7)
    )
    assert not ours.exact
    assert ours.interval == pytest.approx(
        (theirs.confidence_interval.low, theirs.confidence_interval.high)
    )
    with pytest.raises(ValueError, match="rng"):
        bootstrap_interval(x, np.mean)


def test_batched_exact_equals_row_by_row():
    x = np.random.default_rng(0).lognormal(size=(6, 5))
    batch = bootstrap_interval(x, np.median, method="BCa")
    for i in range(6):
        one = bootstrap_interval(x[i], np.median, method="BCa")
        assert (batch.low[i], batch.high[i]) == pytest.approx(one.interval)


def test_weighted_quantile_keeps_open_ends():
    v = np.array([1.0, math.inf, 2.0, math.inf])
    w = np.full(4, 0.25)
    assert weighted_quantile(v, w, 0.5) == 2.0
    assert weighted_quantile(v, w, 0.975) == math.inf
    with pytest.raises(ValueError):
        weighted_quantile(np.array([1.0, math.nan]), np.full(2, 0.5), 0.5)


@settings(max_examples=60, deadline=None)
@given(values, st.randoms(use_true_random=False), st.sampled_from(["percentile", "BCa"]))
def test_interval_does_not_depend_on_the_order_of_seeds(xs, random, method):
    ys = list(xs)
    random.shuffle(ys)
    a = bootstrap_interval(xs, np.median, method=method)
    b = bootstrap_interval(ys, np.median, method=method)
    assert a.interval == b.interval
    big = np.array(xs * 3)  # 6..21 values: Monte Carlo, same generator state
    c = bootstrap_interval(big, np.mean, rng=np.random.default_rng(1), n_resamples=200)
    d = bootstrap_interval(big[::-1], np.mean, rng=np.random.default_rng(1), n_resamples=200)
    assert c.interval == pytest.approx(d.interval)


@settings(max_examples=60, deadline=None)
@given(values)
def test_percentile_interval_of_a_median_contains_it(xs):
    r = bootstrap_interval(xs, np.median)
    assert r.low <= r.estimate <= r.high


def test_coverage_of_the_median_at_five_is_the_distribution_free_value():
    # exact bootstrap at n = 5 gives [x(1), x(5)] for the median: coverage 1 - 2/32 = 0.9375
    c = simulate_coverage(
        "median", "lognormal", 5, reps=600, rng=np.random.default_rng(11), chunk=600
    )
    assert 0.90 <= c["coverage"] <= 0.97
