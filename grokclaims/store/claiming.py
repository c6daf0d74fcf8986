"""Claiming runs: which pending runs are free, held by others or failed, and which this
process takes.

Called inside the registry's ``BEGIN IMMEDIATE`` transaction, so a run is claimed by exactly one
process; every claim bumps the row's ``generation``. A process claims one ensemble (runs sharing
an ``ensemble_key``, at most ``max_members``) at a time, so that processes wanting the same runs
share the ensembles out between them. A claimed/running row whose heartbeat is older than
``stale_after`` belongs to a dead process and is taken over here.
"""

from __future__ import annotations

import logging
import sqlite3
import time

from grokclaims.spec.run import RunSpec, ensemble_key
from grokclaims.store import rows as rowfmt
from grokclaims.store.format import ACTIVE, RESULTS
from grokclaims.store.progress import worker_prefix


def claim(
    con: sqlite3.Connection,
    pending: list[str],
    wanted: dict[str, RunSpec],
    first_seen: dict,
    *,
    owner: str,
    stale_after: float,
    max_members: int,
    log: logging.Logger,
) -> tuple[list[str], list[str], dict[str, str]]:
    """Inside the transaction: classify the pending runs and claim one ensemble's worth of
    the free ones (so that other processes can take the next ensemble meanwhile).
    Returns (mine, others, failed)."""
    rows = {
        r["run_id"]: r
        for r in rowfmt.select(
            con,
            "SELECT run_id, status, owner, generation, heartbeat, error FROM runs"
            " WHERE run_id IN ({ids})",
            pending,
        )
    }
    now = time.time()
    free, others, failed = [], [], {}
    for rid in pending:
        row = rows.get(rid)
        state = None if row is None else (row["status"], row["generation"])
        first_seen.setdefault(rid, state)
        if row is None:
            free.append(rid)
        elif row["status"] in RESULTS:
            continue  # finished since we read: the next round reads it
        elif row["status"] == "failed" and state != first_seen[rid]:
            # Failed in another process during this call: report it, don't retry in a loop.
            failed[rid] = row["error"] or "no error recorded"
        elif (
            row["status"] in ACTIVE
            and row["owner"] != owner
            and now - (row["heartbeat"] or 0.0) <= stale_after
        ):
            others.append(rid)
        else:  # failed before this call, corrupt, stale, or our own leftover
            free.append(rid)
    if failed or not free:
        return [], others, failed
    key = ensemble_key(wanted[free[0]])
    mine = [rid for rid in free if ensemble_key(wanted[rid]) == key][:max_members]
    for rid in mine:
        row = rows.get(rid)
        if row is None:
            values = {
                "run_id": rid,
                **rowfmt.spec_columns(wanted[rid]),
                "status": "claimed",
                "owner": owner,
                "generation": 1,
                "heartbeat": now,
                "created": now,
                "updated": now,
            }
            rowfmt.insert(con, values)
            continue
        if row["status"] in ACTIVE and row["owner"] != owner:
            log.warning(
                "%srun %s: taking over from %s (heartbeat %.0f s old)",
                worker_prefix(),
                rid,
                row["owner"],
                now - (row["heartbeat"] or 0.0),
            )
        con.execute(
            "UPDATE runs SET status = 'claimed', owner = ?, generation = generation + 1,"
            " heartbeat = ?, updated = ?, error = NULL WHERE run_id = ?",
            (owner, now, now, rid),
        )
    return mine, others, failed
