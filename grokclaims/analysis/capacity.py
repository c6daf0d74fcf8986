"""Capacity and complexity: memorised bits (Morris et al.), the capacity fit C, and the
dataset complexity K of Song & Ye.

Memorised bits follow Morris et al. (2025, "How much do language models memorize?"): an
example with target probability q under a model carries log2 V + log2 q bits beyond the
uniform guess over the V-token vocabulary. Points only: the interval of C and SY1's verdict are
``grokclaims.claimrules.song_ye_capacity``'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from grokclaims.analysis.arrays import per_p


def memorised_bits(log_probs, vocab_size: int) -> float:
    """Σ over examples of log2 V + log2 q(target), from natural-log target probabilities.

    Terms are not clipped at 0: an example predicted worse than uniform costs bits, exactly as
    the definition says.
    """
    if vocab_size < 2:
        raise ValueError(f"vocab_size must be >= 2, got {vocab_size}")
    lp = np.asarray(log_probs, dtype=float).ravel()
    return float(lp.size * math.log2(vocab_size) + lp.sum() / math.log(2))


def memorised_bits_from_loss(mean_loss_nats: float, n_examples: int, vocab_size: int) -> float:
    """Memorised bits from an evaluation pass's mean cross-entropy (nats) over n examples."""
    if vocab_size < 2:
        raise ValueError(f"vocab_size must be >= 2, got {vocab_size}")
    if n_examples < 0:
        raise ValueError(f"n_examples must be >= 0, got {n_examples}")
    return n_examples * (math.log2(vocab_size) - mean_loss_nats / math.log(2))


@dataclass(frozen=True)
class CapacityFit:
    """Least-squares line bits = intercept + slope·P; the slope is the capacity C."""

    slope: float  # C, bits per parameter
    intercept: float
    r_squared: float
    n_points: int


def weighted_ols(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slope and intercept of weighted (0/1 or counts) least squares along the last axis."""
    n = w.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = (w * x).sum(-1) / n, (w * y).sum(-1) / n
        sxx = (w * (x - mx[..., None]) ** 2).sum(-1)
        sxy = (w * (x - mx[..., None]) * (y - my[..., None])).sum(-1)
        slope = np.where(sxx > 0, sxy / np.where(sxx > 0, sxx, 1), np.nan)
    return slope, my - slope * mx


def capacity_points(P, bits) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (P, bits) data of ``fit_capacity``: P (n_P,), bits (n_P, n_seeds) and the mask of
    usable (finite) entries."""
    p = np.asarray(P, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"P must be 1-D, got shape {p.shape}")
    b = per_p(bits, "bits", p.size)
    x = np.broadcast_to(p[:, None], b.shape)
    return p, b, np.isfinite(b) & np.isfinite(x)


def fit_capacity(P, bits) -> CapacityFit:
    """C = slope of saturated memorised bits on P (least squares with intercept), with R².

    ``bits`` is (n_P,) or (n_P, n_seeds); NaN entries are dropped. Fewer than 3 points or a
    single P give NaN.
    """
    p, b, w = capacity_points(P, bits)
    xs, ys = np.broadcast_to(p[:, None], b.shape)[w], b[w]
    if xs.size < 3 or np.unique(xs).size < 2:
        return CapacityFit(math.nan, math.nan, math.nan, int(xs.size))
    slope, intercept = (float(v) for v in weighted_ols(xs, ys, np.ones_like(xs)))
    tss = float(((ys - ys.mean()) ** 2).sum())
    rss = float(((ys - intercept - slope * xs) ** 2).sum())
    r2 = 1 - rss / tss if tss > 0 else math.nan
    return CapacityFit(slope, intercept, r2, int(xs.size))


def capacity_of(P, bits, over_capacity) -> CapacityFit:
    """``fit_capacity`` on the points (rows) whose every seed held less than its data: only
    those bits are the model's capacity (a run that held all K bits gives a lower bound)."""
    b = np.asarray(bits, dtype=float)
    use = np.asarray(over_capacity, dtype=bool).all(axis=1) & np.isfinite(b).all(axis=1)
    return fit_capacity(np.asarray(P, dtype=float)[use], b[use])


def dataset_complexity(n_train: int, p: int) -> float:
    """K = n_train · log2(p + 2): bits to store n_train targets over the p + 2 tokens."""
    if n_train < 0 or p < 1:
        raise ValueError(f"need n_train >= 0 and p >= 1, got n_train={n_train}, p={p}")
    return n_train * math.log2(p + 2)


def capacity_fraction(K, C, P):
    """K / (C·P): dataset complexity over model capacity (scalar or elementwise on arrays)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(K, dtype=float) / (np.asarray(C, dtype=float) * np.asarray(P, float))
    return float(out) if out.ndim == 0 else out


# A saturated run's bits grew by less than this share over the last quarter of its budget.
SATURATION_GROWTH = 0.05


def saturated(epochs, bits, growth: float = SATURATION_GROWTH) -> bool:
    """True when the memorised bits grew by at most ``growth`` (a share of the final bits, at
    least 1 bit) over the last quarter of the logged epochs: the run holds what it can."""
    e, b = np.asarray(epochs), np.asarray(bits, dtype=float)
    late = b[e >= e[-1] * 0.75]
    return bool((late[-1] - late[0]) <= growth * max(abs(late[-1]), 1))
