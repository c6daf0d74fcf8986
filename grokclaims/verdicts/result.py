"""The verdict of a claim and the record of how it was decided.

A claim's outcome is supported, refuted or inconclusive (CLAIMS.md). ``ClaimResult`` carries
the estimate, its interval, the p-value where there is one, the tolerance in words, the verdict
and the sentence of the rule that decided it, so a report row and a test's failure message can
be written from it alone.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class Verdict(enum.Enum):
    SUPPORTED = "supported"
    REFUTED = "refuted"
    INCONCLUSIVE = "inconclusive"


def jsonable(value: Any) -> Any:
    """Plain JSON types: NaN -> None, ±inf -> "inf" / "-inf", numpy -> Python, tuples -> lists."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return None
        return v if math.isfinite(v) else ("inf" if v > 0 else "-inf")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str):
        return value
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict())
    return str(value)


def fmt(x: float | None) -> str:
    return "nan" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"


@dataclass(frozen=True)
class ClaimResult:
    """What a claim measured and what was decided from it."""

    name: str  # what ``estimate`` is, e.g. "log10(onset/P×)"
    estimate: float
    interval: tuple[float, float] | None
    p_value: float | None
    tolerance: str  # the assertion in words, e.g. "|log10(onset/P×)| <= 0.3"
    verdict: Verdict
    rule: str  # the sentence that decided the verdict
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.verdict, Verdict):
            raise ValueError(f"verdict must be a Verdict, got {self.verdict!r}")
        object.__setattr__(self, "estimate", float(self.estimate))
        if self.interval is not None:
            lo, hi = self.interval
            object.__setattr__(self, "interval", (float(lo), float(hi)))
        if self.p_value is not None:
            object.__setattr__(self, "p_value", float(self.p_value))

    def to_dict(self) -> dict:
        """JSON-ready: floats, None, strings, lists and dicts only (NaN -> None)."""
        return jsonable(
            {
                "name": self.name,
                "estimate": self.estimate,
                "interval": self.interval,
                "p_value": self.p_value,
                "tolerance": self.tolerance,
                "verdict": self.verdict,
                "rule": self.rule,
                "details": self.details,
            }
        )

    @classmethod
    def from_dict(cls, d: Mapping) -> ClaimResult:
        """The inverse of ``to_dict`` (None -> NaN, "inf" -> inf)."""

        def num(x):
            return math.nan if x is None else float(x)

        interval = None if d["interval"] is None else tuple(num(x) for x in d["interval"])
        return cls(
            d["name"],
            num(d["estimate"]),
            interval,
            None if d["p_value"] is None else num(d["p_value"]),
            d["tolerance"],
            Verdict(d["verdict"]),
            d["rule"],
            dict(d["details"]),
        )

    def summary(self) -> str:
        """One line for a report row or a failure message: observed vs expected, and why."""
        ci = "" if self.interval is None else f" [{fmt(self.interval[0])}, {fmt(self.interval[1])}]"
        p = "" if self.p_value is None else f", p = {fmt(self.p_value)}"
        return f"{self.name} = {fmt(self.estimate)}{ci}{p}; expected {self.tolerance}; {self.rule}"


def claim_result(name, estimate, interval, p_value, tolerance, verdict, rule, details=None):
    return ClaimResult(name, estimate, interval, p_value, tolerance, verdict, rule, details or {})


def all_finite(*xs: float | None) -> bool:
    return all(x is not None and math.isfinite(x) for x in xs)
