"""The final rise of test accuracy (BR3): from the last epoch at or below 10 % to the first at or
above 90 %."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grokclaims.analysis.traces import as_trace, first_epoch_reaching

# BR3: the width of the rise of test accuracy is measured from 10 % to 90 %.
TRANSITION_LO = 0.1
TRANSITION_HI = 0.9


@dataclass(frozen=True)
class Transition:
    """The final rise of test accuracy from <= lo to >= hi."""

    start_epoch: int  # last logged epoch with acc <= lo before end_epoch
    end_epoch: int  # first logged epoch with acc >= hi

    @property
    def width(self) -> int:
        return self.end_epoch - self.start_epoch


def transition(
    epochs, acc, lo: float = TRANSITION_LO, hi: float = TRANSITION_HI
) -> Transition | None:
    """The final lo -> hi rise: from the last epoch at or below ``lo`` before the first epoch
    at or above ``hi``, to that epoch.

    None when accuracy never reaches ``hi``, or when no logged epoch before that is at or below
    ``lo`` (the start of the rise was not observed, so its width is unknown).
    """
    if not lo < hi:
        raise ValueError(f"lo ({lo}) must be below hi ({hi})")
    e, v = as_trace(epochs, acc, "acc")
    end = first_epoch_reaching(e, v, hi)
    if end is None:
        return None
    below = np.flatnonzero((v <= lo) & (e < end))
    if below.size == 0:
        return None
    return Transition(int(e[below[-1]]), end)


def transition_width(
    epochs, acc, lo: float = TRANSITION_LO, hi: float = TRANSITION_HI
) -> int | None:
    """Epochs taken by the final lo -> hi rise (see ``transition``); None if undefined."""
    t = transition(epochs, acc, lo, hi)
    return None if t is None else t.width
