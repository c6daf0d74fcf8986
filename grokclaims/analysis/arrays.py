"""Validation of the arrays over a parameter grid: the grid P, and per-P values over seeds."""

from __future__ import annotations

import numpy as np


def as_grid(P, name: str, n: int | None = None) -> np.ndarray:
    """A 1-D float grid of distinct, finite, positive values (``n`` of them when given)."""
    p = np.asarray(P, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {p.shape}")
    if n is not None and p.size != n:
        raise ValueError(f"{name} must have {n} entries, got {p.size}")
    if not np.all(np.isfinite(p) & (p > 0)):
        raise ValueError(f"{name} must be finite and positive")
    if np.unique(p).size != p.size:
        raise ValueError(f"{name} must not repeat a value")
    return p


def per_p(values, name: str, n_p: int) -> np.ndarray:
    """A (n_P, n_seeds) float array; a 1-D input is one seed per P."""
    a = np.asarray(values, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] != n_p:
        raise ValueError(f"{name} must have shape (n_P={n_p}, n_seeds), got {np.shape(values)}")
    return a
