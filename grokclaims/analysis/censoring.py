"""Milestones censored by the epoch budget: a run that never reached a milestone within its
budget reached it "later than the budget" (``None`` or NaN here).

All runs of a sweep share one budget, so the order of a censored run after every observed one
is certain: rank tests place it at budget + 1 (the rank placement CLAIMS.md revision 2
allows). Medians and ratios of censored times are Kaplan–Meier estimates:
``grokclaims.analysis.survival``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


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
