"""The rules of Song & Ye's race claims (CLAIMS.md, SY3-SY6, SY9), revision 2, and the
simulations that measure each rule's error rates.

Times to a milestone are (n_P, n_seeds) arrays with NaN where the run never reached it; such a
run is right-censored at ``budget`` epochs (every run of a cell shares it): medians are
Kaplan–Meier medians, P× is a point or a bracket (``analysis.crossing``), ranks put censored
runs last (one shared budget). Nothing is imputed.

Simulation settings, measured on the smoke runs (3 seeds, p = 23, 4,000 epochs; central cell
and alpha 0.8): the seed-to-seed spread of log T_mem is 0.02-0.10 (natural log) where it is
observed, of T_gen 0.2-0.4; T_mem falls with P with a log-log slope of -1.1 to -2.1 where
observed; T_gen is roughly flat at 1,500-3,000 epochs. ``SPREAD_MEM`` and ``SPREAD_GEN`` take
the upper ends, and runs past ``BUDGET`` are censored.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from grokclaims.analysis.bootstrap import MAX_EXACT, resample_plan, weighted_quantile
from grokclaims.analysis.censoring import rank_censored
from grokclaims.analysis.crossing import onset_ratio_interval
from grokclaims.analysis.multiplicity import holm
from grokclaims.analysis.ranks import decreasing_trend
from grokclaims.analysis.survival import censor_at, km_median_rows
from grokclaims.claimrules import song_ye_regimes
from grokclaims.claimrules.errors import ClaimRule, Scenario
from grokclaims.verdicts.decisions import decide_band, decide_equivalence
from grokclaims.verdicts.result import ClaimResult, Verdict
from grokclaims.verdicts.rules import decide_conjunction, decide_test, decide_unmeasurable

BUDGET = 4000  # the smoke scale's epoch budget: the censoring of the simulations
SPREAD_MEM, SPREAD_GEN = 0.10, 0.40  # log-sd over seeds, measured at smoke (module docstring)
SY6_MARGIN = 0.3  # |log10(onset / P×)| <= 0.3 decades
SY6_NEAR = 3  # widths within ±0.3 decades of P× the grid must have
SY9_MARGIN = 0.25  # |slope difference| <= 0.25
SY9_MIN_WIDTHS = 4  # widths where both memorise
SIM_RESAMPLES = 99  # bootstrap / permutation resamples in the simulations (speed; ~±3 % on a tail)


def _cp(k: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-sided 95 % Clopper–Pearson (lower, upper) bounds of k/n and the exact binomial
    p-value of share <= 0.5 (``decisions.share_bounds`` vectorised, for the simulations)."""
    k = np.asarray(k)
    lower = np.where(k > 0, stats.beta.ppf(0.05, np.maximum(k, 1), n - k + 1), 0.0)
    upper = np.where(k < n, stats.beta.ppf(0.95, k + 1, np.maximum(n - k, 1)), 1.0)
    return lower, upper, stats.binom.sf(k - 1, n, 0.5)


def _result(name, estimate, interval, verdict, rule, tolerance, details=None) -> ClaimResult:
    return ClaimResult(name, estimate, interval, None, tolerance, verdict, rule, details or {})


# ------------------------------------------------------------------------------------ SY3


def sy3(P, t_mem, budget: float, *, rng=None, n_resamples: int = 9999) -> ClaimResult:
    """SY3: Spearman ρ(P, T_mem) < 0 with one-sided permutation p < 0.05, over the
    capacity-sufficient widths given; runs that never memorised rank after every observed
    one (one shared budget). Refuted when ρ > 0 is significant the other way."""
    P, t = np.asarray(P, dtype=float), np.asarray(t_mem, dtype=float)
    x = np.repeat(P[:, None], t.shape[1], axis=1).ravel()
    y = rank_censored(t, budget).ravel()
    tol = "ρ(P, T_mem) < 0 with one-sided p < 0.05 (censored runs ranked last)"
    if np.unique(P).size < 2:
        return decide_unmeasurable("Spearman ρ(P, T_mem)", tol, "fewer than 2 widths")
    rng = np.random.default_rng(0) if rng is None else rng
    test = decreasing_trend(x, y, rng=rng, n_resamples=n_resamples)
    return decide_test("Spearman ρ(P, T_mem)", test, tolerance=tol)


def _sy3_draw(slope: float):
    P = np.array([2488.0, 5268, 9072, 19752])  # the smoke widths with C·P > K

    def draw(rng, n):
        med = 860.0 * (P / 9072) ** slope  # T_mem(9072) = 860: the smoke central median
        t = med[:, None] * np.exp(SPREAD_MEM * rng.standard_normal((P.size, n)))
        t = np.where(t > BUDGET, np.nan, np.ceil(t))
        return {"P": P, "t_mem": t, "budget": BUDGET, "rng": rng, "n_resamples": SIM_RESAMPLES}

    return draw


# ------------------------------------------------------------------------------------ SY5


def sy5(P, first_authors, first_relative, *, tolerance: str = "", labels=None) -> ClaimResult:
    """SY5: at some tested P (those with C·P > K) the share of seeds that generalise first has
    a one-sided 95 % Clopper–Pearson lower bound above 0.5, Holm over the P tested, at both
    thresholds. Refuted when at every tested P the upper bound is below 0.5 (either threshold).
    ``first_*``: (n_P, n_seeds) bool."""
    P = np.asarray(P, dtype=float)
    tol = tolerance or "share generalising first > 0.5 at some P with C·P > K (Holm, both)"
    if P.size == 0:
        return decide_unmeasurable("share generalising first", tol, "no width with C·P > K")
    parts = {}
    for label, flags in (("authors'", first_authors), ("relative", first_relative)):
        f = np.asarray(flags, dtype=bool)
        k, n = f.sum(axis=1), f.shape[1]
        lower, upper, p = _cp(k, n)
        ph = holm(p)
        best = int(np.argmin(ph))
        lo_b, up_b = float(lower[best]), float(upper[best])
        est = float(k[best] / n)
        if ph[best] < 0.05:
            verdict = Verdict.SUPPORTED
            rule = f"supported: {k[best]}/{n} at P = {P[best]:,.0f}, Holm p = {ph[best]:.3g}"
        elif all(u < 0.5 for u in upper):
            verdict, rule = Verdict.REFUTED, "refuted: every tested P has an upper bound < 0.5"
        else:
            verdict = Verdict.INCONCLUSIVE
            rule = (
                f"inconclusive: best {k[best]}/{n} at P = {P[best]:,.0f}, Holm p = "
                f"{ph[best]:.3g}; with {n} seeds the one-sided 95 % lower bound of {n}/{n} is "
                f"{0.05 ** (1 / n):.3g}"
            )
        details = {"k": k.tolist(), "n": n, "holm_p": list(map(float, ph)), "P": P.tolist()}
        parts[label] = _result(
            f"share generalising first ({label})", est, (lo_b, up_b), verdict, rule, tol, details
        )
    return decide_conjunction("SY5", parts, headline="authors'")


def _sy5_draw(q: float):
    def draw(rng, n):
        a = rng.random((2, n)) < q
        r = a | (rng.random((2, n)) < 0.2)  # the relative threshold calls a few more "first"
        return {"P": np.array([2488.0, 5268]), "first_authors": a, "first_relative": r}

    return draw


# ------------------------------------------------------------------------------------ SY6


def sy6(
    P,
    mem_times,
    gen_times,
    delays,
    budget: float,
    *,
    rng=None,
    n_resamples: int = 4999,
    max_exact: int = MAX_EXACT,
    name: str = "log10(onset / P×)",
) -> ClaimResult:
    """SY6 on one cell: the 95 % interval of log10(onset / P×) inside ±0.3 (supported), outside
    (refuted), else inconclusive; valid only with a point P×, >= 3 widths within ±0.3 decades
    of it and T_mem observed on both sides (``crossing.onset_ratio_interval``). ``details``
    carry the null pass rate: the share of a log-uniform random P over the grid's range that
    the same rule would pass in place of the onset."""
    P = np.asarray(P, dtype=float)
    tm, cm = censor_at(mem_times, budget)
    tg, cg = censor_at(gen_times, budget)
    r = onset_ratio_interval(
        P, tm, cm, tg, cg, delays, rng=rng, n_resamples=n_resamples, max_exact=max_exact
    )
    tol = f"|log10(onset / P×)| ≤ {SY6_MARGIN} (95 % bootstrap interval over seeds)"
    a, b = r.log10_px_interval
    lo_u, hi_u = np.log10(P.min()), np.log10(P.max())
    span = max(0.0, min(a + SY6_MARGIN, hi_u) - max(b - SY6_MARGIN, lo_u))
    null = span / (hi_u - lo_u)
    details = {
        "onset": r.onset,
        "p_cross": r.p_cross,
        "bracket": r.bracket,
        "null_pass_rate": null if r.p_cross is not None else None,
        "method": r.method,
        "open_share": r.open_share,
    }
    if r.onset is None:
        return decide_unmeasurable(name, tol, "no empirical onset on this grid", **details)
    if r.p_cross is None:
        lo, hi = r.bracket
        why = f"P× is only bracketed ({lo:,.0f} < P× < {hi:,.0f}): a curve is censored there"
        return decide_unmeasurable(name, tol, why, **details)
    near = int((np.abs(np.log10(P / r.p_cross)) <= SY6_MARGIN).sum())
    mem_obs = P[np.sum(np.isfinite(np.asarray(mem_times, float)), axis=1) * 2 > tm.shape[1]]
    sides = (mem_obs < r.p_cross).any() and (mem_obs > r.p_cross).any()
    if near < SY6_NEAR or not sides:
        why = (
            f"{near} widths within ±{SY6_MARGIN} decades of P× = {r.p_cross:,.0f} (need "
            f"{SY6_NEAR}): {', '.join(f'{p:,.0f}' for p in P)}"
            if near < SY6_NEAR
            else "T_mem is not observed on both sides of P×"
        )
        return decide_unmeasurable(name, tol, why, **details)
    return decide_band(
        name, r.log_ratio, r.interval, -SY6_MARGIN, SY6_MARGIN, tolerance=tol, details=details
    )


SY6_GRID = np.geomspace(2000.0, 20000.0, 9)  # 1 decade, 9 widths: >= 4 within ±0.3 of P×


def _sy6_draw(offset_decades: float, px: float = 6300.0):
    """T_gen flat at 1,700 epochs (the smoke median), T_mem through it at P× with slope
    -1.27 (smoke); grokking (delay > 0) in a seed from a P drawn around px·10^offset."""

    def draw(rng, n):
        P = SY6_GRID
        k = P.size
        tg = 1700.0 * np.exp(SPREAD_GEN * rng.standard_normal((k, n)))
        tm = 1700.0 * (P / px)[:, None] ** -1.27 * np.exp(SPREAD_MEM * rng.standard_normal((k, n)))
        start = px * 10 ** (offset_decades + 0.03 * rng.standard_normal(n))
        delays = np.where(P[:, None] >= start[None, :], 100.0, 0.0)
        tm = np.where(tm > BUDGET, np.nan, np.ceil(tm))
        tg = np.where(tg > BUDGET, np.nan, np.ceil(tg))
        return {
            "P": P,
            "mem_times": tm,
            "gen_times": tg,
            "delays": delays,
            "budget": BUDGET,
            "rng": rng,
            "n_resamples": SIM_RESAMPLES,
            "max_exact": SIM_RESAMPLES,
        }

    return draw


# ------------------------------------------------------------------------------------ SY9


def _slopes(logp, v):
    x = logp - logp.mean()
    return (np.log10(v) * x).sum(axis=-1) / (x**2).sum()


def sy9(
    P,
    random_times,
    shuffled_times,
    budget: float,
    *,
    rng=None,
    n_resamples: int = 4999,
    max_exact: int = MAX_EXACT,
) -> ClaimResult:
    """SY9: TOST of the slopes of log10 T_mem on log10 P, shuffled labels minus random targets,
    over the widths where both Kaplan–Meier medians are observed (>= 4): supported if the
    90 % bootstrap interval lies inside ±0.25, refuted if the 95 % one lies outside. A
    resample whose median is censored at one of those widths gives an open range."""
    P = np.asarray(P, dtype=float)
    tr, cr = censor_at(random_times, budget)
    ts, cs = censor_at(shuffled_times, budget)
    name, tol = "slope difference (shuffled - random)", "TOST margin ±0.25 on the slopes"
    vr, _ = km_median_rows(tr, cr)
    vs, _ = km_median_rows(ts, cs)
    both = ~np.isnan(vr) & ~np.isnan(vs)
    logp = np.log10(P[both])
    details = {"widths": P[both].tolist()}
    if both.sum() >= 2:
        details["slope_random"] = float(_slopes(logp, vr[both]))
        details["slope_shuffled"] = float(_slopes(logp, vs[both]))
    if both.sum() < SY9_MIN_WIDTHS:
        why = (
            f"{int(both.sum())} widths where both memorise within the budget "
            f"({', '.join(f'{p:,.0f}' for p in P[both]) or 'none'}); the rule needs "
            f"{SY9_MIN_WIDTHS}"
        )
        return decide_unmeasurable(name, tol, why, **details)
    (ir, i_s), w, _ = resample_plan(
        [tr.shape[1], ts.shape[1]], rng=rng, n_resamples=n_resamples, max_exact=max_exact
    )
    k, m = int(both.sum()), w.size
    br, _ = km_median_rows(
        tr[both][:, ir].transpose(1, 0, 2).reshape(-1, tr.shape[1]),
        cr[both][:, ir].transpose(1, 0, 2).reshape(-1, tr.shape[1]),
    )
    bs, _ = km_median_rows(
        ts[both][:, i_s].transpose(1, 0, 2).reshape(-1, ts.shape[1]),
        cs[both][:, i_s].transpose(1, 0, 2).reshape(-1, ts.shape[1]),
    )
    diff = _slopes(logp, bs.reshape(m, k)) - _slopes(logp, br.reshape(m, k))
    low, high = np.where(np.isnan(diff), -np.inf, diff), np.where(np.isnan(diff), np.inf, diff)

    def ci(c):
        return (
            float(weighted_quantile(low, w, (1 - c) / 2)),
            float(weighted_quantile(high, w, (1 + c) / 2)),
        )

    est = details["slope_shuffled"] - details["slope_random"]
    return decide_equivalence(
        name, est, ci(0.90), ci(0.95), SY9_MARGIN, tolerance=tol, details=details
    )


def _sy9_draw(diff: float):
    P = np.geomspace(5000.0, 40000.0, 5)

    def draw(rng, n):
        def times(slope):
            med = 800.0 * (P / 9072) ** slope
            t = med[:, None] * np.exp(SPREAD_MEM * rng.standard_normal((P.size, n)))
            return np.where(t > BUDGET, np.nan, np.ceil(t))

        return {
            "P": P,
            "random_times": times(-1.27),
            "shuffled_times": times(-1.27 + diff),
            "budget": BUDGET,
            "rng": rng,
            "n_resamples": SIM_RESAMPLES,
            "max_exact": SIM_RESAMPLES,
        }

    return draw


RULES = {
    "SY4": ClaimRule(
        "SY4",
        song_ye_regimes.sy4,
        holds=Scenario(
            song_ye_regimes._sy4_draw(song_ye_regimes.SY4_HOLDS),
            "regimes per smoke width drawn with P(underfit, immediate, grokking) = "
            f"{song_ye_regimes.SY4_HOLDS} (ordered in P)",
        ),
        fails=Scenario(
            song_ye_regimes._sy4_draw(song_ye_regimes.SY4_FAILS),
            f"immediate and grokking equally likely at every width: {song_ye_regimes.SY4_FAILS}",
        ),
    ),
    "SY3": ClaimRule(
        "SY3",
        sy3,
        holds=Scenario(
            _sy3_draw(-1.27),
            "T_mem ∝ P^-1.27 (the smoke slope; 860 epochs at P = 9,072) at the 4 smoke widths "
            f"with C·P > K, log-sd {SPREAD_MEM}, censored at {BUDGET}",
        ),
        fails=Scenario(
            _sy3_draw(0.1),
            "T_mem rising slightly with P (slope +0.1), same widths, spread and budget",
        ),
    ),
    "SY5": ClaimRule(
        "SY5",
        sy5,
        holds=Scenario(
            _sy5_draw(0.9),
            "2 tested widths where 90 % of seeds generalise first (the relative threshold "
            "adds 20 % of the rest)",
        ),
        fails=Scenario(_sy5_draw(0.5), "the share generalising first is 0.5 at both widths"),
    ),
    "SY6": ClaimRule(
        "SY6",
        sy6,
        holds=Scenario(
            _sy6_draw(0.0),
            "9 widths over one decade (2,000-20,000); T_gen flat at 1,700 (smoke median), "
            "T_mem slope -1.27 crossing it at P× = 6,300; each seed groks from "
            "P× · 10^N(0, 0.03); log-sd mem "
            f"{SPREAD_MEM}, gen {SPREAD_GEN}; censored at {BUDGET}",
        ),
        fails=Scenario(
            _sy6_draw(0.35), "the same with grokking from 10^0.35 P× (just past 0.3 decades)"
        ),
    ),
    "SY9": ClaimRule(
        "SY9",
        sy9,
        holds=Scenario(
            _sy9_draw(0.0),
            "5 widths 5,000-40,000, both slopes -1.27 (the smoke random-target slope), log-sd "
            f"{SPREAD_MEM}, censored at {BUDGET}",
        ),
        fails=Scenario(_sy9_draw(0.3), "shuffled slope 0.3 above the random one"),
    ),
}
