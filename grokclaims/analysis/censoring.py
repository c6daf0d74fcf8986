"""Milestones censored by the epoch budget: a run that never reached a milestone within its
budget reached it "later than the budget" (``None`` or NaN here).

All runs of a sweep share one budget, so the order of a censored run after every observed one
is certain: rank tests place it at budget + 1, medians count it as +inf, and a ratio of two
medians of which one is censored has only a one-sided bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def censored_median(epochs: Sequence[float | None]) -> float:
    """Median with never-reached runs (None) as +inf (they are later than anything observed);
    +inf when more than half never reached; NaN for no runs."""
    vals = [math.inf if e is None else float(e) for e in epochs]
    return float(np.median(vals)) if vals else math.nan


def median_of_observed(values: Sequence[float | None]) -> float:
    """Median of the values that are not None; NaN when there are none."""
    vals = [v for v in values if v is not None]
    return float(np.median(vals)) if vals else math.nan


def observed_median(values: Sequence[float | None]) -> float | None:
    """Median of the values that are not None; None when there are none (nothing to show)."""
    vals = [v for v in values if v is not None]
    return float(np.median(vals)) if vals else None


def rank_censored(values, budget: float) -> np.ndarray:
    """Values for a rank test, None or NaN (never reached) replaced by budget + 1: after every
    observed value, since none exceeds the budget."""
    a = np.array(values, dtype=float)
    return np.where(np.isfinite(a), a, budget + 1)


@dataclass(frozen=True)
class MedianRatio:
    """median(num) / median(den) of censored milestones.

    ``bounds`` is None when both medians are observed (the ratio is exact), the one-sided bound
    censoring gives when one is (a censored median is > budget: (ratio, inf) or (0, ratio));
    ``estimate`` is NaN (and ``bounds`` None) when both are censored.
    """

    estimate: float
    bounds: tuple[float, float] | None
    median_num: float
    median_den: float
    budget: int


def median_ratio(num: Sequence[int | None], den: Sequence[int | None], budget: int) -> MedianRatio:
    """The ratio of the censored medians of ``num`` and ``den`` (see ``MedianRatio``)."""
    a, b = censored_median(num), censored_median(den)
    if math.isinf(a) and math.isinf(b):
        return MedianRatio(math.nan, None, a, b, budget)
    if math.isinf(a):
        lo = budget / b
        return MedianRatio(lo, (lo, math.inf), a, b, budget)
    if math.isinf(b):
        hi = a / budget
        return MedianRatio(hi, (0.0, hi), a, b, budget)
    return MedianRatio(a / b, None, a, b, budget)
