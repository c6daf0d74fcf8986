"""Song & Ye's capacity sweep, measured: the runs of a
:class:`~grokclaims.setups.capacity.CapacitySweep` as memorised bits over (width, seed), with
the saturation check of :func:`grokclaims.analysis.capacity.saturated`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grokclaims.analysis.capacity import memorised_bits_from_loss
from grokclaims.analysis.capacity import saturated as is_saturated
from grokclaims.setups.capacity import CapacitySweep


@dataclass(frozen=True)
class CapacityData:
    """Arrays over (width, seed)."""

    sweep: CapacitySweep
    P: np.ndarray
    bits: np.ndarray  # memorised bits at the end on n_saturate examples (an eval pass)
    saturated: np.ndarray  # bool: bits grew < SATURATION_GROWTH over the last quarter
    curves: list  # per (width, seed) of the saturating runs: (epochs, bits)


def _bits_curve(trace, n: int, vocab: int) -> tuple[np.ndarray, np.ndarray]:
    loss = np.asarray(trace.train_loss, dtype=float)
    bits = np.array([memorised_bits_from_loss(v, n, vocab) for v in loss])
    return np.asarray(trace.eval_epoch), bits


def measure_sweep(sweep: CapacitySweep, seeds: Sequence[int], runs: dict) -> CapacityData:
    """From runs keyed by run id."""
    shape = (len(sweep.dims), len(seeds))
    bits, saturated = np.full(shape, math.nan), np.zeros(shape, dtype=bool)
    curves = []
    vocab = sweep.p + 2
    for i, dim in enumerate(sweep.dims):
        for j, seed in enumerate(seeds):
            tr = runs[sweep.spec(dim, sweep.n_saturate, seed).run_id].trace
            epochs, b = _bits_curve(tr, sweep.n_saturate, vocab)
            curves.append((dim, seed, epochs, b))
            bits[i, j] = b[-1]
            saturated[i, j] = is_saturated(epochs, b)
    P = np.array([sweep.n_params(d) for d in sweep.dims], dtype=float)
    return CapacityData(sweep, P, bits, saturated, curves)
