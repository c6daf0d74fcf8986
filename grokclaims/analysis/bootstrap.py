"""One resampling helper for every claim: bootstrap intervals of statistics over seeds.

``bootstrap_interval`` gives the percentile or BCa interval of ``statistic(*samples, axis=-1)``
for one or several *independent* samples (each resampled with replacement on its own).

- When the number of distinct resamples is small (``n_resamples_exact(sizes) <= max_exact``,
  by default every single sample of n <= 9 and pairs up to n = 5 each), the bootstrap
  distribution is enumerated *exactly*: every multiset of size n drawn from the n values, with
  its multinomial probability n! / (prod c_i! · n^n), and the Cartesian product of these over
  the samples. No random numbers are drawn, so the interval is a function of the data alone.
  Quantiles of that discrete distribution are its inverse CDF: the p quantile is the smallest
  value v with P*(θ* <= v) >= p.
- Otherwise it is ``scipy.stats.bootstrap`` (``paired=False``, ``vectorized=True``) with the
  caller's generator.

Every sample is sorted before resampling, so the result does not depend on the order of the
seeds (the statistic must be symmetric in each sample, as any statistic of i.i.d. seeds is).
Batches work: a sample of shape (..., n) gives one interval per leading index (used by the
coverage simulation in ``docs/bootstrap_coverage.md``).

BCa (Efron 1987) uses the bias-correction z0 = Φ⁻¹(P*(θ* < θ̂) + ½ P*(θ* = θ̂)) (the mid-rank
form; the bootstrap distribution of a median is discrete and ties with θ̂ carry a lot of mass)
and the jackknife acceleration summed over the samples, as SciPy does. Where BCa is undefined
(constant data: 0/0 in the acceleration) the percentile interval is returned instead and
``method`` says so, element by element.

References: Efron & Tibshirani (1993) "An Introduction to the Bootstrap", ch. 13-14;
Efron (1987) "Better bootstrap confidence intervals", JASA 82; Fisher & Hall (1991) on
exact bootstrap enumeration.
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

__all__ = [
    "CONFIDENCE",
    "MAX_EXACT",
    "BootstrapInterval",
    "bootstrap_interval",
    "exact_resamples",
    "n_resamples_exact",
    "resample_plan",
    "weighted_quantile",
]

# Largest exact bootstrap distribution enumerated (single sample: n <= 9 gives 24,310).
MAX_EXACT = 25_000
# Monte Carlo resamples when the exact distribution is too large.
N_RESAMPLES = 9999
# The claims' confidence level for intervals (two-sided).
CONFIDENCE = 0.95


@dataclass(frozen=True)
class BootstrapInterval:
    """A statistic and its bootstrap interval (arrays when the samples were batched)."""

    estimate: float | np.ndarray
    low: float | np.ndarray
    high: float | np.ndarray
    method: str  # "percentile" / "BCa" / "percentile (BCa degenerate)"
    exact: bool  # True: the bootstrap distribution was enumerated, no random draws
    n_resamples: int  # distinct resamples (exact) or draws (Monte Carlo)
    confidence: float

    @property
    def interval(self) -> tuple[float, float]:
        """(low, high) as floats; only for an unbatched result."""
        return (float(self.low), float(self.high))


def n_resamples_exact(sizes: Sequence[int]) -> int:
    """Number of distinct resamples (multisets) of independent samples of these sizes:
    the product of C(2n - 1, n)."""
    return math.prod(math.comb(2 * n - 1, n) for n in sizes)


@functools.lru_cache(maxsize=32)
def _exact_single(n: int) -> tuple[np.ndarray, np.ndarray]:
    combos = np.array(list(itertools.combinations_with_replacement(range(n), n)), dtype=np.intp)
    counts = np.stack([(combos == i).sum(axis=1) for i in range(n)], axis=1)
    log_w = special.gammaln(n + 1) - special.gammaln(counts + 1).sum(axis=1) - n * math.log(n)
    w = np.exp(log_w)
    combos.setflags(write=False)
    w = w / w.sum()
    w.setflags(write=False)
    return combos, w


def exact_resamples(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every multiset of n indices from range(n), shape (C(2n-1, n), n), and its probability
    under resampling with replacement (weights summing to 1)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return _exact_single(int(n))


def resample_plan(
    sizes: Sequence[int],
    *,
    rng: np.random.Generator | None = None,
    n_resamples: int = N_RESAMPLES,
    max_exact: int = MAX_EXACT,
) -> tuple[list[np.ndarray], np.ndarray, bool]:
    """Index arrays (one (M, n_i) array per sample), weights (M,) and whether exact.

    Exact (Cartesian product of each sample's multisets) when ``n_resamples_exact(sizes) <=
    max_exact``; otherwise ``n_resamples`` uniform draws with equal weights (needs ``rng``).
    """
    sizes = [int(n) for n in sizes]
    if any(n < 1 for n in sizes):
        raise ValueError(f"every sample needs at least one value, got sizes {sizes}")
    if n_resamples_exact(sizes) <= max_exact:
        singles = [exact_resamples(n) for n in sizes]
        grid = np.array(list(itertools.product(*(range(len(w)) for _, w in singles))))
        grid = grid.reshape(-1, len(sizes))
        idx = [singles[j][0][grid[:, j]] for j in range(len(sizes))]
        w = np.prod([singles[j][1][grid[:, j]] for j in range(len(sizes))], axis=0)
        return idx, w / w.sum(), True
    if rng is None:
        raise ValueError("a Monte Carlo bootstrap needs rng")
    idx = [rng.integers(0, n, size=(n_resamples, n)) for n in sizes]
    return idx, np.full(n_resamples, 1.0 / n_resamples), False


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float | np.ndarray):
    """Inverse-CDF quantile along the last axis: the smallest v with W(values <= v) >= q.

    ``weights`` has the last axis's length (shared by every batch row) or the full shape;
    ``q`` a scalar or an array broadcasting with the batch shape. +inf and -inf are values
    like any other (an open end stays open); NaN is not allowed.
    """
    v = np.asarray(values, dtype=float)
    if np.isnan(v).any():
        raise ValueError("weighted_quantile: NaN values")
    w = np.broadcast_to(np.asarray(weights, dtype=float), v.shape)
    order = np.argsort(v, axis=-1, kind="stable")
    vs = np.take_along_axis(v, order, axis=-1)
    cw = np.cumsum(np.take_along_axis(w, order, axis=-1), axis=-1)
    cw = cw / cw[..., -1:]
    qa = np.asarray(q, dtype=float)[..., None]
    k = np.argmax(cw >= qa - 1e-12, axis=-1)
    return np.take_along_axis(vs, k[..., None], axis=-1)[..., 0]


def _as_samples(samples) -> list[np.ndarray]:
    if isinstance(samples, np.ndarray) or (
        isinstance(samples, Sequence) and len(samples) and np.ndim(samples[0]) == 0
    ):
        samples = [samples]
    out = [np.sort(np.asarray(s, dtype=float), axis=-1) for s in samples]
    if not out:
        raise ValueError("no samples")
    for i, s in enumerate(out):
        if s.ndim < 1 or s.shape[-1] < 1:
            raise ValueError(f"sample {i} is empty")
        if np.isnan(s).any():
            raise ValueError(f"sample {i} has NaN; drop unusable seeds before resampling")
    return out


def _jackknife(samples: list[np.ndarray], statistic: Callable) -> list[np.ndarray]:
    """Leave-one-out statistics, one (..., n_i) array per sample."""
    out = []
    for j, s in enumerate(samples):
        n = s.shape[-1]
        keep = np.array([np.delete(np.arange(n), i) for i in range(n)])  # (n, n-1)
        args = [
            s[..., keep]
            if k == j
            else np.broadcast_to(o[..., None, :], (*o.shape[:-1], n, o.shape[-1]))
            for k, o in enumerate(samples)
        ]
        out.append(np.asarray(statistic(*args, axis=-1), dtype=float))
    return out


def _exact(samples, statistic, confidence, method, max_exact):
    idx, w, _ = resample_plan([s.shape[-1] for s in samples], max_exact=max_exact)
    theta_hat = np.asarray(statistic(*samples, axis=-1), dtype=float)
    boot = np.asarray(statistic(*(s[..., i] for s, i in zip(samples, idx)), axis=-1), dtype=float)
    a = (1 - confidence) / 2
    lo_q, hi_q = np.full(theta_hat.shape, a), np.full(theta_hat.shape, 1 - a)
    label = "percentile"
    if method == "BCa":
        below = (boot < theta_hat[..., None]) @ w
        ties = (boot == theta_hat[..., None]) @ w
        z0 = stats.norm.ppf(np.clip(below + 0.5 * ties, 1e-12, 1 - 1e-12))
        num = den = 0.0
        for jk in _jackknife(samples, statistic):
            d = jk.mean(axis=-1, keepdims=True) - jk
            num = num + (d**3).sum(axis=-1)
            den = den + (d**2).sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            acc = num / (6 * den**1.5)
            za, zb = stats.norm.ppf(a), stats.norm.ppf(1 - a)
            q1 = stats.norm.cdf(z0 + (z0 + za) / (1 - acc * (z0 + za)))
            q2 = stats.norm.cdf(z0 + (z0 + zb) / (1 - acc * (z0 + zb)))
        ok = np.isfinite(q1) & np.isfinite(q2)
        lo_q, hi_q = np.where(ok, q1, lo_q), np.where(ok, q2, hi_q)
        label = (
            "BCa"
            if ok.all()
            else "BCa (percentile where degenerate)"
            if ok.any()
            else "percentile (BCa degenerate)"
        )
    low = weighted_quantile(boot, w, lo_q)
    high = weighted_quantile(boot, w, hi_q)
    return theta_hat, low, high, label, w.size


def _monte_carlo(samples, statistic, confidence, method, rng, n_resamples):
    theta_hat = np.asarray(statistic(*samples, axis=-1), dtype=float)
    out = {}
    for m in dict.fromkeys((method, "percentile")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DegenerateDataWarning: handled below
            res = stats.bootstrap(
                tuple(samples),
                statistic,
                n_resamples=n_resamples,
                confidence_level=confidence,
                method=m,
                paired=False,
                vectorized=True,
                axis=-1,
                rng=rng,
            )
        out[m] = (np.asarray(res.confidence_interval.low), np.asarray(res.confidence_interval.high))
    low, high = out[method]
    ok = np.isfinite(low) & np.isfinite(high)
    label = method
    if method != "percentile" and not ok.all():
        low, high = (
            np.where(ok, low, out["percentile"][0]),
            np.where(ok, high, out["percentile"][1]),
        )
        label = (
            f"{method} (percentile where degenerate)" if ok.any() else "percentile (BCa degenerate)"
        )
    return theta_hat, low, high, label, n_resamples


def bootstrap_interval(
    samples,
    statistic: Callable,
    *,
    rng: np.random.Generator | None = None,
    confidence: float = 0.95,
    method: str = "percentile",
    n_resamples: int = N_RESAMPLES,
    max_exact: int = MAX_EXACT,
) -> BootstrapInterval:
    """Bootstrap interval of ``statistic(*samples, axis=-1)`` over independent samples.

    ``samples``: one array (..., n) or a sequence of them (the leading shapes must agree).
    ``statistic`` must be vectorised along ``axis`` and symmetric in each sample's values.
    ``method``: "percentile" or "BCa". Exact enumeration when the distinct resamples number
    at most ``max_exact`` (``rng`` then unused), ``scipy.stats.bootstrap`` otherwise.
    """
    if method not in ("percentile", "BCa"):
        raise ValueError(f"method must be 'percentile' or 'BCa', not {method!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    ss = _as_samples(samples)
    exact = n_resamples_exact([s.shape[-1] for s in ss]) <= max_exact
    if exact:
        est, low, high, label, m = _exact(ss, statistic, confidence, method, max_exact)
    else:
        if rng is None:
            raise ValueError("a Monte Carlo bootstrap needs rng")
        est, low, high, label, m = _monte_carlo(ss, statistic, confidence, method, rng, n_resamples)
    if np.ndim(est) == 0:
        est, low, high = float(est), float(low), float(high)
    return BootstrapInterval(est, low, high, label, exact, int(m), confidence)
