"""Agreement of two measurements of one quantity: Lin's concordance correlation coefficient,
with a bootstrap or a jackknife interval.

Reference: Lin (1989) "A concordance correlation coefficient to evaluate reproducibility".
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from grokclaims.analysis.bootstrap import CONFIDENCE, N_RESAMPLES, bootstrap_interval
from grokclaims.analysis.statistic import MIN_POINTS, Estimate, paired


def _ccc(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Lin's concordance with 1/n moments, along ``axis`` (vectorised for the bootstrap)."""
    mx, my = x.mean(axis=axis, keepdims=True), y.mean(axis=axis, keepdims=True)
    sxy = ((x - mx) * (y - my)).mean(axis=axis)
    den = x.var(axis=axis) + y.var(axis=axis) + (mx - my).squeeze(axis) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 2 * sxy / np.where(den > 0, den, 1), np.nan)


def lins_ccc(x, y) -> float:
    """Lin's concordance correlation 2·s_xy / (s_x² + s_y² + (x̄ - ȳ)²), 1/n moments.

    1 for identical non-constant data; penalises both scatter and a shift or scale away from
    the identity line. NaN with fewer than 2 points or when both are the same constant.
    """
    a, b, _ = paired(x, y)
    return float(_ccc(a, b)) if a.size >= 2 else math.nan


def ccc_bootstrap_ci(
    x,
    y,
    *,
    rng: np.random.Generator,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
) -> Estimate:
    """Lin's CCC with a paired BCa bootstrap interval over the (x, y) points
    (``bootstrap.bootstrap_interval`` on the points' indices: exact for <= 9 points).

    With few points this interval is too narrow: in our simulations at true CCC = 0 each
    tail is missed 6-11 % of the time for 8-20 points (nominal 2.5 %). Prefer
    ``ccc_jackknife_ci`` below about 30 points.
    """
    a, b, dropped = paired(x, y)
    value = lins_ccc(a, b)
    if a.size < 2 or not math.isfinite(value):
        details = {"reason": "too few points or NaN statistic", "n_dropped": dropped}
        return Estimate(value, None, "none", a.size, details)

    def stat(i, axis=-1):
        k = i.astype(np.intp)
        return np.nan_to_num(_ccc(a[k], b[k], axis=axis), nan=0.0)  # a constant resample: 0

    r = bootstrap_interval(
        np.arange(a.size, dtype=float),
        stat,
        rng=rng,
        confidence=confidence,
        method="BCa",
        n_resamples=n_resamples,
    )
    return Estimate(value, r.interval, r.method, a.size, {"n_dropped": dropped, "exact": r.exact})


def ccc_jackknife_ci(x, y, *, confidence: float = CONFIDENCE) -> Estimate:
    """Lin's CCC with a jackknife interval on Fisher's z = atanh(CCC), t on n - 1 df.

    The leave-one-out pseudo-values of z give a mean and standard error; the interval is
    tanh of mean ± t·se. Deterministic, and in our simulations near nominal for 6-20 points
    (each tail missed about 3 % of the time for a nominal 2.5 %), unlike the bootstrap.
    """
    a, b, dropped = paired(x, y)
    n, value = a.size, lins_ccc(a, b)
    if n < MIN_POINTS or not math.isfinite(value):
        details = {"reason": "too few points or undefined CCC", "n_dropped": dropped}
        return Estimate(value, None, "none", n, details)
    leave_out = np.array([np.delete(np.arange(n), i) for i in range(n)])  # (n, n - 1)
    bound = 1 - 1e-12  # keeps atanh finite for perfectly concordant data
    z = np.arctanh(np.clip(value, -bound, bound))
    z_i = np.arctanh(np.clip(_ccc(a[leave_out], b[leave_out]), -bound, bound))
    if not np.all(np.isfinite(z_i)):
        details = {"reason": "a leave-one-out CCC is undefined", "n_dropped": dropped}
        return Estimate(value, None, "none", n, details)
    pseudo = n * z - (n - 1) * z_i
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * pseudo.std(ddof=1) / math.sqrt(n)
    lo, hi = np.tanh(pseudo.mean() - half), np.tanh(pseudo.mean() + half)
    return Estimate(value, (float(lo), float(hi)), "jackknife Fisher z", n, {"n_dropped": dropped})
