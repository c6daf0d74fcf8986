"""What a worker runs for one ensemble: rebuild the specs, train them as one batched ensemble,
return the results with their provenance. The worker writes nothing: the driver stores.

The specs travel as canonical JSON, and the worker returns the run ids it computed from them:
a worker whose code differs from the driver's (another science version, a changed spec) gives
other ids, and the driver refuses its results instead of storing them under the wrong ids.
"""

from __future__ import annotations

import os
import time
from typing import Any

from grokclaims.engine.train import train_ensemble
from grokclaims.provenance import run_provenance, utc_now
from grokclaims.spec.run import RunSpec


def train_job(
    canonical: list[dict[str, Any]], device: str | None = None, threads: int | None = None
) -> dict[str, Any]:
    """Train the ensemble of ``canonical`` specs on ``device`` (None: the worker's default)
    with ``threads`` torch threads; returns ``run_ids``, ``results``, ``provenance``, ``wall``.
    """
    import torch

    if threads:
        torch.set_num_threads(int(threads))
    specs = [RunSpec.from_canonical(c) for c in canonical]
    start, t0 = utc_now(), time.perf_counter()
    results = train_ensemble(specs, device=device)
    wall, end = time.perf_counter() - t0, utc_now()
    provenance = [
        run_provenance(
            str(r.device),
            start=start,
            end=end,
            ensemble_wall_time=wall,
            wall_time=float(r.wall_time),
            ensemble_size=int(r.ensemble_size),
            threads=torch.get_num_threads(),
        )
        for r in results
    ]
    return {
        "run_ids": [s.run_id for s in specs],
        "results": results,
        "provenance": provenance,
        "wall": wall,
        "pid": os.getpid(),
    }
