"""Least-squares regressions and their F-tests: calibration against the identity, nested
models, the slope of a log ratio along each swept axis (Holm across axes), and a straight line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from grokclaims.analysis.multiplicity import holm
from grokclaims.analysis.permutation import N_RESAMPLES, permutation
from grokclaims.analysis.statistic import MIN_POINTS, StatResult, degenerate, paired

CONSTANT = 1e-12  # a response whose range is below this share of its size does not vary


@dataclass(frozen=True)
class AxisTrend:
    """The slope of the log ratio on one swept axis, with raw and Holm-adjusted p-values."""

    axis: str
    slope: float
    p_value: float
    p_holm: float
    n: int
    method: str
    min_p: float  # the smallest p-value the method can give with these n cells


def _rss(X: np.ndarray, y: np.ndarray) -> tuple[float, int, np.ndarray]:
    """Residual sum of squares of y on [1, X], the rank of [1, X], and the coefficients."""
    A = np.column_stack([np.ones(y.size), X])
    coef, _, rank, _ = np.linalg.lstsq(A, y, rcond=None)
    r = y - A @ coef
    return float(r @ r), int(rank), coef


def _f_result(rss0, rss1, df_num, df_den, n, dropped, details) -> StatResult:
    """Upper-tail F for a reduction rss0 -> rss1 with (df_num, df_den) degrees of freedom."""
    details = {**details, "df": (df_num, df_den), "n_dropped": dropped}
    if df_num <= 0 or df_den <= 0:
        return degenerate(n, dropped, "no degrees of freedom", "greater")
    drop = max(rss0 - rss1, 0.0)
    scale = 1e-12 * max(rss0, 1e-300)  # a reduction at rounding level is none
    if rss1 <= scale:
        f, p = (0.0, 1.0) if drop <= scale else (math.inf, 0.0)
    else:
        f = (drop / df_num) / (rss1 / df_den)
        p = float(stats.f.sf(f, df_num, df_den))
    return StatResult(float(f), p, "greater", n, "F", None, details)


def calibration_f_test(x, y) -> StatResult:
    """Joint F-test of (intercept, slope) = (0, 1) in the OLS fit y = a + b·x.

    F = [(RSS_identity - RSS_fit) / 2] / [RSS_fit / (n - 2)] on (2, n - 2) degrees of freedom;
    a small p says y is not x (e.g. log onset against log P×) up to noise.
    """
    a, b, dropped = paired(x, y)
    if a.size < MIN_POINTS or np.ptp(a) == 0:
        return degenerate(a.size, dropped, "fewer than 3 points or constant x", "greater")
    rss1, _, coef = _rss(a, b)
    rss0 = float(((b - a) ** 2).sum())
    details = {"intercept": float(coef[0]), "slope": float(coef[1])}
    return _f_result(rss0, rss1, 2, a.size - 2, a.size, dropped, details)


def nested_f_test(X_reduced, X_full, y) -> StatResult:
    """F-test that the columns of ``X_full`` beyond ``X_reduced`` explain more of y.

    Both designs get an intercept here; pass None (or an (n, 0) array) for an intercept-only
    reduced model. Degrees of freedom come from the design ranks, so collinear columns do not
    inflate them. Rows with a NaN anywhere are dropped. A constant response has nothing to
    explain: F and p are NaN. Example: does log P× add over the swept hyper-parameters in
    predicting log onset?
    """
    yv = np.asarray(y, dtype=float)
    if yv.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {yv.shape}")
    designs = []
    for name, X in (("X_reduced", X_reduced), ("X_full", X_full)):
        X = np.empty((yv.size, 0)) if X is None else np.asarray(X, dtype=float)
        X = X[:, None] if X.ndim == 1 else X
        if X.ndim != 2 or X.shape[0] != yv.size:
            raise ValueError(f"{name} must have {yv.size} rows, got shape {X.shape}")
        designs.append(X)
    ok = np.isfinite(yv) & np.all(np.isfinite(np.hstack(designs)), axis=1)
    yv, Xr, Xf = yv[ok], designs[0][ok], designs[1][ok]
    dropped = int(ok.size - ok.sum())
    if yv.size < MIN_POINTS:
        return degenerate(yv.size, dropped, f"fewer than {MIN_POINTS} points", "greater")
    if np.ptp(yv) <= CONSTANT * max(float(np.max(np.abs(yv))), 1e-300):
        # Nothing varies, so nothing can be explained: the residual sums are rounding noise
        # and their ratio an arbitrary F (once F = 64, p = 2e-8 for y = 4.3 everywhere).
        return degenerate(yv.size, dropped, "the response is constant", "greater")
    rss_r, rank_r, _ = _rss(Xr, yv)
    rss_f, rank_f, _ = _rss(Xf, yv)
    details = {"rss_reduced": rss_r, "rss_full": rss_f}
    return _f_result(rss_r, rss_f, rank_f - rank_r, yv.size - rank_f, yv.size, dropped, details)


def per_axis_trend(
    axis_values: Mapping[str, Sequence[float]],
    log_ratios: Mapping[str, Sequence[float]],
    *,
    method: str = "t",
    rng: np.random.Generator | None = None,
    n_resamples: int = N_RESAMPLES,
) -> tuple[AxisTrend, ...]:
    """Per swept axis, the OLS slope of the log ratio on the axis value, Holm across axes.

    ``method="t"``: the slope's two-sided t-test (exact under normal residuals).
    ``method="permutation"`` (needs ``rng``): a two-sided permutation test, exact for up to 7
    cells, but with n cells it cannot go below 2/n!: 4 cells give 1/12 and 5 cells 1/60, so
    after Holm over 3 axes nothing can be significant at 0.05. ``min_p`` says what each axis
    can reach, so a claim of "no trend" can tell an absent effect from a powerless test.
    Pass log10 of multiplicative axes (weight decay, learning rate). An axis with fewer than
    3 usable cells or a single value has a NaN p-value and is left out of the Holm family.
    """
    if set(axis_values) != set(log_ratios):
        raise ValueError("log_ratios must have the same axes as axis_values")
    if method not in ("t", "permutation"):
        raise ValueError(f"method must be 't' or 'permutation', not {method!r}")
    if method == "permutation" and rng is None:
        raise ValueError("method='permutation' needs rng")
    raw = []
    for name in axis_values:
        x, y, _ = paired(
            axis_values[name], log_ratios[name], f"axis_values[{name!r}]", f"log_ratios[{name!r}]"
        )
        if x.size < MIN_POINTS or np.ptp(x) == 0:
            raw.append((name, math.nan, math.nan, x.size, "none", math.nan))
        elif method == "t":
            fit = stats.linregress(x, y)
            raw.append((name, fit.slope, fit.pvalue, x.size, "t", 0.0))
        else:
            xc = (x - x.mean()) / ((x - x.mean()) ** 2).sum()

            def slope(yy, axis=-1, xc=xc):
                return (np.moveaxis(yy, axis, -1) * xc).sum(axis=-1)

            b, p, _, how = permutation(y, slope, "two-sided", rng, n_resamples)
            exact = n_resamples >= math.factorial(x.size)
            min_p = 2 / math.factorial(x.size) if exact else 2 / (n_resamples + 1)
            raw.append((name, b, p, x.size, how, min(min_p, 1.0)))
    adjusted = holm([r[2] for r in raw])
    return tuple(
        AxisTrend(name, float(b), float(p), float(q), n, how, float(min_p))
        for (name, b, p, n, how, min_p), q in zip(raw, adjusted)
    )


def line_fit(x, y) -> tuple[float, float]:
    """(slope, intercept) of the least-squares line y = intercept + slope·x (``np.polyfit``)."""
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept)
