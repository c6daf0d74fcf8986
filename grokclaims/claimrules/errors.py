"""How often a claim's rule is wrong, by simulation (CLAIMS.md revision 2, "Error rates").

A claim's rule is the function its test calls to turn measurements into a verdict. Here the
same function is fed simulated measurements many times over:

- where the claim **holds** at the source's effect (``ClaimRule.holds``): the share of
  "supported" verdicts is the rule's *power*, the share of "refuted" its *false refute* rate;
- where the claim **fails** just past its tolerance (``ClaimRule.fails``): the share of
  "supported" verdicts is its *false support* rate, which must not exceed 5 %.

Each scenario draws the rule's keyword arguments for a number of seeds, with the censoring its
budget causes (a time past the budget is passed as ``None``, never as a number), so the rates
are those of the rule at a scale's number of seeds. Pure: numpy only, no training.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from grokclaims.verdicts.result import ClaimResult, Verdict

MAX_FALSE_SUPPORT = (
    0.05  # CLAIMS.md revision 2: a rule may support a false claim <= 5 % of the time
)
REPS = 200  # simulated data sets per scenario and number of seeds (tests and the report)
# Each scale's seeds (setups/scales.py; tests/test_claimrules_cells.py checks them), and where a
# source's claims run another number at a scale, that number (medium: 14 for the Chopra claims,
# the fewest with which CH2's share rule can be supported).
SCALE_SEEDS = {"smoke": 3, "medium": 5, "nightly": 5, "paper": 10}
SOURCE_SEEDS = {("medium", "CH"): 14}


def seeds_at(scale: str, claim_id: str) -> int:
    """The number of seeds a claim runs at a scale."""
    return SOURCE_SEEDS.get((scale, claim_id[:2]), SCALE_SEEDS[scale])


@dataclass(frozen=True)
class Scenario:
    """Simulated measurements: ``draw(rng, n_seeds)`` returns the rule's keyword arguments."""

    draw: Callable[[np.random.Generator, int], Mapping[str, Any]]
    description: str  # what is simulated, in words, with the effect sizes and their source


@dataclass(frozen=True)
class ClaimRule:
    """A claim id, its rule and the two scenarios that measure the rule's error rates."""

    claim_id: str
    decide: Callable[..., ClaimResult]
    holds: Scenario  # the claim true, at the source's effect
    fails: Scenario  # the claim false, just past its tolerance
    min_seeds: int = 1  # below this the rule cannot decide (the scale is too small)


@dataclass(frozen=True)
class ErrorRates:
    """The verdict shares of one rule at one number of seeds."""

    claim_id: str
    n_seeds: int
    reps: int
    power: float  # P(supported | holds)
    false_refute: float  # P(refuted | holds)
    false_support: float  # P(supported | fails)
    true_refute: float  # P(refuted | fails)

    @property
    def acceptable(self) -> bool:
        return self.false_support <= MAX_FALSE_SUPPORT

    def to_dict(self) -> dict:
        return {
            "claim_id": self.claim_id,
            "n_seeds": self.n_seeds,
            "reps": self.reps,
            "power": self.power,
            "false_refute": self.false_refute,
            "false_support": self.false_support,
            "true_refute": self.true_refute,
        }

    def text(self) -> str:
        return (
            f"simulated at {self.n_seeds} seeds ({self.reps} data sets each): false support "
            f"{self.false_support:.1%} (claim false just past its tolerance), power "
            f"{self.power:.1%} and false refute {self.false_refute:.1%} (claim true at the "
            "source's effect)"
        )


def _shares(rule: ClaimRule, scenario: Scenario, n_seeds: int, reps: int, rng) -> dict:
    counts = dict.fromkeys(Verdict, 0)
    for _ in range(reps):
        counts[rule.decide(**scenario.draw(rng, n_seeds)).verdict] += 1
    return {v: c / reps for v, c in counts.items()}


def error_rates(rule: ClaimRule, n_seeds: int, *, reps: int = REPS, seed: int = 0) -> ErrorRates:
    """The rule's verdict shares over ``reps`` simulated data sets per scenario (fixed seed:
    the same call gives the same rates)."""
    rng = np.random.default_rng([seed, n_seeds, zlib.crc32(rule.claim_id.encode())])
    holds = _shares(rule, rule.holds, n_seeds, reps, rng)
    fails = _shares(rule, rule.fails, n_seeds, reps, rng)
    return ErrorRates(
        rule.claim_id,
        n_seeds,
        reps,
        power=holds[Verdict.SUPPORTED],
        false_refute=holds[Verdict.REFUTED],
        false_support=fails[Verdict.SUPPORTED],
        true_refute=fails[Verdict.REFUTED],
    )


def lognormal_times(
    rng: np.random.Generator, median: float, sigma: float, n: int, budget: float, grid: int = 1
) -> list[float | None]:
    """``n`` epochs-to-milestone around ``median`` (log-normal seed-to-seed spread ``sigma``),
    rounded up to the evaluation grid (every ``grid`` epochs); past ``budget`` they are None
    (censored: the rule gets no number for them)."""
    t = np.ceil(median * np.exp(sigma * rng.standard_normal(n)) / grid) * grid
    return [None if x > budget else float(x) for x in t]
