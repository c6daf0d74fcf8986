"""Ensembles to train: every missing run grouped by ensemble shape across claims, cut into
ensembles sized for the device, enough of them to keep every slot busy, costliest first.

Pure: specs in, :class:`Job` objects out (tested without torch training anything).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from grokclaims.engine.cost import estimate_seconds
from grokclaims.spec.run import RunSpec, ensemble_key
from grokclaims.store.progress import describe


@dataclass(frozen=True)
class Job:
    """One ensemble: runs sharing an ensemble key, trained by one executor call."""

    specs: tuple[RunSpec, ...]
    cost: float  # estimated seconds, budgets in full (engine.cost): for ordering and the ETA

    @property
    def ids(self) -> list[str]:
        return [s.run_id for s in self.specs]

    @property
    def label(self) -> str:
        return f"{len(self.specs)} x {describe(self.specs[0])}"


def plan_jobs(
    specs: Sequence[RunSpec],
    *,
    max_members: int,
    slots: int = 1,
    device: str | None = "cpu",
    cost: Callable[[RunSpec], float] | None = None,
) -> list[Job]:
    """The ensembles that train ``specs`` (each distinct spec exactly once).

    Runs of one ensemble key are cut into ``ceil(n / max_members)`` near-equal parts (so that
    no ensemble is a small remainder); then, while there are fewer ensembles than ``slots``
    (workers or GPUs), the costliest one is halved so that no slot idles at the start. Members
    keep the order they were asked in (a claim's neighbouring cells stop at similar epochs).
    Returned costliest first (longest-processing-time order: the long ensembles start early).
    """
    if max_members < 1:
        raise ValueError(f"max_members must be >= 1, got {max_members}")
    cost = cost if cost is not None else (lambda s: estimate_seconds(s, device))
    groups: dict[tuple, list[RunSpec]] = {}
    seen: set[str] = set()
    for s in specs:
        if s.run_id not in seen:
            seen.add(s.run_id)
            groups.setdefault(ensemble_key(s), []).append(s)
    jobs = [
        Job(tuple(part), sum(cost(s) for s in part))
        for group in groups.values()
        for part in _split(group, math.ceil(len(group) / max_members))
    ]
    while len(jobs) < slots:
        splittable = [j for j in jobs if len(j.specs) > 1]
        if not splittable:
            break
        big = max(splittable, key=lambda j: j.cost)
        jobs.remove(big)
        jobs += [Job(tuple(h), sum(cost(s) for s in h)) for h in _split(list(big.specs), 2)]
    return sorted(jobs, key=lambda j: -j.cost)  # stable: equal costs keep the claims' order


def _split(items: list[RunSpec], n: int) -> list[list[RunSpec]]:
    """``items`` in ``n`` contiguous parts whose sizes differ by at most one."""
    n = max(1, min(n, len(items)))
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (i < extra)
        out.append(items[start:end])
        start = end
    return out
