"""Multiple testing: Holm's step-down adjustment of a family of p-values.

Reference: Holm (1979) "A simple sequentially rejective multiple test procedure".
"""

from __future__ import annotations

import numpy as np


def holm(p_values) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values in the input order, monotone and capped at 1.

    The k-th smallest of m p-values becomes max over j <= k of (m - j + 1)·p_(j). NaN
    p-values stay NaN and do not count in m.
    """
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p_values must be 1-D, got shape {p.shape}")
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if ok.size == 0:
        return out
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise ValueError("p_values must lie in [0, 1]")
    order = ok[np.argsort(p[ok], kind="stable")]
    m = order.size
    scaled = (m - np.arange(m)) * p[order]
    out[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return out
