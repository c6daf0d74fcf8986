"""Song & Ye's race, measured: the runs of a :class:`~grokclaims.setups.race.RaceCell` as arrays
over (width, seed), and the cell's T(P) curves, crossings and onset, computed by
:mod:`grokclaims.analysis` with censoring (CLAIMS.md "Setups" and revision 2).

A milestone a run never reached is NaN in the arrays *and* flagged censored at the epochs that
run trained (``*_trained``): the curves are Kaplan–Meier medians (``survival.t_curve``), a point
only where the median is observed, and P× comes from ``crossing_censored.censored_crossings``
(a point or a bracket). No budget ever stands in for a time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grokclaims.analysis.crossing import OnsetRatio, onset_ratio_interval
from grokclaims.analysis.crossing_censored import CrossingReport, censored_crossings
from grokclaims.analysis.milestones import GENERALISED_VAL_ACC, MEMORISED_TRAIN_ACC, grokking_delay
from grokclaims.analysis.survival import CurvePoint, censor_at, t_curve
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
    delay: np.ndarray  # task: the delay rule of CLAIMS.md (NaN: neither memorised nor val 98 %)
    generalised: np.ndarray  # bool: task val reached 98 %
    t_shuffled: np.ndarray | None  # shuffled labels: first epoch train >= 99 %
    mem_trained: np.ndarray  # epochs each random-target run trained (its censoring time)
    gen_trained: np.ndarray  # last evaluated epoch of each task run (T_gen's censoring time)
    shuffled_trained: np.ndarray | None

    def curve(self, which: str) -> tuple[CurvePoint, ...]:
        """The Kaplan–Meier T(P) curve of "mem", "gen" or "shuffled" (observed or bound)."""
        times, trained = {
            "mem": (self.t_mem, self.mem_trained),
            "gen": (self.t_gen, self.gen_trained),
            "shuffled": (self.t_shuffled, self.shuffled_trained),
        }[which]
        if times is None:
            raise ValueError("this cell trained no shuffled-label control")
        t, c = censor_at(times, trained)
        return t_curve(self.P, t, c)

    def crossings(self) -> CrossingReport:
        """Every crossing of T_mem and T_gen, points and brackets, and the authors' value."""
        return censored_crossings(self.P, self.curve("mem"), self.curve("gen"))

    def onset_ratio(self, *, rng: np.random.Generator, **kwargs) -> OnsetRatio:
        """log10(onset / P×) with its bootstrap interval over seeds (``crossing``)."""
        tm, cm = censor_at(self.t_mem, self.mem_trained)
        tg, cg = censor_at(self.t_gen, self.gen_trained)
        return onset_ratio_interval(self.P, tm, cm, tg, cg, self.delay, rng=rng, **kwargs)


def _first(epochs, values, threshold) -> float:
    e = first_epoch_reaching(epochs, values, threshold)
    return math.nan if e is None else float(e)


def measure_cell(cell: RaceCell, seeds: Sequence[int], runs: dict[str, object]) -> RaceData:
    """Arrays over (dim, seed) from runs keyed by run id (``{run.run_id: run}``)."""
    shape = (len(cell.dims), len(seeds))
    t_mem, t_gen, t_train, delay, shuffled = (np.full(shape, math.nan) for _ in range(5))
    mem_tr, gen_tr, sh_tr = (np.full(shape, math.nan) for _ in range(3))
    generalised = np.zeros(shape, dtype=bool)
    any_shuffled = False
    for i, dim in enumerate(cell.dims):
        for j, seed in enumerate(seeds):
            task = runs[cell.task_spec(dim, seed).run_id].trace
            epochs = task.epochs
            t_train[i, j] = _first(epochs, task.batch_acc, MEMORISED_TRAIN_ACC)
            t_gen[i, j] = _first(task.eval_epoch, task.val_acc, GENERALISED_VAL_ACC)
            gen_tr[i, j] = float(task.eval_epoch[-1])
            d = grokking_delay(
                epochs, task.batch_acc, task.eval_epoch, task.val_acc, int(epochs[-1])
            )
            # Validation is evaluated every eval_every epochs, so a val epoch less than that
            # after the train epoch is a delay of 0 within the measurement's resolution.
            delay[i, j] = 0.0 if d.generalised and d.value < cell.eval_every else d.value
            generalised[i, j] = d.generalised
            mem = runs[cell.memory_spec(dim, seed).run_id].trace
            t_mem[i, j] = _first(mem.epochs, mem.batch_acc, MEMORISED_TRAIN_ACC)
            mem_tr[i, j] = float(mem.epochs[-1])
            key = cell.memory_spec(dim, seed, "shuffled").run_id
            if key in runs:
                any_shuffled = True
                sh = runs[key].trace
                shuffled[i, j] = _first(sh.epochs, sh.batch_acc, MEMORISED_TRAIN_ACC)
                sh_tr[i, j] = float(sh.epochs[-1])
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
        mem_tr,
        gen_tr,
        sh_tr if any_shuffled else None,
    )
