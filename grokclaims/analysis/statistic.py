"""The results of the statistical tests, and the input handling every test shares.

Degenerate inputs (fewer than ``MIN_POINTS`` usable points, constant data) give NaN statistics
with the reason in ``details``, never an exception; NaN pairs are dropped and counted.
Mismatched lengths are a caller's bug and raise ``ValueError`` naming the argument.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# A rank correlation or a regression on fewer points has no usable null distribution.
MIN_POINTS = 3


@dataclass(frozen=True)
class StatResult:
    """A test statistic with its p-value in the direction of ``alternative``."""

    statistic: float
    p_value: float
    alternative: str  # "two-sided", "less", "greater" (F tests: "greater", the upper tail)
    n: int  # points used after dropping NaN
    method: str  # how the p-value was obtained, e.g. "exact permutation (120)"
    p_opposite: float | None = None  # one-sided tests: the p-value in the other direction
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a confidence interval (None when none could be formed)."""

    value: float
    interval: tuple[float, float] | None
    method: str
    n: int
    details: dict = field(default_factory=dict)


def paired(x, y, xname: str = "x", yname: str = "y") -> tuple[np.ndarray, np.ndarray, int]:
    """1-D float copies of x and y without the pairs where either is NaN or infinite."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"{xname} must be 1-D, got shape {a.shape}")
    if b.shape != a.shape:
        raise ValueError(f"{yname} must have the length of {xname} ({a.size}), got {b.shape}")
    ok = np.isfinite(a) & np.isfinite(b)
    return a[ok], b[ok], int(a.size - ok.sum())


def degenerate(n: int, dropped: int, reason: str, alternative: str) -> StatResult:
    p_opp = None if alternative == "two-sided" else math.nan
    details = {"reason": reason, "n_dropped": dropped}
    return StatResult(math.nan, math.nan, alternative, n, "none", p_opp, details)


def opposite(alternative: str) -> str:
    return {"less": "greater", "greater": "less"}.get(alternative, "two-sided")


def check_alternative(alternative: str) -> None:
    if alternative not in ("two-sided", "less", "greater"):
        raise ValueError(f"alternative must be 'two-sided', 'less' or 'greater', not {alternative}")


def share(flags) -> float | None:
    """The share of true values among ``flags`` (booleans, any shape); None when empty."""
    a = np.asarray(flags, dtype=bool)
    return float(a.mean()) if a.size else None
