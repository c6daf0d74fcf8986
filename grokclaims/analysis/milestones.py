"""Milestones of one run: T_mem, T_gen and the grokking delay (Song & Ye), the overfit and grok
epochs (Chopra), the memorisation and grokking steps (the tutorial), per CLAIMS.md.

Every milestone is a logged epoch of an evaluation trace (see ``grokclaims.analysis.traces``);
"never reached" is ``None``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from grokclaims.analysis.traces import as_trace, first_epoch_reaching

# Song & Ye: T_mem and the delay's train milestone are "train accuracy >= 99 %".
MEMORISED_TRAIN_ACC = 0.99
# Song & Ye: T_gen is "validation accuracy >= 99 %".
GENERALISED_VAL_ACC = 0.99
# Song & Ye: the delay's validation milestone is the looser "val >= 98 %".
DELAY_VAL_ACC = 0.98
# Chopra (003): overfit = train >= 99 %, grok = test >= 95 %, on the 50-epoch logging grid.
CHOPRA_TRAIN_ACC = 0.99
CHOPRA_TEST_ACC = 0.95
# Tutorial (004): memorisation = train > 99 %, grokking = test > 90 % (its code uses strict >).
TUTORIAL_TRAIN_ACC = 0.99
TUTORIAL_TEST_ACC = 0.90


def t_mem(epochs, train_acc, threshold: float = MEMORISED_TRAIN_ACC) -> int | None:
    """T_mem: first epoch with train accuracy >= 99 % (on random-target data)."""
    return first_epoch_reaching(epochs, train_acc, threshold)


def t_gen(epochs, val_acc, threshold: float = GENERALISED_VAL_ACC) -> int | None:
    """T_gen: first epoch with validation accuracy >= 99 % (on the modular task)."""
    return first_epoch_reaching(epochs, val_acc, threshold)


@dataclass(frozen=True)
class Delay:
    """Song & Ye's grokking delay of one run, in epochs.

    ``value`` is NaN when the run neither memorised nor generalised (no delay is defined);
    when it memorised but never generalised, ``value`` is a lower bound (``censored``).
    """

    value: float
    train_epoch: int | None
    val_epoch: int | None
    generalised: bool

    @property
    def censored(self) -> bool:
        """True when the run stopped before generalising, so the true delay is larger."""
        return self.train_epoch is not None and self.val_epoch is None


def grokking_delay(
    train_epochs,
    train_acc,
    val_epochs,
    val_acc,
    epochs_trained: int,
    *,
    train_threshold: float = MEMORISED_TRAIN_ACC,
    val_threshold: float = DELAY_VAL_ACC,
) -> Delay:
    """(first epoch val >= 98 %) - (first epoch train >= 99 %), clamped at 0 (CLAIMS.md).

    The four cases:
    - both reached: ``max(0, val - train)``;
    - train reached, val not: ``epochs_trained - train`` (the rule's "never gets there" case);
    - val reached, train not: 0. The unseen train epoch lies after the end of training and so
      after the val epoch; the difference is negative and the clamp makes it 0 (the model
      generalised without a memorisation phase);
    - neither: NaN, since a model that never memorised has no delay (an underfitting run).
    """
    te, ta = as_trace(train_epochs, train_acc, "train_acc")
    ve, va = as_trace(val_epochs, val_acc, "val_acc")
    last = max([int(x[-1]) for x in (te, ve) if x.size], default=0)
    if epochs_trained < last:
        raise ValueError(
            f"epochs_trained ({epochs_trained}) is before the last logged epoch {last}"
        )
    train = first_epoch_reaching(te, ta, train_threshold)
    val = first_epoch_reaching(ve, va, val_threshold)
    if train is not None and val is not None:
        value = float(max(0, val - train))
    elif train is not None:
        value = float(epochs_trained - train)
    elif val is not None:
        value = 0.0
    else:
        value = math.nan
    return Delay(value=value, train_epoch=train, val_epoch=val, generalised=val is not None)


@dataclass(frozen=True)
class Milestones:
    """Memorisation and generalisation epochs of one run (None = never reached)."""

    memorised_epoch: int | None  # Chopra's overfit epoch / the tutorial's memorisation step
    generalised_epoch: int | None  # Chopra's grok epoch / the tutorial's grokking step

    @property
    def grokked(self) -> bool:
        return self.generalised_epoch is not None

    @property
    def delay(self) -> int | None:
        """generalised - memorised, unclamped (a negative value is a finding, not noise)."""
        if self.memorised_epoch is None or self.generalised_epoch is None:
            return None
        return self.generalised_epoch - self.memorised_epoch


def chopra_milestones(epochs, train_acc, test_acc) -> Milestones:
    """Chopra's overfit epoch (train >= 99 %) and grok epoch (test >= 95 %), first logged."""
    return Milestones(
        first_epoch_reaching(epochs, train_acc, CHOPRA_TRAIN_ACC),
        first_epoch_reaching(epochs, test_acc, CHOPRA_TEST_ACC),
    )


def tutorial_milestones(epochs, train_acc, test_acc) -> Milestones:
    """The tutorial's memorisation step (train > 99 %) and grokking step (test > 90 %)."""
    return Milestones(
        first_epoch_reaching(epochs, train_acc, TUTORIAL_TRAIN_ACC, strict=True),
        first_epoch_reaching(epochs, test_acc, TUTORIAL_TEST_ACC, strict=True),
    )


# Song & Ye's regimes of a run, in the order they appear as P grows.
REGIMES = ("underfit", "immediate", "grokking")


def regimes(delay) -> np.ndarray:
    """Each run's regime from its delay (``grokking_delay``'s value, any shape): 'underfit'
    (NaN: neither memorised nor generalised), 'immediate' (delay 0), 'grokking' (memorised
    first; generalised later, or not yet within the budget)."""
    d = np.asarray(delay, dtype=float)
    out = np.full(d.shape, "grokking", dtype=object)
    out[d == 0] = "immediate"
    out[np.isnan(d)] = "underfit"
    return out


def median_p_per_regime(P, regime) -> dict[str, float | None]:
    """The median parameter count of the runs in each regime (None for a regime no run is in);
    ``P`` and ``regime`` are arrays of one shape (e.g. widths x seeds)."""
    P, regime = np.asarray(P, dtype=float), np.asarray(regime)
    return {
        name: float(np.median(P[regime == name])) if (regime == name).any() else None
        for name in REGIMES
    }
