"""The rules of Song & Ye's capacity claims (CLAIMS.md SY1, SY2; SY8 is in ``song_ye_speed``),
revision 2 (their simulations: ``song_ye_capacity_sim``).

Inputs are the memory grid's arrays (``grokclaims.setups.memory``): points (width, dataset size
n) by seeds. Times to memorise are NaN where a run never did (right-censored at ``budget``);
medians are Kaplan–Meier medians; nothing is imputed. Resampling is over seeds with the one
helper ``grokclaims.analysis.bootstrap`` (a seed is one column of every point).

Simulation settings, measured on the smoke memory grid (p = 23, 3 seeds, 4,000 epochs; see
docs/calibration.md): the seed-to-seed spread of saturated bits is ~3 % of the bits, of log
T_mem ``SPREAD_MEM`` (natural log); the source's capacity is 2.16 bits per parameter.
"""

from __future__ import annotations

import math

import numpy as np

from grokclaims.analysis.bootstrap import MAX_EXACT, resample_plan, weighted_quantile
from grokclaims.analysis.capacity import weighted_ols
from grokclaims.verdicts.decisions import decide_band, share_bounds
from grokclaims.verdicts.result import ClaimResult, Verdict
from grokclaims.verdicts.rules import (
    decide_conjunction,
    decide_interval,
    decide_point,
    decide_unmeasurable,
)

BUDGET = 4000  # the smoke memory grid's epoch budget: the censoring of the simulations
SPREAD_MEM = 0.10  # log-sd of T_mem over seeds (the race cells' measured upper end)
SPREAD_BITS = 0.03  # relative sd of saturated bits over seeds (smoke: 0.58-0.64 bits/param)
C_SOURCE = 2.16  # bits per parameter: the authors' capacity (the "holds" effect)
SY1_BAND = (1.0, 4.0)  # C's 95 % CI inside [1, 4] bits/parameter
SY1_R2 = 0.9  # linear fit R² >= 0.9
SY1_MIN_WIDTHS, SY1_MIN_SIZES = 4, 2  # CLAIMS.md: >= 4 widths and >= 2 dataset sizes
SY2_BAND = (0.5, 2.0)  # the 50 % point of P(memorised) in C·P/K
SIM_RESAMPLES = 99  # bootstrap resamples in the simulations (speed)


def seed_plan(n_seeds: int, rng, n_resamples: int, max_exact: int):
    rng = np.random.default_rng(0) if rng is None else rng  # fixed: the same data, one answer
    (idx,), w, _ = resample_plan([n_seeds], rng=rng, n_resamples=n_resamples, max_exact=max_exact)
    return idx, w  # (M, n_seeds) seed columns per resample, weights (M,)


# ------------------------------------------------------------------------------------ SY1


def _per_seed_slopes(P: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """Slope of bits on P per seed column: (n_seeds,) from bits (n_points, n_seeds)."""
    x = np.broadcast_to(P[None, :], (bits.shape[1], P.size))
    return weighted_ols(x, bits.T, np.ones_like(x))[0]


def _c_interval(slopes, rng, n_resamples, max_exact) -> tuple[float, float]:
    """95 % bootstrap interval over seeds of C, the mean of the per-seed slopes."""
    idx, w = seed_plan(slopes.size, rng, n_resamples, max_exact)
    boot = slopes[idx].mean(axis=1)
    return float(weighted_quantile(boot, w, 0.025)), float(weighted_quantile(boot, w, 0.975))


def capacity_setting(
    P,
    n,
    bits,
    saturated,
    over_capacity,
    *,
    label: str,
    rng=None,
    n_resamples: int = 9999,
    max_exact: int = MAX_EXACT,
) -> ClaimResult:
    """SY1 at one setting. Points (width, n) whose every seed held less than the data
    (``over_capacity``) measure the capacity; they must all be saturated (otherwise their bits
    are only lower bounds: inconclusive), span >= 4 widths and >= 2 sizes. Then R² >= 0.9 of
    the pooled line and C's 95 % bootstrap interval (over seeds) inside [1, 4]."""
    P, n = np.asarray(P, float), np.asarray(n, float)
    bits = np.asarray(bits, float)
    use = np.asarray(over_capacity, bool).all(axis=1) & np.isfinite(bits).all(axis=1)
    sat = np.asarray(saturated, bool)
    tol = f"R² ≥ {SY1_R2} and C's 95 % CI in [1, 4] bits/parameter ({label})"
    name = f"C ({label})"
    details = {"P": P[use].tolist(), "n": n[use].tolist(), "points_used": int(use.sum())}
    widths, sizes = np.unique(P[use]).size, np.unique(n[use]).size
    if widths < SY1_MIN_WIDTHS or sizes < SY1_MIN_SIZES:
        why = (
            f"{widths} widths and {sizes} dataset sizes exceed the capacity (need "
            f"{SY1_MIN_WIDTHS} and {SY1_MIN_SIZES}); runs that memorised everything give only "
            "a lower bound"
        )
        return decide_unmeasurable(name, tol, why, **details)
    unsat = int((~sat[use]).sum())
    if unsat:
        why = f"{unsat} of {sat[use].size} runs still gained bits late: lower bounds only"
        return decide_unmeasurable(name, tol, why, **details)
    Pu, bu = P[use], bits[use]
    slopes = _per_seed_slopes(Pu, bu)
    C = float(slopes.mean())  # = the pooled slope: every point has every seed
    xs, ys = np.repeat(Pu, bu.shape[1]), bu.ravel()
    intercept = ys.mean() - C * xs.mean()
    r2 = 1 - ((ys - intercept - C * xs) ** 2).sum() / ((ys - ys.mean()) ** 2).sum()
    ci = _c_interval(slopes, rng, n_resamples, max_exact)
    details.update(intercept=float(intercept), r_squared=float(r2), seed_slopes=slopes.tolist())
    parts = {
        "R²": decide_point(f"R² ({label})", float(r2), SY1_R2, 1.0, f"R² ≥ {SY1_R2}"),
        "C": decide_interval(name, C, ci, *SY1_BAND, "C in [1, 4] bits/parameter", details=details),
    }
    return decide_conjunction(name, parts, headline="C", tolerance=tol)


def capacity_estimate(
    P,
    n,
    bits,
    saturated,
    over_capacity,
    *,
    rng=None,
    n_resamples: int = 9999,
    max_exact: int = MAX_EXACT,
) -> tuple[float, tuple[float, float] | None, bool]:
    """C at one setting as the claims that use it need it (SY2): the pooled slope over the
    points that held less than their data, its 95 % bootstrap interval over seeds, and whether it
    is only a lower bound (a run it rests on still gained bits late: its bits, hence C, are
    below the capacity). (nan, None, False) where no point measures it."""
    P, bits = np.asarray(P, float), np.asarray(bits, float)
    use = np.asarray(over_capacity, bool).all(axis=1) & np.isfinite(bits).all(axis=1)
    if np.unique(P[use]).size < 2:
        return math.nan, None, False
    slopes = _per_seed_slopes(P[use], bits[use])
    ci = _c_interval(slopes, rng, n_resamples, max_exact)
    lower_bound = bool((~np.asarray(saturated, bool)[use]).any())
    return float(slopes.mean()), ci, lower_bound


def sy1(settings: dict, **kwargs) -> ClaimResult:
    """SY1: ``capacity_setting`` at every setting given (the probe's and the race's), a
    conjunction; ``settings`` maps a label to the keyword arguments of one setting."""
    parts = {k: capacity_setting(**v, label=k, **kwargs) for k, v in settings.items()}
    return decide_conjunction("SY1", parts, headline=next(iter(parts)))


# ------------------------------------------------------------------------------------ SY2


def _logistic_x50(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """The 50 % point of a logistic fit of y on x, weighted by w, per row of (B, m) arrays:
    (low, high) of the set where it can lie. Finite fit: low = high = -b0/b1. Separated data
    (every memorising x above every other): the gap between them; all memorised: (-inf, min x];
    none: [max x, inf); a fitted slope <= 0: (-inf, inf). Also the fitted (b0, b1)."""
    has = w > 0
    y1, y0 = has & (y > 0.5), has & (y <= 0.5)
    x_min1 = np.where(y1, x, np.inf).min(axis=1)
    x_max0 = np.where(y0, x, -np.inf).max(axis=1)
    sep = x_max0 <= x_min1  # includes all / none memorised (an infinite end)
    b0, b1 = np.zeros(x.shape[0]), np.ones(x.shape[0])
    for _ in range(30):  # Newton-Raphson, vectorised over rows
        eta = np.clip(b0[:, None] + b1[:, None] * x, -30, 30)
        p = 1 / (1 + np.exp(-eta))
        v = w * p * (1 - p) + 1e-9
        g0, g1 = (w * (y - p)).sum(1), (w * (y - p) * x).sum(1)
        h00, h01, h11 = v.sum(1), (v * x).sum(1), (v * x * x).sum(1)
        det = h00 * h11 - h01**2
        b0 = b0 + np.clip((h11 * g0 - h01 * g1) / det, -5, 5)
        b1 = b1 + np.clip((h00 * g1 - h01 * g0) / det, -5, 5)
    with np.errstate(divide="ignore", invalid="ignore"):
        x50 = np.where(b1 > 0, -b0 / b1, np.nan)
    low = np.where(sep, x_max0, np.where(np.isfinite(x50), x50, -np.inf))
    high = np.where(sep, x_min1, np.where(np.isfinite(x50), x50, np.inf))
    return low, high, b0, b1


def _sy2_no_transition(name, tol, ratio, m, details, c_lower_bound=False) -> ClaimResult:
    """Every run memorised (or none): no 50 % point inside the grid, only a half-line beyond
    it. Refuted when the runs on the far side of the band say so by themselves: those below
    K/2 memorise with a one-sided 95 % Clopper–Pearson lower bound above 0.5 (or those above
    2K with an upper bound below 0.5); otherwise inconclusive (the grid stops too early, or too
    few runs there)."""
    every = bool(m.all())
    region = ratio < SY2_BAND[0] if every else ratio > SY2_BAND[1]
    runs = m[region]
    half = (0.0, float(ratio.min())) if every else (float(ratio.max()), math.inf)
    what = "every run memorised" if every else "no run memorised"
    side = f"C·P/K < {SY2_BAND[0]}" if every else f"C·P/K > {SY2_BAND[1]}"
    if runs.size == 0:
        why = f"{what}; no run at {side}, so the 50 % point ({half}) may lie in the band"
        return ClaimResult(
            name, math.nan, half, None, tol, Verdict.INCONCLUSIVE, f"inconclusive: {why}", details
        )
    lower, upper = share_bounds(int(runs.sum()), runs.size)
    if every and c_lower_bound:  # with a larger true C these runs may not lie below K/2
        why = f"{what}, but C is only a lower bound, so the runs at {side} may lie higher"
        return ClaimResult(
            name, math.nan, half, None, tol, Verdict.INCONCLUSIVE, f"inconclusive: {why}", details
        )
    if (every and lower > 0.5) or (not every and upper < 0.5):
        verdict = Verdict.REFUTED
        rule = (
            f"refuted: {what}; the {runs.size} runs at {side} memorised with one-sided 95 % "
            f"bounds [{lower:.2f}, {upper:.2f}]: the 50 % point lies outside [0.5, 2]"
        )
    else:
        verdict = Verdict.INCONCLUSIVE
        rule = (
            f"inconclusive: {what}; {runs.size} runs at {side} give bounds "
            f"[{lower:.2f}, {upper:.2f}], which do not exclude 0.5"
        )
    return ClaimResult(name, math.nan, half, None, tol, verdict, rule, details)


def sy2(
    P,
    K,
    memorised,
    C: float,
    *,
    C_interval: tuple[float, float] | None = None,
    C_lower_bound: bool = False,
    rng=None,
    n_resamples: int = 9999,
    max_exact: int = MAX_EXACT,
) -> ClaimResult:
    """SY2: logistic fit of P(memorised within the budget) on log10(C·P/K) over the memory
    grid's points (width, n) and seeds, C from SY1 at the same setting (held fixed). Supported
    if the 95 % bootstrap interval (over seeds) of the 50 % point lies inside [0.5, 2] (in C·P/K),
    refuted if it lies outside, inconclusive otherwise. Where the data are separated the 50 %
    point is only known to lie in the gap (a resample contributes that range, never a number);
    where every run (or none) memorised it is a half-line beyond the grid: refuted when the
    half-line lies wholly outside [0.5, 2] (runs below K/2 memorise, or above 2K do not),
    inconclusive when the grid simply does not reach the band's far side.

    C's own uncertainty is carried into the interval: the 50 % point in C·P/K scales with C, so
    the interval's ends are scaled by ``C_interval``'s ends over C; where C is only a lower bound
    (SY1's runs still gained bits late) the true 50 % point can only lie higher, so the interval
    is open above (the claim can then be refuted, never supported)."""
    P, K = np.asarray(P, float), np.asarray(K, float)
    m = np.asarray(memorised, bool)
    ratio = C * P / K
    x = np.log10(ratio)
    name, tol = "50 % point of P(memorised) in C·P/K", "95 % CI inside [0.5, 2]"
    labels = [f"P={p:,.0f}, K={k:,.0f} (C·P/K = {r:.2f})" for p, k, r in zip(P, K, ratio)]
    details = {
        "C": C,
        "C_interval": C_interval,
        "C_lower_bound": C_lower_bound,
        "below_half_memorised": [
            f"{labels[i]}: {int(m[i].sum())} seeds"
            for i in range(P.size)
            if ratio[i] < 0.5 and m[i].any()
        ],
        "above_2_not": [
            f"{labels[i]}: {int((~m[i]).sum())} seeds"
            for i in range(P.size)
            if ratio[i] > 2 and (~m[i]).any()
        ],
        "ratios": ratio.tolist(),
        "memorised_share": m.mean(axis=1).tolist(),
    }
    if not np.isfinite(C) or C <= 0 or P.size == 0:
        return decide_unmeasurable(name, tol, "no measured capacity C", **details)
    if not m.any() or m.all():
        return _sy2_no_transition(name, tol, ratio, m, details, C_lower_bound)
    # Each point's seeds are resampled on their own (every run is an independent training),
    # with one pseudo-seed that half memorised (Jeffreys' prior, half a success and half a
    # failure): a point where 3 of 3 seeds memorised is not certainty. Without it the
    # percentile interval undercovers: whole seed columns gave false support 5.8 % at 5 seeds,
    # per-point resampling 6.0 % at 3 seeds (50 % point at 2.3); with it 1.7 % and 0.3 %.
    rng = np.random.default_rng(0) if rng is None else rng
    vals = np.concatenate([m.astype(float), np.full((P.size, 1), 0.5)], axis=1)
    total = vals.shape[1]
    idx, w, _ = resample_plan(
        [total] * P.size, rng=rng, n_resamples=n_resamples, max_exact=max_exact
    )
    ones = np.stack([vals[j][i].sum(axis=1) for j, i in enumerate(idx)], axis=1)  # (M, points)
    xx = np.concatenate([x, x])[None, :].repeat(w.size, 0)
    yy = np.concatenate([np.ones_like(x), np.zeros_like(x)])[None, :].repeat(w.size, 0)
    ww = np.concatenate([ones, total - ones], axis=1)
    low, high, _, _ = _logistic_x50(xx, yy, ww)
    k, total = m.sum(axis=1), m.shape[1]
    lo0, hi0, b0, b1 = _logistic_x50(
        np.concatenate([x, x])[None],
        np.concatenate([np.ones_like(x), np.zeros_like(x)])[None],
        np.concatenate([k, total - k])[None].astype(float),
    )
    est = 10 ** float(lo0[0]) if lo0[0] == hi0[0] else None
    details["point_range"] = (float(10 ** lo0[0]), float(10 ** hi0[0]))
    if lo0[0] == hi0[0]:  # a finite fit: its curve, for the figure
        details["logistic"] = (float(b0[0]), float(b1[0]))  # logit = b0 + b1·log10(C·P/K)
    a = 10 ** float(weighted_quantile(low, w, 0.025))
    b = 10 ** float(weighted_quantile(high, w, 0.975))
    if C_interval is not None:  # C's uncertainty: the 50 % point moves in proportion to C
        a, b = a * min(C_interval[0], C) / C, b * max(C_interval[1], C) / C
    details["interval_before_c"] = (
        10 ** float(weighted_quantile(low, w, 0.025)),
        10 ** float(weighted_quantile(high, w, 0.975)),
    )
    if C_lower_bound:
        b = math.inf
    return decide_band(name, est, (a, b), *SY2_BAND, tolerance=tol, details=details)
