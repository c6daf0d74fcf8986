"""Song & Ye's memory grid: random targets of several dataset sizes n at fixed widths.

A :class:`MemoryGrid` trains random targets (n examples, K = n·log2(p + 2) bits) at two
settings of one race cell's schedule:

- the **race** setting (the cell's own weight decay and dropout): every width × size, stopped
  at 99 % train or at the cell's budget. It serves SY2 (memorised within the budget or not,
  against C·P/K), SY8 (each size is a cell of its own K; T_mem observed or censored) and SY1's
  race-setting capacity (the sizes that exceed a width's capacity, trained to saturation);
- the **probe** setting (the authors' capacity probe: weight decay 0.01, no dropout): SY1's
  other capacity, on ``probe_dims`` × ``probe_sizes``.

At n = the cell's training-set size the race runs *are* the cell's random-target runs (one spec,
trained once), and every run of one (width, n) shares one ensemble, whatever its setting.
:mod:`grokclaims.setups.capacity_data` turns the runs into arrays. Definitions: CLAIMS.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from grokclaims.analysis.capacity import dataset_complexity
from grokclaims.setups.race import RaceCell
from grokclaims.spec.run import RunSpec

SETTINGS = ("race", "probe")


@dataclass(frozen=True)
class MemoryGrid:
    """Random targets of ``sizes`` (race setting) and ``probe_sizes`` (probe setting) at fixed
    widths, with the schedule, budget and architecture of ``cell``."""

    cell: RaceCell
    dims: tuple[int, ...]
    sizes: tuple[int, ...]
    probe_dims: tuple[int, ...]
    probe_sizes: tuple[int, ...]
    probe_weight_decay: float = 0.01  # the authors' capacity probe (CLAIMS.md SY1)
    probe_dropout: float = 0.0
    probe_epochs: int | None = None  # None: the cell's budget (shared ensembles at equal n)

    @property
    def p(self) -> int:
        return self.cell.p

    @property
    def max_epochs(self) -> int:
        return self.cell.max_epochs

    def points(self, setting: str) -> list[tuple[int, int]]:
        """(dim, n) of every point of a setting, by n then dim."""
        if setting == "race":
            return [(d, n) for n in self.sizes for d in self.dims]
        if setting == "probe":
            return [(d, n) for n in self.probe_sizes for d in self.probe_dims]
        raise ValueError(f"unknown setting {setting!r}; settings are {SETTINGS}")

    def spec(self, setting: str, dim: int, n: int, seed: int) -> RunSpec:
        s = self.cell.memory_spec(dim, seed)  # n = the cell's training set: its own runs
        if n != self.cell.n_train:
            s = dataclasses.replace(s, task=s.task.replace(n=n))
        if setting == "probe":
            s = dataclasses.replace(
                s,
                model=dataclasses.replace(s.model, dropout=self.probe_dropout),
                optim=dataclasses.replace(s.optim, weight_decay=self.probe_weight_decay),
            )
            if self.probe_epochs is not None:
                sched = dataclasses.replace(s.schedule, max_epochs=self.probe_epochs)
                s = dataclasses.replace(s, schedule=sched)
        elif setting != "race":
            raise ValueError(f"unknown setting {setting!r}; settings are {SETTINGS}")
        return s

    def specs(self, seeds: Sequence[int]) -> list[RunSpec]:
        return [
            self.spec(st, d, n, s) for st in SETTINGS for d, n in self.points(st) for s in seeds
        ]

    def n_params(self, dim: int) -> int:
        return self.cell.n_params(dim)

    def complexity(self, n: int) -> float:
        return dataset_complexity(n, self.p)

    def setup(self, setting: str) -> str:
        """The setting in words, for titles and notes."""
        wd, dr = (
            (self.cell.weight_decay, self.cell.dropout)
            if setting == "race"
            else (self.probe_weight_decay, self.probe_dropout)
        )
        return f"p = {self.p}, random targets, wd {wd:g}, dropout {dr:g}"
