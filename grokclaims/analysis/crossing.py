"""Song & Ye's onsets: the empirical onset of grokking, and the predicted onset P× where the
memorisation and generalisation times cross in (log P, log epochs).

Points only: the bootstrap intervals of P× and of log10(onset / P×) are in
``grokclaims.analysis.resample``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from grokclaims.analysis.arrays import as_grid, per_p


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


def _onset_from_log(x: np.ndarray, d: np.ndarray) -> tuple[float, int] | None:
    """(log P×, its segment) by the rule of ``predicted_onset``; None when there is none."""
    down = [(c, i) for c, direction, i in _crossings_log(x, d) if direction < 0]
    return down[-1] if down else None


def log_onset(logp: np.ndarray, log_mem: np.ndarray, log_gen: np.ndarray) -> float:
    """log P× from log P and the two log seed-mean curves on it, leaving out the P where either
    curve is undefined; NaN when the curves have no downward crossing."""
    keep = np.isfinite(log_mem) & np.isfinite(log_gen)
    onset = _onset_from_log(logp[keep], log_mem[keep] - log_gen[keep])
    return math.nan if onset is None else onset[0]


@dataclass(frozen=True)
class Crossing:
    """The predicted onset P× of Song & Ye and everything needed to judge it."""

    p_cross: float | None  # P× by ``rule``; None when the curves have no downward crossing
    crossings: tuple[float, ...]  # every crossing of the interpolants, ascending in P
    directions: tuple[int, ...]  # per crossing: -1 T_mem drops below T_gen, +1 rises, 0 touch
    P: tuple[float, ...]  # grid of the mean curves (sorted; P with no data dropped)
    t_mem: tuple[float, ...]  # seed-mean (geometric) T_mem on that grid
    t_gen: tuple[float, ...]
    rule: str


ONSET_RULE = (
    "P× = the largest P at which the interpolated log T_mem - log T_gen changes from > 0 to < 0 "
    "(memorisation becomes faster than generalisation and stays so up to the next crossing); "
    "the analogue of the empirical onset's 'last zero-delay P'"
)


def log_seed_means(t: np.ndarray) -> np.ndarray:
    """Mean of log T over finite seeds along the last axis; NaN where no seed is finite."""
    logs = np.log(np.where(np.isfinite(t) & (t > 0), t, np.nan))
    count = np.isfinite(logs).sum(axis=-1)
    total = np.nansum(logs, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def geometric_seed_means(values) -> np.ndarray:
    """Per P (row), the geometric mean of the positive values over seeds; NaN where none is."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.exp(log_seed_means(np.asarray(values, dtype=float)))


def onset_times(
    P, t_mem_seeds, t_gen_seeds, not_reached: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The inputs of ``predicted_onset`` validated, sorted by P, with ``not_reached`` standing
    in for NaN: (P, t_mem (n_P, n_mem_seeds), t_gen (n_P, n_gen_seeds))."""
    p = as_grid(P, "P")
    tm = per_p(t_mem_seeds, "t_mem_seeds", p.size)
    tg = per_p(t_gen_seeds, "t_gen_seeds", p.size)
    if not_reached is not None:
        tm = np.where(np.isnan(tm), not_reached, tm)
        tg = np.where(np.isnan(tg), not_reached, tg)
    order = np.argsort(p)
    return p[order], tm[order], tg[order]


def predicted_onset(P, t_mem_seeds, t_gen_seeds, *, not_reached: float | None = None) -> Crossing:
    """P× where the seed-mean T_mem(P) and T_gen(P) cross in (log P, log epochs).

    ``t_mem_seeds`` (n_P, n_mem_seeds) and ``t_gen_seeds`` (n_P, n_gen_seeds) hold each seed's
    epochs, NaN where the threshold was never reached. The seed mean is geometric (the mean of
    log epochs): the curves are compared in log space and span decades, so one slow seed must
    not dominate. Seeds that never reached are dropped from the mean, unless ``not_reached``
    is given (e.g. the epoch budget), which then stands in for them: a lower bound on their
    true time. A P where a curve has no value is dropped. The rule picking P× among the
    crossings is ``ONSET_RULE``. Its bootstrap interval: ``resample.predicted_onset_interval``.
    """
    p, tm, tg = onset_times(P, t_mem_seeds, t_gen_seeds, not_reached)
    lm, lg = log_seed_means(tm), log_seed_means(tg)
    ok = np.isfinite(lm) & np.isfinite(lg)
    x, d = np.log(p[ok]), lm[ok] - lg[ok]
    found = _crossings_log(x, d)
    onset = _onset_from_log(x, d)
    return Crossing(
        p_cross=None if onset is None else _to_p(*onset, p[ok], x),
        crossings=tuple(_to_p(c, i, p[ok], x) for c, _, i in found),
        directions=tuple(direction for _, direction, _ in found),
        P=tuple(p[ok].tolist()),
        t_mem=tuple(np.exp(lm[ok]).tolist()),
        t_gen=tuple(np.exp(lg[ok]).tolist()),
        rule=ONSET_RULE,
    )


def onset_log_ratio(onset: float | None, p_cross: float | None) -> float | None:
    """log10(onset / P×); None when either is undefined."""
    return math.log10(onset / p_cross) if onset is not None and p_cross is not None else None


@dataclass(frozen=True)
class OnsetComparison:
    """The empirical onset against P× on one grid (SY6); the bootstrap interval of the log
    ratio is ``resample.onset_ratio_interval``."""

    onset: float | None
    p_cross: float | None
    crossings: tuple[float, ...]
    log_ratio: float | None  # log10(onset / P×)


def onset_vs_crossing(P, delay, t_mem, t_gen, not_reached: float) -> OnsetComparison:
    """Empirical onset (from the delays) vs P× (from T_mem and T_gen, with ``not_reached``
    standing in for seeds that never reached: a lower bound)."""
    onset = empirical_onset(P, delay)
    cross = predicted_onset(P, t_mem, t_gen, not_reached=not_reached)
    return OnsetComparison(
        onset, cross.p_cross, tuple(cross.crossings), onset_log_ratio(onset, cross.p_cross)
    )
