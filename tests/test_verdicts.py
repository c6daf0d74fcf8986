"""Exact branches of the verdict rules of ``grokclaims.verdicts`` and the JSON form of a
``ClaimResult`` (their false-alarm rates on simulated data: ``test_stats.py``)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from grokclaims import verdicts
from grokclaims.analysis import ranks
from grokclaims.verdicts import Verdict
from grokclaims.verdicts.decisions import decide_share


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_decide_interval_branches():
    def verdict(ci):
        return verdicts.decide_interval("r", 0.0, ci, -0.3, 0.3, "|r| <= 0.3").verdict

    assert verdict((-0.1, 0.2)) is Verdict.SUPPORTED
    assert verdict((0.31, 0.5)) is Verdict.REFUTED
    assert verdict((0.2, 0.5)) is Verdict.INCONCLUSIVE
    assert verdict(None) is Verdict.INCONCLUSIVE
    one_sided = verdicts.decide_interval("ccc", 0.4, (0.1, 0.7), 0.0, math.inf, "CCC > 0")
    assert one_sided.verdict is Verdict.SUPPORTED and "lies inside [0, inf]" in one_sided.rule


def test_decide_directional_and_decide_test():
    def verdict(p, q):
        return verdicts.decide_directional("rho", -0.5, p, q, 0.05, "ρ < 0").verdict

    assert verdict(0.01, 0.99) is Verdict.SUPPORTED
    assert verdict(0.99, 0.01) is Verdict.REFUTED
    assert verdict(0.3, 0.7) is Verdict.INCONCLUSIVE
    assert verdict(math.nan, None) is Verdict.INCONCLUSIVE
    trend = ranks.decreasing_trend(np.arange(6.0), -np.arange(6.0), rng=rng())
    result = verdicts.decide_test("rho", trend)
    assert result.verdict is Verdict.SUPPORTED and result.p_value == pytest.approx(1 / 720)
    with pytest.raises(ValueError, match="one-sided"):
        verdicts.decide_test("rho", ranks.spearman_test([1, 2, 3], [1, 2, 3], rng=rng()))


def test_decide_all_fraction_point_and_conjunction():
    assert verdicts.decide_all("groks", [True, True]).verdict is Verdict.SUPPORTED
    failed = verdicts.decide_all("groks", [True, False, None], labels=["s0", "s1", "s2"])
    assert failed.verdict is Verdict.REFUTED and "1 of 2 usable runs fail (s1)" in failed.rule
    assert verdicts.decide_all("groks", [True, None]).verdict is Verdict.INCONCLUSIVE
    assert verdicts.decide_all("groks", []).verdict is Verdict.INCONCLUSIVE
    # 10 seeds, bar 80 % (revision 2: decided on one-sided Clopper–Pearson bounds): the upper
    # bound of 5/10 is 0.778 < 0.8; of 6/10 0.850; even 10/10 has a lower bound of only 0.741
    low = decide_share("f", 5, 10, 0.8)
    assert low.verdict is Verdict.REFUTED and low.interval[1] == pytest.approx(0.7776, abs=1e-4)
    assert decide_share("f", 6, 10, 0.8).verdict is Verdict.INCONCLUSIVE
    assert decide_share("f", 10, 10, 0.8).verdict is Verdict.INCONCLUSIVE
    assert decide_share("f", 14, 14, 0.8).verdict is Verdict.SUPPORTED
    assert verdicts.decide_point("R²", 0.95, 0.9, 1.0, "R² >= 0.9").verdict is Verdict.SUPPORTED
    assert verdicts.decide_point("R²", 0.5, 0.9, 1.0, "R² >= 0.9").verdict is Verdict.REFUTED
    assert verdicts.decide_point("R²", math.nan, 0.9, 1.0, "").verdict is Verdict.INCONCLUSIVE
    parts = {"a": verdicts.decide_all("a", [True]), "b": verdicts.decide_all("b", [True, None])}
    both = verdicts.decide_conjunction("CH3", parts)
    assert both.verdict is Verdict.INCONCLUSIVE and both.estimate == 0.5
    parts["c"] = verdicts.decide_all("c", [False])
    assert verdicts.decide_conjunction("CH3", parts).verdict is Verdict.REFUTED
    assert both.tolerance == "all of: a; b"


def test_a_conjunction_shows_its_key_part_and_a_headline_keeps_the_verdict():
    parts = {
        "ratio": verdicts.decide_interval("r", 4.0, (3.5, 5.0), 3, math.inf, ">= 3"),
        "trend": verdicts.decide_all("t", [True, None]),
    }
    res = verdicts.decide_conjunction("CH3", parts, headline="ratio")
    assert (res.name, res.estimate, res.interval) == ("r", 4.0, (3.5, 5.0))
    assert res.verdict is Verdict.INCONCLUSIVE and "trend" in res.rule
    with pytest.raises(ValueError, match="headline 'ratios' is not one of the parts"):
        verdicts.decide_conjunction("CH3", parts, headline="ratios")
    shown = verdicts.with_headline(res, "median grok epoch", 1450, p_value=0.01)
    assert (shown.name, shown.estimate, shown.interval, shown.p_value) == (
        "median grok epoch",
        1450.0,
        None,
        0.01,
    )
    assert (shown.verdict, shown.rule, shown.tolerance) == (res.verdict, res.rule, res.tolerance)
    assert math.isnan(verdicts.with_headline(res, "none", None).estimate)


def test_claim_result_serialises_to_strict_json():
    res = verdicts.ClaimResult(
        name="log10(onset/P×)",
        estimate=np.float64(0.1),
        interval=(-math.inf, np.float32(0.25)),
        p_value=math.nan,
        tolerance="|log10(onset/P×)| <= 0.3",
        verdict=Verdict.SUPPORTED,
        rule="supported: ...",
        details={"counts": np.array([1, 2]), "nan": math.nan, "n": np.int64(3)},
    )
    d = res.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text)["verdict"] == "supported"
    assert d["p_value"] is None and d["interval"] == ["-inf", 0.25]
    assert d["details"] == {"counts": [1, 2], "nan": None, "n": 3}
    assert "expected |log10(onset/P×)| <= 0.3" in res.summary()
    with pytest.raises(ValueError, match="Verdict"):
        verdicts.ClaimResult("x", 0.0, None, None, "", "supported", "")


def test_unmeasurable_rule():
    none = verdicts.decide_unmeasurable("x", "tol", "no data", cells=3)
    assert none.verdict is Verdict.INCONCLUSIVE and none.rule == "inconclusive: no data"
    assert none.details == {"cells": 3} and math.isnan(none.estimate)
