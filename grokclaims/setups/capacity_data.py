"""Song & Ye's memory grid, measured: the runs of a
:class:`~grokclaims.setups.capacity.MemoryGrid` as arrays over (point, seed) per setting, a
point being one (width, dataset size n).

Per run: the memorised bits at the end (an evaluation pass, Morris et al.), whether they had
stopped growing (:func:`grokclaims.analysis.capacity.saturated`), whether the run held less than
the data (``over_capacity``: it never memorised and its bits stay below 0.9 K, so they are its
capacity, not the data's K), and T_mem (first epoch
with running train accuracy >= 99 %; NaN where never reached, censored at the epochs trained).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grokclaims.analysis.capacity import memorised_bits_from_loss
from grokclaims.analysis.capacity import saturated as is_saturated
from grokclaims.analysis.milestones import MEMORISED_TRAIN_ACC
from grokclaims.analysis.traces import first_epoch_reaching
from grokclaims.setups.capacity import MemoryGrid

# A run holds less than its data when its bits stay below this share of K: it measures its
# capacity. A run near K (e.g. all targets right at evaluation but the running accuracy, with
# dropout, under 99 %) holds the data and says only that its capacity is at least K.
OVER_CAPACITY = 0.9


@dataclass(frozen=True)
class MemoryData:
    """One setting's arrays; rows are the points (dim, n), columns the seeds."""

    grid: MemoryGrid
    setting: str
    dims: np.ndarray
    n: np.ndarray
    P: np.ndarray
    K: np.ndarray
    bits: np.ndarray  # memorised bits at the end
    saturated: np.ndarray  # bool: bits grew < 5 % over the last quarter of the epochs trained
    over_capacity: np.ndarray  # bool: never memorised and bits < OVER_CAPACITY · K
    t_mem: np.ndarray  # first epoch with running train accuracy >= 99 %, NaN if never
    trained: np.ndarray  # epochs each run trained (T_mem's censoring time)
    curves: list  # (dim, n, seed, epochs, bits) per run

    @property
    def memorised(self) -> np.ndarray:
        """bool (points, seeds): reached 99 % running train accuracy within the budget."""
        return ~np.isnan(self.t_mem)

    def capacity_kwargs(self) -> dict:
        """The arguments of ``claimrules.song_ye_capacity.capacity_setting``."""
        return {
            "P": self.P,
            "n": self.n,
            "bits": self.bits,
            "saturated": self.saturated,
            "over_capacity": self.over_capacity,
        }

    def cells(self) -> list[tuple[np.ndarray, float, np.ndarray]]:
        """SY8's cells: one per dataset size, (P, K, t_mem) over its widths."""
        out = []
        for n in np.unique(self.n):
            rows = self.n == n
            out.append((self.P[rows], float(self.K[rows][0]), self.t_mem[rows]))
        return out


def measure_memory(grid: MemoryGrid, setting: str, seeds: Sequence[int], runs: dict) -> MemoryData:
    """From runs keyed by run id."""
    pts = grid.points(setting)
    shape = (len(pts), len(seeds))
    bits, t_mem, trained = (np.full(shape, math.nan) for _ in range(3))
    sat = np.zeros(shape, dtype=bool)
    curves = []
    vocab = grid.p + 2
    for i, (dim, n) in enumerate(pts):
        for j, seed in enumerate(seeds):
            tr = runs[grid.spec(setting, dim, n, seed).run_id].trace
            loss = np.asarray(tr.train_loss, dtype=float)
            b = np.array([memorised_bits_from_loss(v, n, vocab) for v in loss])
            e = np.asarray(tr.eval_epoch)
            curves.append((dim, n, seed, e, b))
            bits[i, j] = b[-1]
            sat[i, j] = is_saturated(e, b)
            reached = first_epoch_reaching(tr.epochs, tr.batch_acc, MEMORISED_TRAIN_ACC)
            t_mem[i, j] = math.nan if reached is None else float(reached)
            trained[i, j] = float(tr.epochs[-1])
    dims = np.array([d for d, _ in pts])
    n = np.array([m for _, m in pts], dtype=float)
    K = np.array([grid.complexity(int(m)) for m in n])
    P = np.array([grid.n_params(int(d)) for d in dims], dtype=float)
    # A run that memorised (99 % running train accuracy) held its data, whatever its bits
    # (with dropout a memorised run's evaluation bits can be ~0.85 K): not its capacity.
    over = (bits < OVER_CAPACITY * K[:, None]) & np.isnan(t_mem)
    return MemoryData(grid, setting, dims, n, P, K, bits, sat, over, t_mem, trained, curves)
