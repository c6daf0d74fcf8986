"""The coverage of ``bootstrap.bootstrap_interval`` by simulation: the table of
``docs/bootstrap_coverage.md`` (``python -m grokclaims.analysis.bootstrap_coverage``)."""

from __future__ import annotations

import math

import numpy as np

from grokclaims.analysis.bootstrap import MAX_EXACT, bootstrap_interval, n_resamples_exact

_TRUTH = {
    ("mean", "normal"): 0.0,
    ("median", "normal"): 0.0,
    ("mean", "lognormal"): math.exp(0.5),
    ("median", "lognormal"): 1.0,
}


def simulate_coverage(
    statistic: str,
    distribution: str,
    n: int,
    *,
    method: str = "percentile",
    reps: int = 1000,
    rng: np.random.Generator,
    n_resamples: int = 1999,
    chunk: int = 250,
) -> dict:
    """Share of ``reps`` simulated data sets whose interval covers the true value.

    Data: ``reps`` samples of size n from N(0, 1) or lognormal(0, 1) (true mean e^0.5, median
    1); the statistic is "mean" or "median"; the interval is ``bootstrap_interval`` at 95 %
    (exact when n <= 9, Monte Carlo with ``n_resamples`` otherwise), batched over the data
    sets. Returns coverage and the shares missed below and above the truth.
    """
    stat = {"mean": np.mean, "median": np.median}[statistic]
    truth = _TRUTH[(statistic, distribution)]
    draw = rng.standard_normal if distribution == "normal" else None
    z = rng.standard_normal((reps, n)) if draw else np.exp(rng.standard_normal((reps, n)))
    lows, highs = [], []
    for start in range(0, reps, chunk):
        r = bootstrap_interval(
            z[start : start + chunk], stat, rng=rng, method=method, n_resamples=n_resamples
        )
        lows.append(np.atleast_1d(r.low))
        highs.append(np.atleast_1d(r.high))
    low, high = np.concatenate(lows), np.concatenate(highs)
    below, above = float(np.mean(high < truth)), float(np.mean(low > truth))
    return {"coverage": 1 - below - above, "miss_below": below, "miss_above": above, "reps": reps}


def coverage_table(*, reps: int = 1000, seed: int = 0) -> str:
    """The markdown table of ``docs/bootstrap_coverage.md`` (``python -m
    grokclaims.analysis.bootstrap``)."""
    rows = [
        "| statistic | data | n | resampling | percentile | BCa |",
        "|---|---|---|---|---|---|",
    ]
    for statistic in ("mean", "median"):
        for distribution in ("normal", "lognormal"):
            for n in (3, 5, 8, 10):
                cells = []
                for method in ("percentile", "BCa"):
                    rng = np.random.default_rng([seed, n, len(statistic), len(distribution)])
                    c = simulate_coverage(
                        statistic, distribution, n, method=method, reps=reps, rng=rng
                    )
                    cells.append(
                        f"{c['coverage']:.3f} ({c['miss_below']:.3f} / {c['miss_above']:.3f})"
                    )
                how = "exact" if n_resamples_exact([n]) <= MAX_EXACT else "Monte Carlo 1,999"
                rows.append(f"| {statistic} | {distribution} | {n} | {how} | {' | '.join(cells)} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(coverage_table())
