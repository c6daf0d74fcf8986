"""Rank tests: Spearman and Kendall correlations with exact or permutation p-values, the
one-sided trend tests built on them, Wilcoxon's signed-rank test on log ratios, and
Kruskal-Wallis across groups.

Small seed counts get exact p-values where SciPy can enumerate the null distribution
(permutation tests with n! <= n_resamples, Kendall's tau without ties, Wilcoxon).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from grokclaims.analysis.permutation import N_RESAMPLES, permutation
from grokclaims.analysis.statistic import (
    MIN_POINTS,
    StatResult,
    check_alternative,
    degenerate,
    opposite,
    paired,
)

# Kendall's exact null distribution (no ties) is cheap up to this n; beyond it, asymptotic.
KENDALL_EXACT_MAX = 50


def _rank_pairs(x, y, alternative: str):
    """The usable pairs of a rank correlation test: (a, b, dropped, None), or with the
    degenerate result in place of None when there is nothing to rank (too few points, or a
    constant side)."""
    check_alternative(alternative)
    a, b, dropped = paired(x, y)
    if a.size < MIN_POINTS:
        reason = f"fewer than {MIN_POINTS} points"
    elif np.ptp(a) == 0 or np.ptp(b) == 0:
        reason = "constant input"
    else:
        return a, b, dropped, None
    return a, b, dropped, degenerate(a.size, dropped, reason, alternative)


def spearman_test(
    x,
    y,
    *,
    alternative: str = "two-sided",
    rng: np.random.Generator,
    n_resamples: int = N_RESAMPLES,
) -> StatResult:
    """Spearman's ρ with a permutation p-value (exact enumeration when n! <= n_resamples).

    ρ is Pearson's correlation of the ranks (average ranks for ties), as ``spearmanr``;
    permuting the ranks of y keeps ties intact, so the null distribution is right with ties.
    """
    a, b, dropped, degenerate = _rank_pairs(x, y, alternative)
    if degenerate is not None:
        return degenerate
    ra = stats.rankdata(a)
    ra = (ra - ra.mean()) / np.sqrt(((ra - ra.mean()) ** 2).sum())

    def rho(rb, axis=-1):
        rc = rb - rb.mean(axis=axis, keepdims=True)
        return (rc * ra).sum(axis=axis) / np.sqrt((rc**2).sum(axis=axis))

    obs, p, p_opp, method = permutation(stats.rankdata(b), rho, alternative, rng, n_resamples)
    return StatResult(obs, p, alternative, a.size, method, p_opp, {"n_dropped": dropped})


def kendall_test(
    x,
    y,
    *,
    alternative: str = "two-sided",
    rng: np.random.Generator | None = None,
    n_resamples: int = N_RESAMPLES,
) -> StatResult:
    """Kendall's tau-b with an exact p-value when there are no ties (n <= KENDALL_EXACT_MAX).

    With ties SciPy has no exact distribution: given ``rng``, the p-value comes from a
    permutation test of the concordance count S (tau-b is S over a constant that permuting y
    does not change); without ``rng`` it is SciPy's tie-corrected normal approximation.
    """
    a, b, dropped, degenerate = _rank_pairs(x, y, alternative)
    if degenerate is not None:
        return degenerate
    details = {"n_dropped": dropped}
    ties = np.unique(a).size < a.size or np.unique(b).size < b.size
    tau = float(stats.kendalltau(a, b).statistic)
    if ties and rng is not None:
        sa = np.sign(a[:, None] - a[None, :])  # (n, n)

        def concordance(yy, axis=-1):
            yy = np.moveaxis(yy, axis, -1)
            return np.einsum("...ij,ij->...", np.sign(yy[..., :, None] - yy[..., None, :]), sa)

        _, p, p_opp, method = permutation(b, concordance, alternative, rng, n_resamples)
        return StatResult(tau, p, alternative, a.size, method, p_opp, details)
    method = "exact" if not ties and a.size <= KENDALL_EXACT_MAX else "asymptotic"
    p = float(stats.kendalltau(a, b, alternative=alternative, method=method).pvalue)
    p_opp = None
    if alternative != "two-sided":
        opp = opposite(alternative)
        p_opp = float(stats.kendalltau(a, b, alternative=opp, method=method).pvalue)
    return StatResult(tau, p, alternative, a.size, method, p_opp, details)


def trend_test(
    x,
    y,
    *,
    direction: str,
    method: str = "spearman",
    rng: np.random.Generator,
    n_resamples: int = N_RESAMPLES,
) -> StatResult:
    """One-sided rank test that y "increases with" or "decreases with" x.

    Pass the pooled per-seed points (x = the swept value of each run, repeated over seeds):
    ties in x are then handled by the permutation null. ``p_value`` is the p-value in the
    claimed direction, ``p_opposite`` the one in the other.
    """
    alternative = {"increasing": "greater", "decreasing": "less"}.get(direction)
    if alternative is None:
        raise ValueError(f"direction must be 'increasing' or 'decreasing', not {direction!r}")
    if method == "spearman":
        return spearman_test(x, y, alternative=alternative, rng=rng, n_resamples=n_resamples)
    if method == "kendall":
        return kendall_test(x, y, alternative=alternative, rng=rng, n_resamples=n_resamples)
    raise ValueError(f"method must be 'spearman' or 'kendall', not {method!r}")


def decreasing_trend(x, y, **kwargs) -> StatResult:
    """``trend_test`` for "y decreases with x" (e.g. grok epoch with weight decay)."""
    return trend_test(x, y, direction="decreasing", **kwargs)


def increasing_trend(x, y, **kwargs) -> StatResult:
    """``trend_test`` for "y increases with x" (e.g. delay with width)."""
    return trend_test(x, y, direction="increasing", **kwargs)


def wilcoxon_log_ratio(a, b, *, alternative: str = "two-sided") -> StatResult:
    """Wilcoxon signed-rank test on log(a / b) (e.g. onset over P× per cell).

    SciPy's 'auto' method: exact without ties or zeros (n <= 50); with them, an exhaustive
    sign-flip permutation for n <= 13, else the normal approximation. Zero log ratios are
    dropped (Wilcoxon's convention). Non-positive a or b are dropped with the NaN.
    """
    check_alternative(alternative)
    x, z, dropped = paired(a, b, "a", "b")
    pos = (x > 0) & (z > 0)
    d = np.log(x[pos]) - np.log(z[pos])
    dropped += int(pos.size - pos.sum())
    details = {"n_dropped": dropped, "median_log_ratio": float(np.median(d)) if d.size else None}
    if d.size == 0:
        return degenerate(0, dropped, "no usable pairs", alternative)
    if not np.any(d != 0):
        p_opp = None if alternative == "two-sided" else 1.0
        return StatResult(0.0, 1.0, alternative, d.size, "all ratios 1", p_opp, details)
    res = stats.wilcoxon(d, alternative=alternative)
    nz = d[d != 0]
    ties = np.unique(np.abs(nz)).size < nz.size or nz.size < d.size
    method = "exact" if not ties and d.size <= 50 else "permutation" if d.size <= 13 else "normal"
    p_opp = None
    if alternative != "two-sided":
        p_opp = float(stats.wilcoxon(d, alternative=opposite(alternative)).pvalue)
    return StatResult(
        float(res.statistic), float(res.pvalue), alternative, d.size, method, p_opp, details
    )


def kruskal_p(groups) -> float:
    """Kruskal-Wallis p-value that the groups come from one distribution; empty groups are left
    out, and NaN when fewer than 2 groups remain or all values are equal."""
    groups = [list(g) for g in groups if len(g)]
    if len(groups) < 2 or len({v for g in groups for v in g}) <= 1:
        return math.nan
    return float(stats.kruskal(*groups).pvalue)
