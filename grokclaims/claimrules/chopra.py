"""The rules of Chopra's MLP claims (CLAIMS.md, CH1-CH6), revision 2: from milestone epochs to a
verdict, and the simulations that measure each rule's error rates.

A milestone epoch is ``None`` when the run never reached it within the budget (right-censored
at the budget) and NaN when the run is unusable (diverged); medians are Kaplan–Meier medians
and ratios of medians are decided on their bootstrap interval
(``grokclaims.analysis.survival``), never on an imputed number. Rank tests place censored runs
after every observed one (all runs of a sweep share one budget, so that order is certain).

Seed-to-seed spreads in the simulations are measured on the smoke runs (p = 31, 3 seeds per
group): grok epochs have a pooled log-sd of 0.16 over the grokked groups (CH3-CH6 value cases,
e.g. 1,300-1,800 at the baseline); overfit epochs 0-0.12 (650-800 at width 32), taken as 0.10.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from grokclaims.analysis.censoring import rank_censored
from grokclaims.analysis.ranks import decreasing_trend, increasing_trend, kruskal_p
from grokclaims.analysis.survival import censor_at, km_median, median_ratio
from grokclaims.verdicts.decisions import decide_median, decide_ratio, decide_share
from grokclaims.verdicts.result import ClaimResult
from grokclaims.verdicts.rules import decide_all, decide_conjunction, decide_test

EVAL_EVERY = 50  # the source logs metrics every 50 epochs: milestones are on this grid
SEED_SPREAD = 0.16  # log-sd of grok epochs over seeds, pooled over the smoke groups
OVERFIT_SPREAD = 0.10  # log-sd of overfit epochs over seeds at smoke (650-800 at width 32)
BUDGET = 5000  # the source's budget ("none by 5,000")
SIM_RESAMPLES = 199  # bootstrap / permutation resamples in the simulations (speed; p to 0.005)

FACTOR = 2  # CH1: medians within a factor 2 of the source's
CHANCE_BAR = 0.10  # CH1: test accuracy at the overfit epoch < 10 %
FINAL_TEST = 0.99  # CH1: final test >= 99 %
NORM_DROP = 0.9  # CH2: norm at grok < 0.9 x peak ...
NORM_SEEDS = 0.8  # CH2: ... in >= 80 % of seeds
SPEEDUP = 3  # CH3, CH6: >= 3x faster at the largest value than at the smallest grokking one
WIDTH_OVERFIT_RATIO = 3  # CH4: overfit(smallest) / overfit(largest) >= 3
WIDTH_GROK_RATIO = 2  # CH4: max / min median grok epoch <= 2
OP_GROK_RATIO = 1.5  # CH5: max / min median grok epoch <= 1.5

SRC_BASELINE = {"overfit": 350, "grok": 2300}
SRC_WD = {0.0: None, 0.1: None, 0.5: 4000, 1.0: 2650, 2.0: 1250, 5.0: 800}  # None: not by 5,000
SRC_WIDTH_GROK = {32: 1750, 64: 2200, 128: 2300, 256: 2150, 512: 1950}
SRC_WIDTH_OVERFIT = {32: 1150, 512: 150}
SRC_OP = {"+": 2300, "-": 2250, "*": 2000}
SRC_ALPHA = {0.3: None, 0.5: 2200, 0.7: 950, 0.9: 450}


def _nan_to_none(epochs):
    return [None if e is None or (isinstance(e, float) and math.isnan(e)) else e for e in epochs]


def _censored(epochs: Sequence[float | None], budget: int) -> tuple[np.ndarray, np.ndarray]:
    return censor_at([np.nan if e is None else e for e in _nan_to_none(epochs)], budget)


def km_grok_median(epochs: Sequence[float | None], budget: int):
    """The Kaplan–Meier median of milestone epochs censored at ``budget`` (``CensoredMedian``)."""
    return km_median(*_censored(epochs, budget))


def _ratio(num, den, budget: int, rng, n_resamples):
    # a smaller n_resamples (the simulations) also caps exact enumeration at that many resamples
    kw = {} if n_resamples is None else {"n_resamples": n_resamples, "max_exact": n_resamples}
    rng = np.random.default_rng(0) if rng is None else rng
    return median_ratio(*_censored(num, budget), *_censored(den, budget), rng=rng, **kw)


def _trend(direction, x, y, rng, n_resamples, seed: int = 0):
    kw = {} if n_resamples is None else {"n_resamples": n_resamples}
    rng = np.random.default_rng(seed) if rng is None else rng
    test = decreasing_trend if direction == "decreasing" else increasing_trend
    return test(x, y, rng=rng, **kw)


def _is_unusable(e) -> bool:
    return isinstance(e, float) and math.isnan(e)


def every_seed(
    grok_epochs: Sequence[float | None], *, groks: bool = True, where: str = ""
) -> ClaimResult:
    """A value case of CH3-CH6 (and CH1's first part): every seed groks within the budget
    (``groks`` False: no seed does). An "every seed" claim is about the seeds run, so the rule
    is exact: one seed that does not comply refutes; an unusable (NaN) seed leaves it open."""
    flags = [None if _is_unusable(e) else ((e is not None) == groks) for e in grok_epochs]
    return decide_all(
        f"share {'grokked' if groks else 'not grokked'}{' ' + where if where else ''}",
        flags,
        tolerance=f"{'every' if groks else 'no'} seed groks (test >= 95 %) within the budget",
        labels=[f"seed {i}" for i in range(len(flags))],
        details={"grok_epochs": _nan_to_none(grok_epochs)},
    )


def ch1(
    overfit_epochs: Sequence[float | None],
    grok_epochs: Sequence[float | None],
    test_at_overfit: Sequence[float | None],
    final_test: Sequence[float | None],
    budget: int,
    *,
    source: Mapping[str, float] | None = None,
) -> ClaimResult:
    """CH1: every seed groks; test accuracy at the overfit epoch < 10 % and final test >= 99 %
    in every seed; with ``source`` (the setup is the source's) the Kaplan–Meier median overfit
    and grok epochs lie within a factor 2 of the source's, by their 95 % intervals."""
    labels = [f"seed {i}" for i in range(len(grok_epochs))]
    parts = {
        "every seed groks": every_seed(grok_epochs),
        "test at chance when train saturates": decide_all(
            "share with test < 10 % at the overfit epoch",
            [None if a is None else a < CHANCE_BAR for a in test_at_overfit],
            tolerance=f"test accuracy at the overfit epoch < {CHANCE_BAR:.0%} in every seed",
            labels=labels,
            details={"test_at_overfit": list(test_at_overfit)},
        ),
        "final test >= 99 %": decide_all(
            "share with final test >= 99 %",
            [None if f is None else f >= FINAL_TEST for f in final_test],
            tolerance=f"final test accuracy >= {FINAL_TEST:.0%} in every seed",
            labels=labels,
            details={"final_test": list(final_test)},
        ),
    }
    if source is not None:
        for key, epochs in (("overfit", overfit_epochs), ("grok", grok_epochs)):
            src = source[key]
            parts[f"median {key} epoch within x{FACTOR} of {src:,}"] = decide_median(
                f"Kaplan–Meier median {key} epoch",
                km_grok_median(epochs, budget),
                src / FACTOR,
                src * FACTOR,
                tolerance=f"its 95 % interval inside [{src / FACTOR:,.0f}, {src * FACTOR:,}]",
            )
    return decide_conjunction("CH1", parts)


def ch2(ratios: Sequence[float | None], peak_precedes: Sequence[bool | None]) -> ClaimResult:
    """CH2: the norm peak precedes the grok epoch and the norm at grok is < 0.9 x the peak, in
    >= 80 % of seeds: a share decided by its one-sided 95 % Clopper–Pearson bounds. Seeds that
    never grok (ratio None) have no grok epoch and are left out. Support needs >= 14 seeds all
    agreeing (13 of 13 give a lower bound 0.794)."""
    ok = [bool(p and r < NORM_DROP) for r, p in zip(ratios, peak_precedes) if r is not None]
    return decide_share(
        "share of grokked seeds with peak before grok and norm < 0.9 x peak",
        sum(ok),
        len(ok),
        NORM_SEEDS,
        tolerance=f"norm peak before the grok epoch and norm at grok < {NORM_DROP} x peak in "
        f">= {NORM_SEEDS:.0%} of seeds (one-sided 95 % Clopper–Pearson; seeds that never grok "
        "are left out)",
        details={"ratios": list(ratios), "n_not_grokked": sum(r is None for r in ratios)},
    )


def no_grok_then_faster(
    grok_epochs: Mapping[float, Sequence[float | None]],
    budget: int,
    *,
    claim: str,
    short: str,
    no_grok_upto: float,
    speedup: float = SPEEDUP,
    rng: np.random.Generator | None = None,
    n_resamples: int | None = None,
) -> ClaimResult:
    """CH3 (weight decay) and CH6 (data fraction): no seed groks at values <= ``no_grok_upto``;
    above it the grok epoch decreases with the value (one-sided Spearman p < 0.05, runs that
    never grok ranked last), and the Kaplan–Meier median at the smallest of those values is
    >= ``speedup`` x that at the largest, by the lower end of the ratio's 95 % interval."""
    values = sorted(grok_epochs)
    low = [v for v in values if v <= no_grok_upto]
    high = [v for v in values if v > no_grok_upto]
    parts = {}
    if low:
        parts[f"no seed groks at {short} <= {no_grok_upto}"] = every_seed(
            [e for v in low for e in grok_epochs[v]],
            groks=False,
            where=f"at {short} <= {no_grok_upto}",
        )
    x = [v for v in high for _ in grok_epochs[v]]
    y = rank_censored(_nan_to_none([e for v in high for e in grok_epochs[v]]), budget)
    y = np.where([_is_unusable(e) for v in high for e in grok_epochs[v]], np.nan, y)
    trend = _trend("decreasing", x, y, rng, n_resamples)
    parts[f"grok epoch decreases with {short}"] = decide_test(
        f"Spearman rho({short}, grok epoch)",
        trend,
        tolerance=f"Spearman rho < 0, one-sided p < 0.05, over {short} {high} (runs that never "
        "grok ranked after every observed grok epoch)",
    )
    slow, fast = min(high), max(high)
    ratio = _ratio(grok_epochs[slow], grok_epochs[fast], budget, rng, n_resamples)
    parts[f">= {speedup}x faster at {fast} than {slow}"] = decide_ratio(
        f"median grok epoch at {short} {slow} / at {short} {fast}",
        ratio,
        speedup,
        math.inf,
        tolerance=f"the ratio's 95 % interval >= {speedup} (Kaplan–Meier medians, bootstrap "
        "over seeds)",
    )
    return decide_conjunction(claim, parts, headline=list(parts)[-1])


def ch3(grok_epochs, budget, **kw) -> ClaimResult:
    """CH3: ``no_grok_then_faster`` over weight decays (none groks at wd <= 0.1; >= 3x)."""
    return no_grok_then_faster(grok_epochs, budget, claim="CH3", short="wd", no_grok_upto=0.1, **kw)


def ch6(grok_epochs, budget, **kw) -> ClaimResult:
    """CH6: ``no_grok_then_faster`` over data fractions (none groks at 0.3; >= 3x)."""
    return no_grok_then_faster(
        grok_epochs, budget, claim="CH6", short="alpha", no_grok_upto=0.3, **kw
    )


def ch4(
    overfit_epochs: Mapping[int, Sequence[float | None]],
    grok_epochs: Mapping[int, Sequence[float | None]],
    budget: int,
    *,
    rng: np.random.Generator | None = None,
    n_resamples: int | None = None,
) -> ClaimResult:
    """CH4: every width groks; Spearman(width, overfit epoch) < 0 (p < 0.05); overfit(smallest)
    / overfit(largest) >= 3 by the ratio's interval's lower end; max / min median grok epoch
    <= 2 by its upper end; Spearman(width, delay) > 0 (p < 0.05, grokked seeds). Reported in
    ``details``: Kruskal–Wallis p of the grok epoch across widths (the source's non-monotonic
    trend) with the medians per width."""
    widths = sorted(grok_epochs)
    x = [w for w in widths for _ in grok_epochs[w]]
    of = rank_censored(_nan_to_none([e for w in widths for e in overfit_epochs[w]]), budget)
    t_over = _trend("decreasing", x, of, rng, n_resamples)
    meds = {w: km_grok_median(grok_epochs[w], budget) for w in widths}
    order = sorted(widths, key=lambda w: (not meds[w].observed, meds[w].lower_bound))
    slow, fast = order[-1], order[0]
    delay = [
        np.nan if g is None or o is None or _is_unusable(g) else float(g - o)
        for w in widths
        for g, o in zip(grok_epochs[w], overfit_epochs[w])
    ]
    t_delay = _trend("increasing", x, delay, rng, n_resamples, seed=1)
    parts = {
        "all grok": every_seed([e for w in widths for e in grok_epochs[w]]),
        "overfit epoch falls with width": decide_test(
            "Spearman rho(width, overfit epoch)",
            t_over,
            tolerance="Spearman rho < 0, one-sided p < 0.05",
        ),
        f"overfit(smallest) / overfit(largest) >= {WIDTH_OVERFIT_RATIO}": decide_ratio(
            f"median overfit epoch at width {widths[0]} / at {widths[-1]}",
            _ratio(overfit_epochs[widths[0]], overfit_epochs[widths[-1]], budget, rng, n_resamples),
            WIDTH_OVERFIT_RATIO,
            math.inf,
            tolerance=f"the ratio's 95 % interval >= {WIDTH_OVERFIT_RATIO}",
        ),
        f"max / min median grok epoch <= {WIDTH_GROK_RATIO}": decide_ratio(
            f"median grok epoch, slowest (width {slow}) / fastest (width {fast})",
            _ratio(grok_epochs[slow], grok_epochs[fast], budget, rng, n_resamples),
            0.0,
            WIDTH_GROK_RATIO,
            tolerance=f"the ratio's 95 % interval <= {WIDTH_GROK_RATIO}",
        ),
        "delay increases with width": decide_test(
            "Spearman rho(width, delay)",
            t_delay,
            tolerance="Spearman rho > 0, one-sided p < 0.05, over the seeds that grokked",
        ),
    }
    result = decide_conjunction("CH4", parts, headline="delay increases with width")
    observed = [[e for e in _nan_to_none(grok_epochs[w]) if e is not None] for w in widths]
    result.details["kruskal_p_grok_across_widths"] = kruskal_p(observed)
    result.details["spearman_overfit"] = (t_over.statistic, t_over.p_value)
    result.details["spearman_delay"] = (t_delay.statistic, t_delay.p_value)
    return result


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
    n_resamples: int | None = None,
) -> ClaimResult:
    """CH5: every operation groks in every seed, and the slowest operation's median grok epoch
    is at most 1.5 times the fastest's, by the 95 % interval of the ratio (supported when its
    upper end is <= 1.5, refuted when its lower end is > 1.5).

    ``grok_epochs`` maps each operation to its seeds' grok epochs (None: not by ``budget``).
    """
    ops = list(grok_epochs)
    slow, fast = _slowest_fastest(grok_epochs, budget)
    ratio = _ratio(grok_epochs[slow], grok_epochs[fast], budget, rng, n_resamples)
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


def share_agreeing_needs(level: float, alpha: float = 0.05) -> int:
    """The fewest seeds, all agreeing, whose one-sided Clopper–Pearson lower bound exceeds
    ``level`` (k = n gives the bound alpha ** (1 / n)): 14 for 0.8."""
    return math.floor(math.log(alpha) / math.log(level)) + 1
