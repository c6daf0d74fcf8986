"""Chopra's rules (CH1-CH6, ``grokclaims.claimrules.chopra``) can fail: data that contradict a
claim are never "supported", data where it holds are never "refuted". The simulated false-support
rates of every rule (these included) are tested in ``tests/test_claimrules.py``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grokclaims.claimrules import RULES
from grokclaims.claimrules import chopra as c
from grokclaims.claimrules.errors import error_rates
from grokclaims.verdicts import Verdict

N = 5000  # the source's budget
FAST = {"n_resamples": 199}  # the rules' bootstraps and permutations, cut for speed


def _spread(m: float) -> list[float]:
    """12 distinct seeds within +-15 % of ``m`` (ties would leave the median's band open)."""
    return [float(x) for x in np.linspace(0.85, 1.15, 12) * m]


def test_every_seed_refutes_one_seed_that_never_groks():
    assert c.every_seed([1000.0, None, 1200.0]).verdict is Verdict.REFUTED
    assert c.every_seed([1000.0, 1100.0, 1200.0]).verdict is Verdict.SUPPORTED
    assert c.every_seed([None, None], groks=False).verdict is Verdict.SUPPORTED
    assert c.every_seed([1000.0, math.nan]).verdict is Verdict.INCONCLUSIVE  # unusable seed


def _ch1(overfit, groks, at_overfit=0.01, final=1.0):
    n = len(groks)
    return c.ch1(overfit, groks, [at_overfit] * n, [final] * n, N, source=c.SRC_BASELINE)


def test_ch1_refutes_a_climb_before_saturation_and_holds_at_the_source():
    groks = _spread(2300)
    assert _ch1(_spread(350), groks, at_overfit=0.3).verdict is Verdict.REFUTED
    assert _ch1(_spread(350), [*groks[:-1], None]).verdict is Verdict.REFUTED
    # overfit 3x the source's: its Kaplan–Meier interval lies outside [175, 700]
    assert _ch1(_spread(1050), groks).verdict is Verdict.REFUTED
    assert _ch1(_spread(350), groks).verdict is Verdict.SUPPORTED


def test_ch2_is_a_share_that_three_seeds_cannot_support():
    assert c.share_agreeing_needs(0.8) == 14
    assert c.ch2([0.95] * 10, [True] * 10).verdict is Verdict.REFUTED
    assert c.ch2([0.7] * 3, [True] * 3).verdict is Verdict.INCONCLUSIVE  # 3/3: bound 0.37
    assert c.ch2([0.7] * 14, [True] * 14).verdict is Verdict.SUPPORTED
    # a peak after the grok epoch does not count, whatever the ratio
    assert c.ch2([0.7] * 10, [False] * 10).verdict is Verdict.REFUTED


def test_ch3_refutes_grokking_without_weight_decay_and_holds_at_the_source():
    groks = {w: (_spread(m) if m else [None] * 12) for w, m in c.SRC_WD.items()}
    assert c.ch3(groks, N, **FAST).verdict is Verdict.SUPPORTED
    groks[0.0] = _spread(3000)
    assert c.ch3(groks, N, **FAST).verdict is Verdict.REFUTED


def test_ch3_decides_the_speed_up_on_the_ratios_interval():
    # wd 0.5 only 2x slower than wd 5: the ratio's interval lies below 3
    groks = {0.0: [None] * 12, 0.5: _spread(1600), 1.0: _spread(1200), 5.0: _spread(800)}
    result = c.ch3(groks, N, **FAST)
    assert result.verdict is Verdict.REFUTED
    assert result.interval[1] < 3


def test_ch6_censored_slowest_value_bounds_the_ratio_and_is_not_supported():
    groks = {0.3: [None] * 3, 0.5: [None] * 3, 0.7: [None] * 3, 0.9: [1300.0, 1800.0, 1700.0]}
    result = c.ch6(groks, 4000, **FAST)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert math.isinf(result.interval[1])
    groks = {a: (_spread(m) if m else [None] * 12) for a, m in c.SRC_ALPHA.items()}
    assert c.ch6(groks, N, **FAST).verdict is Verdict.SUPPORTED


def test_ch4_refutes_a_flat_overfit_epoch_and_holds_at_the_source():
    widths = [32, 64, 128, 256, 512]
    of = {w: _spread(1150 * (w / 32) ** -0.73) for w in widths}
    groks = {w: _spread(m) for w, m in c.SRC_WIDTH_GROK.items()}
    result = c.ch4(of, groks, N, **FAST)
    assert result.verdict is not Verdict.REFUTED
    assert 0 <= result.details["kruskal_p_grok_across_widths"] <= 1
    flat = {w: _spread(300) for w in widths}  # the overfit epoch does not fall with width
    assert c.ch4(flat, groks, N, **FAST).verdict is Verdict.REFUTED


@pytest.mark.parametrize("claim_id", ["CH3", "CH6"])
def test_the_rules_have_power_at_10_seeds(claim_id):
    rates = error_rates(RULES[claim_id], 10, reps=40)
    assert rates.power > 0.5 > rates.false_support, rates.text()
