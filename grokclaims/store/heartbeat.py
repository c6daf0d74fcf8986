"""The heartbeat of the runs a registry holds: refreshed from a thread with its own connection.

A thread rather than the trainer's progress callback: the callback fires only at evaluation
epochs, not while a long first epoch runs or while later groups are queued. If the store cannot
be reached the rows go stale, and another process takes them over.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

from grokclaims.store import format as fmt
from grokclaims.store.format import ACTIVE, RegistryError
from grokclaims.store.progress import worker_prefix


class Heartbeat:
    """Refreshes the held rows of ``registry`` (a :class:`~grokclaims.store.registry.Registry`:
    its ``path``, ``owner``, ``heartbeat_every`` and ``log``, read as the thread runs)."""

    def __init__(self, registry: Any):
        self.registry = registry
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._beat, name="grokclaims-heartbeat", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()

    def _beat(self) -> None:
        reg = self.registry
        try:
            con = fmt.connect(reg.path)
        except (sqlite3.Error, RegistryError) as exc:  # our rows go stale and are taken over
            reg.log.warning("%sheartbeat cannot open the store: %s", worker_prefix(), exc)
            return
        try:
            while not self._stop.wait(reg.heartbeat_every):
                try:
                    con.execute(
                        f"UPDATE runs SET heartbeat = ? WHERE owner = ? AND status IN {ACTIVE!r}",
                        (time.time(), reg.owner),
                    )
                except sqlite3.Error as exc:  # a busy store: try again next beat
                    reg.log.warning("%sheartbeat failed: %s", worker_prefix(), exc)
        finally:
            con.close()
