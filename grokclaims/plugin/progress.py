"""The session's progress line, from the controller through pytest's terminal reporter::

    [grokclaims] session: runs 12 done, 3 training, 40 waiting (55 asked for so far);
    claims 5/43 done; about 12 min left

(one line on the terminal).

Workers (or the only process) say which runs each claim asks for by writing a small JSON file
into the session's progress directory (:func:`note_runs`; the number of claim tests collected:
:func:`note_collected`); the controller's thread reads those and the store's statuses and
prints at most one line every ``PROGRESS_SECONDS`` (30 s; ``$GROKCLAIMS_PROGRESS_SECONDS``
shortens it, for tests). Runs of claims that have not started yet are not counted: the plan
mode (``--grok-plan``) is what counts every run ahead of time.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from grokclaims.store.format import ACTIVE, RESULTS

PROGRESS_SECONDS = 30.0


def _write_json(directory: str, name: str, data: dict) -> None:
    """Atomically (the controller may read at any time); never a reason to fail a claim."""
    try:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / f".{name}.{uuid.uuid4().hex[:8]}"
        tmp.write_text(json.dumps(data))
        os.replace(tmp, d / name)
    except OSError:
        pass


def note_collected(directory: str, claims: Sequence[str]) -> None:
    """A worker's collected claim tests (their node ids): the progress line counts them, the
    fill-first stage (:mod:`grokclaims.plugin.fill_first`) fills their runs."""
    _write_json(
        directory, f"collected-{os.getpid()}.json", {"claims": len(claims), "ids": list(claims)}
    )


def collected_claims(directory: str) -> set[str]:
    """The node ids of the claim tests the workers noted as collected so far."""
    out: set[str] = set()
    for f in Path(directory).glob("collected-*.json"):
        try:
            out.update(json.loads(f.read_text()).get("ids", []))
        except (OSError, ValueError):
            continue
    return out


def note_runs(directory: str | None, test_id: str, run_ids: Sequence[str]) -> None:
    if directory:
        name = f"runs-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        _write_json(directory, name, {"claim": test_id, "runs": list(dict.fromkeys(run_ids))})


def read_notes(directory: str) -> tuple[int | None, list[str]]:
    """(claim tests collected, or None; every run id asked for so far)."""
    d = Path(directory)
    collected, runs = None, {}
    if not d.is_dir():
        return None, []
    for f in d.glob("*.json"):
        try:
            data = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        if f.name.startswith("collected-"):
            collected = max(collected or 0, int(data.get("claims", 0)))
        else:
            runs.update(dict.fromkeys(data.get("runs", [])))
    return collected, list(runs)


def run_statuses(store: str, run_ids: Sequence[str]) -> dict[str, str]:
    """run id -> status, read-only (a store that cannot be read: {})."""
    if not run_ids or not Path(store).exists():
        return {}
    out = {}
    try:
        con = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
        try:
            ids = list(run_ids)
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT run_id, status FROM runs WHERE run_id IN ({marks})"
                out.update(dict(con.execute(sql, chunk).fetchall()))
        finally:
            con.close()
    except sqlite3.Error:
        return {}
    return out


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def progress_line(
    statuses: dict[str, str],
    asked: int,
    claims_done: int,
    claims_total: int | None,
    elapsed: float,
) -> str:
    """The line: runs done / training / waiting (of those asked for so far), claims done /
    total, and the time left, extrapolated from the claims done so far."""
    done = sum(s in RESULTS for s in statuses.values())
    training = sum(s in ACTIVE for s in statuses.values())
    waiting = asked - done - training
    total = "?" if claims_total is None else str(claims_total)
    if claims_total and 0 < claims_done < claims_total:
        left = f"about {_duration(elapsed * (claims_total - claims_done) / claims_done)} left"
    elif claims_total and claims_done >= claims_total:
        left = "finishing"
    else:
        left = "time left unknown until a claim is done"
    return (
        f"[grokclaims] session: runs {done} done, {training} training, {waiting} waiting "
        f"({asked} asked for so far); claims {claims_done}/{total} done; {left}"
    )


class SessionProgress:
    """The controller's thread that prints the progress line every ``every`` seconds."""

    def __init__(self, settings: dict, state: dict, write: Callable[[str], None]):
        self.settings = settings
        self.state = state
        self.write = write
        env = os.environ.get("GROKCLAIMS_PROGRESS_SECONDS")
        self.every = float(env) if env else PROGRESS_SECONDS
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="grokclaims-progress", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def line(self) -> str:
        collected, asked = read_notes(self.settings["progress_dir"])
        total = self.state.get("claims_total") or collected
        return progress_line(
            run_statuses(self.settings["store"], asked),
            len(asked),
            len(self.state["results"]),
            total,
            time.time() - self.state["start"],
        )

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            with contextlib.suppress(Exception):  # never a reason to disturb the session
                self.write(self.line())
