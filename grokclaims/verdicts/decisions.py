"""Decision rules of CLAIMS.md revision 2: equivalence (TOST), shares of seeds, bands of
intervals with open ends, and censored medians and ratios.

Each rule returns the ``ClaimResult`` of ``grokclaims.verdicts.rules`` with the sentence that
decided it in ``rule``, as the rules there do. The rules are three-valued and asymmetric:

- **Equivalence** (``decide_equivalence``, ``decide_equivalence_t``): supported when the 90 %
  interval lies inside the margin (two one-sided tests at 5 %, Schuirmann 1987); refuted when
  the 95 % interval lies entirely outside it; inconclusive otherwise. An interval that merely
  contains 0 never supports.
- **Shares of seeds** (``decide_share``): with k of n seeds agreeing and the claim "a share of
  at least ``level``", supported when the one-sided 95 % Clopper–Pearson lower bound is above
  the level, refuted when the one-sided 95 % upper bound is below it, else inconclusive
  (``scipy.stats.binomtest(...).proportion_ci``, the exact method).
- **Bands** (``decide_band``, ``decide_ratio``, ``decide_median``): supported when the
  interval lies inside [lo, hi], refuted when it lies entirely outside, inconclusive when it
  straddles a bound. An open end (None, ±∞, or 0 for a ratio's censored denominator) is
  handled as the value it allows: an interval (3, ∞) lies inside a band [2, ∞) and straddles
  [2, 10]. A censored median or ratio has no estimate (NaN in the result, its bound in
  ``details``): its verdict comes from the interval alone.

References: Schuirmann (1987) "A comparison of the two one-sided tests procedure",
J. Pharmacokinet. Biopharm. 15; Clopper & Pearson (1934) Biometrika 26.
"""

from __future__ import annotations

import dataclasses
import math

from scipy import stats

from grokclaims.analysis.survival import CensoredMedian, CensoredRatio
from grokclaims.verdicts.result import ClaimResult, Verdict
from grokclaims.verdicts.rules import ALPHA

__all__ = [
    "decide_band",
    "decide_equivalence",
    "decide_equivalence_t",
    "decide_median",
    "decide_ratio",
    "decide_share",
    "share_bounds",
]


def _fmt(x: float | None) -> str:
    if x is None or math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return f"{x:.3g}"


def _span(a: float, b: float) -> str:
    return f"[{_fmt(a)}, {_fmt(b)}]"


def _margin(margin: float | tuple[float, float]) -> tuple[float, float]:
    if isinstance(margin, tuple):
        lo, hi = map(float, margin)
    else:
        m = float(margin)
        if not m > 0:
            raise ValueError(f"a symmetric margin must be > 0, got {margin}")
        lo, hi = -m, m
    if not lo < hi:
        raise ValueError(f"margin must have lo < hi, got {margin}")
    return lo, hi


def _interval(interval) -> tuple[float, float] | None:
    """Sorted (lo, hi) with None ends open (-∞ / +∞); None when missing or NaN."""
    if interval is None:
        return None
    a, b = interval
    a = -math.inf if a is None else float(a)
    b = math.inf if b is None else float(b)
    if math.isnan(a) or math.isnan(b):
        return None
    return (a, b) if a <= b else (b, a)


def _estimate(x: float | None) -> float:
    return math.nan if x is None else float(x)


def decide_equivalence(
    name: str,
    estimate: float,
    interval90: tuple[float, float] | None,
    interval95: tuple[float, float] | None,
    margin: float | tuple[float, float],
    *,
    tolerance: str = "",
    p_value: float | None = None,
    details: dict | None = None,
) -> ClaimResult:
    """TOST on given intervals: supported if the 90 % one lies strictly inside the margin
    (±m or (lo, hi)), refuted if the 95 % one lies entirely outside it, else inconclusive.
    The result carries the 95 % interval; both are in ``details``."""
    lo, hi = _margin(margin)
    band = _span(lo, hi)
    tolerance = tolerance or f"{name} equivalent to the margin {band} (TOST, 90 % interval)"
    i90, i95 = _interval(interval90), _interval(interval95)
    details = {**(details or {}), "interval90": i90, "interval95": i95, "margin": (lo, hi)}
    if i90 is None or i95 is None:
        verdict, rule = Verdict.INCONCLUSIVE, "inconclusive: no confidence interval could be formed"
    elif lo < i90[0] and i90[1] < hi:
        verdict = Verdict.SUPPORTED
        rule = f"supported: the 90 % interval {_span(*i90)} lies inside the margin {band} (TOST)"
    elif i95[1] < lo or i95[0] > hi:
        verdict = Verdict.REFUTED
        rule = f"refuted: the 95 % interval {_span(*i95)} lies entirely outside the margin {band}"
    else:
        verdict = Verdict.INCONCLUSIVE
        rule = (
            f"inconclusive: the 90 % interval {_span(*i90)} is not inside the margin {band} "
            f"and the 95 % interval {_span(*i95)} is not outside it"
        )
    return ClaimResult(name, estimate, i95, p_value, tolerance, verdict, rule, details)


def decide_equivalence_t(
    name: str,
    estimate: float,
    se: float,
    margin: float | tuple[float, float],
    *,
    df: float | None = None,
    tolerance: str = "",
    details: dict | None = None,
) -> ClaimResult:
    """``decide_equivalence`` with t (``df``) or normal (df None) intervals estimate ± q·se.

    ``p_value`` is the TOST p-value: the larger of the two one-sided p-values against the
    margin's ends (below 0.05 exactly when the 90 % interval lies inside the margin).
    """
    lo, hi = _margin(margin)
    dist = stats.norm if df is None else stats.t(df)
    if not (math.isfinite(estimate) and math.isfinite(se) and se >= 0):
        return decide_equivalence(name, estimate, None, None, (lo, hi), tolerance=tolerance)
    q90, q95 = dist.ppf(0.95), dist.ppf(0.975)
    i90 = (estimate - q90 * se, estimate + q90 * se)
    i95 = (estimate - q95 * se, estimate + q95 * se)
    if se > 0:
        p = max(dist.sf((estimate - lo) / se), dist.cdf((estimate - hi) / se))
    else:
        p = 0.0 if lo < estimate < hi else 1.0
    details = {**(details or {}), "se": se, "df": df}
    return decide_equivalence(
        name, estimate, i90, i95, (lo, hi), tolerance=tolerance, p_value=float(p), details=details
    )


def share_bounds(successes: int, n: int, *, alpha: float = ALPHA) -> tuple[float, float]:
    """One-sided (1 − alpha) Clopper–Pearson lower and upper bounds of a share k/n."""
    if not 0 <= successes <= n or n < 1:
        raise ValueError(f"need 0 <= successes <= n and n >= 1, got {successes}/{n}")
    k, n = int(successes), int(n)
    lower = stats.binomtest(k, n, alternative="greater").proportion_ci(1 - alpha).low
    upper = stats.binomtest(k, n, alternative="less").proportion_ci(1 - alpha).high
    return float(lower), float(upper)


def decide_share(
    name: str,
    successes: int,
    n: int,
    level: float,
    *,
    alpha: float = ALPHA,
    tolerance: str = "",
    details: dict | None = None,
) -> ClaimResult:
    """ "In at least ``level`` of seeds": supported when the one-sided (1 − alpha) lower bound
    is above ``level``, refuted when the upper bound is below it, else inconclusive.

    ``p_value``: the exact binomial test of share <= level against > level. "In every seed"
    is not this rule: use ``rules.decide_all``.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    tolerance = tolerance or f"share of seeds > {level:.3g} (one-sided {1 - alpha:.0%} bound)"
    details = {**(details or {}), "successes": int(successes), "n": int(n), "level": level}
    if n == 0:
        verdict, rule = Verdict.INCONCLUSIVE, "inconclusive: no usable runs"
        return ClaimResult(name, math.nan, None, None, tolerance, verdict, rule, details)
    lower, upper = share_bounds(successes, n, alpha=alpha)
    p = float(stats.binomtest(int(successes), int(n), level, alternative="greater").pvalue)
    k, bar = int(successes), f"{level:.3g}"
    cp = f"the one-sided {1 - alpha:.0%} Clopper–Pearson"
    if lower > level:
        verdict = Verdict.SUPPORTED
        rule = f"supported: {k}/{n}; {cp} lower bound {lower:.3g} is above {bar}"
    elif upper < level:
        verdict = Verdict.REFUTED
        rule = f"refuted: {k}/{n}; {cp} upper bound {upper:.3g} is below {bar}"
    else:
        verdict = Verdict.INCONCLUSIVE
        rule = f"inconclusive: {k}/{n}; {cp} bounds [{lower:.3g}, {upper:.3g}] contain {bar}"
    return ClaimResult(name, k / n, (lower, upper), p, tolerance, verdict, rule, details)


def decide_band(
    name: str,
    estimate: float | None,
    interval: tuple[float | None, float | None] | None,
    lo: float,
    hi: float,
    *,
    tolerance: str = "",
    p_value: float | None = None,
    details: dict | None = None,
) -> ClaimResult:
    """The quantity lies in [lo, hi] (either may be infinite), decided on its interval.

    An interval end of None is open (-∞ / +∞). ``estimate`` None (a censored quantity) is
    stored as NaN; the verdict never depends on the estimate.
    """
    if not lo <= hi:
        raise ValueError(f"lo ({lo}) must not exceed hi ({hi})")
    band = _span(lo, hi)
    tolerance = tolerance or f"{name} in {band}"
    ci = _interval(interval)
    if ci is None:
        verdict, rule = Verdict.INCONCLUSIVE, "inconclusive: no confidence interval could be formed"
        return ClaimResult(
            name, _estimate(estimate), None, p_value, tolerance, verdict, rule, details or {}
        )
    a, b = ci
    opened = " (open end)" if math.isinf(a) or math.isinf(b) else ""
    text = f"interval {_span(a, b)}{opened}"
    if lo <= a and b <= hi:
        verdict, rule = Verdict.SUPPORTED, f"supported: the {text} lies inside {band}"
    elif b < lo or a > hi:
        verdict, rule = Verdict.REFUTED, f"refuted: the {text} lies entirely outside {band}"
    else:
        verdict, rule = (
            Verdict.INCONCLUSIVE,
            f"inconclusive: the {text} straddles a bound of {band}",
        )
    return ClaimResult(
        name, _estimate(estimate), (a, b), p_value, tolerance, verdict, rule, details or {}
    )


def decide_ratio(
    name: str, ratio: CensoredRatio, lo: float, hi: float, *, tolerance: str = ""
) -> ClaimResult:
    """A ratio of KM medians in [lo, hi], decided on its bootstrap interval (ends may be 0 or
    ∞ where a median is censored). A censored ratio has a NaN estimate; its bounds are kept."""
    details = {
        "observed": ratio.observed,
        "bounds": ratio.bounds,
        "numerator": str(ratio.numerator),
        "denominator": str(ratio.denominator),
        "method": ratio.method,
        **ratio.details,
    }
    result = decide_band(
        name, ratio.value, ratio.interval, lo, hi, tolerance=tolerance, details=details
    )
    if not ratio.observed:
        b0, b1 = ratio.bounds
        note = f" (ratio censored: only known to lie in {_span(b0, b1)})"
        result = dataclasses.replace(result, rule=result.rule + note)
    return result


def decide_median(
    name: str, median: CensoredMedian, lo: float, hi: float, *, tolerance: str = ""
) -> ClaimResult:
    """A KM median in [lo, hi], decided on its interval; a median not reached has a NaN
    estimate and ``details['lower_bound']``."""
    details = {
        "observed": median.observed,
        "lower_bound": median.lower_bound,
        "n": median.n,
        "n_censored": median.n_censored,
    }
    return decide_band(
        name, median.value, median.interval, lo, hi, tolerance=tolerance, details=details
    )
