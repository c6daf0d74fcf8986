"""Verdicts: the outcome of a claim (``ClaimResult``, ``Verdict``), the rules that decide it
from measured numbers (``decide_*``) and the expected outcome per scale.

Imports ``grokclaims.analysis`` (result types) and nothing above it.
"""

from grokclaims.verdicts.result import ClaimResult, Verdict
from grokclaims.verdicts.rules import (
    ALPHA,
    decide_all,
    decide_conjunction,
    decide_directional,
    decide_interval,
    decide_point,
    decide_test,
    decide_unmeasurable,
    parts_of,
    with_headline,
)

__all__ = [
    "ALPHA",
    "ClaimResult",
    "Verdict",
    "decide_all",
    "decide_conjunction",
    "decide_directional",
    "decide_interval",
    "decide_point",
    "decide_test",
    "decide_unmeasurable",
    "parts_of",
    "with_headline",
]
