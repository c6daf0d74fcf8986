"""The fill loop: plan the missing runs into ensembles, claim and submit as many as the
executor has slots, store each result as it arrives, say where things stand every so often.

Faults: a training error marks its runs ``failed`` (with the error) and the fill goes on; runs
another process holds are waited for (and taken over once that process is gone); Ctrl-C or
SIGTERM stops the jobs in flight and releases their runs. A driver killed outright leaves its
runs to be taken over by the next fill (at once on the same host, :mod:`grokclaims.fill.ledger`):
a restarted fill trains only what is not stored.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from grokclaims.fill.executors import Executor, Outcome
from grokclaims.fill.ledger import Ledger
from grokclaims.fill.plan import Job, plan_jobs
from grokclaims.provenance import git_commit, host
from grokclaims.spec.run import RunSpec
from grokclaims.store.progress import duration
from grokclaims.store.registry import Registry


@dataclass
class FillReport:
    """What a fill did, in distinct runs."""

    wanted: int = 0
    already: int = 0  # stored before the fill
    trained: int = 0
    by_others: int = 0  # completed meanwhile by another process (a pytest session, a fill)
    failed: dict[str, str] = field(default_factory=dict)  # run id -> error
    taken_over: int = 0  # held by dead processes of this host, taken over at the start
    jobs: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        text = (
            f"{self.wanted} runs: {self.already} already stored, {self.trained} trained here "
            f"in {self.jobs} ensembles, {self.by_others} by other processes, "
            f"{len(self.failed)} failed; {duration(self.seconds)}"
        )
        return text


class Progress:
    """The periodic line: runs done / running / left, throughput, ETA."""

    def __init__(self, total: int, cost: float, log: logging.Logger, every: float):
        self.total, self.cost_total = total, cost
        self.log, self.every = log, every
        self.start = self.last = time.monotonic()
        self.done = self.failed = 0
        self.cost_done = 0.0

    def add(self, runs: int, cost: float, failed: int = 0) -> None:
        self.done += runs
        self.failed += failed
        self.cost_done += cost

    def line(self, running: int, now: float | None = None) -> str:
        elapsed = (time.monotonic() if now is None else now) - self.start
        left = self.total - self.done - self.failed
        rate = self.done / elapsed * 60 if elapsed > 0 else 0.0
        if self.cost_done > 0 and elapsed > 0:
            # By estimated cost rather than run count: the grid's runs differ in size.
            eta = duration((self.cost_total - self.cost_done) / self.cost_done * elapsed)
        else:
            eta = "?"
        failed = f" ({self.failed} failed)" if self.failed else ""
        return (
            f"[fill] {self.done}/{self.total} runs done{failed}, {running} running, {left} left;"
            f" {rate:.1f} runs/min over {duration(elapsed)}; ETA {eta}"
        )

    def maybe_log(self, running: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self.log.info(self.line(running, now))


def fill(
    specs: Sequence[RunSpec],
    registry: Registry,
    executor: Executor,
    *,
    max_members: int,
    log: logging.Logger | None = None,
    progress_every: float = 30.0,
    poll_every: float = 1.0,
) -> FillReport:
    """Train every spec of ``specs`` not already stored, on ``executor``; store each result."""
    log = log if log is not None else logging.getLogger("grokclaims")
    t0 = time.monotonic()
    ledger = Ledger(registry)
    ledger.driver = {"executor": executor.name, "driver_host": host(), "git_commit": git_commit()}
    report = FillReport(wanted=len({s.run_id for s in specs}))
    report.taken_over = ledger.take_over_dead_holders()
    if report.taken_over:
        log.info("[fill] taking over %d runs held by dead processes", report.taken_over)
    missing = registry.missing(specs)
    report.already = report.wanted - len(missing)
    queue = deque(
        plan_jobs(missing, max_members=max_members, slots=executor.slots(), device=executor.device)
    )
    progress = Progress(len(missing), sum(j.cost for j in queue), log, progress_every)
    log.info(
        "[fill] %d runs wanted, %d stored, %d to train as %d ensembles on %s (%d slots)",
        report.wanted,
        report.already,
        len(missing),
        len(queue),
        executor.name,
        executor.slots(),
    )
    deferred: dict[str, RunSpec] = {}  # held by other live processes: waited for
    try:
        while queue or executor.in_flight() or deferred:
            while queue and executor.in_flight() < executor.slots():
                _submit(queue.popleft(), ledger, executor, deferred, report, progress, log)
            if executor.in_flight():
                for job, outcome in executor.wait(timeout=min(poll_every, progress_every)):
                    _finish(job, outcome, ledger, report, progress, log)
            elif not queue and deferred:  # only runs other processes hold: wait, look again
                time.sleep(poll_every)
                _recheck(deferred, ledger, queue, report, progress, executor, max_members)
            progress.maybe_log(executor.in_flight())
    except BaseException:  # Ctrl-C, SIGTERM, a store error: stop training, let go of the runs
        executor.cancel()
        ledger.release()
        raise
    finally:
        ledger.stop()
    report.seconds = time.monotonic() - t0
    log.info(progress.line(0))
    return report


def _submit(job: Job, ledger, executor, deferred, report, progress, log) -> None:
    mine, others, failed = ledger.claim(job.specs)
    for rid in others:
        deferred[rid] = next(s for s in job.specs if s.run_id == rid)
    for rid, error in failed.items():
        report.failed[rid] = f"failed in another process: {error}"
    progress.add(0, 0.0, failed=len(failed))
    done_meanwhile = len(job.specs) - len(mine) - len(others) - len(failed)
    if done_meanwhile:
        report.by_others += done_meanwhile
        progress.add(done_meanwhile, job.cost * done_meanwhile / len(job.specs))
    if not mine:
        return
    if len(mine) < len(job.specs):
        keep = set(mine)
        job = Job(
            tuple(s for s in job.specs if s.run_id in keep), job.cost * len(mine) / len(job.specs)
        )
    executor.submit(job)
    report.jobs += 1
    log.info("[fill] submitted %s", job.label)


def _finish(job: Job, outcome: Outcome, ledger, report, progress, log) -> None:
    if isinstance(outcome, dict) and outcome.get("run_ids") != job.ids:
        outcome = RuntimeError(
            "the worker computed other run ids from these specs: its grokclaims differs from "
            "the driver's (science version or spec code); results not stored"
        )
    if isinstance(outcome, BaseException):
        error = "".join(traceback.format_exception(outcome, limit=-8))
        ledger.fail(job.ids, error)
        for rid in job.ids:
            report.failed[rid] = repr(outcome)
        progress.add(0, 0.0, failed=len(job.ids))
        log.warning("[fill] %s failed: %r", job.label, outcome)
        return
    provenance = [_with_driver(p, ledger.driver) for p in outcome["provenance"]]
    kept = ledger.complete(job.specs, outcome["results"], provenance)
    report.trained += len(job.ids) - len(kept)
    report.by_others += len(kept)
    progress.add(len(job.ids), job.cost)
    log.info("[fill] stored %s (%s)", job.label, duration(outcome["wall"]))


def _with_driver(prov: dict, driver: dict) -> dict:
    """The worker's provenance (its host, device, pid, versions) and the driver's: which
    executor, from where, and the commit (a worker running shipped code has no git)."""
    out = {**prov, "executor": driver["executor"], "driver_host": driver["driver_host"]}
    if out.get("git_commit") is None:
        out["git_commit"] = driver["git_commit"]
    return out


def _recheck(deferred, ledger, queue, report, progress, executor, max_members) -> None:
    """Runs held by others: count those now stored; plan again those that may be free."""
    stored = ledger.stored(list(deferred))
    for rid in stored:
        del deferred[rid]
    report.by_others += len(stored)
    if stored:
        progress.add(len(stored), 0.0)
    # Claiming decides whether the holder is alive: a free (or stale) run is claimed then.
    again = plan_jobs(
        list(deferred.values()), max_members=max_members, slots=1, device=executor.device
    )
    deferred.clear()
    queue.extend(again)
