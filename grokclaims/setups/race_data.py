"""Song & Ye's race, measured: the runs of a :class:`~grokclaims.setups.race.RaceCell` as arrays
over (width, seed), and the cell's onset, P× and their bootstrap intervals (computed by
:mod:`grokclaims.analysis`). Definitions: CLAIMS.md ("Setups").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grokclaims.analysis import crossing, resample
from grokclaims.analysis.crossing import (
    Crossing,
    OnsetComparison,
    geometric_seed_means,
    onset_vs_crossing,
)
from grokclaims.analysis.milestones import (
    GENERALISED_VAL_ACC,
    MEMORISED_TRAIN_ACC,
    grokking_delay,
    regimes,
)
from grokclaims.analysis.resample import BootstrapInterval, onset_ratio_interval
from grokclaims.analysis.traces import first_epoch_reaching
from grokclaims.setups.race import RaceCell


@dataclass(frozen=True)
class RaceData:
    """A cell's measurements; arrays are (n_dims, n_seeds), NaN where not reached."""

    cell: RaceCell
    P: np.ndarray
    t_mem: np.ndarray  # random targets: first epoch train >= 99 %
    t_gen: np.ndarray  # task: first evaluated epoch val >= 99 %
    t_train: np.ndarray  # task: first epoch train >= 99 %
    delay: np.ndarray  # task: the delay rule of CLAIMS.md (censored at the budget)
    generalised: np.ndarray  # bool: task val reached 98 %
    t_shuffled: np.ndarray | None  # shuffled labels: first epoch train >= 99 %

    t_mem_mean: np.ndarray  # (n_dims,): geometric mean of T_mem over the seeds that reached
    t_gen_mean: np.ndarray  # (n_dims,): the same for T_gen

    @property
    def regime(self) -> np.ndarray:
        """Each run's regime (``analysis.milestones.regimes``) from its delay."""
        return regimes(self.delay)

    @property
    def budget(self) -> float:
        """The epoch budget, standing in for seeds that never reach a milestone in P×."""
        return float(self.cell.max_epochs)


def _first(epochs, values, threshold) -> float:
    e = first_epoch_reaching(epochs, values, threshold)
    return math.nan if e is None else float(e)


def measure_cell(cell: RaceCell, seeds: Sequence[int], runs: dict[str, object]) -> RaceData:
    """Arrays over (dim, seed) from runs keyed by run id (``{run.run_id: run}``)."""
    shape = (len(cell.dims), len(seeds))
    t_mem, t_gen, t_train, delay = (np.full(shape, math.nan) for _ in range(4))
    generalised = np.zeros(shape, dtype=bool)
    shuffled = np.full(shape, math.nan)
    any_shuffled = False
    for i, dim in enumerate(cell.dims):
        for j, seed in enumerate(seeds):
            task = runs[cell.task_spec(dim, seed).run_id].trace
            epochs = task.epochs
            t_train[i, j] = _first(epochs, task.batch_acc, MEMORISED_TRAIN_ACC)
            t_gen[i, j] = _first(task.eval_epoch, task.val_acc, GENERALISED_VAL_ACC)
            d = grokking_delay(
                epochs, task.batch_acc, task.eval_epoch, task.val_acc, int(epochs[-1])
            )
            # Validation is evaluated every eval_every epochs, so a val epoch less than that
            # after the train epoch is a delay of 0 within the measurement's resolution.
            delay[i, j] = 0.0 if d.generalised and d.value < cell.eval_every else d.value
            generalised[i, j] = d.generalised
            mem = runs[cell.memory_spec(dim, seed).run_id].trace
            t_mem[i, j] = _first(mem.epochs, mem.batch_acc, MEMORISED_TRAIN_ACC)
            key = cell.memory_spec(dim, seed, "shuffled").run_id
            if key in runs:
                any_shuffled = True
                sh = runs[key].trace
                shuffled[i, j] = _first(sh.epochs, sh.batch_acc, MEMORISED_TRAIN_ACC)
    P = np.array([cell.n_params(d) for d in cell.dims], dtype=float)
    return RaceData(
        cell,
        P,
        t_mem,
        t_gen,
        t_train,
        delay,
        generalised,
        shuffled if any_shuffled else None,
        geometric_seed_means(t_mem),
        geometric_seed_means(t_gen),
    )


def onset_comparison(data: RaceData) -> OnsetComparison:
    """The cell's empirical onset against its P× (``analysis.crossing.onset_vs_crossing``)."""
    return onset_vs_crossing(data.P, data.delay, data.t_mem, data.t_gen, data.budget)


def onset_interval(
    data: RaceData, *, rng: np.random.Generator, n_boot: int = 1000
) -> BootstrapInterval:
    """Bootstrap over seeds of the cell's log10(onset / P×) (``resample.onset_ratio_interval``)."""
    return onset_ratio_interval(
        data.P, data.delay, data.t_mem, data.t_gen, data.budget, rng=rng, n_boot=n_boot
    )


def crossing_of(data: RaceData) -> Crossing:
    """The cell's P× (``analysis.crossing.predicted_onset``), never-reached seeds at the budget."""
    return crossing.predicted_onset(data.P, data.t_mem, data.t_gen, not_reached=data.budget)


def crossing_interval(data: RaceData, *, rng: np.random.Generator) -> BootstrapInterval:
    """Bootstrap over seeds of the cell's P× (``resample.predicted_onset_interval``)."""
    return resample.predicted_onset_interval(
        data.P, data.t_mem, data.t_gen, rng=rng, not_reached=data.budget
    )
