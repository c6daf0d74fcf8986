"""Evaluation traces: validation, the first epoch a threshold is reached, the value at an epoch.

An evaluation trace is ``(epochs, values)``: ``epochs`` an increasing integer array of the epochs
at which a metric was measured (counted from 1; an entry at 0 means "before training"),
``values`` the metric there. A milestone is always one of the given epochs, never interpolated,
so a trace logged every 50 epochs (Chopra) has milestones on that grid. Thresholds are inclusive
(>=) unless the source says "exceeds" (the tutorial: strict >). "Never reached" is ``None``; a
NaN value never reaches anything.
"""

from __future__ import annotations

import math

import numpy as np


def as_trace(epochs, values, name: str = "values") -> tuple[np.ndarray, np.ndarray]:
    """Validate an evaluation trace; return (int epochs, float values)."""
    e = np.asarray(epochs)
    v = np.asarray(values, dtype=float)
    if e.ndim != 1:
        raise ValueError(f"epochs must be 1-D, got shape {e.shape}")
    if v.shape != e.shape:
        raise ValueError(f"{name} must have the shape of epochs {e.shape}, got {v.shape}")
    if e.size and not np.all(np.isfinite(e.astype(float))):
        raise ValueError("epochs must be finite")
    ei = e.astype(np.int64)
    if not np.array_equal(ei, e):
        raise ValueError("epochs must be whole numbers")
    if np.any(np.diff(ei) <= 0):
        raise ValueError("epochs must be strictly increasing")
    return ei, v


def first_epoch_reaching(epochs, values, threshold: float, *, strict: bool = False) -> int | None:
    """First logged epoch whose value is >= ``threshold`` (> when ``strict``); None if never."""
    e, v = as_trace(epochs, values)
    hits = v > threshold if strict else v >= threshold  # NaN compares False: never a hit
    return int(e[np.argmax(hits)]) if hits.any() else None


def value_at(epochs, values, epoch: int) -> float:
    """The value at ``epoch``: the one at the last logged epoch <= ``epoch`` (NaN if none)."""
    e, v = as_trace(epochs, values)
    i = int(np.searchsorted(e, epoch, side="right")) - 1
    return float(v[i]) if i >= 0 else math.nan


def best_up_to(epochs, values, epoch: int) -> float:
    """The largest value logged at or before ``epoch`` (e.g. the best test accuracy within a
    budget); NaN when nothing was logged by then."""
    e, v = as_trace(epochs, values)
    within = v[e <= epoch]
    return float(np.max(within)) if within.size else math.nan


def rate_of_change(epochs, values) -> tuple[np.ndarray, np.ndarray]:
    """The finite-difference derivative per epoch: (epochs[1:], diff(values) / diff(epochs))."""
    e = np.asarray(epochs, dtype=float)
    v = np.asarray(values, dtype=float)
    return e[1:], np.diff(v) / np.diff(e)
