"""Train an ensemble of M members of one architecture as one batched computation.

:func:`train_ensemble` takes run specs that share an :func:`~grokclaims.spec.run.ensemble_key` and
returns one :class:`~grokclaims.engine.trace.RunResult` per spec, in order. The members'
computation is an :class:`~grokclaims.engine.ensemble.Ensemble`; members may also differ in stop
rule.

Measurements: every epoch, the running train accuracy and loss over the epoch's mini-batches
(no extra pass, no host sync); every ``eval_every`` epochs (and at the last), an evaluation pass
with dropout off on the train and validation sets and the global L2 weight norm. At evaluation
epochs members whose stop rule is met are frozen and removed from the batch (the computation
shrinks), and members whose loss is NaN/inf are marked diverged; the others continue.

The trainer knows nothing about claims. :func:`~grokclaims.engine.plain.train_plain` is the
one-model-at-a-time reference loop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

from grokclaims.engine.ensemble import Ensemble
from grokclaims.engine.runtime import ensemble_threads
from grokclaims.engine.trace import TRACE_FIELDS, Progress, RunResult, Trace
from grokclaims.spec.run import RunSpec

PROGRESS_SECONDS = 5.0  # how often the progress callback is called


class _Recorder:
    """Host-side traces of every member, indexed by the member's original position."""

    def __init__(self, m: int, max_epochs: int, device: torch.device):
        self.batch_acc = torch.full((m, max_epochs), float("nan"), device=device)
        self.batch_loss = torch.full((m, max_epochs), float("nan"), device=device)
        self.evals: list[dict[str, list]] = [{k: [] for k in TRACE_FIELDS[2:]} for _ in range(m)]

    def add_eval(self, member: int, epoch: int, values: dict[str, float]) -> None:
        self.evals[member]["eval_epoch"].append(epoch)
        for k, v in values.items():
            self.evals[member][k].append(v)

    def trace(self, member: int, epochs: int) -> Trace:
        ev = {
            k: np.asarray(v, dtype=np.int64 if k == "eval_epoch" else np.float64)
            for k, v in self.evals[member].items()
        }
        return Trace(
            batch_acc=self.batch_acc[member, :epochs].cpu().double().numpy(),
            batch_loss=self.batch_loss[member, :epochs].cpu().double().numpy(),
            **ev,
        )


def train_ensemble(
    specs: Sequence[RunSpec],
    *,
    device: torch.device | str | None = None,
    progress: Callable[[Progress], None] | None = None,
    compile: bool = False,
) -> list[RunResult]:
    """Train the members as one ensemble; returns their results in the order of ``specs``."""
    start = time.perf_counter()
    ens = Ensemble(specs, device, compile)
    threads = torch.get_num_threads()
    try:
        return _train(ens, start, progress, threads)
    finally:
        torch.set_num_threads(threads)


def _fit_threads(ens: Ensemble, threads: int) -> None:
    """At most one CPU thread per member (:func:`~grokclaims.engine.runtime.ensemble_threads`)."""
    if ens.device.type == "cpu":
        wanted = ensemble_threads(ens.size, threads)
        if torch.get_num_threads() != wanted:
            torch.set_num_threads(wanted)


def _train(
    ens: Ensemble, start: float, progress: Callable[[Progress], None] | None, threads: int
) -> list[RunResult]:
    _fit_threads(ens, threads)
    sched = ens.schedule
    m_total = ens.size
    rec = _Recorder(m_total, sched.max_epochs, ens.device)
    alive = list(range(m_total))  # original index of each row
    since: dict[int, int | None] = {}  # member -> epoch its stop rule counts patience from
    results: dict[int, RunResult] = {}
    extras_init = {i: ens.embedding(i) for i in range(m_total)} if sched.record_embedding else {}
    last_eval, last_progress = 0, start

    def evaluate(epoch: int) -> dict[str, np.ndarray]:
        tr_acc, tr_loss = ens.evaluate(ens.x_train, ens.y_train)
        va_acc, va_loss = ens.evaluate(ens.x_val, ens.y_val)
        vals = torch.stack([tr_acc, tr_loss, va_acc, va_loss, ens.weight_norm()]).cpu().double()
        names = ("train_acc", "train_loss", "val_acc", "val_loss", "weight_norm")
        out = {k: vals[i].numpy() for i, k in enumerate(names)}
        for row, member in enumerate(alive):
            rec.add_eval(member, epoch, {k: float(v[row]) for k, v in out.items()})
        return out

    def finish(row: int, member: int, epoch: int, status: str, stopped: bool) -> None:
        extras = {}
        if sched.record_embedding:
            extras = {"embedding_init": extras_init[member], "embedding_final": ens.embedding(row)}
        results[member] = RunResult(
            status=status,
            epochs=epoch,
            stopped=stopped,
            trace=rec.trace(member, epoch),
            extras=extras,
            wall_time=time.perf_counter() - start,
            ensemble_size=m_total,
            device=str(ens.device),
        )

    evaluate(0)
    for epoch in range(1, sched.max_epochs + 1):
        n_seen = 0
        correct = torch.zeros(ens.size, device=ens.device)
        loss_sum = torch.zeros(ens.size, device=ens.device)
        for xb, yb in ens.batches():
            loss, hits = ens.step(xb, yb)
            loss_sum += loss * yb.shape[1]
            correct += hits
            n_seen += yb.shape[1]
        rows = torch.tensor(alive, device=ens.device)
        rec.batch_acc[rows, epoch - 1] = correct / n_seen
        rec.batch_loss[rows, epoch - 1] = loss_sum / n_seen

        last = epoch == sched.max_epochs
        if epoch % sched.eval_every and not last:
            continue
        ev = evaluate(epoch)
        window = slice(last_eval, epoch)
        batch_acc = rec.batch_acc[rows, window].max(1).values.cpu().numpy()
        batch_finite = torch.isfinite(rec.batch_loss[rows, window]).all(1).cpu().numpy()
        last_eval = epoch
        keep = []
        for row, member in enumerate(alive):
            rule = ens.specs[row].stop
            if not (batch_finite[row] and math.isfinite(ev["train_loss"][row])):
                finish(row, member, epoch, "diverged", stopped=False)
                continue
            train = batch_acc[row] if sched.train_acc == "batches" else ev["train_acc"][row]
            met = (
                rule.enabled
                and (rule.train_acc is None or train >= rule.train_acc)
                and (rule.val_acc is None or ev["val_acc"][row] >= rule.val_acc)
            )
            since[member], stop = rule.advance(since.get(member), epoch, bool(met))
            if stop:
                finish(row, member, epoch, "completed", stopped=True)
            elif last:
                finish(row, member, epoch, "completed", stopped=False)
            else:
                keep.append(row)
        if len(keep) < len(alive):
            alive = [alive[r] for r in keep]
            if not alive:
                break
            ens.select(torch.tensor(keep))
            _fit_threads(ens, threads)
        now = time.perf_counter()
        if progress is not None and now - last_progress >= PROGRESS_SECONDS:
            last_progress = now
            progress(Progress(epoch, sched.max_epochs, len(alive), m_total, now - start))
    return [results[i] for i in range(m_total)]
