"""Song & Ye's claim rules (``grokclaims.claimrules.song_ye``, ``song_ye_regimes``) can fail:
data that contradict each claim never give "supported", data where it holds never give
"refuted"; censored runs are never numbers. (The simulated error rates of every registered rule
are checked by ``tests/test_claimrules.py``.)
"""

from __future__ import annotations

import numpy as np
import pytest

from grokclaims.claimrules import song_ye, song_ye_cells, song_ye_regimes
from grokclaims.verdicts import Verdict

BUDGET = 4000
P = np.array([2000.0, 3000, 4500, 6700, 10_000, 15_000, 22_500])


def _race(onset_factor: float, n: int = 5, spread: float = 0.0):
    """T_gen flat at 1,000, T_mem = 1,000 (P / 6,700)^-1.3 (crossing at P× = 6,700), every
    seed grokking from onset_factor · P× on."""
    rng = np.random.default_rng(0)
    noise = np.exp(spread * rng.standard_normal((P.size, n)))
    t_mem = 1000.0 * (P / 6700)[:, None] ** -1.3 * noise
    t_gen = 1000.0 * np.ones((P.size, n)) * noise[::-1]
    delays = np.where(P[:, None] >= 6700 * onset_factor * 0.99, 200.0, 0.0) * np.ones((1, n))
    return np.ceil(t_mem), np.ceil(t_gen), delays


# ------------------------------------------------------------------------------------ SY3


def test_sy3_refutes_memorisation_slowing_with_p():
    t = 500.0 * (P / 2000)[:, None] ** 0.8 * np.ones((1, 3))  # T_mem rising with P
    result = song_ye.sy3(P, t, BUDGET, n_resamples=999)
    assert result.verdict is Verdict.REFUTED


def test_sy3_supports_falling_times_and_ranks_censored_runs_last():
    t = 3000.0 * (P / 2000)[:, None] ** -1.3 * np.ones((1, 3))
    t[0, :] = np.nan  # never memorised at the smallest width: slower than every observed run
    result = song_ye.sy3(P, t, BUDGET, n_resamples=999)
    assert result.verdict is Verdict.SUPPORTED and result.estimate < -0.9


# ------------------------------------------------------------------------------------ SY4


def test_sy4_regimes_at_both_thresholds():
    delay = np.array([[np.nan, 0.0, 30.0, 400.0]])
    t_train = np.array([[np.nan, np.nan, 1000.0, 1000.0]])
    gen = np.array([[False, True, True, True]])
    a = song_ye_regimes.regimes_at(delay, t_train, gen, relative=False)
    r = song_ye_regimes.regimes_at(delay, t_train, gen, relative=True)
    assert a.tolist() == [["underfit", "immediate", "grokking", "grokking"]]
    # a delay of 30 epochs after a train epoch of 1,000 is not grokking at the relative one
    assert r.tolist() == [["underfit", "immediate", "immediate", "grokking"]]


def test_sy4_refutes_regimes_in_the_reverse_order():
    n = 3
    delay = np.repeat(np.array([500.0, 500, 0, 0, 0, np.nan, np.nan])[:, None], n, axis=1)
    t_train = np.where(np.isnan(delay), np.nan, 1000.0)
    result = song_ye_regimes.sy4(P, delay, t_train, np.isfinite(delay), n_resamples=999)
    assert result.verdict is Verdict.REFUTED


def test_sy4_is_not_supported_when_a_regime_is_missing():
    delay = np.repeat(np.array([np.nan, np.nan, 0, 0, 0, 0, 0])[:, None], 3, axis=1)
    t_train = np.full(delay.shape, 1000.0)
    result = song_ye_regimes.sy4(P, delay, t_train, np.isfinite(delay), n_resamples=999)
    assert result.verdict is not Verdict.SUPPORTED


# ------------------------------------------------------------------------------------ SY5


def test_sy5_never_supports_at_3_seeds_and_supports_a_clear_majority_at_10():
    every = np.ones((2, 3), dtype=bool)
    assert song_ye.sy5([3000.0, 4500], every, every).verdict is Verdict.INCONCLUSIVE
    ten = np.ones((2, 10), dtype=bool)
    assert song_ye.sy5([3000.0, 4500], ten, ten).verdict is Verdict.SUPPORTED


def test_sy5_refutes_when_no_width_generalises_first():
    none = np.zeros((2, 10), dtype=bool)
    assert song_ye.sy5([3000.0, 4500], none, none).verdict is Verdict.REFUTED
    # the authors' threshold alone is not enough: both thresholds must hold
    ten = np.ones((2, 10), dtype=bool)
    assert song_ye.sy5([3000.0, 4500], ten, none).verdict is Verdict.REFUTED


# ------------------------------------------------------------------------------------ SY6


def test_sy6_refutes_an_onset_three_times_above_the_crossing():
    t_mem, t_gen, delays = _race(3.0)
    result = song_ye.sy6(P, t_mem, t_gen, delays, BUDGET, rng=np.random.default_rng(1))
    assert result.verdict is Verdict.REFUTED
    assert result.details["p_cross"] == pytest.approx(6700, rel=0.01)


def test_sy6_supports_an_onset_at_the_crossing_and_reports_the_null_pass_rate():
    t_mem, t_gen, delays = _race(1.0)
    result = song_ye.sy6(P, t_mem, t_gen, delays, BUDGET, rng=np.random.default_rng(1))
    assert result.verdict is Verdict.SUPPORTED
    assert 0 < result.details["null_pass_rate"] < 1


def test_sy6_is_inconclusive_when_the_budget_censors_t_mem_below_the_crossing():
    t_mem, t_gen, delays = _race(1.0)
    t_mem[P < 6700] = np.nan  # never memorised within the budget below P×
    result = song_ye.sy6(P, t_mem, t_gen, delays, BUDGET, rng=np.random.default_rng(1))
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "bracketed" in result.rule and result.details["p_cross"] is None


def test_sy6_needs_three_widths_near_the_crossing():
    coarse = P[::3]  # 2,000, 6,700, 22,500: half a decade apart
    t_mem, t_gen, delays = _race(1.0)
    result = song_ye.sy6(
        coarse, t_mem[::3], t_gen[::3], delays[::3], BUDGET, rng=np.random.default_rng(1)
    )
    assert result.verdict is Verdict.INCONCLUSIVE


# ------------------------------------------------------------------------------------ SY9


def test_sy9_refutes_slopes_differing_by_one():
    rand = 1000.0 * (P / 6700)[:, None] ** -1.3 * np.exp(0.05 * np.arange(3))
    shuf = 1000.0 * (P / 6700)[:, None] ** -0.3 * np.exp(0.05 * np.arange(3))
    result = song_ye.sy9(P, np.ceil(rand), np.ceil(shuf), 1e6)
    assert result.verdict is Verdict.REFUTED
    assert result.estimate == pytest.approx(1.0, abs=0.01)


def test_sy9_supports_equal_slopes_and_needs_four_widths():
    rand = 1000.0 * (P / 6700)[:, None] ** -1.3 * np.exp(0.05 * np.arange(3))
    result = song_ye.sy9(P, np.ceil(rand), np.ceil(rand * 1.5), 1e6)
    assert result.verdict is Verdict.SUPPORTED
    few = song_ye.sy9(P[:3], np.ceil(rand[:3]), np.ceil(rand[:3]), 1e6)
    assert few.verdict is Verdict.INCONCLUSIVE and "needs 4" in few.rule


# ------------------------------------------------------------------------------------ SY10


def test_sy10_trend_refutes_a_steep_trend_and_never_supports_on_too_few_cells():
    x = {"alpha": [0.3, 0.4, 0.5, 0.6, 0.7]}
    steep = {"alpha": [-0.6, -0.3, 0.0, 0.3, 0.6]}
    assert song_ye_cells.sy10_trend(x, steep).verdict is Verdict.REFUTED
    flat = {"alpha": [0.01, -0.01, 0.0, 0.01, -0.01]}
    assert song_ye_cells.sy10_trend(x, flat).verdict is Verdict.SUPPORTED
    two = {"alpha": [0.0, 0.01]}
    result = song_ye_cells.sy10_trend({"alpha": [0.8, 0.9]}, two)
    assert result.verdict is Verdict.INCONCLUSIVE
