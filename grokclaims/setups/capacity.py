"""Song & Ye's capacity measurement: memorised bits of random targets against parameters.

A :class:`CapacitySweep` trains each width on ``n_saturate`` random targets: more bits than the
width can hold, so the bits it holds once they stop growing are its capacity.
:mod:`grokclaims.setups.capacity_data` turns the runs into arrays over (width, seed), with a
check that the bits did stop growing. Definitions: CLAIMS.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grokclaims.analysis.capacity import dataset_complexity
from grokclaims.analysis.milestones import MEMORISED_TRAIN_ACC
from grokclaims.data.tasks import TaskSpec
from grokclaims.families import SongYe
from grokclaims.spec.run import OptimSpec, RunSpec, Schedule, StopRule


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
            stop=StopRule(train_acc=MEMORISED_TRAIN_ACC, val_acc=None),
            seed=seed,
        )

    def specs(self, seeds: Sequence[int]) -> list[RunSpec]:
        return [self.spec(d, self.n_saturate, s) for d in self.dims for s in seeds]

    def n_params(self, dim: int) -> int:
        return self.spec(dim, self.n_saturate, 0).n_params

    def complexity(self, n: int) -> float:
        return dataset_complexity(n, self.p)
