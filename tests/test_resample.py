"""``grokclaims.analysis.resample``: the percentile interval, the two ways of drawing resamples,
and the bootstraps of the measurements (onset ratio, seed statistics) against hand-written
loops, so that moving the loops here changed no number."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from grokclaims.analysis import resample, speed


def test_tail_percentiles_and_percentile_interval():
    lo, hi = resample.tail_percentiles(0.9)
    assert lo == pytest.approx(5.0) and hi == pytest.approx(95.0)
    assert resample.tail_percentiles(0.95) != resample.PERCENTILES_95  # differs in the last bit
    samples = np.array([np.nan, 1.0, 2.0, 3.0, 4.0, 5.0, np.inf])  # non-finite left out
    assert resample.percentile_interval(samples, (0.0, 100.0)) == (1.0, 5.0)
    assert resample.percentile_interval(samples, (50.0, 50.0)) == (3.0, 3.0)
    assert resample.percentile_interval([1.0, np.nan], (0.0, 100.0)) is None  # one sample


def test_summarise_reports_the_defined_share_and_maps_the_ends():
    s = resample.summarise([0.0, math.log(10), np.nan, np.nan], (0.0, 100.0), "seeds", math.exp)
    assert s.interval == pytest.approx((1.0, 10.0)) and s.fraction == 0.5
    assert s.n_boot == 4 and s.resampled == "seeds"
    empty = resample.summarise([], (2.5, 97.5), "points")
    assert empty.interval is None and math.isnan(empty.fraction) and empty.n_boot == 0


def test_bootstrap_draws_each_resample_in_turn():
    seen = []

    def stat(a, b):
        seen.append((a.copy(), b.copy()))
        return float(a.sum() - b.sum())

    out = resample.bootstrap(stat, 3, 4, rng=np.random.default_rng(5), n_boot=6)
    g = np.random.default_rng(5)
    for k, (a, b) in enumerate(seen):
        ea, eb = g.integers(0, 3, 3), g.integers(0, 4, 4)
        np.testing.assert_array_equal(a, ea)
        np.testing.assert_array_equal(b, eb)
        assert out[k] == float(ea.sum() - eb.sum())


def test_resample_indices_draws_each_size_in_one_call():
    im, ig = resample.resample_indices(np.random.default_rng(3), 5, 2, 7)
    g = np.random.default_rng(3)
    np.testing.assert_array_equal(im, g.integers(0, 2, size=(5, 2)))
    np.testing.assert_array_equal(ig, g.integers(0, 7, size=(5, 7)))


def test_seed_bootstrap_interval_is_the_loop_it_replaced():
    rng = np.random.default_rng(0)
    logP = np.log10([100.0, 200.0, 400.0, 800.0])
    t_a = 10 ** (3 - logP[:, None] + rng.normal(0, 0.1, (4, 5)))
    t_b = 10 ** (3 - 0.8 * logP[:, None] + rng.normal(0, 0.1, (4, 5)))
    t_b[1, 2] = np.nan
    stat = functools.partial(speed.slope_difference, logP, t_a, t_b)
    got = resample.seed_bootstrap_interval(stat, 5, rng=np.random.default_rng(9), n_boot=300)
    r, boot = np.random.default_rng(9), []
    for _ in range(300):
        c = r.integers(0, 5, 5)
        boot.append(speed.loglog_slope(logP, t_a, c) - speed.loglog_slope(logP, t_b, c))
    boot = np.array(boot)
    boot = boot[np.isfinite(boot)]
    assert got == tuple(np.percentile(boot, [2.5, 97.5]))
