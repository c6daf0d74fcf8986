"""The global weight norm of a run: its peak, and its decay from the peak to an epoch (CH2)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from grokclaims.analysis.traces import as_trace, value_at


@dataclass(frozen=True)
class NormPeak:
    epoch: int
    value: float


def norm_peak(epochs, norm) -> NormPeak | None:
    """Epoch and value of the largest logged weight norm (first one on ties); None if no data."""
    e, v = as_trace(epochs, norm, "norm")
    if not np.isfinite(v).any():
        return None
    i = int(np.nanargmax(v))
    return NormPeak(int(e[i]), float(v[i]))


@dataclass(frozen=True)
class NormDecay:
    """The weight norm at an epoch (e.g. the grok epoch) against the trace's peak (CH2)."""

    peak_epoch: int
    peak_value: float
    epoch: int
    value: float

    @property
    def ratio(self) -> float:
        """value / peak; CH2 asks for < 0.9."""
        return self.value / self.peak_value if self.peak_value != 0 else math.nan

    @property
    def peak_precedes(self) -> bool:
        """CH2: the peak comes strictly before ``epoch``."""
        return self.peak_epoch < self.epoch


def norm_decay(epochs, norm, epoch: int) -> NormDecay | None:
    """Peak of the whole norm trace and the norm at ``epoch``; None when the trace is empty.

    The peak is taken over the whole trace, not only before ``epoch``: a norm still rising
    after grokking is then visible as ``peak_precedes == False``.
    """
    peak = norm_peak(epochs, norm)
    if peak is None:
        return None
    return NormDecay(peak.epoch, peak.value, int(epoch), value_at(epochs, norm, epoch))
