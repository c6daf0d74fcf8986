"""Exact values, properties and false-alarm rates of the statistical tests of
``grokclaims.analysis`` (ranks, agreement, regression, multiplicity), and the
false-alarm rates of the verdict rules of ``grokclaims.verdicts`` applied to them (their exact
branches: ``test_verdicts.py``).

Hand-computable inputs first (each expected number is worked out in a comment), then
Hypothesis properties of Holm, then simulations: on 500 synthetic datasets where a claim is
true by construction each rule may say "refuted" at most at its stated rate plus Monte-Carlo
slack, and where it is false it may say "supported" only rarely.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from grokclaims import verdicts
from grokclaims.analysis import agreement, multiplicity, ranks, regression
from grokclaims.verdicts import Verdict
from grokclaims.verdicts.decisions import decide_share

N_SIM = 500
ALPHA = 0.05
# Three binomial standard deviations of a rate near alpha estimated from N_SIM datasets.
SLACK = 3 * math.sqrt(ALPHA * (1 - ALPHA) / N_SIM)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- exact values


def test_holm_on_a_known_list():
    # sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 -> running max 0.06
    np.testing.assert_allclose(
        multiplicity.holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02]
    )
    np.testing.assert_allclose(multiplicity.holm([0.5, 0.6]), [1.0, 1.0])  # capped at 1
    out = multiplicity.holm([0.01, np.nan, 0.02])  # NaN stays NaN and is not counted in m = 2
    assert math.isnan(out[1]) and out[0] == pytest.approx(0.02) and out[2] == pytest.approx(0.02)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        multiplicity.holm([1.5])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_holm_adjusted_p_values_are_at_least_raw_monotone_and_capped(p):
    raw = np.array(p)
    adj = multiplicity.holm(raw)
    assert np.all(adj >= raw) and np.all(adj <= 1)
    order = np.argsort(raw, kind="stable")
    assert np.all(np.diff(adj[order]) >= 0)  # a smaller raw p never gets a larger adjusted p


def test_lins_ccc_of_identical_and_shifted_data():
    x = np.array([1.0, 2.0, 3.0])
    assert agreement.lins_ccc(x, x) == pytest.approx(1.0)
    # shift by 1: s_x² = s_y² = s_xy = 2/3 (1/n moments) -> 2·(2/3) / (4/3 + 1) = 4/7
    assert agreement.lins_ccc(x, x + 1) == pytest.approx(4 / 7)
    # scale by 2: s_xy = 4/3, s_y² = 8/3, mean gap 2 -> (8/3) / (2/3 + 8/3 + 4) = 4/11
    assert agreement.lins_ccc(x, 2 * x) == pytest.approx(4 / 11)
    assert math.isnan(agreement.lins_ccc([1.0], [1.0]))


def test_ccc_intervals():
    x = np.linspace(0, 1, 12)
    boot = agreement.ccc_bootstrap_ci(x, x, rng=rng(1), n_resamples=500)
    assert boot.value == pytest.approx(1.0) and boot.interval == pytest.approx((1.0, 1.0))
    jack = agreement.ccc_jackknife_ci(x, x + 0.5)
    assert jack.interval[0] < agreement.lins_ccc(x, x + 0.5) < jack.interval[1]
    assert agreement.ccc_jackknife_ci([1.0, 2.0], [1.0, 2.0]).interval is None  # too few points


def test_calibration_f_test_by_hand():
    # OLS of y on x: b = Sxy/Sxx = 4/5, a = 2.5 - 0.8·2.5 = 0.5; RSS_fit = 1.8,
    # RSS_identity = Σ(y - x)² = 2 -> F = (0.2 / 2) / (1.8 / 2) = 1/9; F(2, 2) tail 1/(1 + F)
    res = regression.calibration_f_test([1, 2, 3, 4], [1, 3, 2, 4])
    assert res.statistic == pytest.approx(1 / 9) and res.p_value == pytest.approx(0.9)
    assert res.details["intercept"] == pytest.approx(0.5)
    assert res.details["slope"] == pytest.approx(0.8)
    exact = regression.calibration_f_test([1, 2, 3], [1, 2, 3])
    assert (exact.statistic, exact.p_value) == (0.0, 1.0)
    off = regression.calibration_f_test([1, 2, 3], [2, 4, 6])
    assert (off.statistic, off.p_value) == (math.inf, 0.0)  # a perfect fit that is not y = x


def test_nested_f_test_of_a_constant_response_is_nan():
    # The rounding guard used to be noise itself here: F = 64, p = 2e-8 for y = 4.3 (n = 20).
    x = np.random.default_rng(3).normal(size=(20, 2))
    for y in (np.full(20, 4.3), np.full(20, -1e6), np.zeros(20)):
        res = regression.nested_f_test(x[:, :1], x, y)
        assert math.isnan(res.statistic) and math.isnan(res.p_value)
        assert res.details["reason"] == "the response is constant"
    # A response that varies, however little, is tested as before.
    y = 4.3 + 1e-6 * x[:, 1]
    assert regression.nested_f_test(x[:, :1], x, y).p_value < 1e-6


def test_nested_f_test_by_hand_and_against_the_slope_t_test():
    x, y = [1, 2, 3, 4], [1, 2, 3, 5]
    # RSS_intercept = 8.75, RSS_line = 8.75 - 6.5²/5 = 0.3 -> F = 8.45 / (0.3 / 2) = 56.33
    res = regression.nested_f_test(None, x, y)
    assert res.statistic == pytest.approx(8.45 / 0.15)
    assert res.p_value == pytest.approx(scipy.stats.linregress(x, y).pvalue)
    assert res.details["df"] == (1, 2)
    same = regression.nested_f_test(
        np.array(x), np.c_[x, 2 * np.array(x)], y
    )  # adds a collinear column
    assert math.isnan(same.p_value) and same.details["reason"] == "no degrees of freedom"
    with pytest.raises(ValueError, match="X_full"):
        regression.nested_f_test(None, [1, 2], y)


def test_wilcoxon_log_ratio_exact_small_sample():
    a = np.exp([1.0, 2.0, 3.0, 4.0, 5.0])  # all five log ratios positive
    assert ranks.wilcoxon_log_ratio(a, np.ones(5)).p_value == pytest.approx(2 / 32)
    res = ranks.wilcoxon_log_ratio(a, np.ones(5), alternative="greater")
    assert res.p_value == pytest.approx(1 / 32) and res.method == "exact"
    assert res.p_opposite == pytest.approx(1.0)
    same = ranks.wilcoxon_log_ratio([2.0, 3.0], [2.0, 3.0])
    assert same.p_value == 1.0
    assert ranks.wilcoxon_log_ratio([1.0, -1.0, 2.0], [1.0, 1.0, 1.0]).details["n_dropped"] == 1


def test_spearman_test_exact_for_small_n():
    x = np.arange(5.0)
    res = ranks.spearman_test(x, x**3, alternative="greater", rng=rng())
    # one of the 5! = 120 orders reaches ρ = 1
    assert res.statistic == pytest.approx(1.0) and res.p_value == pytest.approx(1 / 120)
    assert res.method == "exact permutation (120)" and res.p_opposite == pytest.approx(1.0)
    two = ranks.spearman_test(x, -x, rng=rng())
    assert two.p_value == pytest.approx(2 / 120) and two.p_opposite is None


def test_spearman_test_matches_scipy_and_is_reproducible():
    g = rng(2)
    x, y = g.normal(size=15), g.normal(size=15)
    y[[2, 5]] = np.nan
    one = ranks.spearman_test(x, y, alternative="less", rng=rng(9), n_resamples=999)
    two = ranks.spearman_test(x, y, alternative="less", rng=rng(9), n_resamples=999)
    assert one == two and one.n == 13 and one.details["n_dropped"] == 2
    ok = np.isfinite(y)
    assert one.statistic == pytest.approx(scipy.stats.spearmanr(x[ok], y[ok]).statistic)
    assert one.p_value + one.p_opposite >= 1  # both tails of one null include the observation


def test_rank_tests_on_degenerate_and_invalid_input():
    res = ranks.spearman_test([1, 1, 1, 1], [1, 2, 3, 4], rng=rng())
    assert math.isnan(res.p_value) and res.details["reason"] == "constant input"
    assert math.isnan(ranks.kendall_test([1, 2], [2, 1]).p_value)
    with pytest.raises(ValueError, match="y must have the length of x"):
        ranks.spearman_test([1, 2, 3], [1, 2], rng=rng())
    with pytest.raises(ValueError, match="direction"):
        ranks.trend_test([1, 2, 3], [3, 2, 1], direction="down", rng=rng())


def test_kendall_test_exact_and_with_ties():
    x = np.arange(6.0)
    res = ranks.kendall_test(x, -x, alternative="less")
    assert res.statistic == pytest.approx(-1.0) and res.p_value == pytest.approx(1 / 720)
    assert res.method == "exact"
    # ties in x (three seeds per swept value): permutation with rng, tie-corrected normal without
    xs, ys = np.repeat([1.0, 2.0, 3.0], 3), np.array([9, 8, 9, 7, 6, 7, 3, 4, 2.0])
    perm = ranks.decreasing_trend(xs, ys, method="kendall", rng=rng(3), n_resamples=999)
    assert perm.method == "permutation (999)" and perm.p_value < 0.01
    assert perm.statistic == pytest.approx(scipy.stats.kendalltau(xs, ys).statistic)
    assert ranks.kendall_test(xs, ys, alternative="less").method == "asymptotic"


def test_per_axis_trend_with_holm():
    axes = {"wd": [1.0, 2, 3, 4, 5], "lr": [1.0, 2, 3, 4, 5], "alpha": [0.5, 0.5, 0.5]}
    ratios = {"wd": [0.1, 0.2, 0.3, 0.4, 0.5], "lr": [0.3, -0.1, 0.2, 0.0, 0.1], "alpha": [0, 1, 2]}
    out = {
        t.axis: t for t in regression.per_axis_trend(axes, ratios, method="permutation", rng=rng())
    }
    # wd: a perfect line, the most extreme of 5! orders in either direction -> p = 2/120
    assert out["wd"].slope == pytest.approx(0.1) and out["wd"].p_value == pytest.approx(2 / 120)
    assert out["wd"].method == "exact permutation (120)"
    assert out["wd"].min_p == pytest.approx(2 / 120)  # x 2 axes (Holm) already 1/30
    assert math.isnan(out["alpha"].p_value) and math.isnan(out["alpha"].p_holm)  # one value
    assert out["wd"].p_holm == pytest.approx(2 * out["wd"].p_value)  # family of 2 axes
    # the t-test: lr's slope is -0.03 (by hand: Sxy = -0.3, Sxx = 10); same p as linregress
    t = {t.axis: t for t in regression.per_axis_trend(axes, ratios)}
    assert t["lr"].slope == pytest.approx(-0.03)
    assert t["lr"].p_value == pytest.approx(scipy.stats.linregress(axes["lr"], ratios["lr"]).pvalue)
    with pytest.raises(ValueError, match="same axes"):
        regression.per_axis_trend({"wd": [1, 2, 3]}, {"lr": [1, 2, 3]})
    with pytest.raises(ValueError, match="rng"):
        regression.per_axis_trend(axes, ratios, method="permutation")


# --------------------------------------------------------------------------- false alarms


def _rates(results) -> dict[Verdict, float]:
    verdicts = [r.verdict for r in results]
    return {v: verdicts.count(v) / len(verdicts) for v in Verdict}


def _trend_data(g: np.random.Generator, slope: float) -> tuple[np.ndarray, np.ndarray]:
    """4 swept values x 3 seeds, y = slope·x + noise (pooled per-seed points)."""
    x = np.repeat([0.0, 1.0, 2.0, 3.0], 3)
    return x, slope * x + g.normal(size=x.size)


@pytest.mark.parametrize("method", ["spearman", "kendall"])
def test_directional_rule_false_alarms(method):
    g = rng(10)

    def verdicts_at(slope):
        out = []
        for _ in range(N_SIM):
            x, y = _trend_data(g, slope)
            test = ranks.decreasing_trend(x, y, method=method, rng=g, n_resamples=199)
            out.append(verdicts.decide_test("trend", test, ALPHA))
        return _rates(out)

    null = verdicts_at(0.0)  # the boundary of "decreases": the worst case for a false refutation
    assert null[Verdict.REFUTED] <= ALPHA + SLACK
    true = verdicts_at(-1.0)
    assert true[Verdict.REFUTED] == 0.0 and true[Verdict.SUPPORTED] >= 0.9
    false = verdicts_at(+0.5)  # the claim is false: it increases
    assert false[Verdict.SUPPORTED] <= 0.01


def test_interval_rule_false_alarms_with_a_calibrated_interval():
    """decide_interval with a 95 % t-interval for a mean; the claim is "mean in [0, 1]"."""
    g = rng(11)
    n = 10
    half = scipy.stats.t.ppf(0.975, n - 1) / math.sqrt(n)

    def rates(mu):
        data = g.normal(mu, 1.0, size=(N_SIM, n))
        mean, sd = data.mean(1), data.std(1, ddof=1)
        return _rates(
            verdicts.decide_interval("mean", m, (m - half * d, m + half * d), 0.0, 1.0, "in [0, 1]")
            for m, d in zip(mean, sd)
        )

    boundary = rates(0.0)  # true, on the edge: refuted only when the CI misses from above
    assert boundary[Verdict.REFUTED] <= 0.025 + 3 * math.sqrt(0.025 * 0.975 / N_SIM)
    assert rates(-2.0)[Verdict.SUPPORTED] == 0.0  # false: the mean is far outside


def test_ccc_interval_rule_false_alarms():
    """SY7's "CCC lower bound > 0" with the jackknife interval, at CCC = 0 (the boundary)."""
    g = rng(12)
    slack = 3 * math.sqrt(0.025 * 0.975 / N_SIM)

    def rates(rho):
        out = []
        for _ in range(N_SIM):
            x = g.normal(size=12)
            y = rho * x + math.sqrt(1 - rho**2) * g.normal(size=12)
            est = agreement.ccc_jackknife_ci(x, y)
            out.append(
                verdicts.decide_interval("ccc", est.value, est.interval, 0.0, math.inf, "> 0")
            )
        return _rates(out)

    boundary = rates(0.0)
    assert boundary[Verdict.REFUTED] <= 0.025 + slack
    assert boundary[Verdict.SUPPORTED] <= 0.025 + slack
    assert rates(0.8)[Verdict.SUPPORTED] >= 0.8  # power with 12 points


def test_share_rule_false_alarms():
    g = rng(13)
    n, bar = 20, 0.8

    def rates(pi):
        k = g.binomial(n, pi, size=N_SIM)
        return _rates(decide_share("f", int(x), n, bar, alpha=ALPHA) for x in k)

    assert rates(bar)[Verdict.REFUTED] <= ALPHA + SLACK  # true, exactly on the bar
    assert rates(bar)[Verdict.SUPPORTED] <= ALPHA + SLACK  # not shown to exceed it either
    assert rates(1.0)[Verdict.REFUTED] == 0.0
    assert rates(0.4)[Verdict.SUPPORTED] == 0.0


def test_all_rule_false_alarms():
    g = rng(14)

    def rates(pi):
        flags = g.random((N_SIM, 10)) < pi
        return _rates(verdicts.decide_all("groks", list(row)) for row in flags)

    assert rates(1.0)[Verdict.REFUTED] == 0.0
    assert rates(0.6)[Verdict.SUPPORTED] <= 0.02  # 0.6^10 = 0.006


def test_no_trend_rule_false_alarms_with_holm():
    """SY10: "no axis shows a trend" is refuted when any Holm-adjusted p < 0.05."""
    g = rng(15)
    cells = np.arange(5.0)

    def refuted(effect):
        count = 0
        for _ in range(N_SIM):
            axes = {a: cells for a in ("wd", "lr", "dropout")}
            ratios = {a: effect * cells + g.normal(size=5) * 0.2 for a in axes}
            trends = regression.per_axis_trend(axes, ratios, rng=g)
            result = verdicts.decide_all("SY10", [t.p_holm >= ALPHA for t in trends])
            count += result.verdict is Verdict.REFUTED
        return count / N_SIM

    assert refuted(0.0) <= ALPHA + SLACK
    assert refuted(0.5) >= 0.9  # a real trend on every axis is found


@pytest.mark.parametrize("test_name", ["calibration", "nested", "wilcoxon"])
def test_parametric_tests_hold_their_level(test_name):
    g = rng(16)
    rejections = 0
    for _ in range(N_SIM):
        x = g.normal(size=12)
        if test_name == "calibration":  # y = x + noise: (a, b) = (0, 1) is true
            p = regression.calibration_f_test(x, x + 0.3 * g.normal(size=12)).p_value
        elif test_name == "nested":  # the added column is unrelated to y
            y = 2 * x + g.normal(size=12)
            p = regression.nested_f_test(x, np.c_[x, g.normal(size=12)], y).p_value
        else:  # symmetric log ratios: no systematic difference
            p = ranks.wilcoxon_log_ratio(np.exp(x), np.ones(12), alternative="greater").p_value
        rejections += p < ALPHA
    assert rejections / N_SIM <= ALPHA + SLACK


def test_kruskal_p_and_line_fit():
    assert ranks.kruskal_p([[1, 2, 3], [], [4, 5, 6]]) == pytest.approx(
        scipy.stats.kruskal([1, 2, 3], [4, 5, 6]).pvalue
    )
    assert math.isnan(ranks.kruskal_p([[1, 2], []])) and math.isnan(ranks.kruskal_p([[3], [3]]))
    assert regression.line_fit([0.0, 1.0, 2.0], [1.0, 3.0, 5.0]) == pytest.approx((2.0, 1.0))
