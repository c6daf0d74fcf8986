"""The crossing P× of T_mem(P) and T_gen(P) when some medians are censored.

Input: per width P, the Kaplan–Meier medians of T_mem and T_gen (``survival.CensoredMedian``),
each observed or only a lower bound. Output (``censored_crossings``): *every* crossing, each a
point or a bracket, and beside them the authors' linear-interpolation value.

- The sign of d(P) = log T_mem − log T_gen at a width is known when both medians are observed,
  or when a bound settles it: T_mem only bounded below by L with L >= T_gen gives d > 0;
  T_gen bounded below by L with L >= T_mem gives d < 0 (lower bounds are strict: an unreached
  median exceeds the follow-up). Otherwise the sign there is unknown.
- A **point** crossing is the root of the straight line through (log P_i, d_i) and
  (log P_{i+1}, d_{i+1}) where d changes sign between neighbouring widths, computed only when
  both curves are observed at those two widths *and* at ≥ 2 widths on each side in all (the
  two neighbours included); a width where d = 0 exactly is a point crossing under the same
  condition (counting that width on both sides).
- Every other sign change between consecutive widths of known sign is a **bracket**
  (P_a, P_b): at least one crossing lies there; it is usable only as a bound, and a verdict
  that needs a point is inconclusive.
- With no sign change at all, the crossing (if any) lies off the known range: d > 0 at every
  known width gives the bracket (P_last, ∞) ("P× > P_last"), d < 0 gives (0, P_first);
  no known sign gives (0, ∞).
- ``unknown`` lists the stretches of widths with unknown sign, where crossings may hide.

The authors' value (``authors_linear``): both curves linearly interpolated in (P, epochs) over
the widths where both are observed, on 10,001 evenly spaced P from the smallest to the largest
such width, and the P of the argmin of |T_mem − T_gen| (on average 13 % above the log-log root,
CLAIMS.md). It is reported beside ours, never instead of it.

References: Song & Ye (the crossing rule of the paper); CLAIMS.md "How a claim is decided".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grokclaims.analysis.survival import CensoredMedian, CurvePoint

__all__ = ["CensoredCrossing", "CrossingReport", "authors_linear", "censored_crossings", "signs"]

# Fine linear grid of the authors' argmin.
AUTHORS_GRID = 10_001
# Fully observed widths needed on each side of a point crossing.
MIN_SIDE = 2


@dataclass(frozen=True)
class CensoredCrossing:
    """One crossing: a point (``P`` set) or a bracket (``P`` None; ``between`` bounds it)."""

    P: float | None
    between: tuple[float, float]  # the widths around it; (P_last, inf) / (0, P_first) off-grid
    direction: int  # -1: T_mem drops below T_gen as P grows; +1: rises above; 0: a touch
    reason: str

    @property
    def is_point(self) -> bool:
        return self.P is not None

    def __str__(self) -> str:
        lo, hi = self.between
        if self.P is not None:
            return f"P× = {self.P:,.0f}"
        if lo == 0 and math.isinf(hi):
            return "P× undetermined on this grid"
        if math.isinf(hi):
            return f"P× > {lo:,.0f}"
        if lo == 0:
            return f"P× < {hi:,.0f}"
        return f"{lo:,.0f} < P× < {hi:,.0f}"


@dataclass(frozen=True)
class CrossingReport:
    """All crossings of the two censored curves, ascending in P, and the authors' value."""

    crossings: tuple[CensoredCrossing, ...]
    authors_linear: float | None  # argmin |T_mem - T_gen| on the linear grid; None: < 2 widths
    P: tuple[float, ...]
    signs: tuple[int | None, ...]  # per width: sign of log T_mem - log T_gen, None unknown
    unknown: tuple[tuple[float, float], ...]  # stretches of widths of unknown sign

    @property
    def points(self) -> tuple[float, ...]:
        return tuple(c.P for c in self.crossings if c.P is not None)

    @property
    def brackets(self) -> tuple[CensoredCrossing, ...]:
        return tuple(c for c in self.crossings if c.P is None)

    def describe(self) -> str:
        ours = "; ".join(map(str, self.crossings)) or "no crossing"
        theirs = "none" if self.authors_linear is None else f"{self.authors_linear:,.0f}"
        return f"{ours} (authors' linear argmin: {theirs})"


def _sign(mem: CensoredMedian, gen: CensoredMedian) -> int | None:
    if mem.observed and gen.observed:
        d = math.log(mem.value) - math.log(gen.value)
        return 0 if d == 0 else (1 if d > 0 else -1)
    if not mem.observed and gen.observed and mem.lower_bound >= gen.value:
        return 1
    if mem.observed and not gen.observed and gen.lower_bound >= mem.value:
        return -1
    return None


def _medians(curve) -> list[CensoredMedian]:
    return [pt.median if isinstance(pt, CurvePoint) else pt for pt in curve]


def _prepare(P, mem, gen):
    p = np.asarray(P, dtype=float)
    mem, gen = _medians(mem), _medians(gen)
    if p.ndim != 1 or not len(mem) == len(gen) == p.size:
        raise ValueError("P, mem and gen must have one entry per width")
    if not np.all(np.isfinite(p) & (p > 0)) or np.unique(p).size != p.size:
        raise ValueError("P must be distinct, finite and positive")
    for m in (*mem, *gen):
        if m.observed and not m.value > 0:
            raise ValueError("an observed median must be > 0 epochs for a log crossing")
    order = np.argsort(p)
    return p[order], [mem[i] for i in order], [gen[i] for i in order]


def signs(P, mem, gen) -> tuple[int | None, ...]:
    """Per width (sorted by P), the sign of log T_mem − log T_gen where known, else None."""
    _, mem, gen = _prepare(P, mem, gen)
    return tuple(_sign(m, g) for m, g in zip(mem, gen))


def authors_linear(P, mem, gen, *, grid: int = AUTHORS_GRID) -> float | None:
    """The authors' P×: argmin |T_mem − T_gen| of the curves interpolated linearly in
    (P, epochs), over the widths where both medians are observed. None with < 2 such widths.
    It always returns a P, even where the curves do not cross (then it is their closest point).
    """
    p, mem, gen = _prepare(P, mem, gen)
    both = [i for i in range(p.size) if mem[i].observed and gen[i].observed]
    if len(both) < 2:
        return None
    x = p[both]
    tm = np.array([mem[i].value for i in both])
    tg = np.array([gen[i].value for i in both])
    fine = np.linspace(x[0], x[-1], grid)
    diff = np.abs(np.interp(fine, x, tm) - np.interp(fine, x, tg))
    return float(fine[int(np.argmin(diff))])


def _stretches(p: np.ndarray, mask: Sequence[bool]) -> tuple[tuple[float, float], ...]:
    out, start = [], None
    for i, m in enumerate([*mask, False]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            out.append((float(p[start]), float(p[i - 1])))
            start = None
    return tuple(out)


def censored_crossings(P, mem, gen) -> CrossingReport:
    """Every crossing of T_mem(P) and T_gen(P) in (log P, log epochs), as points where the
    censoring allows and brackets elsewhere (rules in the module docstring).

    ``mem`` and ``gen``: per width a ``CensoredMedian`` or a ``CurvePoint`` (``t_curve``).
    """
    p, mem, gen = _prepare(P, mem, gen)
    sg = [_sign(m, g) for m, g in zip(mem, gen)]
    full = np.array([m.observed and g.observed for m, g in zip(mem, gen)])
    n_full_upto = np.cumsum(full)  # fully observed widths at index <= i
    n_full_from = np.cumsum(full[::-1])[::-1]  # ... at index >= i
    d = [
        math.log(m.value) - math.log(g.value) if f else math.nan for m, g, f in zip(mem, gen, full)
    ]
    logp = np.log(p)
    out: list[CensoredCrossing] = []
    known = [i for i, s in enumerate(sg) if s is not None]
    for i in known:  # exact zeros at a width
        if sg[i] == 0:
            before = [sg[j] for j in known if j < i and sg[j] != 0]
            after = [sg[j] for j in known if j > i and sg[j] != 0]
            b, a = (before[-1] if before else 0), (after[0] if after else 0)
            direction = -1 if b > 0 > a else 1 if b < 0 < a else 0
            if n_full_upto[i] >= MIN_SIDE and n_full_from[i] >= MIN_SIDE:
                out.append(CensoredCrossing(float(p[i]), (float(p[i]),) * 2, direction, "equal"))
            else:
                reason = f"equal at a width with < {MIN_SIDE} observed widths on a side"
                out.append(CensoredCrossing(None, (float(p[i]),) * 2, direction, reason))
    nonzero = [i for i in known if sg[i] != 0]
    for a, b in itertools.pairwise(nonzero):
        if sg[a] == sg[b] or any(sg[j] == 0 for j in range(a + 1, b)):
            continue
        direction = int(sg[b])
        pointable = (
            b == a + 1
            and full[a]
            and full[b]
            and n_full_upto[a] >= MIN_SIDE
            and n_full_from[b] >= MIN_SIDE
        )
        if pointable:
            x = logp[a] - d[a] * (logp[b] - logp[a]) / (d[b] - d[a])
            px = float(np.clip(math.exp(x), p[a], p[b]))
            out.append(CensoredCrossing(px, (float(p[a]), float(p[b])), direction, "log-log root"))
        else:
            why = (
                "widths of unknown sign between"
                if b != a + 1
                else "a curve is censored at a bracketing width"
                if not (full[a] and full[b])
                else f"fewer than {MIN_SIDE} fully observed widths on a side"
            )
            out.append(CensoredCrossing(None, (float(p[a]), float(p[b])), direction, why))
    if not out:
        if not nonzero:
            out.append(CensoredCrossing(None, (0.0, math.inf), 0, "no width of known sign"))
        elif sg[nonzero[0]] > 0:
            last = float(p[nonzero[-1]])
            out.append(
                CensoredCrossing(None, (last, math.inf), -1, "T_mem > T_gen at every known width")
            )
        else:
            first = float(p[nonzero[0]])
            out.append(
                CensoredCrossing(None, (0.0, first), -1, "T_mem < T_gen at every known width")
            )
    out.sort(key=lambda c: (c.between[0], c.between[1]))
    unknown = _stretches(p, [s is None for s in sg])
    return CrossingReport(
        tuple(out), authors_linear(p, mem, gen), tuple(map(float, p)), tuple(sg), unknown
    )
