"""Song & Ye's memorisation speed: a line of log10 T_mem fitted on the smaller widths and its
error on the larger ones (SY8), and the slope of log10 T on log10 P (SY9).

Each statistic takes the seed columns it is computed on, so that
``grokclaims.analysis.bootstrap.seed_bootstrap_interval`` can bootstrap it over seeds.
"""

from __future__ import annotations

import math

import numpy as np

from grokclaims.analysis.regression import line_fit


def holdout_fit(x, logt, fit_rows, cols) -> tuple[float, float] | None:
    """(slope, intercept) of log10 T = a + b·x fitted on ``fit_rows`` and seed columns ``cols``
    of ``logt`` (n_P, n_seeds) against ``x`` (n_P,); None with fewer than 2 distinct x."""
    xf = np.repeat(x[fit_rows][:, None], len(cols), 1)
    yf = logt[np.ix_(fit_rows, cols)]
    okf = np.isfinite(yf)
    if np.unique(xf[okf]).size < 2:
        return None
    return line_fit(xf[okf], yf[okf])


def holdout_median_error(x, logt, fit_rows, test_rows, cols) -> float:
    """Median |predicted - observed| log10 T on ``test_rows`` of the line ``holdout_fit`` gives;
    NaN when the line or every held-out value is undefined."""
    fit = holdout_fit(x, logt, fit_rows, cols)
    if fit is None:
        return math.nan
    b, a = fit
    yt = logt[np.ix_(test_rows, cols)]
    pred = a + b * x[test_rows][:, None]
    err = np.abs(pred - yt)[np.isfinite(yt)]
    return float(np.median(err)) if err.size else math.nan


def loglog_slope(logP, t, cols) -> float:
    """Slope of log10 T on log10 P over seed columns ``cols`` of ``t`` (n_P, n_seeds), NaN
    (never reached) left out; NaN with fewer than 2 distinct P."""
    y = np.log10(t[:, cols])
    x = np.repeat(logP[:, None], len(cols), 1)
    ok = np.isfinite(y)
    return line_fit(x[ok], y[ok])[0] if np.unique(x[ok]).size >= 2 else math.nan


def slope_difference(logP, t_a, t_b, cols) -> float:
    """``loglog_slope`` of ``t_a`` minus that of ``t_b``, on the same seed columns."""
    return loglog_slope(logP, t_a, cols) - loglog_slope(logP, t_b, cols)
