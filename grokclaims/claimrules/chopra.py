"""The rules of Chopra's MLP claims (CLAIMS.md, CH), revision 2: from milestone epochs to a
verdict, and the simulations that measure each rule's error rates.

A milestone epoch is ``None`` when the run never reached it within the budget (right-censored
at the budget); medians are Kaplan–Meier medians and ratios of medians are decided on their
bootstrap interval (``grokclaims.analysis.survival``), never on an imputed number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from grokclaims.analysis.survival import censor_at, km_median, median_ratio
from grokclaims.claimrules.errors import ClaimRule, Scenario, lognormal_times
from grokclaims.verdicts.decisions import decide_ratio
from grokclaims.verdicts.result import ClaimResult
from grokclaims.verdicts.rules import decide_all, decide_conjunction

EVAL_EVERY = 50  # the source logs metrics every 50 epochs: milestones are on this grid
SEED_SPREAD = 0.15  # log-sd of grok epochs over seeds, measured at smoke (e.g. 1,300-1,800)
OP_GROK_RATIO = 1.5  # CH5: max / min median grok epoch <= 1.5
SRC_OP = {"+": 2300, "-": 2250, "*": 2000}  # CH5: the source's grok epochs per operation


def _censored(epochs: Sequence[float | None], budget: int) -> tuple[np.ndarray, np.ndarray]:
    return censor_at([np.nan if e is None else e for e in epochs], budget)


def km_grok_median(epochs: Sequence[float | None], budget: int):
    """The Kaplan–Meier median of grok epochs censored at ``budget`` (``CensoredMedian``)."""
    return km_median(*_censored(epochs, budget))


def _slowest_fastest(groks: Mapping[str, Sequence[float | None]], budget: int):
    """The groups with the largest and smallest Kaplan–Meier median (a median not reached is
    larger than every reached one; among those the larger lower bound is the slower)."""

    def key(name):
        m = km_grok_median(groks[name], budget)
        return (not m.observed, m.lower_bound)

    order = sorted(groks, key=key)
    return order[-1], order[0]


def ch5(
    grok_epochs: Mapping[str, Sequence[float | None]],
    budget: int,
    *,
    rng: np.random.Generator | None = None,
) -> ClaimResult:
    """CH5: every operation groks in every seed, and the slowest operation's median grok epoch
    is at most 1.5 times the fastest's, by the 95 % interval of the ratio (supported when its
    upper end is <= 1.5, refuted when its lower end is > 1.5).

    ``grok_epochs`` maps each operation to its seeds' grok epochs (None: not by ``budget``).
    """
    ops = list(grok_epochs)
    slow, fast = _slowest_fastest(grok_epochs, budget)
    ratio = median_ratio(
        *_censored(grok_epochs[slow], budget),
        *_censored(grok_epochs[fast], budget),
        rng=np.random.default_rng(0) if rng is None else rng,
    )
    parts = {
        "every op groks in every seed": decide_all(
            "share grokked",
            [e is not None for op in ops for e in grok_epochs[op]],
            tolerance="every seed groks (test >= 95 %) within the budget",
            labels=[f"{op} seed {i}" for op in ops for i in range(len(grok_epochs[op]))],
        ),
        f"max / min median grok epoch <= {OP_GROK_RATIO}": decide_ratio(
            f"median grok epoch, slowest ({slow}) / fastest ({fast})",
            ratio,
            0.0,
            OP_GROK_RATIO,
            tolerance=f"the ratio's 95 % interval <= {OP_GROK_RATIO} (Kaplan–Meier medians, "
            "bootstrap over seeds)",
        ),
    }
    return decide_conjunction(
        "CH5", parts, headline=f"max / min median grok epoch <= {OP_GROK_RATIO}"
    )


def _ch5_data(medians: Mapping[str, float], budget: int):
    def draw(rng: np.random.Generator, n: int) -> dict:
        groks = {
            op: lognormal_times(rng, m, SEED_SPREAD, n, budget, EVAL_EVERY)
            for op, m in medians.items()
        }
        return {"grok_epochs": groks, "budget": budget, "rng": rng}

    return draw


CH5_BUDGET = 5000  # the source's budget ("none by 5,000")
RULES = {
    "CH5": ClaimRule(
        "CH5",
        ch5,
        holds=Scenario(
            _ch5_data(SRC_OP, CH5_BUDGET),
            f"medians {SRC_OP} (the source's; ratio 1.15), seed spread {SEED_SPREAD} log-sd, "
            f"budget {CH5_BUDGET}",
        ),
        fails=Scenario(
            _ch5_data({"+": 2000 * 1.65, "-": 2250, "*": 2000}, CH5_BUDGET),
            "the slowest median 1.65 x the fastest (just past 1.5), same spread and budget",
        ),
    ),
}
