"""Song & Ye's capacity measurement: memorised bits of random targets against parameters.

A :class:`CapacitySweep` trains each width on ``n_saturate`` random targets: more bits than the
width can hold, so the bits it holds once they stop growing are its capacity.
:func:`measure_sweep` turns the runs into arrays over (width, seed), with a check that the bits
did stop growing. Definitions: CLAIMS.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grokclaims.analysis import measure
from grokclaims.data.tasks import TaskSpec
from grokclaims.families import SongYe
from grokclaims.spec.run import OptimSpec, RunSpec, Schedule, StopRule

# A saturated run's bits grew by less than this share over the last quarter of its budget.
SATURATION_GROWTH = 0.05


@dataclass(frozen=True)
class CapacitySweep:
    """Random targets of ``n`` examples per width; no dropout and the authors' small weight
    decay for memorisation; a fixed budget (saturated runs never meet the stop rule)."""

    p: int
    dims: tuple[int, ...]
    n_saturate: int
    max_epochs: int
    weight_decay: float = 0.01
    dropout: float = 0.0
    eval_every: int = 50
    batch_size: int = 512

    def spec(self, dim: int, n: int, seed: int) -> RunSpec:
        return RunSpec(
            task=TaskSpec(p=self.p, op="+", alpha=0.5, data="random", n=n),
            model=SongYe(dim=dim, dropout=self.dropout),
            optim=OptimSpec(lr=1e-3, weight_decay=self.weight_decay),
            schedule=Schedule(
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                eval_every=self.eval_every,
                train_acc="eval",
            ),
            stop=StopRule(train_acc=measure.MEMORISED_TRAIN_ACC, val_acc=None),
            seed=seed,
        )

    def specs(self, seeds: Sequence[int]) -> list[RunSpec]:
        return [self.spec(d, self.n_saturate, s) for d in self.dims for s in seeds]

    def n_params(self, dim: int) -> int:
        return self.spec(dim, self.n_saturate, 0).n_params

    def complexity(self, n: int) -> float:
        return measure.dataset_complexity(n, self.p)


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
    bits = np.array([measure.memorised_bits_from_loss(v, n, vocab) for v in loss])
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
            late = b[epochs >= epochs[-1] * 0.75]
            saturated[i, j] = (late[-1] - late[0]) <= SATURATION_GROWTH * max(abs(late[-1]), 1)
    P = np.array([sweep.n_params(d) for d in sweep.dims], dtype=float)
    return CapacityData(sweep, P, bits, saturated, curves)
