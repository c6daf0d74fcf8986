"""Resampling, in one place: every bootstrap and permutation of the analysis, and the
percentile interval.

The measurements (``capacity``, ``speed``) and the tests (``ranks``,
``agreement``, ``regression``) compute points; the functions here draw the resamples, call
those point functions on each and summarise the samples. Every randomised procedure takes an
explicit ``numpy.random.Generator``: same inputs and same generator state, same numbers. Two
ways of drawing exist and are kept apart, since they consume a generator differently:
``resample_indices`` draws all resamples of a size in one call (vectorised statistics), and
``bootstrap`` draws each resample's indices in turn (a statistic evaluated per resample).

References: Phipson & Smyth (2010) "Permutation p-values should never be zero" (the +1 of
Monte-Carlo permutation p-values).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from grokclaims.analysis.capacity import capacity_points, weighted_ols
from grokclaims.analysis.statistic import Estimate

# Permutation resamples: p resolved to 1e-4, and exact enumeration up to n = 7 (7! = 5040).
N_RESAMPLES = 9999
# Bootstrap resamples: percentile endpoints then move by well under 1 % of the CI width (BCa
# needs a few thousand for stable tails).
N_BOOT = 2000
# The claims' confidence level for intervals (two-sided).
CONFIDENCE = 0.95
# The 2.5th and 97.5th percentiles written literally (SY8, SY9); ``tail_percentiles(0.95)``
# differs from them in the last bit (50 · (1 - 0.95) = 2.500000000000002).
PERCENTILES_95 = (2.5, 97.5)
# Relative tolerance for ties between a permuted and the observed statistic (SciPy's own).
_TIE_EPS = 100 * np.finfo(float).eps


# --------------------------------------------------------------------------- intervals


def tail_percentiles(confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The percentiles 50·(1 - confidence) and 100 minus that: a two-sided interval's ends."""
    tail = 50 * (1 - confidence)
    return tail, 100 - tail


def percentile_interval(samples, percentiles: tuple[float, float]) -> tuple[float, float] | None:
    """The given percentiles of the finite samples; None with fewer than 2 finite samples."""
    s = np.asarray(samples, dtype=float)
    finite = s[np.isfinite(s)]
    if finite.size < 2:
        return None
    lo, hi = np.percentile(finite, list(percentiles))
    return float(lo), float(hi)


@dataclass(frozen=True)
class BootstrapInterval:
    """A percentile bootstrap interval and the share of resamples that defined the statistic."""

    interval: tuple[float, float] | None  # None with fewer than 2 defined resamples
    fraction: float  # share of resamples with a finite statistic (NaN for no resamples)
    n_boot: int
    resampled: str  # the unit resampled, e.g. "seeds"


def summarise(
    samples, percentiles: tuple[float, float], resampled: str, transform=None
) -> BootstrapInterval:
    """The percentile interval of ``samples`` (mapped by ``transform``, e.g. exp, at its ends)
    and the share of them that is finite."""
    s = np.asarray(samples, dtype=float)
    interval = percentile_interval(s, percentiles)
    if interval is not None and transform is not None:
        interval = (transform(interval[0]), transform(interval[1]))
    fraction = int(np.isfinite(s).sum()) / s.size if s.size else math.nan
    return BootstrapInterval(interval, fraction, int(s.size), resampled)


# --------------------------------------------------------------------------- drawing


def resample_indices(rng: np.random.Generator, n_boot: int, *sizes: int) -> list[np.ndarray]:
    """Per size n, (n_boot, n) indices into range(n) drawn with replacement, one call each."""
    return [rng.integers(0, n, size=(n_boot, n)) for n in sizes]


def bootstrap(
    statistic: Callable[..., float], *sizes: int, rng: np.random.Generator, n_boot: int
) -> np.ndarray:
    """``statistic(*indices)`` for ``n_boot`` resamples; each draws, in the order of ``sizes``,
    one index array per size n (``rng.integers(0, n, n)``). NaN marks an undefined statistic."""
    out = np.full(n_boot, math.nan)
    for k in range(n_boot):
        out[k] = statistic(*(rng.integers(0, n, n) for n in sizes))
    return out


def seed_bootstrap_interval(
    statistic: Callable[[np.ndarray], float],
    n_seeds: int,
    *,
    rng: np.random.Generator,
    n_boot: int = N_BOOT,
    percentiles: tuple[float, float] = PERCENTILES_95,
) -> tuple[float, float] | None:
    """The percentile interval of ``statistic(seed columns)`` over seed resamples."""
    return percentile_interval(bootstrap(statistic, n_seeds, rng=rng, n_boot=n_boot), percentiles)


# --------------------------------------------------------------------------- capacity


def capacity_interval(
    P,
    bits,
    *,
    rng: np.random.Generator,
    n_boot: int = N_BOOT,
    confidence: float = CONFIDENCE,
) -> BootstrapInterval:
    """Bootstrap interval of the capacity C (``capacity.fit_capacity``'s slope).

    With one column of ``bits`` it resamples (P, bits) points; with several it resamples whole
    seed columns, so points of one seed stay together. No resamples (interval None) when the
    fit itself is undefined (fewer than 3 points or a single P).
    """
    p, b, w = capacity_points(P, bits)
    xs, ys = np.broadcast_to(p[:, None], b.shape)[w], b[w]
    if xs.size < 3 or np.unique(xs).size < 2:
        return BootstrapInterval(None, math.nan, 0, "points")
    resampled = "points" if b.shape[1] == 1 else "seeds"
    y0, w0 = np.where(w, b, 0.0), w.astype(float)
    if b.shape[1] == 1:
        (idx,) = resample_indices(rng, n_boot, xs.size)
        bx, by, bw = xs[idx], ys[idx], np.ones(idx.shape)
    else:
        (idx,) = resample_indices(rng, n_boot, b.shape[1])
        bx = np.broadcast_to(p[None, :, None], (n_boot, p.size, b.shape[1])).reshape(n_boot, -1)
        by = y0[:, idx].transpose(1, 0, 2).reshape(n_boot, -1)
        bw = w0[:, idx].transpose(1, 0, 2).reshape(n_boot, -1)
    slopes, _ = weighted_ols(bx, by, bw)
    return summarise(slopes, tail_percentiles(confidence), resampled)


# --------------------------------------------------------------------------- SciPy


def permutation(
    sample: np.ndarray,
    statistic: Callable,
    alternative: str,
    rng: np.random.Generator,
    n_resamples: int,
) -> tuple[float, float, float | None, str]:
    """Permute the order of ``sample`` against fixed partners (SciPy's 'pairings').

    Returns (statistic, p in ``alternative``, p in the opposite direction, method). Both
    one-sided p-values come from one null distribution, with SciPy's conventions: exact when
    all n! orders fit in ``n_resamples``, otherwise Monte Carlo with the +1 correction.
    """
    n = sample.size
    exact = n_resamples >= math.factorial(n)
    res = stats.permutation_test(
        (sample,),
        statistic,
        permutation_type="pairings",
        vectorized=True,
        n_resamples=n_resamples,
        alternative=alternative,
        rng=rng,
        batch=1000,  # bounds memory at n_resamples x n for large n
    )
    obs, null = float(res.statistic), np.asarray(res.null_distribution)
    adj = 0 if exact else 1
    gamma = abs(_TIE_EPS * obs)
    p_less = (np.count_nonzero(null <= obs + gamma) + adj) / (null.size + adj)
    p_greater = (np.count_nonzero(null >= obs - gamma) + adj) / (null.size + adj)
    method = f"exact permutation ({null.size})" if exact else f"permutation ({null.size})"
    if alternative == "two-sided":
        return obs, float(res.pvalue), None, method
    p_opp = p_greater if alternative == "less" else p_less
    return obs, float(res.pvalue), float(min(p_opp, 1.0)), method


def bootstrap_ci(
    data,
    statistic: Callable,
    *,
    rng: np.random.Generator,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_BOOT,
    method: str = "BCa",
    paired: bool = True,
) -> Estimate:
    """``scipy.stats.bootstrap`` CI of ``statistic(*samples, axis=-1)`` (vectorised).

    ``data`` is one 1-D array or a sequence of them. Paired samples lose every row with a NaN
    in any sample; unpaired samples lose their own NaN. When BCa degenerates (all-equal data
    make its acceleration 0/0) the percentile interval is used; when some resamples give a NaN
    statistic (a constant resample of a correlation), the percentiles of the finite ones, with
    their share in ``details``. ``method`` says which; the interval is None when all fail.
    """
    single = isinstance(data, np.ndarray) or not (
        isinstance(data, Sequence) and len(data) and np.ndim(data[0]) == 1
    )
    samples = [np.asarray(s, dtype=float) for s in ([data] if single else data)]
    for i, s in enumerate(samples):
        if s.ndim != 1:
            raise ValueError(f"data[{i}] must be 1-D, got shape {s.shape}")
    paired = paired and len(samples) > 1
    if paired:
        if any(s.size != samples[0].size for s in samples):
            raise ValueError("paired data must have equal lengths")
        ok = np.all([np.isfinite(s) for s in samples], axis=0)
        samples = [s[ok] for s in samples]
    else:
        samples = [s[np.isfinite(s)] for s in samples]
    n = min(s.size for s in samples)
    value = float(statistic(*samples, axis=-1)) if n >= 1 else math.nan
    if n < 2 or not math.isfinite(value):
        return Estimate(value, None, "none", n, {"reason": "too few points or NaN statistic"})
    res = None
    for m in dict.fromkeys((method, "percentile")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DegenerateDataWarning: handled by the fallbacks
            res = stats.bootstrap(
                tuple(samples),
                statistic,
                paired=paired,
                vectorized=True,
                n_resamples=n_resamples,
                confidence_level=confidence,
                method=m,
                rng=rng,
            )
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if math.isfinite(lo) and math.isfinite(hi):
            label = m if m == method else f"{m} ({method} degenerate)"
            return Estimate(value, (lo, hi), label, n)
    boot = np.asarray(res.bootstrap_distribution)
    interval = percentile_interval(boot, tail_percentiles(confidence))
    if interval is not None:
        details = {"finite_share": int(np.isfinite(boot).sum()) / boot.size}
        return Estimate(value, interval, "percentile of finite resamples", n, details)
    return Estimate(value, None, "none", n, {"reason": "bootstrap interval undefined"})
