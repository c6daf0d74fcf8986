"""SY7 and SY10's trend (``grokclaims.claimrules.song_ye_cells``) can fail: data that contradict
each claim never give "supported", data where it holds never give "refuted", and at each
scale's numbers of cells, axis values and seeds the simulated false-support rate is <= 5 %."""

from __future__ import annotations

import numpy as np
import pytest

from grokclaims.claimrules import song_ye_cells as cells
from grokclaims.claimrules.errors import MAX_FALSE_SUPPORT, SCALE_SEEDS, error_rates, seeds_at
from grokclaims.setups.scales import SCALES, source_of
from grokclaims.verdicts import Verdict

SEEDS = SCALE_SEEDS


def test_the_scale_numbers_are_the_scales_own():
    for name, scale in SCALES.items():
        sy = scale.sy
        assert cells.SCALE_CELLS[name] == len(sy.cells()), name
        base = sy.central[0]
        per_axis = sorted(
            1 + len([v for v in values if v != getattr(base, axis)])
            for axis, values in sy.suites.items()
            if axis != "op"  # categorical: no trend is regressed on it
        )
        assert sorted(cells.SCALE_AXES[name]) == per_axis, name
        assert SEEDS[name] == scale.n_seeds
        for claim_id in ("SY1", "CH2", "BR3"):  # each source's seeds, as the claims get them
            assert seeds_at(name, claim_id) == len(scale.seed_list(source=source_of(claim_id))), (
                name,
                claim_id,
            )


# ------------------------------------------------------------------------------------ SY7

PX = np.geomspace(3000.0, 30_000.0, 8)


def test_sy7_refutes_an_onset_falling_as_p_cross_rises():
    onset = PX[::-1] * 1.1
    result = cells.sy7(PX, onset, rng=np.random.default_rng(0))
    assert result.verdict is Verdict.REFUTED
    assert result.estimate == pytest.approx(-1.0)


def test_sy7_is_not_supported_when_every_cell_has_one_onset():
    # the onset does not move with P× at all: nothing is predicted (and no CCC interval)
    result = cells.sy7(PX, np.full(PX.size, 10**4.0), rng=np.random.default_rng(0))
    assert result.verdict is not Verdict.SUPPORTED


def test_sy7_supports_an_onset_at_p_cross_and_reports_the_other_statistics():
    onset = PX * 10 ** np.array([0.05, -0.05, 0.1, 0.0, -0.1, 0.05, 0.0, -0.05])
    hyper = np.column_stack([np.arange(8.0), np.arange(8.0) ** 2 % 3])
    result = cells.sy7(PX, onset, hyper, rng=np.random.default_rng(0))
    assert result.verdict is Verdict.SUPPORTED
    d = result.details
    assert d["ccc"]["interval"][0] > 0.5 and d["cells used"] == 8
    assert {"calibration", "wilcoxon_p", "nested"} <= set(d)


def test_sy7_drops_bracketed_cells_and_never_decides_on_two():
    px = PX.copy()
    px[2:] = np.nan  # only bracketed: no point P×
    result = cells.sy7(px, PX, rng=np.random.default_rng(0))
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "only 2 of 8 cells" in result.rule


# ------------------------------------------------------------------------------------ SY10

X = {"alpha": [0.3, 0.4, 0.5, 0.6, 0.7], "depth": [2.0, 3, 4, 6, 8]}


def test_sy10_trend_refutes_a_steep_trend_on_one_axis():
    ys = {"alpha": [-0.6, -0.3, 0.0, 0.3, 0.6], "depth": [0.0, 0.01, -0.01, 0.0, 0.01]}
    result = cells.sy10_trend(X, ys)
    assert result.verdict is Verdict.REFUTED and "alpha" in result.rule


def test_sy10_trend_supports_flat_axes_only_when_every_axis_is_decided():
    flat = {"alpha": [0.01, -0.01, 0.0, 0.01, -0.01], "depth": [0.0, 0.01, -0.01, 0.0, 0.01]}
    assert cells.sy10_trend(X, flat).verdict is Verdict.SUPPORTED
    # one axis with only 2 usable cells: not every axis is shown flat, so not supported
    holes = {**flat, "depth": [0.0, None, None, None, 0.01]}
    assert cells.sy10_trend(X, holes).verdict is Verdict.INCONCLUSIVE


def test_sy10_trend_noise_alone_never_supports():
    # a flat but noisy axis: the slope is not significant, yet its 90 % interval is wide
    ys = {"alpha": [0.3, -0.3, 0.25, -0.25, 0.3], "depth": [0.0, 0.01, -0.01, 0.0, 0.01]}
    assert cells.sy10_trend(X, ys).verdict is Verdict.INCONCLUSIVE


# ------------------------------------------------------------------------------ error rates


@pytest.mark.parametrize("scale", sorted(SEEDS))
@pytest.mark.parametrize("claim_id", ["SY7", "SY10"])
def test_false_support_at_most_5_percent_at_each_scale(claim_id, scale):
    rates = error_rates(cells.rule_at(claim_id, scale), SEEDS[scale], reps=100)
    assert rates.false_support <= MAX_FALSE_SUPPORT, rates.text()
    assert rates.false_refute <= MAX_FALSE_SUPPORT, rates.text()
    if cells.cannot_decide(claim_id, scale):
        assert rates.power == rates.true_refute == 0.0  # the scale cannot decide: inconclusive


def test_sy7_has_power_at_nightly_and_the_scenarios_differ():
    rates = error_rates(cells.rule_at("SY7", "nightly"), 5, reps=100)
    assert rates.power > 0.8 > rates.false_support
