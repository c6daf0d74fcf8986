"""The fill driver's side of the run store: the protocol of :mod:`grokclaims.store.registry`,
one ensemble at a time, with training done elsewhere.

- Claim an ensemble's runs (:func:`grokclaims.store.claiming.claim`, in the registry's
  ``BEGIN IMMEDIATE`` transaction) just before it is submitted, so that a concurrent
  ``pytest claims`` session (or another fill) neither trains them too nor waits on runs that
  are only queued. Runs held by a live process are left to it; runs whose holder is dead are
  taken over (stale heartbeat, or at once when the holder was a process of this host that no
  longer exists: a killed fill driver).
- While the driver holds rows, the registry's heartbeat thread keeps them fresh.
- Each result is written as it arrives, with its provenance, unless a result is already stored
  (the registry's rule: the first result stays). A training error marks its runs ``failed``
  with the error; an interrupted driver deletes what it holds (they become simply absent).

Only the driver writes the store: workers return results (no shared filesystem needed, and
SQLite never on a network filesystem).
"""

from __future__ import annotations

import os
import socket
from typing import Any

from grokclaims.engine.trace import RunResult
from grokclaims.spec.run import RunSpec
from grokclaims.store import rows as rowfmt
from grokclaims.store.claiming import claim
from grokclaims.store.format import ACTIVE, RESULTS
from grokclaims.store.heartbeat import Heartbeat
from grokclaims.store.registry import Registry


class Ledger:
    """Claims, completions and failures of one fill driver, through ``registry``."""

    def __init__(self, registry: Registry):
        self.registry = registry
        self.heartbeat = Heartbeat(registry)
        # A run's state when the fill first saw it: a run that fails elsewhere *during* the
        # fill is reported, not retried in a loop (the registry's rule).
        self.first_seen: dict[str, Any] = {}
        self.driver: dict[str, Any] = {}  # the driver's provenance fields (driver.fill)

    def take_over_dead_holders(self) -> int:
        """Make runs held by dead processes of this host stale, so that :meth:`claim` takes
        them over now rather than after ``stale_after``. Returns how many."""
        here = socket.gethostname()
        rows = self.registry.con.execute(
            f"SELECT run_id, owner FROM runs WHERE status IN {ACTIVE!r}"
        ).fetchall()
        dead = [r["run_id"] for r in rows if _dead_here(r["owner"], here)]
        if dead:
            self.registry._write(
                lambda con: con.executemany(
                    "UPDATE runs SET heartbeat = 0 WHERE run_id = ?", [(i,) for i in dead]
                )
            )
        return len(dead)

    def claim(self, specs: tuple[RunSpec, ...]) -> tuple[list[str], list[str], dict[str, str]]:
        """Claim the free runs of one planned ensemble. Returns (mine, held by others, failed
        elsewhere during this fill)."""
        wanted = {s.run_id: s for s in specs}
        reg = self.registry
        stored = set(reg._read(list(wanted), wanted, mark=True))
        pending = [i for i in wanted if i not in stored]
        if not pending:
            return [], [], {}
        mine, others, failed = reg._write(
            lambda con: claim(
                con,
                pending,
                wanted,
                self.first_seen,
                owner=reg.owner,
                stale_after=reg.stale_after,
                max_members=len(pending),
                log=reg.log,
            )
        )
        if failed:  # claim() takes nothing when a run failed elsewhere: claim the rest again
            return self._claim_rest(specs, set(failed), others, failed)
        if mine:
            reg._set_status(mine, "running")
            self.heartbeat.start()
        return mine, others, failed

    def _claim_rest(self, specs, skip: set[str], others: list[str], failed: dict[str, str]):
        rest = tuple(s for s in specs if s.run_id not in skip)
        if not rest:
            return [], others, failed
        mine, others2, failed2 = self.claim(rest)
        return mine, others2, {**failed, **failed2}

    def stored(self, ids: list[str]) -> set[str]:
        """Which of ``ids`` have a usable result now (no trace decoded)."""
        rows = rowfmt.select(
            self.registry.con,
            f"SELECT run_id FROM runs WHERE run_id IN ({{ids}}) AND status IN {RESULTS!r}",
            ids,
        )
        return {r["run_id"] for r in rows}

    def complete(
        self,
        specs: tuple[RunSpec, ...],
        results: list[RunResult],
        provenance: list[dict[str, Any]],
    ) -> list[str]:
        """Store the results (encoded before the write lock is taken). Returns the ids whose
        result was already stored by another process (that result is kept)."""
        reg = self.registry
        rows = [
            rowfmt.trained_row(s, r, p, reg.owner) for s, r, p in zip(specs, results, provenance)
        ]
        written = reg._write(
            lambda con: [rowfmt.insert(con, row, unless_status=RESULTS) for row in rows]
        )
        return [s.run_id for s, n in zip(specs, written) if n == 0]

    def fail(self, ids: list[str], error: str) -> None:
        self.registry._set_status(ids, "failed", error=error[-4000:])

    def release(self) -> None:
        """Give up every run this driver holds (interrupted): they become simply absent."""
        self.registry._release()

    def stop(self) -> None:
        self.heartbeat.stop()


def _dead_here(owner: str | None, host: str) -> bool:
    """True for an owner ``host:pid:token`` of this host whose process does not exist."""
    parts = (owner or "").rsplit(":", 2)
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's live process
        return False
    return _zombie(pid)


def _zombie(pid: int) -> bool:
    """A killed child not yet reaped still has a pid; it holds nothing any more."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
