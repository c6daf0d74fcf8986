"""grokclaims.analysis.survival and crossing_censored: censored medians, ratios, crossings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grokclaims.analysis.crossing_censored import authors_linear, censored_crossings, signs
from grokclaims.analysis.survival import (
    CensoredMedian,
    censor_at,
    km_median,
    km_median_rows,
    median_ratio,
    t_curve,
)

F, T = False, True
times_st = st.lists(st.integers(1, 12), min_size=1, max_size=9)


@st.composite
def censored_sample(draw, min_size=1, max_size=9):
    t = draw(st.lists(st.integers(1, 12), min_size=min_size, max_size=max_size))
    c = draw(st.lists(st.booleans(), min_size=len(t), max_size=len(t)))
    return [float(x) for x in t], c


def _obs(v: float) -> CensoredMedian:
    return CensoredMedian(v, v, (v, v), 5, 0)


def _cen(b: float) -> CensoredMedian:
    return CensoredMedian(None, b, (b, math.inf), 5, 5)


# ----------------------------------------------------------------------------- medians


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(0.5, 1e4, allow_nan=False), min_size=1, max_size=12))
def test_without_censoring_the_km_median_is_the_sample_median(xs):
    m = km_median(xs, [False] * len(xs))
    assert m.observed and m.value == pytest.approx(float(np.median(xs)))
    assert m.interval[0] <= m.value <= m.interval[1]


def test_hand_examples_with_censoring():
    # t=1 event (5 at risk) S=.8; t=2 censored; t=3 event (3 at risk) S=.533; t=4: S=.267
    m = km_median([1, 2, 3, 4, 5], [F, T, F, F, F])
    assert (m.value, m.n, m.n_censored) == (4.0, 5, 1)
    # t=1 censored; t=2 (4 at risk) S=.75; t=3 S=.5 exactly; t=4 S=.25: midpoint 3.5
    assert km_median([1, 2, 3, 4, 5], [T, F, F, F, F]).value == 3.5
    # two of four reached by epoch 2, two censored at 3 and 4: S stays .5 to the end
    m = km_median([1, 2, 3, 4], [F, F, T, T])
    assert m.value is None and m.lower_bound == 3.0 and m.interval[1] == math.inf


def test_a_median_not_reached_is_a_lower_bound_never_a_number():
    m = km_median([100, 5000, 5000, 5000], [F, T, T, T])
    assert m.value is None and not m.observed and m.lower_bound == 5000
    assert m.interval[1] == math.inf and "not reached" in str(m)
    m = km_median([5000, 5000], [T, T])
    assert m.value is None and m.interval == (5000, math.inf)


def test_censor_at_flags_runs_that_never_reached():
    t, c = censor_at([120.0, math.nan, 300.0], 5000)
    assert t.tolist() == [120.0, 5000.0, 300.0] and c.tolist() == [F, T, F]
    assert km_median(t, c).value == 300.0  # the censored run counts as slower, not as 5000


def test_log_log_band_gives_an_interval_too():
    m = km_median(np.arange(1, 21), np.zeros(20, bool), band="log-log")
    assert m.interval[0] < m.value < m.interval[1] < math.inf


@settings(max_examples=150, deadline=None)
@given(censored_sample())
def test_vectorised_rows_agree_with_scipy_ecdf(sample):
    t, c = sample
    m = km_median(t, c)
    v, lb = km_median_rows(np.array([t]), np.array([c]))
    assert (m.value is None) == bool(np.isnan(v[0]))
    if m.observed:
        assert m.value == pytest.approx(v[0])
    assert m.lower_bound == pytest.approx(lb[0])
    assert m.interval[0] <= m.lower_bound <= m.interval[1]


@settings(max_examples=200, deadline=None)
@given(censored_sample(), st.data())
def test_a_run_censored_later_never_counts_as_faster(sample, data):
    t, c = sample
    i = data.draw(st.integers(0, len(t) - 1))
    later = t[i] + data.draw(st.integers(0, 10))
    t2, c2 = list(t), list(c)
    t2[i], c2[i] = float(later), True  # run i: reached at t[i] / censored at t[i] -> later
    a, b = km_median(t, c), km_median(t2, c2)
    assert b.lower_bound >= a.lower_bound - 1e-9
    if a.value is None:
        assert b.value is None


# ----------------------------------------------------------------------------- ratios


def test_ratio_of_constant_groups_by_hand():
    r = median_ratio([2, 2, 2], [F, F, F], [1, 1, 1], [F, F, F])
    assert r.value == 2.0 and r.interval == (2.0, 2.0) and r.details["exact"]


def test_a_censored_numerator_gives_an_open_upper_end_and_no_number():
    r = median_ratio([5000, 5000, 300, 5000], [T, T, F, T], [50, 60, 80, 90], [F, F, F, F])
    assert r.value is None and not r.observed
    assert r.bounds == (5000 / 70, math.inf) and r.interval[1] == math.inf
    r = median_ratio([50, 60, 80, 90], [F, F, F, F], [5000, 5000, 300, 5000], [T, T, F, T])
    assert r.value is None and r.bounds == (0.0, 70 / 5000) and r.interval[0] == 0.0


@settings(max_examples=80, deadline=None)
@given(censored_sample(max_size=6), censored_sample(max_size=6))
def test_the_interval_of_a_ratio_contains_its_point_and_bounds(a, b):
    r = median_ratio(*a, *b, rng=np.random.default_rng(0), n_resamples=300)
    lo, hi = r.interval
    assert lo <= r.bounds[0] and r.bounds[1] <= hi
    if r.observed:
        assert lo <= r.value <= hi
    else:
        assert r.value is None


@settings(max_examples=40, deadline=None)
@given(censored_sample(min_size=2), censored_sample(min_size=2), st.randoms())
def test_ratio_does_not_depend_on_the_order_of_seeds(a, b, random):
    pa = list(zip(*a))
    random.shuffle(pa)
    a2 = ([x for x, _ in pa], [y for _, y in pa])
    kw = {"n_resamples": 200, "max_exact": 50}  # force Monte Carlo for larger groups
    r1 = median_ratio(*a, *b, rng=np.random.default_rng(5), **kw)
    r2 = median_ratio(*a2, *b, rng=np.random.default_rng(5), **kw)
    assert r1.interval == r2.interval and r1.value == r2.value


# ----------------------------------------------------------------------------- T(P) and P×


def test_t_curve_sorts_and_marks_lower_bounds():
    pts = t_curve([400, 100], [[10, 20, 30], [5000, 5000, 40]], [[F, F, F], [T, T, F]])
    assert [p.P for p in pts] == [100.0, 400.0]
    assert pts[0].epochs is None and pts[0].bound == 5000 and not pts[0].observed
    assert pts[1].epochs == 20.0 and pts[1].bound == 20.0


def test_crossing_of_power_laws_by_hand_and_the_authors_value():
    # T_mem = 1000 / P, T_gen = 30: log-log root at P = 1000 / 30
    P = [1, 10, 100, 1000]
    mem = [_obs(1000 / p) for p in P]
    gen = [_obs(30.0)] * 4
    r = censored_crossings(P, mem, gen)
    assert r.points == pytest.approx((1000 / 30,))
    assert r.crossings[0].direction == -1 and r.signs == (1, 1, -1, -1)
    # linear in P between (10, 100) and (100, 10): 110 - P = 30 at P = 80
    assert r.authors_linear == pytest.approx(80, abs=0.2)
    assert authors_linear(P, mem, gen) == r.authors_linear


def test_censored_widths_give_brackets_not_points():
    P = [100, 200, 400, 800, 1600, 3200]
    mem = [_cen(5000), _cen(5000), _obs(3000), _obs(1000), _obs(300), _obs(100)]
    gen = [_obs(2000), _obs(1500), _obs(1200), _obs(1100), _obs(1000), _obs(1100)]
    r = censored_crossings(P, mem, gen)
    assert r.points == () and len(r.brackets) == 1
    assert r.brackets[0].between == (400.0, 800.0) and "400 < P× < 800" in r.describe()
    gen[3] = _obs(900.0)  # now the sign changes between 800 and 1600, 2 observed each side
    r = censored_crossings(P, mem, gen)
    assert len(r.points) == 1 and 800 < r.points[0] < 1600


def test_every_crossing_is_returned():
    P = [1, 2, 4, 8, 16, 32, 64]
    mem = [_obs(v) for v in (10, 10, 1, 1, 10, 10, 1)]
    gen = [_obs(5.0)] * 7
    r = censored_crossings(P, mem, gen)
    assert len(r.crossings) == 3 and [c.direction for c in r.crossings] == [-1, 1, -1]
    assert len(r.points) == 2  # the last has one observed width to its right: a bracket
    assert r.crossings[-1].between == (32.0, 64.0) and not r.crossings[-1].is_point


def test_no_sign_change_gives_a_one_sided_bracket():
    P = [100, 1000, 20904]
    r = censored_crossings(P, [_obs(900.0)] * 3, [_obs(100.0)] * 3)
    assert str(r.crossings[0]) == "P× > 20,904"
    r = censored_crossings(P, [_cen(5.0)] * 3, [_obs(100.0)] * 3)
    assert r.signs == (None, None, None) and "undetermined" in str(r.crossings[0])
    assert r.unknown == ((100.0, 20904.0),) and r.authors_linear is None


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_points_only_between_fully_observed_widths(data):
    n = data.draw(st.integers(2, 7))
    P = [2.0**i for i in range(n)]
    pick = st.tuples(st.booleans(), st.integers(1, 50))
    mem = [
        _obs(float(v)) if o else _cen(float(v))
        for o, v in data.draw(st.lists(pick, min_size=n, max_size=n))
    ]
    gen = [
        _obs(float(v)) if o else _cen(float(v))
        for o, v in data.draw(st.lists(pick, min_size=n, max_size=n))
    ]
    r = censored_crossings(P, mem, gen)
    assert r.crossings
    full = [m.observed and g.observed for m, g in zip(mem, gen)]
    for c in r.crossings:
        if c.is_point:
            lo, hi = c.between
            assert full[P.index(lo)] and full[P.index(hi)]
            assert sum(full[: P.index(lo) + 1]) >= 2 and sum(full[P.index(hi) :]) >= 2
    assert len(signs(P, mem, gen)) == n


def test_a_crossing_needs_positive_epochs():
    with pytest.raises(ValueError):
        censored_crossings([1, 2], [_obs(0.0), _obs(1.0)], [_obs(1.0), _obs(1.0)])


@settings(max_examples=150, deadline=None)
@given(censored_sample(), censored_sample())
def test_no_function_returns_a_number_for_a_censored_median(a, b):
    from grokclaims.verdicts.decisions import decide_median, decide_ratio

    ma = km_median(*a)
    point = t_curve([10.0], [a[0]], [a[1]])[0]
    assert (point.epochs is None) == (ma.value is None)
    r = median_ratio(*a, *b, rng=np.random.default_rng(0), n_resamples=100)
    r_inv = median_ratio(*b, *a, rng=np.random.default_rng(0), n_resamples=100)
    if not ma.observed:
        assert point.epochs is None and math.isnan(decide_median("m", ma, 0, 1).estimate)
        assert r.value is None and r.interval[1] == math.inf
        assert r_inv.value is None and r_inv.interval[0] == 0.0
        assert math.isnan(decide_ratio("r", r, 0, 1).estimate)
        v, _ = km_median_rows(np.array([a[0]]), np.array([a[1]]))
        assert np.isnan(v[0])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_crossings_do_not_depend_on_the_order_of_widths(data):
    n = data.draw(st.integers(2, 6))
    P = [3.0**i for i in range(n)]
    pick = st.tuples(st.booleans(), st.integers(1, 50))
    draws = data.draw(st.lists(st.tuples(pick, pick), min_size=n, max_size=n))
    mem = [_obs(float(v)) if o else _cen(float(v)) for (o, v), _ in draws]
    gen = [_obs(float(v)) if o else _cen(float(v)) for _, (o, v) in draws]
    perm = data.draw(st.permutations(range(n)))
    a = censored_crossings(P, mem, gen)
    b = censored_crossings([P[i] for i in perm], [mem[i] for i in perm], [gen[i] for i in perm])
    assert a == b
