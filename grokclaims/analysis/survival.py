"""Censored epochs-to-milestone: Kaplan–Meier medians, their intervals, ratios and T(P) points.

A milestone (train ≥ 99 %, validation ≥ 99 %, a grok epoch) that a run never reaches is
right-censored at the epochs it trained: the time is known only to exceed that budget. Nothing
here ever turns a censored time into a number: a median that the Kaplan–Meier curve does not
reach is a *lower bound* (``CensoredMedian.value is None``), and a ratio involving one is a
one-sided bound with an open end (0 or ∞).

The median rule (``km_median``). With S the Kaplan–Meier survival function (``scipy.stats.ecdf``
on ``scipy.stats.CensoredData``), the median is the smallest time t with S(t) <= 0.5; when S is
exactly 0.5 on a stretch [t_k, t_j) between two event times it is the midpoint (t_k + t_j) / 2
(the convention of R's ``survfit``). Without censoring this is the ordinary sample median
(``numpy.median``). When S never reaches 0.5 the median is not reached: its lower bound is the
largest follow-up time t_max. When S stays at exactly 0.5 up to t_max with no later event, the
midpoint's far end is censored: the lower bound is (t_k + t_max) / 2.

The median's interval (Brookmeyer & Crowley 1982, by inverting the pointwise band). With L and U
the lower and upper pointwise bands of S (``sf.confidence_interval``, "log-log" exponential
Greenwood by default, or "linear" Greenwood), the interval runs from the first time L(t) <= 0.5
to the first time U(t) <= 0.5; U never reaching 0.5 gives an upper end of +∞. Where S = 1 (before
the first event) the band is 1; elsewhere a band that SciPy leaves undefined (NaN, e.g. where
S = 0) counts as the widest possible there (L = 0, U = 1). The interval is widened to contain
the point, which it does by construction except for rounding. The default is log-log because
its coverage is near nominal from 8 seeds on while the linear band's is not (at 6 seeds 0.78,
at 10 seeds 0.89, against 0.98 and 0.94 for log-log: ``docs/bootstrap_coverage.md``).

Ratios (``median_ratio``) are bootstrapped over seeds: the (time, censored) pairs of each
group are resampled on their own (exactly enumerated when small, ``bootstrap.resample_plan``).
A resample whose median is censored contributes an open end: for the lower quantile the
smallest ratio it allows, for the upper quantile the largest (∞ for a censored numerator, 0
for a censored denominator), so the interval covers every value consistent with the censoring.

References: Kaplan & Meier (1958); Brookmeyer & Crowley (1982) "A confidence interval for the
median survival time", Biometrics 38; Efron (1981) "Censored data and the bootstrap", JASA 76.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from grokclaims.analysis.bootstrap import MAX_EXACT, resample_plan, weighted_quantile

__all__ = [
    "CensoredMedian",
    "CensoredRatio",
    "CurvePoint",
    "censor_at",
    "km_median",
    "km_median_rows",
    "median_ratio",
    "simulate_median_coverage",
    "simulate_ratio_coverage",
    "t_curve",
]

_TOL = 1e-9
N_RESAMPLES = 4999


@dataclass(frozen=True)
class CensoredMedian:
    """A Kaplan–Meier median: observed (``value``) or only a lower bound (``value is None``)."""

    value: float | None  # the median where S reaches 0.5; None when it does not
    lower_bound: float  # the median is at least this (== value when observed)
    interval: tuple[float, float]  # (lo, hi); hi may be inf
    n: int
    n_censored: int
    confidence: float = 0.95
    details: dict = field(default_factory=dict, compare=False)

    @property
    def observed(self) -> bool:
        return self.value is not None

    def __str__(self) -> str:
        lo, hi = self.interval
        ci = f"[{lo:.4g}, {'∞' if math.isinf(hi) else f'{hi:.4g}'}]"
        if self.value is None:
            return (
                f"> {self.lower_bound:.4g} (not reached; {self.n_censored}/{self.n} censored) {ci}"
            )
        return f"{self.value:.4g} {ci} ({self.n_censored}/{self.n} censored)"


def censor_at(reached, trained) -> tuple[np.ndarray, np.ndarray]:
    """(times, censored) from per-run epochs with NaN for "never reached" and the epochs each
    run trained (a scalar budget or one per run). A NaN becomes a censoring at the epochs
    trained: the follow-up, flagged censored, never a time of the milestone."""
    r = np.asarray(reached, dtype=float)
    t = np.broadcast_to(np.asarray(trained, dtype=float), r.shape)
    censored = np.isnan(r)
    if np.any(~np.isfinite(t[censored])):
        raise ValueError("a run that never reached needs a finite number of epochs trained")
    return np.where(censored, t, r), censored


def _check(times, censored) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(times, dtype=float)
    c = np.asarray(censored, dtype=bool)
    if t.ndim != 1 or c.shape != t.shape:
        raise ValueError(f"times and censored must be 1-D of one length, got {t.shape}, {c.shape}")
    if t.size == 0:
        raise ValueError("no runs")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("times must be finite and >= 0 (a censored run: the epochs trained)")
    return t, c


def _first_at_or_below(q: np.ndarray, s: np.ndarray) -> float | None:
    hit = np.flatnonzero(s <= 0.5 + _TOL)
    return float(q[hit[0]]) if hit.size else None


def _median_of_curve(q: np.ndarray, s: np.ndarray, t_max: float) -> tuple[float | None, float]:
    """(median or None, lower bound) of a right-continuous step curve S given at times q."""
    hit = np.flatnonzero(s <= 0.5 + _TOL)
    if hit.size == 0:
        return None, float(t_max)
    k = hit[0]
    tk = float(q[k])
    if abs(s[k] - 0.5) > _TOL:
        return tk, tk
    below = np.flatnonzero(s < 0.5 - _TOL)
    if below.size:
        m = (tk + float(q[below[0]])) / 2
        return m, m
    return None, (tk + float(t_max)) / 2


def km_median(
    times, censored, *, confidence: float = 0.95, band: str = "log-log"
) -> CensoredMedian:
    """Kaplan–Meier median of right-censored times with its Brookmeyer–Crowley interval.

    ``censored[i]`` True: run i never reached the milestone and ``times[i]`` is the epochs it
    trained. ``band``: "log-log" (exponential Greenwood, the default) or "linear" (Greenwood),
    SciPy's pointwise bands. See the module docstring for the median and interval rules.
    """
    t, c = _check(times, censored)
    t_max = float(t.max())
    if c.all():
        return CensoredMedian(None, t_max, (t_max, math.inf), t.size, t.size, confidence)
    res = stats.ecdf(stats.CensoredData(uncensored=t[~c], right=t[c]))
    q, s = res.sf.quantiles, res.sf.probabilities
    value, lower = _median_of_curve(q, s, t_max)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # undefined band where S = 0 or 1
        ci = res.sf.confidence_interval(confidence, method=band)
    flat = s >= 1 - _TOL  # before the first event: no uncertainty, the band is 1
    lo_band = np.where(flat, 1.0, np.nan_to_num(ci.low.probabilities, nan=0.0))
    hi_band = np.where(flat, 1.0, np.nan_to_num(ci.high.probabilities, nan=1.0))
    lo = _first_at_or_below(q, lo_band)
    hi = _first_at_or_below(q, hi_band)
    lo = lower if lo is None else min(lo, lower)
    hi = math.inf if hi is None or value is None else max(hi, value)
    return CensoredMedian(value, lower, (lo, hi), t.size, int(c.sum()), confidence, {"band": band})


def km_median_rows(times: np.ndarray, censored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``km_median``'s point rule for each row of (B, n) arrays, vectorised (for resampling).

    Returns (median with NaN where not reached, lower bound). NaN here is only an internal
    marker: callers turn it into an open end, never into a number.
    """
    t = np.asarray(times, dtype=float)
    c = np.asarray(censored, dtype=bool)
    b, n = t.shape
    order = np.lexsort((c, t), axis=-1)  # by time; at ties events before censorings
    t = np.take_along_axis(t, order, axis=-1)
    ev = ~np.take_along_axis(c, order, axis=-1)
    at_risk = n - np.arange(n)
    s = np.cumprod(np.where(ev, 1 - 1 / at_risk, 1.0), axis=-1)
    group_end = np.ones((b, n), dtype=bool)
    group_end[:, :-1] = t[:, 1:] != t[:, :-1]
    pos = np.arange(n)
    cond = group_end & (s <= 0.5 + _TOL)
    reached = cond.any(axis=-1)
    k = np.argmax(cond, axis=-1)
    tk = t[np.arange(b), k]
    sk = s[np.arange(b), k]
    exact_half = reached & (np.abs(sk - 0.5) <= _TOL)
    later = group_end & (s < 0.5 - _TOL) & (pos > k[:, None])
    has_later = later.any(axis=-1)
    tj = t[np.arange(b), np.argmax(later, axis=-1)]
    t_max = t[:, -1]
    value = np.where(exact_half, np.where(has_later, (tk + tj) / 2, np.nan), tk)
    value = np.where(reached, value, np.nan)
    lower = np.where(np.isnan(value), np.where(exact_half, (tk + t_max) / 2, t_max), value)
    return value, lower


@dataclass(frozen=True)
class CensoredRatio:
    """median(numerator) / median(denominator) of censored times, with a bootstrap interval."""

    value: float | None  # None when either median is censored
    bounds: tuple[float, float]  # what the point estimates alone allow: (v, v), (b, ∞), (0, b)
    interval: tuple[float, float]  # ends may be 0 or inf (open)
    confidence: float
    numerator: CensoredMedian
    denominator: CensoredMedian
    method: str
    details: dict = field(default_factory=dict, compare=False)

    @property
    def observed(self) -> bool:
        return self.value is not None


def _ratio_envelope(va, la, vb, lb) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest ratio consistent with (value or NaN, lower bound) of a and b."""
    a_obs, b_obs = ~np.isnan(va), ~np.isnan(vb)
    with np.errstate(divide="ignore", invalid="ignore"):
        both = va / vb
        low = np.where(a_obs & b_obs, both, np.where(b_obs, la / vb, 0.0))
        high = np.where(a_obs & b_obs, both, np.where(a_obs & ~b_obs, va / lb, math.inf))
    return (
        np.nan_to_num(low, nan=0.0, posinf=math.inf),
        np.nan_to_num(high, nan=math.inf, posinf=math.inf),
    )


def median_ratio(
    num_times,
    num_censored,
    den_times,
    den_censored,
    *,
    rng: np.random.Generator | None = None,
    confidence: float = 0.95,
    n_resamples: int = N_RESAMPLES,
    max_exact: int = MAX_EXACT,
) -> CensoredRatio:
    """KM median of the numerator group over that of the denominator, with a percentile
    bootstrap interval over seeds (each group resampled on its own; see module docstring).

    A censored numerator median makes the upper end ∞, a censored denominator the lower end 0,
    whatever the resamples say: the data carry no information beyond the follow-up.
    """
    ta, ca = _check(num_times, num_censored)
    tb, cb = _check(den_times, den_censored)
    ma, mb = km_median(ta, ca, confidence=confidence), km_median(tb, cb, confidence=confidence)
    if (ma.value == 0) or (mb.value == 0):
        raise ValueError("a median of 0 epochs has no ratio")
    nan = math.nan
    lo_pt, hi_pt = _ratio_envelope(
        np.array([nan if ma.value is None else ma.value]),
        np.array([ma.lower_bound]),
        np.array([nan if mb.value is None else mb.value]),
        np.array([mb.lower_bound]),
    )
    bounds = (float(lo_pt[0]), float(hi_pt[0]))
    value = ma.value / mb.value if ma.observed and mb.observed else None
    # canonical order: the result must not depend on the order of the seeds
    oa, ob = np.lexsort((ca, ta)), np.lexsort((cb, tb))
    ta, ca, tb, cb = ta[oa], ca[oa], tb[ob], cb[ob]
    idx, w, exact = resample_plan(
        [ta.size, tb.size], rng=rng, n_resamples=n_resamples, max_exact=max_exact
    )
    va, la = km_median_rows(ta[idx[0]], ca[idx[0]])
    vb, lb = km_median_rows(tb[idx[1]], cb[idx[1]])
    r_low, r_high = _ratio_envelope(va, la, vb, lb)
    alpha = 1 - confidence
    lo = float(weighted_quantile(r_low, w, alpha / 2))
    hi = float(weighted_quantile(r_high, w, 1 - alpha / 2))
    lo, hi = min(lo, bounds[0]), max(hi, bounds[1])
    if not ma.observed:
        hi = math.inf
    if not mb.observed:
        lo = 0.0
    open_share = float(w @ (np.isnan(va) | np.isnan(vb)))
    method = f"exact bootstrap ({w.size} resamples)" if exact else f"bootstrap ({w.size} draws)"
    details = {"open_share": open_share, "exact": exact, "n_resamples": int(w.size)}
    return CensoredRatio(value, bounds, (lo, hi), confidence, ma, mb, method, details)


@dataclass(frozen=True)
class CurvePoint:
    """One width of a T(P) curve: an observed median or a lower bound, never an imputed time."""

    P: float
    median: CensoredMedian

    @property
    def observed(self) -> bool:
        return self.median.observed

    @property
    def epochs(self) -> float | None:
        """The median where observed; None where it is only a lower bound."""
        return self.median.value

    @property
    def bound(self) -> float:
        """The median is at least this (equal to ``epochs`` where observed)."""
        return self.median.lower_bound


def t_curve(
    P: Sequence[float],
    times: Sequence[Sequence[float]],
    censored: Sequence[Sequence[bool]],
    *,
    confidence: float = 0.95,
    band: str = "log-log",
) -> tuple[CurvePoint, ...]:
    """Per width, the KM median of the seeds' times: ``times[i]`` and ``censored[i]`` are the
    runs at ``P[i]`` (any number of seeds per width). Sorted by P; a width with no run raises.
    """
    if not len(P) == len(times) == len(censored):
        raise ValueError("P, times and censored must have one entry per width")
    pts = [
        CurvePoint(float(p), km_median(t, c, confidence=confidence, band=band))
        for p, t, c in zip(P, times, censored)
    ]
    if any(not (math.isfinite(pt.P) and pt.P > 0) for pt in pts):
        raise ValueError("P must be finite and positive")
    return tuple(sorted(pts, key=lambda pt: pt.P))


# --------------------------------------------------------------------------- coverage


def _budgeted(rng: np.random.Generator, shape, scale: float, budget_quantile: float | None):
    """Exponential times (median ``scale``·ln 2) censored at the budget: the
    ``budget_quantile`` quantile of the unit-median law (None: no budget)."""
    t = rng.exponential(scale, size=shape)
    if budget_quantile is None:
        return t, np.zeros(shape, dtype=bool)
    budget = -math.log(1 - budget_quantile) / math.log(2)  # in units of the unit median
    return np.minimum(t, budget), t > budget


def simulate_median_coverage(
    n: int,
    *,
    budget_quantile: float | None,
    band: str = "log-log",
    reps: int = 1000,
    rng: np.random.Generator,
) -> dict:
    """Share of ``reps`` data sets of n exponential times (median 1), censored at a common
    budget (the ``budget_quantile`` quantile of the law), whose ``km_median`` interval
    contains 1; and the share whose median was not reached."""
    t, c = _budgeted(rng, (reps, n), 1 / math.log(2), budget_quantile)
    hits = unreached = 0
    for i in range(reps):
        m = km_median(t[i], c[i], band=band)
        hits += m.interval[0] <= 1.0 <= m.interval[1]
        unreached += not m.observed
    return {"coverage": hits / reps, "unreached": unreached / reps, "reps": reps}


def simulate_ratio_coverage(
    n: int,
    *,
    ratio: float,
    budget_quantile: float | None,
    reps: int = 500,
    rng: np.random.Generator,
    n_resamples: int = 999,
) -> dict:
    """Share of ``reps`` pairs of groups (n exponential times each, medians ``ratio`` and 1,
    one common budget at the ``budget_quantile`` quantile of the unit-median law) whose
    ``median_ratio`` interval contains ``ratio``; and the share with an open end."""
    ta, ca = _budgeted(rng, (reps, n), ratio / math.log(2), budget_quantile)
    tb, cb = _budgeted(rng, (reps, n), 1 / math.log(2), budget_quantile)
    hits = opened = 0
    for i in range(reps):
        r = median_ratio(ta[i], ca[i], tb[i], cb[i], rng=rng, n_resamples=n_resamples)
        hits += r.interval[0] <= ratio <= r.interval[1]
        opened += r.interval[0] == 0 or math.isinf(r.interval[1])
    return {"coverage": hits / reps, "open": opened / reps, "reps": reps}
