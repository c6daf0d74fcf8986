"""grokclaims.verdicts.decisions: TOST, Clopper–Pearson shares, bands with open ends."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grokclaims.analysis.survival import km_median, median_ratio
from grokclaims.verdicts.decisions import (
    decide_band,
    decide_equivalence,
    decide_equivalence_t,
    decide_median,
    decide_ratio,
    decide_share,
    share_bounds,
)
from grokclaims.verdicts.rules import ClaimResult, Verdict

S, R, I = Verdict.SUPPORTED, Verdict.REFUTED, Verdict.INCONCLUSIVE
F, T = False, True
RANK = {R: 0, I: 1, S: 2}

# ----------------------------------------------------------------------------- equivalence


def test_equivalence_by_hand():
    r = decide_equivalence("d", 0.05, (-0.1, 0.2), (-0.15, 0.25), 0.25)
    assert r.verdict is S and r.rule.startswith("supported: the 90 % interval")
    assert r.interval == (-0.15, 0.25)  # the result carries the 95 % interval
    assert decide_equivalence("d", 0.6, (0.4, 0.8), (0.3, 0.9), 0.25).verdict is R
    # contains 0 but is too wide: non-significance never supports
    r = decide_equivalence("d", 0.0, (-0.5, 0.5), (-0.6, 0.6), 0.25)
    assert r.verdict is I and "not inside" in r.rule
    assert decide_equivalence("d", 0.0, None, (-1, 1), 0.25).verdict is I
    assert decide_equivalence("d", 0.0, (-0.1, 0.05), (-0.2, 0.2), (-0.3, 0.1)).verdict is S


def test_tost_p_value_matches_the_interval_rule():
    r = decide_equivalence_t("slope diff", 0.05, 0.05, 0.25, df=6)
    assert r.verdict is S and r.p_value < 0.05
    r = decide_equivalence_t("slope diff", 0.0, 0.2, 0.25, df=6)
    assert r.verdict is I and r.p_value > 0.05
    assert decide_equivalence_t("x", math.nan, 0.1, 0.25).verdict is I


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-2, 2),
    st.floats(0.001, 1),
    st.floats(0.01, 3),
    st.floats(0, 3),
    st.one_of(st.none(), st.integers(1, 30)),
)
def test_equivalence_at_a_margin_holds_at_any_larger_margin(est, se, m, extra, df):
    small = decide_equivalence_t("d", est, se, m, df=df)
    large = decide_equivalence_t("d", est, se, m + extra, df=df)
    if small.verdict is S:
        assert large.verdict is S
    if large.verdict is R:
        assert small.verdict is R
    assert (small.verdict is S) == (small.p_value < 0.05) or math.isclose(small.p_value, 0.05)


# ----------------------------------------------------------------------------- shares


def test_share_by_hand():
    r = decide_share("generalises first", 5, 5, 0.5)
    assert r.verdict is S and r.interval[0] == pytest.approx(0.05 ** (1 / 5))
    assert r.p_value == pytest.approx(1 / 32)
    assert decide_share("x", 1, 10, 0.5).verdict is R
    assert decide_share("x", 7, 10, 0.5).verdict is I
    # 10 of 10 cannot show ">= 80 %": the lower bound 0.05^(1/10) = 0.741
    r = decide_share("x", 10, 10, 0.8)
    assert r.verdict is I and r.interval[0] == pytest.approx(0.05**0.1)
    assert decide_share("x", 0, 0, 0.5).verdict is I


def test_share_bounds_are_clopper_pearson():
    lo, hi = share_bounds(3, 10)
    assert lo == pytest.approx(0.0873, abs=1e-4) and hi == pytest.approx(0.6066, abs=1e-4)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 40), st.data(), st.sampled_from([0.5, 0.6, 0.8, 0.9]))
def test_an_agreeing_seed_never_turns_supported_into_refuted(n, data, level):
    k = data.draw(st.integers(0, n))
    before, after = decide_share("x", k, n, level), decide_share("x", k + 1, n + 1, level)
    assert RANK[after.verdict] >= RANK[before.verdict] or before.verdict is I
    if before.verdict is S:
        assert after.verdict is S


@settings(max_examples=100, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=20), st.randoms())
def test_share_verdict_does_not_depend_on_the_order_of_seeds(flags, random):
    shuffled = list(flags)
    random.shuffle(shuffled)
    a = decide_share("x", sum(flags), len(flags), 0.5)
    b = decide_share("x", sum(shuffled), len(shuffled), 0.5)
    assert a == b


# ----------------------------------------------------------------------------- bands


def test_bands_with_open_ends():
    inf = math.inf
    assert decide_band("r", 4.0, (3.0, inf), 2.0, inf).verdict is S
    assert decide_band("r", 4.0, (3.0, inf), 2.0, 10.0).verdict is I
    assert decide_band("r", None, (12.0, None), 2.0, 10.0).verdict is R
    assert decide_band("r", 0.5, (0.0, 1.0), 2.0, 10.0).verdict is R
    assert decide_band("r", 1.0, (None, None), 0.5, 2.0).verdict is I
    assert decide_band("r", 1.0, None, 0.5, 2.0).verdict is I
    r = decide_band("r", None, (3.0, inf), 2.0, inf)
    assert math.isnan(r.estimate) and "open end" in r.rule
    assert isinstance(r, ClaimResult) and r.to_dict()["interval"] == [3.0, "inf"]


def test_censored_median_and_ratio_carry_no_number():
    m = km_median([100, 5000, 5000], [F, T, T])  # three seeds: the median could be 100
    r = decide_median("grok epoch", m, 0, 4000)
    assert math.isnan(r.estimate) and r.details["lower_bound"] == 5000 and r.verdict is I
    assert r.interval == (100.0, math.inf)
    m = km_median([100, 100] + [5000] * 18, [F, F] + [T] * 18)  # 2 of 20 reached
    r = decide_median("grok epoch", m, 0, 4000)
    assert math.isnan(r.estimate) and r.interval == (5000.0, math.inf) and r.verdict is R
    ratio = median_ratio([5000, 5000, 300], [T, T, F], [50, 60, 80], [F, F, F])
    res = decide_ratio("overfit(32) / overfit(512)", ratio, 3.0, math.inf)
    assert math.isnan(res.estimate) and res.verdict is S and "censored" in res.rule
    assert res.details["bounds"] == (5000 / 60, math.inf)


def test_ratio_band_decided_on_the_interval_not_the_point():
    # point ratio 2, but the interval over three seeds reaches below 1.5
    ratio = median_ratio([2, 4, 6], [F, F, F], [1, 2, 3], [F, F, F])
    assert ratio.value == 2.0 and ratio.interval[0] < 1.5
    assert decide_ratio("r", ratio, 1.5, math.inf).verdict is I


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 20), st.booleans()), min_size=2, max_size=6),
    st.lists(st.tuples(st.integers(1, 20), st.booleans()), min_size=2, max_size=6),
    st.randoms(),
    st.floats(0.2, 5),
)
def test_ratio_verdict_does_not_depend_on_the_order_of_seeds(a, b, random, lo):
    def split(pairs):
        return [float(t) for t, _ in pairs], [c for _, c in pairs]

    a2 = list(a)
    random.shuffle(a2)
    rng = np.random.default_rng
    r1 = median_ratio(*split(a), *split(b), rng=rng(2), n_resamples=200, max_exact=20)
    r2 = median_ratio(*split(a2), *split(b), rng=rng(2), n_resamples=200, max_exact=20)
    v1 = decide_ratio("r", r1, lo, 2 * lo).verdict
    assert v1 is decide_ratio("r", r2, lo, 2 * lo).verdict
