"""The scenarios that measure the error rates of Chopra's rules (``claimrules.chopra``):
each claim true at the source's effect (``holds``) and false just past its tolerance
(``fails``), with the source's 5,000-epoch budget (a grok epoch past it is censored, passed as
None), the 50-epoch evaluation grid and the seed-to-seed spreads measured at smoke
(``chopra.SEED_SPREAD``, ``chopra.OVERFIT_SPREAD``). Bootstraps and permutation tests run
with ``chopra.SIM_RESAMPLES`` resamples here (the claim tests use the full default).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import stats

from grokclaims.claimrules import chopra as c
from grokclaims.claimrules.errors import ClaimRule, Scenario, lognormal_times

GRID = c.EVAL_EVERY


def _groks(rng, medians: Mapping, n: int, spread: float = c.SEED_SPREAD) -> dict:
    """Grok epochs per swept value; a median None: no seed groks (all censored)."""
    return {
        v: [None] * n if m is None else lognormal_times(rng, m, spread, n, c.BUDGET, GRID)
        for v, m in medians.items()
    }


def _sweep(medians: Mapping, **extra):
    def draw(rng: np.random.Generator, n: int) -> dict:
        return {
            "grok_epochs": _groks(rng, medians, n),
            "budget": c.BUDGET,
            "rng": rng,
            "n_resamples": c.SIM_RESAMPLES,
            **extra,
        }

    return draw


def _value(one_fails: bool):
    def draw(rng: np.random.Generator, n: int) -> dict:
        e = lognormal_times(rng, c.SRC_BASELINE["grok"], c.SEED_SPREAD, n, c.BUDGET, GRID)
        if one_fails:  # the claim is about the seeds run: one of them never groks
            e[int(rng.integers(n))] = None
        return {"grok_epochs": e}

    return draw


def _ch1(overfit: float):
    def draw(rng: np.random.Generator, n: int) -> dict:
        return {
            "overfit_epochs": lognormal_times(rng, overfit, c.OVERFIT_SPREAD, n, c.BUDGET, GRID),
            "grok_epochs": lognormal_times(
                rng, c.SRC_BASELINE["grok"], c.SEED_SPREAD, n, c.BUDGET, GRID
            ),
            "test_at_overfit": list(rng.uniform(0.0, 0.03, n)),  # near chance, 1/97
            "final_test": [1.0] * n,
            "budget": c.BUDGET,
            "source": c.SRC_BASELINE,
        }

    return draw


NORM_SPREAD = 0.014  # log-sd of norm(grok) / peak over seeds at smoke (0.892, 0.905, 0.92)


def _ch2(share: float):
    """Norm ratios whose share below 0.9 is ``share`` (log-normal around it)."""
    shift = stats.norm.ppf(share)

    def draw(rng: np.random.Generator, n: int) -> dict:
        r = c.NORM_DROP * np.exp(-NORM_SPREAD * (rng.standard_normal(n) + shift))
        return {"ratios": list(r), "peak_precedes": [True] * n}

    return draw


def _geometric(lo_w: int, hi_w: int, at_lo: float, at_hi: float) -> dict:
    """Log-linear in width between the source's two ends (it gives only widths 32 and 512)."""
    widths = [32, 64, 128, 256, 512]
    k = np.log(at_hi / at_lo) / np.log(hi_w / lo_w)
    return {w: at_lo * (w / lo_w) ** k for w in widths}


def _ch4(overfit_small: float):
    overfit = _geometric(32, 512, overfit_small, 150)

    def draw(rng: np.random.Generator, n: int) -> dict:
        return {
            "overfit_epochs": _groks(rng, overfit, n, c.OVERFIT_SPREAD),
            "grok_epochs": _groks(rng, c.SRC_WIDTH_GROK, n),
            "budget": c.BUDGET,
            "rng": rng,
            "n_resamples": c.SIM_RESAMPLES,
        }

    return draw


PAST = 2.85  # "just past" a >= 3 ratio
spread = f"seed spread {c.SEED_SPREAD} log-sd, budget {c.BUDGET:,}"
RULES = {
    "CH[value]": ClaimRule(
        "CH[value]",
        c.every_seed,
        holds=Scenario(_value(False), f"grok epochs around 2,300, {spread}"),
        fails=Scenario(
            _value(True),
            "one seed of those run never groks (an every-seed claim is about the seeds run: "
            "the rule is exact, its false support 0 by construction)",
        ),
    ),
    "CH1": ClaimRule(
        "CH1",
        c.ch1,
        holds=Scenario(
            _ch1(c.SRC_BASELINE["overfit"]),
            f"overfit around 350 (log-sd {c.OVERFIT_SPREAD}), grok around 2,300, test at "
            f"overfit 0-3 %, final 100 %, {spread}, the source's setup",
        ),
        fails=Scenario(
            _ch1(2.1 * c.SRC_BASELINE["overfit"]),
            "the median overfit epoch 2.1 x the source's 350 (just past the factor 2)",
        ),
    ),
    "CH2": ClaimRule(
        "CH2",
        c.ch2,
        holds=Scenario(_ch2(0.975), "97.5 % of seeds with norm(grok) < 0.9 x peak"),
        fails=Scenario(_ch2(0.75), "75 % of seeds (just under the 80 % share)"),
        min_seeds=c.share_agreeing_needs(c.NORM_SEEDS),
    ),
    "CH3": ClaimRule(
        "CH3",
        c.ch3,
        holds=Scenario(_sweep(c.SRC_WD), f"the source's grok epochs per wd {c.SRC_WD}, {spread}"),
        fails=Scenario(
            _sweep({0.0: None, 0.1: None, 0.5: PAST * 800, 1.0: 1700, 2.0: 1150, 5.0: 800}),
            f"wd 0.5 only {PAST} x slower than wd 5 (just under 3x), still decreasing",
        ),
    ),
    "CH4": ClaimRule(
        "CH4",
        c.ch4,
        holds=Scenario(
            _ch4(1150),
            "the source's overfit epochs 1,150 (width 32) -> 150 (512), log-linear between, "
            f"and grok epochs {c.SRC_WIDTH_GROK}, {spread}",
        ),
        fails=Scenario(
            _ch4(PAST * 150), f"overfit(32) / overfit(512) = {PAST} (just under 3), same groks"
        ),
    ),
    "CH5": ClaimRule(
        "CH5",
        c.ch5,
        holds=Scenario(
            _sweep(c.SRC_OP),
            f"medians {c.SRC_OP} (the source's; ratio 1.15), {spread}",
        ),
        fails=Scenario(
            _sweep({"+": 2000 * 1.65, "-": 2250, "*": 2000}),
            "the slowest median 1.65 x the fastest (just past 1.5), same spread and budget",
        ),
    ),
    "CH6": ClaimRule(
        "CH6",
        c.ch6,
        holds=Scenario(_sweep(c.SRC_ALPHA), f"the source's grok epochs {c.SRC_ALPHA}, {spread}"),
        fails=Scenario(
            _sweep({0.3: None, 0.5: PAST * 450, 0.7: 900, 0.9: 450}),
            f"alpha 0.5 only {PAST} x slower than 0.9 (just under 3x), still decreasing",
        ),
    ),
}
