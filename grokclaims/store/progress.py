"""What the run registry says in its log: per-worker prefix, run labels, durations, progress.

Lines go to the ``grokclaims`` logger (the plugin shows them on the real stderr, past pytest's
capture); each starts with ``[gwN] `` under xdist.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from grokclaims.engine.trace import Progress
from grokclaims.spec.run import RunSpec


def worker_prefix() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"[{worker}] " if worker else ""


def describe(spec: RunSpec) -> str:
    label = getattr(spec.model, "label", "")
    return f"{spec.model.family} {label}, p={spec.task.p}".replace("  ", " ")


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def progress_logger(log: logging.Logger, label: str) -> Callable[[Progress], None]:
    """The trainer's progress callback (it calls every few seconds): one line each time."""

    def progress(p: Progress) -> None:
        log.info(
            "%straining %d members (%s): epoch %d/%d, %d active, %s elapsed, ETA ≤ %s",
            worker_prefix(),
            p.total,
            label,
            p.epoch,
            p.max_epochs,
            p.active,
            duration(p.elapsed),
            duration(p.eta),
        )

    return progress


def failure_message(failed: dict[str, str], where: str) -> str:
    """The error of runs that failed to train (run id -> error text)."""
    first = next(iter(failed.values())).strip().splitlines()
    return (
        f"{len(failed)} run(s) failed to train{where}: {', '.join(failed)}\n"
        f"error: {first[-1] if first else '?'}\n"
        "a later call retries them; `grokclaims runs show RUN_ID` shows the traceback"
    )
