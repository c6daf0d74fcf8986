"""The run registry: every run trained once, found by its spec, safe under parallel workers.

Claims ask for runs by :class:`~grokclaims.spec.run.RunSpec`; :meth:`Registry.get_or_train` reads
what is stored and trains what is missing, grouped by :func:`~grokclaims.spec.run.ensemble_key`
into batched ensembles. Several processes (xdist workers, nightly jobs on other GPUs) may share
one store file (:mod:`grokclaims.store.format`).

A run's row goes ``claimed -> running -> completed | diverged | failed``. The protocol:

- Claiming is a ``BEGIN IMMEDIATE`` transaction, one ensemble at a time
  (:mod:`grokclaims.store.claiming`), so a run is claimed by exactly one process.
- A process waits (polling) only when every run it still needs is held by others: it never
  waits while holding unfinished claims, so workers cannot deadlock.
- While it holds rows, a thread refreshes their ``heartbeat``
  (:mod:`grokclaims.store.heartbeat`); a row whose heartbeat is older than ``stale_after``
  belongs to a dead process and is taken over by the next process that wants it.
- Ctrl-C (any exception other than a training error) deletes this process's held rows; a
  training error marks its group ``failed`` with the traceback. A later call retries failed runs;
  a run that fails in another process *during* a call is reported, not retried in a loop.
- A stored row that fails its checksum (trace, spec and run id: :mod:`grokclaims.store.rows`),
  or whose spec or provenance cannot be read, is reported, marked ``corrupt`` and trained again.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grokclaims.engine.trace import RunResult, Trace
from grokclaims.engine.train import train_ensemble
from grokclaims.provenance import run_provenance, utc_now
from grokclaims.spec.run import RunSpec
from grokclaims.store import format as fmt
from grokclaims.store import rows as rowfmt
from grokclaims.store.claiming import claim
from grokclaims.store.format import ACTIVE, RESULTS, RegistryError
from grokclaims.store.heartbeat import Heartbeat
from grokclaims.store.progress import (
    describe,
    duration,
    failure_message,
    progress_logger,
    worker_prefix,
)
from grokclaims.store.rows import CorruptTrace

__all__ = ["Registry", "RegistryError", "Run"]

WAIT_LOG_SECONDS = 30.0  # how often a waiting worker says what it waits for

Trainer = Callable[..., list[RunResult]]


@dataclass(frozen=True)
class Run:
    spec: RunSpec
    run_id: str
    status: str  # "completed" | "diverged"
    result: RunResult
    provenance: dict[str, Any]
    trained: bool  # trained by this get_or_train call (False: read from the store)

    @property
    def trace(self) -> Trace:
        return self.result.trace


class Registry:
    """A store of runs; see the module docstring for the protocol.

    One instance per process and thread (each process gets its own owner token).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        stale_after: float = 120.0,
        heartbeat_every: float = fmt.HEARTBEAT_SECONDS,
        max_members: int = 256,
        log: logging.Logger | None = None,
        poll_every: float = 0.2,
        create: bool = True,
    ):
        if not 0 < heartbeat_every < stale_after:
            raise ValueError(
                f"Registry: need 0 < heartbeat_every ({heartbeat_every}) < stale_after "
                f"({stale_after}), or live runs would look abandoned"
            )
        if max_members < 1:
            raise ValueError(f"Registry.max_members must be >= 1, got {max_members}")
        self.path = Path(path).expanduser().absolute()
        self.stale_after = float(stale_after)
        self.heartbeat_every = float(heartbeat_every)
        self.max_members = int(max_members)
        self.poll_every = float(poll_every)
        self.log = log if log is not None else logging.getLogger("grokclaims")
        if not fmt.check_location(self.path, create=create):
            try:
                fmt.create_store(self.path)
            except (OSError, sqlite3.Error) as exc:
                raise RegistryError(f"cannot create run store {self.path}: {exc}") from None
        self._pid = -1
        self._con = self._connect()
        self._counts = {"trained": 0, "reused": 0}

    # -- connection -----------------------------------------------------------------------

    def _connect(self):
        con = fmt.connect(self.path, check=True)
        # A new owner token per process: a forked child must not pass for its parent.
        self._pid = os.getpid()
        self.owner = f"{socket.gethostname()}:{self._pid}:{uuid.uuid4().hex[:8]}"
        return con

    @property
    def con(self):
        if os.getpid() != self._pid:
            # SQLite connections must not cross a fork: open our own, and keep (never close)
            # the inherited one, whose close could disturb the parent's locks and WAL.
            self._inherited = self._con
            self._con = self._connect()
        return self._con

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, fn: Callable[[Any], Any]) -> Any:
        """Run ``fn(con)`` in one ``BEGIN IMMEDIATE`` transaction (writers are serialised)."""
        con = self.con
        con.execute("BEGIN IMMEDIATE")
        try:
            out = fn(con)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        return out

    # -- the public API ---------------------------------------------------------------------

    @property
    def counts(self) -> dict[str, int]:
        """Distinct runs per call, summed over this process: trained here vs read."""
        return dict(self._counts)

    def get_or_train(
        self, specs: Sequence[RunSpec], *, device=None, trainer: Trainer | None = None
    ) -> list[Run]:
        """A :class:`Run` per spec, in order: read if stored, else trained (once, anywhere)."""
        trainer = train_ensemble if trainer is None else trainer
        ids = [s.run_id for s in specs]
        wanted = dict(zip(ids, specs))
        done: dict[str, Run] = {}
        first_seen: dict[str, tuple | None] = {}
        last_wait_log = time.monotonic()
        heartbeat = Heartbeat(self)
        try:
            while len(done) < len(wanted):
                pending = [i for i in wanted if i not in done]
                done.update(self._read(pending, wanted, mark=True))
                pending = [i for i in pending if i not in done]
                if not pending:
                    break
                mine, others, failed = self._write(
                    lambda con, pending=pending: claim(
                        con,
                        pending,
                        wanted,
                        first_seen,
                        owner=self.owner,
                        stale_after=self.stale_after,
                        max_members=self.max_members,
                        log=self.log,
                    )
                )
                if failed:
                    raise RegistryError(failure_message(failed, " in another process"))
                if mine:
                    heartbeat.start()
                    done.update(self._train([wanted[i] for i in mine], device, trainer))
                elif others:
                    if time.monotonic() - last_wait_log >= WAIT_LOG_SECONDS:
                        last_wait_log = time.monotonic()
                        self.log.info(
                            "%swaiting for %d runs trained by other processes",
                            worker_prefix(),
                            len(others),
                        )
                    time.sleep(self.poll_every)
        except BaseException:
            self._release()
            raise
        finally:
            heartbeat.stop()
        self._counts["trained"] += sum(r.trained for r in done.values())
        self._counts["reused"] += sum(not r.trained for r in done.values())
        return [done[i] for i in ids]

    def missing(self, specs: Sequence[RunSpec]) -> list[RunSpec]:
        """Specs (distinct, in order) without a usable stored result; changes nothing."""
        wanted = {s.run_id: s for s in specs}
        found = self._read(list(wanted), wanted, mark=False)
        return [s for i, s in wanted.items() if i not in found]

    def get(self, spec_or_run_id: RunSpec | str) -> Run | None:
        """The stored run (completed or diverged, trace verified), or None."""
        if isinstance(spec_or_run_id, RunSpec):
            run_id, wanted = spec_or_run_id.run_id, {spec_or_run_id.run_id: spec_or_run_id}
        else:
            run_id, wanted = str(spec_or_run_id), {}
        return self._read([run_id], wanted, mark=False).get(run_id)

    def runs(
        self,
        *,
        status: str | Sequence[str] | None = None,
        family: str | None = None,
        p: int | None = None,
        seed: int | None = None,
        prefix: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Rows for listing and export, newest first: status, summary, flattened spec
        (``task.p``, ``model.dim``, ...) and provenance; no traces."""
        where, args = rowfmt.where(status=status, family=family, p=p, seed=seed, prefix=prefix)
        sql = f"SELECT {rowfmt.LIST_COLUMNS} FROM runs{where} ORDER BY updated DESC, run_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [rowfmt.flatten_row(row) for row in self.con.execute(sql, args)]

    def delete(
        self,
        *,
        run_ids: Sequence[str] | None = None,
        status: str | Sequence[str] | None = None,
        stale: bool = False,
    ) -> int:
        """Delete rows matching every given criterion; ``stale``: held rows whose heartbeat is
        older than ``stale_after``. Returns the number deleted."""
        if run_ids is None and status is None and not stale:
            raise ValueError("Registry.delete: give run_ids, status or stale=True")
        where, args = rowfmt.where(status=status)
        if stale:
            where += " AND " if where else " WHERE "
            where += f"status IN {ACTIVE!r} AND heartbeat < ?"
            args.append(time.time() - self.stale_after)

        def delete(con) -> int:
            if run_ids is None:
                return con.execute(f"DELETE FROM runs{where}", args).rowcount
            n = 0
            for rid in dict.fromkeys(run_ids):
                sql = f"DELETE FROM runs{where}{' AND' if where else ' WHERE'} run_id = ?"
                n += con.execute(sql, [*args, rid]).rowcount
            return n

        return self._write(delete)

    # -- reading ----------------------------------------------------------------------------

    def _read(self, ids: Sequence[str], wanted: dict[str, RunSpec], *, mark: bool) -> dict:
        """Stored results among ``ids``; a corrupt trace is logged (and, with ``mark``,
        flagged for re-training) and left out."""
        rows = rowfmt.select(
            self.con,
            "SELECT run_id, status, spec, provenance, trace, checksum, generation,"
            " science_version FROM runs"
            f" WHERE run_id IN ({{ids}}) AND status IN {RESULTS!r}",
            ids,
        )
        out = {}
        for row in rows:
            rid = row["run_id"]
            try:
                spec, result, prov = rowfmt.decode_row(row, wanted.get(rid))
            except CorruptTrace as exc:
                self.log.warning(
                    "%srun %s: %s; it will be trained again, not used", worker_prefix(), rid, exc
                )
                if mark:
                    self._write(
                        lambda con, rid=rid, gen=row["generation"]: con.execute(
                            "UPDATE runs SET status = 'corrupt', updated = ? WHERE run_id = ?"
                            f" AND generation = ? AND status IN {RESULTS!r}",
                            (time.time(), rid, gen),
                        )
                    )
                continue
            out[rid] = Run(spec, rid, row["status"], result, prov, trained=False)
        return out

    def _release(self) -> None:
        """Give up this process's held rows (interrupted): they become simply absent."""
        try:
            n = self._write(
                lambda con: (
                    con.execute(
                        f"DELETE FROM runs WHERE owner = ? AND status IN {ACTIVE!r}", (self.owner,)
                    ).rowcount
                )
            )
        except Exception as exc:  # the original exception matters more; stale rows expire
            self.log.warning("%scould not release held runs: %s", worker_prefix(), exc)
            return
        if n:
            self.log.info("%sreleased %d unfinished runs", worker_prefix(), n)

    # -- training ---------------------------------------------------------------------------

    def _train(self, group: list[RunSpec], device, trainer: Trainer) -> dict[str, Run]:
        """Train one claimed ensemble with one trainer call; store the results."""
        ids = [s.run_id for s in group]
        self._set_status(ids, "running")
        label = describe(group[0])
        self.log.info("%straining %d members (%s)", worker_prefix(), len(group), label)
        start, t0 = utc_now(), time.perf_counter()
        try:
            results = trainer(group, device=device, progress=progress_logger(self.log, label))
            if len(results) != len(group):
                raise RuntimeError(f"trainer returned {len(results)} results for {len(group)}")
        except Exception as exc:
            error = "".join(traceback.format_exception(exc, limit=-8))[-4000:]
            self._set_status(ids, "failed", error=error)
            raise RegistryError(failure_message(dict.fromkeys(ids, repr(exc)), "")) from exc
        wall, end = time.perf_counter() - t0, utc_now()
        self.log.info(
            "%strained %d members (%s) in %s", worker_prefix(), len(group), label, duration(wall)
        )
        runs = {}
        for spec, rid, result in zip(group, ids, results):
            prov = run_provenance(
                str(result.device),
                start=start,
                end=end,
                ensemble_wall_time=wall,
                wall_time=float(result.wall_time),
                ensemble_size=int(result.ensemble_size),
            )
            runs[rid] = Run(spec, rid, result.status, result, prov, trained=True)
        # Encode (compress, hash) before taking the write lock that other workers wait on. A row
        # is written unless a result is already stored (a row taken over from us by mistake may
        # have finished first; both are valid, the first stays).
        rows = [
            rowfmt.trained_row(run.spec, run.result, run.provenance, self.owner)
            for run in runs.values()
        ]
        written = self._write(
            lambda con: [rowfmt.insert(con, row, unless_status=RESULTS) for row in rows]
        )
        for rid, n in zip(runs, written):
            if n == 0:
                self.log.warning(
                    "%srun %s was completed elsewhere meanwhile; kept that result",
                    worker_prefix(),
                    rid,
                )
        return runs

    def _set_status(self, ids: list[str], status: str, error: str | None = None) -> None:
        now = time.time()
        self._write(
            lambda con: con.executemany(
                "UPDATE runs SET status = ?, error = ?, heartbeat = ?, updated = ?"
                " WHERE run_id = ? AND owner = ?",
                [(status, error, now, now, rid, self.owner) for rid in ids],
            )
        )
