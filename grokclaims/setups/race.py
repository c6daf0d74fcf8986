"""Song & Ye's race between memorisation and generalisation: the runs of one cell.

A :class:`RaceCell` is one setting (prime, operation, train fraction, hyper-parameters) swept
over model widths. For each width and seed it trains the task (T_gen, the delay, the regime) and
random targets of equivalent complexity (T_mem); optionally the task's own inputs with shuffled
labels (SY9). Random-target and shuffled runs have the task's training-set size, so all three
kinds of a width train as one ensemble. :mod:`grokclaims.setups.race_data` turns the runs into
arrays over (width, seed). Definitions: CLAIMS.md ("Setups").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from grokclaims.analysis.capacity import dataset_complexity
from grokclaims.analysis.milestones import GENERALISED_VAL_ACC, MEMORISED_TRAIN_ACC
from grokclaims.data.tasks import TaskSpec
from grokclaims.families import SongYe
from grokclaims.spec.run import OptimSpec, RunSpec, Schedule, StopRule

# T_mem: random-target runs stop at the first epoch with train >= 99 % (the authors' rule).
MEMORY_STOP = StopRule(train_acc=MEMORISED_TRAIN_ACC, val_acc=None)
# Task runs stop once train >= 99 % and val >= 99 % (the authors' rule).
TASK_STOP = StopRule(train_acc=MEMORISED_TRAIN_ACC, val_acc=GENERALISED_VAL_ACC)


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
        task = TaskSpec(p=self.p, op=self.op, alpha=self.alpha, data=data)
        # Random targets depend on the operation only through their number (the training-set
        # size): cells whose operations give the same size (+, - and * all have p² pairs) share
        # one run instead of training identical ones.
        if data == "random" and task.replace(op="+").n_train == task.n_train:
            task = task.replace(op="+")
        return RunSpec(
            task=task,
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
        return dataset_complexity(self.n_train, self.p)
