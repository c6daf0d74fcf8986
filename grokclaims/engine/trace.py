"""What training returns: per-member traces, run results and progress reports."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TRACE_FIELDS = (
    "batch_acc",
    "batch_loss",
    "eval_epoch",
    "train_acc",
    "train_loss",
    "val_acc",
    "val_loss",
    "weight_norm",
)


@dataclass(frozen=True)
class Trace:
    """Per-member measurements. ``batch_*`` are per epoch (index e-1 = epoch e); the others are
    at ``eval_epoch`` (epoch 0 = before training)."""

    batch_acc: np.ndarray
    batch_loss: np.ndarray
    eval_epoch: np.ndarray
    train_acc: np.ndarray
    train_loss: np.ndarray
    val_acc: np.ndarray
    val_loss: np.ndarray
    weight_norm: np.ndarray

    @property
    def epochs(self) -> np.ndarray:
        return np.arange(1, len(self.batch_acc) + 1)

    def arrays(self) -> dict[str, np.ndarray]:
        return {f: getattr(self, f) for f in TRACE_FIELDS}


@dataclass(frozen=True)
class RunResult:
    status: str  # "completed" or "diverged"
    epochs: int  # epochs trained
    stopped: bool  # True: the stop rule ended it; False: the budget (or divergence) did
    trace: Trace
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    wall_time: float = 0.0  # seconds, of the ensemble, until this member finished
    ensemble_size: int = 1
    device: str = "cpu"


@dataclass(frozen=True)
class Progress:
    epoch: int
    max_epochs: int
    active: int
    total: int
    elapsed: float

    @property
    def eta(self) -> float:
        """Seconds left if every active member used its whole budget (an upper bound)."""
        return self.elapsed / max(self.epoch, 1) * (self.max_epochs - self.epoch)
