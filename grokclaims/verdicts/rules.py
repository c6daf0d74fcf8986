"""The verdict of a claim and the rules that decide it.

The rules are asymmetric on purpose: a claim is refuted only when the
data contradict it at the stated confidence; a mere lack of evidence is inconclusive, never a
silent pass and never a refutation.

Shares of seeds, equivalence, and bands decided on intervals (CLAIMS.md revision 2) are in
``grokclaims.verdicts.decisions``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

from grokclaims.analysis.statistic import StatResult
from grokclaims.verdicts.result import ClaimResult, Verdict, all_finite, claim_result, fmt

# The claims' significance level ("p < 0.05" throughout CLAIMS.md).
ALPHA = 0.05


def decide_interval(
    name: str,
    estimate: float,
    interval: tuple[float, float] | None,
    lo: float,
    hi: float,
    tolerance: str,
    *,
    p_value: float | None = None,
    details: dict | None = None,
) -> ClaimResult:
    """The claim: the quantity lies in [lo, hi] (either bound may be infinite).

    Supported when the whole interval lies inside [lo, hi]; refuted when it lies entirely
    outside (every value it allows contradicts the claim); inconclusive when it straddles a
    bound or is missing. With a 95 % interval of nominal coverage, a true claim is refuted at
    most 2.5 % of the time (the interval must miss the truth on the far side).
    """
    if not lo <= hi:
        raise ValueError(f"lo ({lo}) must not exceed hi ({hi})")
    band = f"[{fmt(lo)}, {fmt(hi)}]"
    if interval is None or any(math.isnan(v) for v in interval):
        verdict, rule = Verdict.INCONCLUSIVE, "inconclusive: no confidence interval could be formed"
        return claim_result(name, estimate, None, p_value, tolerance, verdict, rule, details)
    a, b = sorted(interval)
    ci = f"interval [{fmt(a)}, {fmt(b)}]"
    if lo <= a and b <= hi:
        verdict, rule = Verdict.SUPPORTED, f"supported: the {ci} lies inside {band}"
    elif b < lo or a > hi:
        verdict, rule = Verdict.REFUTED, f"refuted: the {ci} lies entirely outside {band}"
    else:
        verdict, rule = Verdict.INCONCLUSIVE, f"inconclusive: the {ci} straddles a bound of {band}"
    return claim_result(name, estimate, (a, b), p_value, tolerance, verdict, rule, details)


def decide_point(
    name: str,
    estimate: float,
    lo: float,
    hi: float,
    tolerance: str,
    *,
    details: dict | None = None,
) -> ClaimResult:
    """A deterministic check of a number without an interval (R² >= 0.9, a ratio >= 3).

    Supported when lo <= estimate <= hi, refuted otherwise, inconclusive when it is NaN. Use
    ``decide_interval`` instead whenever the number has sampling noise worth an interval.
    """
    band = f"[{fmt(lo)}, {fmt(hi)}]"
    if estimate is None or math.isnan(estimate):
        verdict, rule = Verdict.INCONCLUSIVE, "inconclusive: the estimate is undefined"
    elif lo <= estimate <= hi:
        verdict, rule = Verdict.SUPPORTED, f"supported: {fmt(estimate)} lies in {band}"
    else:
        verdict, rule = Verdict.REFUTED, f"refuted: {fmt(estimate)} lies outside {band}"
    return claim_result(name, estimate, None, None, tolerance, verdict, rule, details)


def decide_directional(
    name: str,
    estimate: float,
    p_claimed: float | None,
    p_opposite: float | None,
    alpha: float = ALPHA,
    tolerance: str = "",
    *,
    interval: tuple[float, float] | None = None,
    details: dict | None = None,
) -> ClaimResult:
    """A directional claim ("ρ < 0 with one-sided p < 0.05").

    Supported when the one-sided test in the claimed direction has p < alpha; refuted when
    the one-sided test in the opposite direction has p < alpha; inconclusive otherwise. An
    absent effect is not refuted: without an equivalence margin in the source, "no evidence
    either way" is inconclusive. A true claim is therefore refuted at most alpha of the time
    (exactly alpha at zero effect with a continuous test; less for any real effect).
    """
    tolerance = tolerance or f"one-sided p < {alpha} in the claimed direction"
    if not all_finite(p_claimed):
        verdict, rule = (
            Verdict.INCONCLUSIVE,
            "inconclusive: no p-value (too few points or constant data)",
        )
    elif p_claimed < alpha:
        rule = f"supported: one-sided p = {fmt(p_claimed)} < {alpha} in the claimed direction"
        verdict = Verdict.SUPPORTED
    elif all_finite(p_opposite) and p_opposite < alpha:
        rule = f"refuted: one-sided p = {fmt(p_opposite)} < {alpha} in the opposite direction"
        verdict = Verdict.REFUTED
    else:
        rule = (
            f"inconclusive: neither one-sided p is below {alpha} "
            f"(claimed {fmt(p_claimed)}, opposite {fmt(p_opposite)})"
        )
        verdict = Verdict.INCONCLUSIVE
    details = {**(details or {}), "p_opposite": p_opposite}
    return claim_result(name, estimate, interval, p_claimed, tolerance, verdict, rule, details)


def decide_test(
    name: str,
    test: StatResult,
    alpha: float = ALPHA,
    tolerance: str = "",
    *,
    interval: tuple[float, float] | None = None,
) -> ClaimResult:
    """``decide_directional`` on a one-sided ``StatResult`` (e.g. from ``trend_test``)."""
    if test.alternative == "two-sided":
        raise ValueError("decide_test needs a one-sided test (alternative 'less' or 'greater')")
    details = {"method": test.method, "n": test.n, **test.details}
    return decide_directional(
        name,
        test.statistic,
        test.p_value,
        test.p_opposite,
        alpha,
        tolerance,
        interval=interval,
        details=details,
    )


def decide_all(
    name: str,
    flags: Sequence[bool | None],
    *,
    tolerance: str = "every run",
    labels: Sequence[str] | None = None,
    details: dict | None = None,
) -> ClaimResult:
    """ "Every seed groks": supported if every run passes, refuted if any usable run fails.

    A None flag is an unusable run: with all usable runs passing it makes the result
    inconclusive (the missing run might have failed). No usable run: inconclusive.
    """
    flags = list(flags)
    labels = [str(i) for i in range(len(flags))] if labels is None else list(labels)
    if len(labels) != len(flags):
        raise ValueError(f"labels must have {len(flags)} entries, got {len(labels)}")
    usable = [f for f in flags if f is not None]
    failed = [lab for lab, f in zip(labels, flags) if f is not None and not f]
    n_missing = len(flags) - len(usable)
    estimate = sum(map(bool, usable)) / len(usable) if usable else math.nan
    details = {**(details or {}), "n": len(flags), "n_unusable": n_missing, "failed": failed}
    if not usable:
        verdict, rule = Verdict.INCONCLUSIVE, "inconclusive: no usable runs"
    elif failed:
        shown = ", ".join(failed[:5]) + (", …" if len(failed) > 5 else "")
        verdict = Verdict.REFUTED
        rule = f"refuted: {len(failed)} of {len(usable)} usable runs fail ({shown})"
    elif n_missing:
        verdict = Verdict.INCONCLUSIVE
        rule = f"inconclusive: all {len(usable)} usable runs pass but {n_missing} are unusable"
    else:
        verdict, rule = Verdict.SUPPORTED, f"supported: all {len(usable)} runs pass"
    return claim_result(name, estimate, None, None, tolerance, verdict, rule, details)


def decide_conjunction(
    name: str,
    parts: Mapping[str, ClaimResult],
    *,
    tolerance: str | None = None,
    headline: str | None = None,
) -> ClaimResult:
    """A claim made of several assertions (CH3: "no seed groks at wd <= 0.1; ...; >= 3x").

    Refuted if any part is refuted; supported if all are supported; inconclusive otherwise.
    Each part is kept in ``details``. The estimate is the share of parts supported, or, with
    ``headline`` naming a part, that part's estimate, interval and p-value (the claim's key
    number). The tolerance defaults to the parts' names.
    """
    if not parts:
        raise ValueError("parts must not be empty")
    if headline is not None and headline not in parts:
        raise ValueError(f"headline {headline!r} is not one of the parts {list(parts)}")
    by = {v: [k for k, r in parts.items() if r.verdict is v] for v in Verdict}
    details = {k: r.to_dict() for k, r in parts.items()}
    if tolerance is None:
        tolerance = "all of: " + "; ".join(parts)
    if by[Verdict.REFUTED]:
        verdict, rule = (
            Verdict.REFUTED,
            f"refuted: part(s) {', '.join(by[Verdict.REFUTED])} refuted",
        )
    elif by[Verdict.INCONCLUSIVE]:
        shown = ", ".join(by[Verdict.INCONCLUSIVE])
        verdict, rule = Verdict.INCONCLUSIVE, f"inconclusive: part(s) {shown} inconclusive"
    else:
        verdict, rule = Verdict.SUPPORTED, f"supported: all {len(parts)} parts supported"
    if headline is None:
        return claim_result(
            name,
            len(by[Verdict.SUPPORTED]) / len(parts),
            None,
            None,
            tolerance,
            verdict,
            rule,
            details,
        )
    key = parts[headline]
    return claim_result(
        key.name, key.estimate, key.interval, key.p_value, tolerance, verdict, rule, details
    )


def parts_of(conjunction: ClaimResult) -> dict[str, ClaimResult]:
    """The parts of a ``decide_conjunction`` result, as results again (for ``record_parts``)."""
    return {
        k: ClaimResult.from_dict(d)
        for k, d in conjunction.details.items()
        if isinstance(d, Mapping) and "verdict" in d and "rule" in d
    }


def with_headline(
    result: ClaimResult,
    name: str,
    estimate: float | None,
    interval: tuple[float, float] | None = None,
    tolerance: str | None = None,
    p_value: float | None = None,
) -> ClaimResult:
    """``result``'s verdict and rule shown with the claim's key number (a measurement that is
    not itself one of the decided parts, e.g. the capacity C of SY1)."""
    return dataclasses.replace(
        result,
        name=name,
        estimate=math.nan if estimate is None else float(estimate),
        interval=None if interval is None else tuple(interval),
        p_value=p_value,
        tolerance=tolerance or result.tolerance,
    )


def decide_unmeasurable(name: str, tolerance: str, reason: str, **details) -> ClaimResult:
    """Inconclusive because the quantity could not be measured (``reason`` says why)."""
    verdict, rule = Verdict.INCONCLUSIVE, f"inconclusive: {reason}"
    return ClaimResult(name, math.nan, None, None, tolerance, verdict, rule, details)
