"""Song & Ye's onsets: the empirical onset of grokking, and the predicted onset P× where the
memorisation and generalisation times cross in (log P, log epochs), with censoring.

Nothing here imputes a time: a milestone a run never reached is right-censored at the epochs it
trained (CLAIMS.md revision 2). A T(P) point is the Kaplan–Meier median of the seeds
(``survival.km_median_rows``), observed or only a lower bound; the crossing is a point only where
both curves are observed at >= 2 widths on each side, otherwise a bracket (the rules of
``crossing_censored.censored_crossings``, which lists *every* crossing). ``rule_crossing_rows``
picks the crossing the onset is compared with (``ONSET_RULE``), vectorised over bootstrap
resamples, and ``onset_ratio_interval`` bootstraps log10(onset / P×) over seeds, a bracket
contributing its whole range (an open end where it is open), as ``survival.median_ratio`` does.
``crossings`` is the plain crossing of two uncensored curves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from grokclaims.analysis.arrays import as_grid, per_p
from grokclaims.analysis.bootstrap import MAX_EXACT, resample_plan, weighted_quantile
from grokclaims.analysis.survival import km_median_rows

# Monte Carlo resamples of ``onset_ratio_interval`` when exact enumeration is too large.
N_RESAMPLES = 4999


def empirical_onset(P, delays) -> float | None:
    """Song & Ye's empirical onset: the smallest P above the last P whose min delay is 0.

    ``delays`` is (n_P, n_seeds), NaN for unusable seeds; the minimum is over usable seeds, and
    a P with no usable seed is left out. None when no P has minimum delay 0 (grokking at every
    P, or no usable data) or when no usable P lies above the last such P (no grokking seen).
    """
    p = as_grid(P, "P")
    d = per_p(delays, "delays", p.size)
    usable = np.isfinite(d).any(axis=1)
    p = p[usable]
    min_delay = np.nanmin(d[usable], axis=1) if usable.any() else np.empty(0)
    order = np.argsort(p)
    p, min_delay = p[order], min_delay[order]
    zero = np.flatnonzero(min_delay <= 0)  # delays are clamped, so <= 0 means == 0
    if zero.size == 0 or zero[-1] + 1 >= p.size:
        return None
    return float(p[zero[-1] + 1])


def _crossings_log(x: np.ndarray, d: np.ndarray) -> list[tuple[float, int, int]]:
    """Zeros of the piecewise-linear d(x), x increasing: (log P, direction, segment start).

    Direction -1: d goes from > 0 to < 0 (T_mem drops below T_gen); +1 the reverse; 0 a touch,
    or a zero with no non-zero d on one side. A grid point where d == 0 is a zero itself (its
    segment start is that point); a sign change inside a segment is solved exactly on it.
    """
    out: list[tuple[float, int, int]] = []
    sign = np.sign(d)
    nz = np.flatnonzero(sign != 0)
    for i in range(x.size):
        if sign[i] == 0:
            before = sign[nz[nz < i][-1]] if (nz < i).any() else 0
            after = sign[nz[nz > i][0]] if (nz > i).any() else 0
            direction = -1 if before > 0 > after else 1 if before < 0 < after else 0
            out.append((float(x[i]), direction, i))
        if i + 1 < x.size and sign[i] * sign[i + 1] < 0:
            xs = x[i] - d[i] * (x[i + 1] - x[i]) / (d[i + 1] - d[i])
            out.append((float(min(max(xs, x[i]), x[i + 1])), int(sign[i + 1]), i))
    return out


def _to_p(x: float, i: int, p: np.ndarray, logp: np.ndarray) -> float:
    """P at log P = x found on segment i: a grid value exactly, otherwise exp(x) kept inside
    [p[i], p[i + 1]] despite the rounding of log and exp."""
    j = min(i + 1, p.size - 1)
    if x in (logp[i], logp[j]):
        return float(p[i] if x == logp[i] else p[j])
    return float(np.clip(math.exp(x), p[i], p[j]))


def _log_curves(P, t_mem_curve, t_gen_curve) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted P and both curves on the P where both are finite and positive."""
    p = as_grid(P, "P")
    a = np.asarray(t_mem_curve, dtype=float)
    b = np.asarray(t_gen_curve, dtype=float)
    for name, arr in (("t_mem", a), ("t_gen", b)):
        if arr.shape != p.shape:
            raise ValueError(f"{name} must have the shape of P {p.shape}, got {arr.shape}")
    order = np.argsort(p)
    p, a, b = p[order], a[order], b[order]
    ok = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    return p[ok], a[ok], b[ok]


def crossings(P, t_mem, t_gen) -> list[float]:
    """Every P where the piecewise-linear interpolants of the two curves in (log P, log epochs)
    meet: a sign change of log t_mem - log t_gen between neighbouring grid points (solved
    exactly on that segment) or a grid point where they are equal. Ascending.

    Points where either curve is NaN or non-positive are left out before interpolating.
    """
    p, a, b = _log_curves(P, t_mem, t_gen)
    logp = np.log(p)
    return [_to_p(x, i, p, logp) for x, _, i in _crossings_log(logp, np.log(a) - np.log(b))]


def onset_log_ratio(onset: float | None, p_cross: float | None) -> float | None:
    """log10(onset / P×); None when either is undefined."""
    return math.log10(onset / p_cross) if onset is not None and p_cross is not None else None


ONSET_RULE = (
    "P× = the largest P at which log T_mem - log T_gen changes from > 0 to <= 0 as P grows "
    "(memorisation becomes faster than generalisation): the analogue of the empirical onset's "
    "'last zero-delay P'; a point only where both Kaplan–Meier medians are observed at the two "
    "widths around it and at >= 2 widths on each side, otherwise the bracket of those widths"
)


def km_rows(times, censored) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier medians of (..., n) arrays of times and censoring flags over the last axis:
    (median with NaN where not reached, lower bound), each of shape (...)."""
    t, c = np.asarray(times, dtype=float), np.asarray(censored, dtype=bool)
    lead = t.shape[:-1]
    v, lb = km_median_rows(t.reshape(-1, t.shape[-1]), c.reshape(-1, t.shape[-1]))
    return v.reshape(lead), lb.reshape(lead)


def _signs(mv, ml, gv, gl) -> np.ndarray:
    """Sign of log T_mem - log T_gen per (row, width): +1, -1 (a tie counts as -1), or 0 where
    the censoring leaves it unknown (``crossing_censored._sign``'s rules)."""
    mo, go = ~np.isnan(mv), ~np.isnan(gv)
    with np.errstate(invalid="ignore"):
        both = np.where(mv > gv, 1, -1)
        s = np.where(mo & go, both, 0)
        s = np.where(~mo & go & (ml >= gv), 1, s)
        s = np.where(mo & ~go & (gl >= mv), -1, s)
    return s.astype(int)


def rule_crossing_rows(P, mem_value, mem_lower, gen_value, gen_lower):
    """Per row, the crossing ``ONSET_RULE`` picks from Kaplan–Meier medians (rows, n_P) (NaN
    value: not reached, then only ``*_lower`` is known); P sorted ascending.

    Returns (px, lo, hi), each (rows,): ``px`` the point (NaN where it is only a bracket) and
    the bracket (lo, hi) it lies in (lo = hi = px for a point; 0 / inf for an open side: no
    downward change at a width of known sign gives (P_last_known, inf) when T_mem > T_gen
    wherever known, (0, P_first_known) when T_mem <= T_gen there, (0, inf) with no known sign).
    """
    p = as_grid(P, "P")
    if np.any(np.diff(p) <= 0):
        raise ValueError("P must be sorted ascending")
    mv, ml, gv, gl = (
        np.atleast_2d(np.asarray(a, dtype=float))
        for a in (mem_value, mem_lower, gen_value, gen_lower)
    )
    rows, n_p = mv.shape
    sg = _signs(mv, ml, gv, gl)
    full = ~np.isnan(mv) & ~np.isnan(gv)
    upto, after = np.cumsum(full, axis=1), np.cumsum(full[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.log(mv) - np.log(gv)
    logp = np.log(p)
    px, lo, hi = np.full(rows, np.nan), np.zeros(rows), np.full(rows, np.inf)
    last_idx = np.full(rows, -1)
    last_sign = np.zeros(rows, dtype=int)
    first_known = np.full(rows, -1)
    found = np.zeros(rows, dtype=bool)
    r = np.arange(rows)
    for i in range(n_p):
        known = sg[:, i] != 0
        down = known & (sg[:, i] < 0) & (last_sign > 0)
        if down.any():
            a = last_idx[down]
            pointable = (
                (a == i - 1)
                & full[r[down], a]
                & full[down, i]
                & (upto[r[down], a] >= 2)
                & (after[down, i] >= 2)
            )
            # a tie at width i (d = 0) is a point there, as in ``censored_crossings``
            tie = full[down, i] & (d[down, i] == 0) & (upto[down, i] >= 2) & (after[down, i] >= 2)
            pointable |= tie
            da, db = d[r[down], a], d[down, i]
            with np.errstate(divide="ignore", invalid="ignore"):
                x = logp[a] - da * (logp[i] - logp[a]) / (db - da)
            x = np.where(tie, logp[i], x)
            root = np.clip(np.exp(np.where(pointable, x, logp[i])), p[a], p[i])
            root = np.where(tie, p[i], root)
            px[down] = np.where(pointable, root, np.nan)
            lo[down] = np.where(pointable, root, p[a])
            hi[down] = np.where(pointable, root, p[i])
            found |= down
        first_known = np.where(known & (first_known < 0), i, first_known)
        last_idx = np.where(known, i, last_idx)
        last_sign = np.where(known, sg[:, i], last_sign)
    none = ~found & (last_idx >= 0)
    above = none & (last_sign > 0)  # T_mem > T_gen at every known width (no down change)
    lo = np.where(above, p[np.maximum(last_idx, 0)], lo)
    below = none & ~above
    hi = np.where(below, p[np.maximum(first_known, 0)], hi)
    return px, lo, hi


def onset_rows(P, delays) -> np.ndarray:
    """``empirical_onset`` per row of delays (rows, n_P, n_seeds) on the ascending grid P: the
    smallest P above the last P whose minimum delay over usable seeds is 0; NaN when none."""
    p = as_grid(P, "P")
    d = np.asarray(delays, dtype=float)
    usable = np.isfinite(d).any(axis=2)
    mins = np.min(np.where(np.isfinite(d), d, np.inf), axis=2)
    zero = usable & (mins <= 0)
    idx = np.arange(p.size)
    last_zero = np.max(np.where(zero, idx, -1), axis=1)
    later = usable & (idx[None, :] > last_zero[:, None])
    nxt = np.argmax(later, axis=1)
    ok = (last_zero >= 0) & later.any(axis=1)
    return np.where(ok, p[nxt], np.nan)


@dataclass(frozen=True)
class OnsetRatio:
    """log10(empirical onset / P×) of one cell with its bootstrap interval over seeds."""

    onset: float | None
    p_cross: float | None  # the point P× of ``ONSET_RULE``; None when only a bracket
    bracket: tuple[float, float]  # where P× lies (lo == hi == p_cross for a point)
    log_ratio: float | None  # None when the onset or the point P× is missing
    interval: tuple[float, float]  # ends may be -inf / inf (a bracket's open side)
    log10_px_interval: tuple[float, float]  # the interval of log10 P× alone (for the null)
    confidence: float
    method: str
    open_share: float  # weight of resamples whose ratio is a range, not a point


def onset_ratio_interval(
    P,
    mem_times,
    mem_censored,
    gen_times,
    gen_censored,
    delays,
    *,
    confidence: float = 0.95,
    rng: np.random.Generator | None = None,
    n_resamples: int = N_RESAMPLES,
    max_exact: int = MAX_EXACT,
) -> OnsetRatio:
    """log10(onset / P×) and its percentile bootstrap interval over seeds.

    Arrays are (n_P, n_seeds) on the grid P: T_mem times and censoring (random-target runs),
    T_gen times and censoring and the delays (task runs; NaN: no delay, an underfit run). Task
    seeds are resampled together (the onset and T_gen come from the same runs), memory seeds
    independently (``bootstrap.resample_plan``: exact enumeration when small). Per resample, a
    bracket [lo, hi] for P× gives the ratio's range [log10(onset/hi), log10(onset/lo)] and an
    undefined onset the range (-inf, inf): the interval's lower end is the ``alpha/2`` quantile
    of the ranges' lower ends, its upper end the upper quantile of their upper ends, so it
    covers every value the censoring allows.
    """
    p = as_grid(P, "P")
    order = np.argsort(p)
    p = p[order]
    tm, tg, dl = (
        per_p(a, n, p.size)[order]
        for a, n in ((mem_times, "mem_times"), (gen_times, "gen_times"), (delays, "delays"))
    )
    cm = np.asarray(mem_censored, dtype=bool).reshape(tm.shape)[order]
    cg = np.asarray(gen_censored, dtype=bool).reshape(tg.shape)[order]
    (im, it), w, exact = _plan(tm.shape[1], tg.shape[1], rng, n_resamples, max_exact)
    ident_m, ident_t = np.arange(tm.shape[1])[None], np.arange(tg.shape[1])[None]
    im, it = np.vstack([ident_m, im]), np.vstack([ident_t, it])
    mv, ml = km_rows(tm[:, im].transpose(1, 0, 2), cm[:, im].transpose(1, 0, 2))
    gv, gl = km_rows(tg[:, it].transpose(1, 0, 2), cg[:, it].transpose(1, 0, 2))
    px, lo, hi = rule_crossing_rows(p, mv, ml, gv, gl)
    onset = onset_rows(p, dl[:, it].transpose(1, 0, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        r_low = np.where(np.isnan(onset), -np.inf, np.log10(onset / hi))
        r_high = np.where(np.isnan(onset), np.inf, np.log10(onset / lo))
        # The point by the same vectorised log10 as the interval's ends: math.log10 can differ
        # from it in the last bit and put a point crossing's ratio outside its own interval.
        r_point = np.log10(onset / px)
        lx_low, lx_high = np.log10(lo), np.log10(hi)
    alpha = 1 - confidence
    b = slice(1, None)
    interval = (
        float(weighted_quantile(r_low[b], w, alpha / 2)),
        float(weighted_quantile(r_high[b], w, 1 - alpha / 2)),
    )
    px_interval = (
        float(weighted_quantile(lx_low[b], w, alpha / 2)),
        float(weighted_quantile(lx_high[b], w, 1 - alpha / 2)),
    )
    o0 = None if np.isnan(onset[0]) else float(onset[0])
    p0 = None if np.isnan(px[0]) else float(px[0])
    ratio = float(r_point[0]) if o0 is not None and p0 is not None else None
    open_share = float(w @ (r_low[b] != r_high[b]))
    method = f"exact bootstrap ({w.size} resamples)" if exact else f"bootstrap ({w.size} draws)"
    return OnsetRatio(
        o0,
        p0,
        (float(lo[0]), float(hi[0])),
        ratio,
        interval,
        px_interval,
        confidence,
        method,
        open_share,
    )


def _plan(n_mem: int, n_task: int, rng, n_resamples: int, max_exact: int):
    return resample_plan([n_mem, n_task], rng=rng, n_resamples=n_resamples, max_exact=max_exact)
