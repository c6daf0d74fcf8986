"""Song & Ye's capacity rules (``grokclaims.claimrules.song_ye_capacity``: SY1, SY2, SY8) can
fail: data that contradict each claim never give "supported", data where it holds never give
"refuted"; unsaturated runs, separation, censoring and a single cell are handled without a
number standing in for what was not measured. (Their simulated error rates at 3, 5 and 10 seeds
are checked with every registered rule by ``tests/test_claimrules.py``.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from grokclaims.analysis.capacity import capacity_of
from grokclaims.claimrules import RULES
from grokclaims.claimrules import song_ye_capacity as cap
from grokclaims.claimrules import song_ye_capacity_sim as sim
from grokclaims.claimrules import song_ye_speed as speed
from grokclaims.claimrules.errors import error_rates
from grokclaims.setups.scales import SMOKE
from grokclaims.spec.run import ensemble_key
from grokclaims.verdicts import Verdict
from grokclaims.verdicts.rules import parts_of

P4 = np.array([732.0, 1482, 2488, 5268])


def _setting(C, n_seeds=3, *, saturated=True, spread=0.02, seed=0):
    rng = np.random.default_rng(seed)
    P = np.repeat(P4, 2)
    bits = C * P[:, None] * (1 + spread * rng.standard_normal((P.size, n_seeds)))
    ones = np.ones_like(bits, dtype=bool)
    return {
        "P": P,
        "n": np.tile([960.0, 1920.0], P4.size),
        "bits": bits,
        "saturated": ones if saturated else ~ones,
        "over_capacity": ones,
    }


def _sy1(race_C, probe_C=2.16, **kw):
    return cap.sy1(
        {"probe": _setting(probe_C, **kw), "race": _setting(race_C, **kw)},
        rng=np.random.default_rng(1),
    )


# ------------------------------------------------------------------------------------ SY1


def test_sy1_supports_the_sources_capacity_at_both_settings():
    result = _sy1(2.16)
    assert result.verdict is Verdict.SUPPORTED
    assert set(parts_of(result)) == {"probe", "race"}
    assert parts_of(result)["race"].estimate == pytest.approx(2.16, rel=0.05)


def test_sy1_is_refuted_when_one_settings_capacity_is_below_one_bit():
    result = _sy1(0.6)  # the smoke race setting's measured C
    assert result.verdict is Verdict.REFUTED
    assert parts_of(result)["race"].verdict is Verdict.REFUTED


def test_sy1_unsaturated_runs_are_lower_bounds_never_support():
    result = _sy1(2.16, saturated=False)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "lower bounds" in parts_of(result)["race"].rule


def test_sy1_needs_four_widths_over_capacity():
    s = _setting(2.16)
    s["over_capacity"][:4] = False  # the two smallest widths held all their data
    result = cap.capacity_setting(**s, label="race", rng=np.random.default_rng(0))
    assert result.verdict is Verdict.INCONCLUSIVE and "2 widths" in result.rule


def test_sy1_a_curved_relation_fails_the_r_squared():
    s = _setting(2.16, spread=0.0)
    s["bits"] = 40 * np.sqrt(s["P"])[:, None] * np.ones((1, 3)) + 2000 * (s["P"] > 3000)[:, None]
    result = cap.capacity_setting(**s, label="race", rng=np.random.default_rng(0))
    assert result.verdict is not Verdict.SUPPORTED


# ------------------------------------------------------------------------------------ SY2

RATIOS = np.array([0.25, 0.4, 0.6, 0.9, 1.4, 2.0, 3.0, 4.5])


def _sy2(memorised, C=2.16):
    P = np.full(RATIOS.size, 5000.0)
    return cap.sy2(P, C * P / RATIOS, memorised, C, rng=np.random.default_rng(0))


def test_sy2_supports_a_threshold_at_complexity():
    m = np.repeat((RATIOS >= 1)[:, None], 5, axis=1)
    m[3, :2] = True  # some seeds already at 0.9: not separated
    result = _sy2(m)
    assert result.verdict is Verdict.SUPPORTED
    assert 0.5 < result.estimate < 2


def test_sy2_refutes_memorising_far_below_complexity():
    m = np.repeat((RATIOS >= 0.25)[:, None], 5, axis=1)
    m[0, :3] = False  # half-way at 0.25 only
    result = _sy2(m)
    assert result.verdict is Verdict.REFUTED


def test_sy2_separation_gives_the_gap_never_a_number():
    m = np.repeat((RATIOS >= 4.5)[:, None], 3, axis=1)  # the gap is (3, 4.5]: past the band
    result = _sy2(m)
    assert result.verdict is not Verdict.SUPPORTED
    assert math.isnan(result.estimate) and result.details["point_range"] == pytest.approx((3, 4.5))
    assert result.details["above_2_not"] and not result.details["below_half_memorised"]


def test_sy2_all_memorised_is_refuted_when_the_grid_reaches_below_half():
    result = _sy2(np.ones((RATIOS.size, 3), dtype=bool))
    assert result.verdict is Verdict.REFUTED
    assert len(result.details["below_half_memorised"]) == 2  # 0.25 and 0.4: 6 runs, bound 0.61


def test_sy2_none_memorised_above_two_is_refuted_but_not_below():
    assert _sy2(np.zeros((RATIOS.size, 3), dtype=bool)).verdict is Verdict.REFUTED
    low = RATIOS[:5]  # the grid stops at 1.4: the 50 % point may still lie in [1.4, 2]
    P = np.full(low.size, 5000.0)
    none = np.zeros((low.size, 3), dtype=bool)
    assert cap.sy2(P, 2.16 * P / low, none, 2.16).verdict is Verdict.INCONCLUSIVE


def test_sy2_carries_the_uncertainty_of_c_into_its_interval():
    """The 50 % point in C·P/K scales with C: C's interval widens SY2's, and a C that is only a
    lower bound (unsaturated runs) leaves it open above, so SY2 can no longer be supported."""
    m = np.repeat((RATIOS >= 1)[:, None], 5, axis=1)
    m[3, :2] = True
    P = np.full(RATIOS.size, 5000.0)
    K = 2.16 * P / RATIOS
    fixed = cap.sy2(P, K, m, 2.16)
    wide = cap.sy2(P, K, m, 2.16, C_interval=(1.5, 4.0))
    assert fixed.verdict is Verdict.SUPPORTED
    assert wide.interval[0] < fixed.interval[0] and wide.interval[1] > fixed.interval[1]
    assert wide.interval[1] == pytest.approx(fixed.interval[1] * 4.0 / 2.16)
    assert wide.verdict is not Verdict.SUPPORTED  # the upper end passes 2
    bound = cap.sy2(P, K, m, 2.16, C_lower_bound=True)
    assert math.isinf(bound.interval[1]) and bound.verdict is Verdict.INCONCLUSIVE
    # all memorised, the grid reaching below K/2: refuted with C measured, not with a bound
    every = np.ones((RATIOS.size, 3), dtype=bool)
    assert cap.sy2(P, K, every, 2.16).verdict is Verdict.REFUTED
    assert cap.sy2(P, K, every, 2.16, C_lower_bound=True).verdict is Verdict.INCONCLUSIVE


def test_capacity_estimate_is_a_lower_bound_where_its_runs_still_grew():
    P = np.array([700.0, 1500.0, 2500.0, 5300.0])
    bits = np.outer(P, [0.5, 0.52, 0.54])
    over = np.ones_like(bits, dtype=bool)
    C, ci, lower = cap.capacity_estimate(P, P, bits, over, over)
    assert pytest.approx(0.52) == C and ci[0] <= C <= ci[1] and not lower
    sat = over.copy()
    sat[2, 1] = False
    assert cap.capacity_estimate(P, P, bits, sat, over)[2]


# ------------------------------------------------------------------------------------ SY8


def _cells(k_exponent, n=5, censor_all=False):
    draw = sim._sy8_draw(k_exponent)(np.random.default_rng(3), n)
    if censor_all:
        draw["cells"] = [(P, K, np.full_like(t, np.nan)) for P, K, t in draw["cells"]]
    draw["n_resamples"], draw["max_exact"] = 999, 999
    return draw


def test_sy8_supports_times_that_follow_capacity_over_complexity():
    result = speed.sy8(**_cells(0.0))
    assert result.verdict is Verdict.SUPPORTED
    assert result.estimate < speed.SY8_MARGIN


def test_sy8_is_not_supported_when_k_has_no_effect():
    result = speed.sy8(**_cells(-1.3))
    assert result.verdict is not Verdict.SUPPORTED


def test_sy8_all_censored_is_inconclusive():
    result = speed.sy8(**_cells(0.0, censor_all=True))
    assert result.verdict is Verdict.INCONCLUSIVE and "observed in 0 cell" in result.rule


def test_sy8_one_cell_cannot_be_left_out():
    d = _cells(0.0)
    d["cells"] = d["cells"][:1]
    result = speed.sy8(**d)
    assert result.verdict is Verdict.INCONCLUSIVE and "needs 2 cells" in result.rule


def test_sy8_censored_runs_are_not_times():
    d = _cells(0.0)
    P, K, t = d["cells"][0]
    t = t.copy()
    t[:, :3] = np.nan  # most seeds never memorised: the median is censored, not the budget
    d["cells"][0] = (P, K, t)
    result = speed.sy8(**d)
    assert parts_of(result)["error"].details["points"] < 12


@pytest.mark.parametrize("claim_id", ["SY1", "SY2", "SY8"])
def test_the_capacity_rules_are_registered_and_tell_the_scenarios_apart(claim_id):
    rates = error_rates(RULES[claim_id], 5, reps=40)
    assert rates.power > 0.8 and rates.false_support < 0.1


# ------------------------------------------------------------ the memory grid and its C


def test_capacity_of_uses_only_points_over_capacity():
    P = np.array([1000.0, 2000, 3000, 4000])
    bits = (2 * P + 10)[:, None] * np.ones((1, 3))
    bits[3] = 500.0  # held its (small) data: a lower bound, not the capacity
    over = np.ones_like(bits, dtype=bool)
    over[3, 0] = False  # one seed memorised: the whole point is left out
    fit = capacity_of(P, bits, over)
    assert fit.slope == pytest.approx(2.0) and fit.n_points == 9


def test_memory_grid_reuses_the_cells_runs_and_shares_their_ensembles():
    grid = SMOKE.sy.capacity
    cell = grid.cell
    assert grid.spec("race", 8, cell.n_train, 0).run_id == cell.memory_spec(8, 0).run_id
    probe = grid.spec("probe", 8, cell.n_train, 0)
    assert probe.optim.weight_decay == 0.01 and probe.model.dropout == 0.0
    assert ensemble_key(probe) == ensemble_key(cell.task_spec(8, 0))
    other = grid.spec("race", 8, 160, 0)
    assert other.task.n_train == 160 and other.optim.weight_decay == cell.weight_decay
    assert len({s.run_id for s in grid.specs((0, 1, 2))}) == len(grid.specs((0, 1, 2)))
