"""Song & Ye's race between memorisation and generalisation: the runs of one cell, measured.

A :class:`RaceCell` is one setting (prime, operation, train fraction, hyper-parameters) swept
over model widths. For each width and seed it trains the task (T_gen, the delay, the regime) and
random targets of equivalent complexity (T_mem); optionally the task's own inputs with shuffled
labels (SY9). Random-target and shuffled runs have the task's training-set size, so all three
kinds of a width train as one ensemble. :func:`measure` turns the runs into arrays over
(width, seed); :func:`onset_vs_crossing` compares the empirical onset with P×, with a bootstrap
over seeds. Definitions: CLAIMS.md ("Setups"), implemented in :mod:`grokclaims.analysis.measure`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grokclaims.analysis import measure
from grokclaims.data.tasks import TaskSpec
from grokclaims.families import SongYe
from grokclaims.spec.run import OptimSpec, RunSpec, Schedule, StopRule

# T_mem: random-target runs stop at the first epoch with train >= 99 % (the authors' rule).
MEMORY_STOP = StopRule(train_acc=measure.MEMORISED_TRAIN_ACC, val_acc=None)
# Task runs stop once train >= 99 % and val >= 99 % (the authors' rule).
TASK_STOP = StopRule(train_acc=measure.MEMORISED_TRAIN_ACC, val_acc=measure.GENERALISED_VAL_ACC)
REGIMES = ("underfit", "immediate", "grokking")


@dataclass(frozen=True)
class RaceCell:
    """One setting of the race, swept over ``dims``. Defaults: the authors' central suite."""

    p: int = 97
    op: str = "/"
    alpha: float = 0.5
    dims: tuple[int, ...] = (32, 48, 64, 96, 128)
    depth: int = 2
    heads: int = 1
    dropout: float = 0.2
    init_scale: float = 1.0
    lr: float = 1e-3
    weight_decay: float = 1.0
    memory_weight_decay: float | None = None  # None: matched to the task runs (the default)
    max_epochs: int = 5000
    eval_every: int = 10
    batch_size: int = 512
    label: str = "central"

    def replace(self, **changes) -> RaceCell:
        return dataclasses.replace(self, **changes)

    def _spec(self, dim: int, seed: int, data: str) -> RunSpec:
        wd = self.weight_decay
        if data != "task" and self.memory_weight_decay is not None:
            wd = self.memory_weight_decay
        return RunSpec(
            task=TaskSpec(p=self.p, op=self.op, alpha=self.alpha, data=data),
            model=SongYe(
                dim=dim,
                depth=self.depth,
                heads=self.heads,
                dropout=self.dropout,
                init_scale=self.init_scale,
            ),
            optim=OptimSpec(lr=self.lr, weight_decay=wd),
            schedule=Schedule(
                max_epochs=self.max_epochs, batch_size=self.batch_size, eval_every=self.eval_every
            ),
            stop=TASK_STOP if data == "task" else MEMORY_STOP,
            seed=seed,
        )

    def task_spec(self, dim: int, seed: int) -> RunSpec:
        return self._spec(dim, seed, "task")

    def memory_spec(self, dim: int, seed: int, data: str = "random") -> RunSpec:
        return self._spec(dim, seed, data)

    def specs(self, seeds: Sequence[int], *, shuffled: bool = False) -> list[RunSpec]:
        kinds = ("task", "random", "shuffled") if shuffled else ("task", "random")
        return [self._spec(d, s, k) for d in self.dims for s in seeds for k in kinds]

    def n_params(self, dim: int) -> int:
        return self.task_spec(dim, 0).n_params

    @property
    def n_train(self) -> int:
        return TaskSpec(p=self.p, op=self.op, alpha=self.alpha).n_train

    @property
    def complexity(self) -> float:
        """K = n_train · log2(p + 2) bits (CLAIMS.md)."""
        return measure.dataset_complexity(self.n_train, self.p)


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

    @property
    def regime(self) -> np.ndarray:
        """'underfit' (neither memorised nor generalised), 'immediate' (delay 0), 'grokking'
        (memorised first; generalised later, or not yet within the budget)."""
        out = np.full(self.delay.shape, "grokking", dtype=object)
        out[self.delay == 0] = "immediate"
        out[np.isnan(self.delay)] = "underfit"
        return out


def _first(epochs, values, threshold) -> float:
    e = measure.first_epoch_reaching(epochs, values, threshold)
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
            t_train[i, j] = _first(epochs, task.batch_acc, measure.MEMORISED_TRAIN_ACC)
            t_gen[i, j] = _first(task.eval_epoch, task.val_acc, measure.GENERALISED_VAL_ACC)
            d = measure.grokking_delay(
                epochs, task.batch_acc, task.eval_epoch, task.val_acc, int(epochs[-1])
            )
            # Validation is evaluated every eval_every epochs, so a val epoch less than that
            # after the train epoch is a delay of 0 within the measurement's resolution.
            delay[i, j] = 0.0 if d.generalised and d.value < cell.eval_every else d.value
            generalised[i, j] = d.generalised
            mem = runs[cell.memory_spec(dim, seed).run_id].trace
            t_mem[i, j] = _first(mem.epochs, mem.batch_acc, measure.MEMORISED_TRAIN_ACC)
            key = cell.memory_spec(dim, seed, "shuffled").run_id
            if key in runs:
                any_shuffled = True
                sh = runs[key].trace
                shuffled[i, j] = _first(sh.epochs, sh.batch_acc, measure.MEMORISED_TRAIN_ACC)
    P = np.array([cell.n_params(d) for d in cell.dims], dtype=float)
    return RaceData(
        cell, P, t_mem, t_gen, t_train, delay, generalised, shuffled if any_shuffled else None
    )


@dataclass(frozen=True)
class OnsetComparison:
    onset: float | None
    p_cross: float | None
    crossings: tuple[float, ...]
    log_ratio: float | None  # log10(onset / P×)
    interval: tuple[float, float] | None  # bootstrap over seeds
    boot_fraction: float  # share of bootstrap samples where both were defined


def _p_cross(P, t_mem, t_gen, budget) -> tuple[float | None, tuple[float, ...]]:
    c = measure.predicted_onset(
        P, t_mem, t_gen, rng=np.random.default_rng(0), n_boot=0, not_reached=budget
    )
    return c.p_cross, c.crossings


def onset_vs_crossing(
    data: RaceData, *, rng: np.random.Generator, n_boot: int = 1000, confidence: float = 0.95
) -> OnsetComparison:
    """Empirical onset vs P× (seeds that never memorise count at the epoch budget, a lower
    bound). Bootstrap: task seeds are resampled together (onset and T_gen come from the same
    runs), memory seeds independently; the percentile interval of log10(onset / P×)."""
    budget = float(data.cell.max_epochs)
    onset = measure.empirical_onset(data.P, data.delay)
    p_cross, crossings = _p_cross(data.P, data.t_mem, data.t_gen, budget)
    ratio = math.log10(onset / p_cross) if onset is not None and p_cross is not None else None
    n = data.delay.shape[1]
    samples = []
    for _ in range(n_boot):
        ti, mi = rng.integers(0, n, n), rng.integers(0, n, n)
        o = measure.empirical_onset(data.P, data.delay[:, ti])
        c, _ = _p_cross(data.P, data.t_mem[:, mi], data.t_gen[:, ti], budget)
        if o is not None and c is not None:
            samples.append(math.log10(o / c))
    interval = None
    if len(samples) >= 2:
        tail = 50 * (1 - confidence)
        lo, hi = np.percentile(samples, [tail, 100 - tail])
        interval = (float(lo), float(hi))
    return OnsetComparison(
        onset,
        p_cross,
        tuple(crossings),
        ratio,
        interval,
        len(samples) / n_boot if n_boot else math.nan,
    )
