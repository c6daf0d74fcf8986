"""Song & Ye's regimes (SY4, decided at both delay thresholds), CLAIMS.md revision 2. (SY10's
"no trend" rule is in ``song_ye_cells``.)"""

from __future__ import annotations

import numpy as np

from grokclaims.analysis.ranks import increasing_trend
from grokclaims.verdicts.result import ClaimResult, Verdict
from grokclaims.verdicts.rules import decide_conjunction, decide_test, decide_unmeasurable

RELATIVE_DELAY = 0.25  # grokking at the relative threshold: delay >= 0.25 x train-99 epoch


def regimes_at(delay, t_train, generalised, *, relative: bool) -> np.ndarray:
    """Each run's regime (CLAIMS.md "Regimes"): 'underfit' (val never 98 %), 'immediate'
    (val 98 % no later than train 99 %, including runs whose train never reached 99 %; at the
    relative threshold also a delay < 0.25 x the train-99 epoch), 'grokking' otherwise."""
    d, tt = np.asarray(delay, dtype=float), np.asarray(t_train, dtype=float)
    g = np.asarray(generalised, dtype=bool)
    grok = d > 0
    if relative:
        with np.errstate(invalid="ignore"):
            grok = grok & (d >= RELATIVE_DELAY * tt)
    out = np.where(grok, "grokking", "immediate").astype(object)
    out[~g] = "underfit"
    return out


ORDER = {"underfit": 0, "immediate": 1, "grokking": 2}


def _sy4_one(P, regime, rng, n_resamples, label) -> ClaimResult:
    """One threshold: each regime in >= 2 runs, and P larger in immediate than in underfit
    runs and in grokking than in immediate runs, each by a one-sided rank test (permutation
    Spearman of the two-group indicator on P, i.e. Mann–Whitney) at p < 0.05. Both adjacent
    pairs must hold: a single Spearman of the regime order on P is significant when only the
    underfit runs sit at small P, whatever the order of the other two."""
    counts = {k: int((regime == k).sum()) for k in ORDER}
    x = np.repeat(np.asarray(P, float)[:, None], regime.shape[1], axis=1)
    pairs = {}
    for a, b in (("underfit", "immediate"), ("immediate", "grokking")):
        sel = (regime == a) | (regime == b)
        test = increasing_trend(
            (regime[sel] == b).astype(float), x[sel], rng=rng, n_resamples=n_resamples
        )
        pairs[f"P({a}) < P({b})"] = decide_test(
            f"rank test P({a}) < P({b}), {label}", test, tolerance="one-sided p < 0.05"
        )
    result = decide_conjunction(f"regimes ordered, {label}", pairs)
    missing = [k for k, c in counts.items() if c < 2]
    if missing and result.verdict is not Verdict.REFUTED:
        return decide_unmeasurable(
            f"regimes, {label}",
            "each regime in >= 2 runs, ordered in P",
            f"fewer than 2 runs in: {', '.join(missing)} (counts {counts})",
            counts=counts,
        )
    return result


def sy4(P, delay, t_train, generalised, *, rng=None, n_resamples: int = 9999) -> ClaimResult:
    """SY4 at both delay thresholds: each regime in >= 2 runs and underfit < immediate <
    grokking in P (``_sy4_one``); supported only if so at both, refuted if either refutes."""
    rng = np.random.default_rng(0) if rng is None else rng
    parts = {
        label: _sy4_one(
            P, regimes_at(delay, t_train, generalised, relative=rel), rng, n_resamples, label
        )
        for label, rel in (("authors' threshold (delay > 0)", False), ("relative", True))
    }
    # The estimate is the share of the two thresholds at which every regime shows, ordered.
    return decide_conjunction("share of the 2 thresholds with the regimes ordered", parts)


def _sy4_draw(table):
    """Regimes drawn per width from ``table`` (rows: P(underfit, immediate, grokking)) on the
    smoke widths; a grokking run has a delay of 0.5-1.5 x its train epoch (both thresholds)."""
    P = np.array([1482.0, 2488, 5268, 9072, 19752])
    probs = np.asarray(table, dtype=float)

    def draw(rng, n):
        u = rng.random((P.size, n))
        cum = np.cumsum(probs, axis=1)
        reg = (u[..., None] > cum[:, None, :]).sum(axis=2)  # 0, 1, 2
        t_train = np.where(reg == 0, np.nan, 1000.0)
        delay = np.where(reg == 2, 1000.0 * rng.uniform(0.5, 1.5, reg.shape), 0.0)
        delay = np.where(reg == 0, np.nan, delay)
        return {
            "P": P,
            "delay": delay,
            "t_train": t_train,
            "generalised": reg > 0,
            "rng": rng,
            "n_resamples": 99,
        }

    return draw


# the smoke central cell's shares at the authors' threshold (underfit at the two smallest
# widths, immediate there too, grokking from 5,268 on), sharpened to the source's picture
SY4_HOLDS = [[0.7, 0.3, 0], [0.3, 0.7, 0], [0, 0.2, 0.8], [0, 0, 1], [0, 0, 1]]
# false just past the claim: immediate and grokking equally likely at every width
SY4_FAILS = [[0.7, 0.15, 0.15], [0.3, 0.35, 0.35], [0, 0.5, 0.5], [0, 0.5, 0.5], [0, 0.5, 0.5]]
