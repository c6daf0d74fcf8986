"""Song & Ye's claims across cells: SY7 (P× predicts the onset over all cells) and SY10's
"no trend" (log10(onset / P×) does not change along any swept axis), CLAIMS.md revision 2, with
the simulations that measure each rule's error rates.

A cell's P× is a point or only a bracket (a curve censored near the crossing); a bracketed
cell, or one without an empirical onset, is left out of both rules (never imputed).

Simulation settings (the per-cell generator ``_cell_draw``):

- P× across cells: log10 P× uniform over one decade (an assumption: the settings of the
  authors' ten suites move P× within about a decade; the swept grids span 1.7 decades of P at
  paper scale);
- measured log10 P× = true + N(0, ``PX_ERROR`` / sqrt(seeds)): the seed-mean log10 T_gen has a
  log-sd of 0.40 / ln 10 (SY6's smoke spread of T_gen) over sqrt(seeds), divided by T_mem's
  log-log slope 1.27 (smoke) where the curves cross: 0.137 decades at one seed;
- the onset: log10(onset / P×) ~ N(0, ``TAU``), ``TAU`` = 0.1 decades, the spread the source's
  "close to" allows (99.7 % of cells within SY6's ±0.3; the source gives no number), then
  rounded *up* to the width grid (``GRID_STEP`` = 0.3 decades between widths, the spacing of
  the smoke, nightly and paper dims: P ~ d², d ratios 1.33-1.5); the onset is the smallest
  width above the transition;
- a cell's P× is only bracketed with probability ``BRACKETED`` = 0.25 (an assumption; at smoke
  both cells are bracketed), and such cells are dropped as the claims drop them.

The numbers of cells (SY7) and of values per swept axis (SY10) are the scales' own
(``SCALE_CELLS``, ``SCALE_AXES``; ``tests/test_claimrules_cells.py`` checks them against
``setups/scales.py``, and a ``medium`` scale, not yet in scales.py, is taken as 5 cells).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import stats

from grokclaims.analysis.agreement import ccc_jackknife_ci
from grokclaims.analysis.multiplicity import holm
from grokclaims.analysis.ranks import spearman_test, wilcoxon_log_ratio
from grokclaims.analysis.regression import calibration_f_test, nested_f_test
from grokclaims.analysis.statistic import MIN_POINTS
from grokclaims.claimrules.errors import ClaimRule, Scenario
from grokclaims.verdicts.result import ClaimResult, Verdict
from grokclaims.verdicts.rules import (
    decide_conjunction,
    decide_interval,
    decide_test,
    decide_unmeasurable,
    with_headline,
)

MARGIN = 0.3  # SY10: decades of change of log10(onset / P×) over an axis's whole range
PX_ERROR = 0.40 / math.log(10) / 1.27  # decades of log10 P× error at one seed (docstring)
TAU = 0.1  # decades: the spread of log10(onset / P×) where the claim holds (docstring)
GRID_STEP = 0.3  # decades between consecutive widths of a grid
BRACKETED = 0.25  # share of cells whose P× is only bracketed (dropped)
SIM_RESAMPLES = 199  # permutations in the simulations (the claim uses the default 9,999)
SCALE_CELLS = {"smoke": 2, "medium": 5, "nightly": 18, "paper": 29}  # scales.py sy.cells()
# values per numeric swept axis, the central cell included ('op' is categorical: no trend)
SCALE_AXES = {
    "smoke": (2,),
    "medium": (4,),
    "nightly": (3,) * 7,
    "paper": (4, 5, 4, 3, 3, 6, 4),
}

# ------------------------------------------------------------------------------------ SY7

SY7_TOLERANCE = "Spearman ρ(log P×, log onset) > 0, permutation p < 0.05; Lin's CCC lower bound > 0"


def sy7(px, onset, baseline=None, *, rng=None, n_resamples: int = 9999) -> ClaimResult:
    """SY7 over the cells with an onset and a point P× (NaN in ``px`` for a bracketed P×, in
    ``onset`` for no onset): supported when Spearman ρ(log P×, log onset) > 0 with one-sided
    permutation p < 0.05 AND Lin's CCC (jackknife interval) has a lower bound > 0; refuted
    when either is significantly the other way; else inconclusive. Reported, not deciding:
    the (a, b) = (0, 1) calibration F-test, Wilcoxon on log(onset / P×) and, with
    ``baseline`` (one row of swept hyper-parameters per cell), the nested F-test of whether
    log P× adds over them; all in ``details``."""
    px, onset = np.asarray(px, dtype=float), np.asarray(onset, dtype=float)
    ok = np.isfinite(px) & np.isfinite(onset) & (px > 0) & (onset > 0)
    counts = {"cells": int(px.size), "cells used": int(ok.sum())}
    if ok.sum() < MIN_POINTS:
        why = (
            f"only {int(ok.sum())} of {px.size} cells have both an onset and a point P× (P× is "
            f"only bracketed where a curve is censored); a rank correlation needs {MIN_POINTS}"
        )
        return decide_unmeasurable("Spearman ρ(log P×, log onset)", SY7_TOLERANCE, why, **counts)
    rng = np.random.default_rng(0) if rng is None else rng
    lx, lo = np.log10(px[ok]), np.log10(onset[ok])
    rho = spearman_test(lx, lo, alternative="greater", rng=rng, n_resamples=n_resamples)
    ccc = ccc_jackknife_ci(lx, lo)
    parts = {
        "Spearman": decide_test("Spearman ρ", rho, tolerance="ρ > 0, one-sided p < 0.05"),
        "CCC": decide_interval("Lin's CCC", ccc.value, ccc.interval, 1e-12, 1.0, "lower bound > 0")
        if ccc.interval is not None
        else decide_unmeasurable("Lin's CCC", "lower bound > 0", "no interval for the CCC"),
    }
    calib = calibration_f_test(lx, lo)
    wil = wilcoxon_log_ratio(onset[ok], px[ok])
    reported = {
        **counts,
        "spearman": {"rho": rho.statistic, "p": rho.p_value, "method": rho.method},
        "ccc": {"value": ccc.value, "interval": ccc.interval, "method": ccc.method},
        "calibration": {"F": calib.statistic, "p": calib.p_value, **calib.details},
        "wilcoxon_p": wil.p_value,
    }
    if baseline is not None:
        H = np.asarray(baseline, dtype=float)[ok]
        nested = nested_f_test(H, np.column_stack([H, lx]), lo)
        reported["nested"] = {"F": nested.statistic, "p": nested.p_value, **nested.details}
    lower = ccc.interval[0] if ccc.interval is not None else math.nan
    result = with_headline(
        decide_conjunction("SY7", parts),
        "Spearman ρ(log P×, log onset)",
        rho.statistic,
        p_value=rho.p_value,
        tolerance=f"{SY7_TOLERANCE} (CCC lower bound {lower:.3g})",
    )
    return dataclasses.replace(result, details={**result.details, **reported})


def _cell_draw(rng, n_cells: int, n_seeds: int, coupled: bool, trend=None):
    """Per cell: (measured P×, onset), P× NaN where only bracketed (module docstring). With
    ``coupled`` False the onset is drawn independently of P× from the same marginal. ``trend``
    (decades per cell) is added to log10 onset."""
    true = rng.random(n_cells)  # log10 P× over one decade (offset: 3.5, ~3,000-30,000)
    measured = true + PX_ERROR / math.sqrt(n_seeds) * rng.standard_normal(n_cells)
    centre = true if coupled else rng.random(n_cells)
    log_onset = centre + TAU * rng.standard_normal(n_cells)
    if trend is not None:
        log_onset = log_onset + trend
    offset = rng.random(n_cells) * GRID_STEP  # where the cell's width grid sits
    log_onset = np.ceil((log_onset - offset) / GRID_STEP) * GRID_STEP + offset
    measured[rng.random(n_cells) < BRACKETED] = np.nan
    return 10 ** (3.5 + measured), 10 ** (3.5 + log_onset)


def _sy7_draw(n_cells: int, coupled: bool):
    def draw(rng, n_seeds):
        px, onset = _cell_draw(rng, n_cells, n_seeds, coupled)
        return {"px": px, "onset": onset, "rng": rng, "n_resamples": SIM_RESAMPLES}

    return draw


def sy7_rule(n_cells: int) -> ClaimRule:
    """SY7's rule with its scenarios over ``n_cells`` cells (a scale's ``sy.cells()``)."""
    where = (
        f"{n_cells} cells, log10 P× uniform over a decade, measured with "
        f"{PX_ERROR:.3f}/sqrt(seeds) decades of error, a quarter only bracketed (dropped); the "
        f"onset rounded up to a {GRID_STEP}-decade width grid"
    )
    return ClaimRule(
        "SY7",
        sy7,
        holds=Scenario(
            _sy7_draw(n_cells, True), f"{where}; onset = P× · 10^N(0, {TAU}) (P× predicts it)"
        ),
        fails=Scenario(
            _sy7_draw(n_cells, False),
            f"{where}; the onset independent of P× with the same spread (ρ = 0: the claim "
            "allows any ρ > 0, so this is its boundary)",
        ),
    )


# ------------------------------------------------------------------------------------ SY10


def sy10_trend(axis_x: dict, axis_y: dict, margin: float = MARGIN) -> ClaimResult:
    """SY10's "no trend": per axis, the OLS slope of log10(onset / P×) on the axis value
    (log10 for a multiplicative axis), times the axis's range (the change over the whole
    range), has a 90 % t-interval inside ±``margin`` (supported when so on every axis with
    >= 3 cells with a point P×); refuted when on some axis the change lies beyond the margin
    with a Holm-adjusted one-sided p < 0.05; else inconclusive. ``axis_y`` values None or NaN
    (no onset or no point P×) are left out."""
    tol = f"per-axis change of log10(onset / P×) over the axis's range inside ±{margin} (TOST)"
    rows, details = [], {}
    for axis, xs in axis_x.items():
        x = np.asarray(xs, dtype=float)
        y = np.array([np.nan if v is None else v for v in axis_y[axis]], dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        details[axis] = {"cells": int(x.size), "with a point P×": int(ok.sum())}
        if ok.sum() < 3 or np.unique(x[ok]).size < 3:
            continue
        fit = stats.linregress(x[ok], y[ok])
        span = float(x[ok].max() - x[ok].min())
        est, se, df = fit.slope * span, fit.stderr * span, int(ok.sum()) - 2
        q90 = stats.t.ppf(0.95, df)
        p_beyond = stats.t.sf((abs(est) - margin) / se, df) if se > 0 else float(abs(est) <= margin)
        rows.append((axis, est, (est - q90 * se, est + q90 * se), p_beyond))
        details[axis].update({"change": est, "interval90": rows[-1][2], "p_beyond": p_beyond})
    name = "largest |change of log10(onset / P×)| over an axis"
    if not rows:
        why = "no axis has 3 values with an onset and a point P×: " + ", ".join(
            f"{a}: {d['with a point P×']} of {d['cells']}" for a, d in details.items()
        )
        return decide_unmeasurable(name, tol, why, **details)
    ph = holm([r[3] for r in rows])
    worst = max(rows, key=lambda r: abs(r[1]))
    if any(p < 0.05 for p in ph):
        axis = rows[int(np.argmin(ph))][0]
        verdict, rule = Verdict.REFUTED, f"refuted: the change along {axis} exceeds ±{margin}"
    elif all(-margin < r[2][0] and r[2][1] < margin for r in rows) and len(rows) == len(axis_x):
        verdict, rule = Verdict.SUPPORTED, "supported: every axis's 90 % interval is inside"
    else:
        verdict, rule = Verdict.INCONCLUSIVE, "inconclusive: an axis's 90 % interval is not inside"
    return ClaimResult(name, worst[1], worst[2], None, tol, verdict, rule, details)


def _sy10_draw(axes: tuple[int, ...], change: float):
    """Per axis j with k values equally spaced over [0, 1]: each cell's log10(onset / P×) from
    ``_cell_draw`` (None where P× is bracketed), plus ``change`` · x on the first axis."""

    def draw(rng, n_seeds):
        xs, ys = {}, {}
        for j, k in enumerate(axes):
            x = np.linspace(0.0, 1.0, k)
            px, onset = _cell_draw(rng, k, n_seeds, True, trend=change * x if j == 0 else None)
            y = np.log10(onset / px)
            xs[f"axis{j}"] = x.tolist()
            ys[f"axis{j}"] = [None if not np.isfinite(v) else float(v) for v in y]
        return {"axis_x": xs, "axis_y": ys}

    return draw


def sy10_trend_rule(axes: tuple[int, ...]) -> ClaimRule:
    """SY10's trend rule with its scenarios on axes with these numbers of values."""
    where = (
        f"{len(axes)} axes with {', '.join(map(str, axes))} values; per cell log10(onset / P×) "
        f"as SY7's holds scenario (spread {TAU}, {GRID_STEP}-decade width grid, P× error, a "
        "quarter bracketed)"
    )
    return ClaimRule(
        "SY10",
        sy10_trend,
        holds=Scenario(_sy10_draw(axes, 0.0), f"{where}; no trend along any axis"),
        fails=Scenario(
            _sy10_draw(axes, MARGIN + 0.05),
            f"{where}; a change of {MARGIN + 0.05} decades over the first axis's range (just "
            f"past ±{MARGIN}), none along the others",
        ),
    )


def cannot_decide(claim_id: str, scale: str) -> str:
    """Why ``scale`` cannot decide SY7 or SY10's trend ("" when it can)."""
    if claim_id == "SY7" and SCALE_CELLS[scale] < MIN_POINTS:
        return f"{SCALE_CELLS[scale]} cells; a rank correlation needs {MIN_POINTS}"
    if claim_id == "SY10" and max(SCALE_AXES[scale]) < 3:
        return f"{max(SCALE_AXES[scale])} values per swept axis; a trend needs 3"
    return ""


def rule_at(claim_id: str, scale: str) -> ClaimRule:
    """SY7's or SY10's trend rule at a scale's numbers of cells or axis values."""
    if claim_id == "SY7":
        return sy7_rule(SCALE_CELLS[scale])
    return sy10_trend_rule(SCALE_AXES[scale])


RULES = {"SY7": sy7_rule(SCALE_CELLS["nightly"]), "SY10": sy10_trend_rule(SCALE_AXES["nightly"])}
