"""Expected outcomes per scale: claims known not to replicate at a scale, with the reason.

The way scikit-learn lists expected check failures: one map, in one place. A claim (or one
parametrised case of it, by its test id) listed here for the running scale becomes a strict
xfail when its verdict is the expected one, and a failure when it is not (the entry is then out
of date: a claim that starts to replicate must be noticed, not hidden). The reasons cite the
measurements that justified them (docs/calibration.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from .verdicts import Verdict


@dataclass(frozen=True)
class Expected:
    verdict: Verdict
    reason: str


# scale -> claim id or test id (e.g. "SY6[p=23]") -> expected outcome
EXPECTED: dict[str, dict[str, Expected]] = {
    "smoke": {},
    "nightly": {},
    "paper": {},
}


def expected_outcome(scale: str, claim_id: str, test_id: str) -> Expected | None:
    """The declared outcome for a test: its own entry first, then its claim's."""
    table = EXPECTED.get(scale, {})
    return table.get(test_id) or table.get(claim_id)
