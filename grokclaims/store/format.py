"""How the run registry lies on disk: one SQLite file, its schema, and the trace encoding.

A store is a single SQLite file (WAL mode) so that it can be copied between machines as one
object. It is recognised by its ``application_id`` and ``user_version`` header fields, which are
read as plain bytes *before* SQLite opens the file: a file that is not ours is reported and left
untouched (SQLite would otherwise switch it to WAL or add tables). A new store is built under a
temporary name and linked into place, so a reader never sees a half-made one and two processes
creating it at once agree on one file.

A :class:`~grokclaims.engine.train.RunResult` is stored as a ``np.savez_compressed`` archive (trace
arrays, extras, and a small JSON header of its scalars) in the row itself, with its SHA-256.
:func:`decode_result` checks that digest and raises :class:`CorruptTrace` rather than ever
returning damaged data.

Beside the result each row keeps the canonical spec (JSON, plus a few denormalised columns for
filters) and its provenance (:func:`provenance`): what is needed to reproduce the numbers.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import platform
import socket
import sqlite3
import subprocess
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from grokclaims import __version__
from grokclaims.engine.trace import TRACE_FIELDS, RunResult, Trace
from grokclaims.spec.run import RunSpec

APPLICATION_ID = 0x47524B43  # "GRKC": marks an SQLite file as a grokclaims registry
SCHEMA_VERSION = 1  # PRAGMA user_version; bumped when the tables below change
BLOB_FORMAT = 1  # the trace archive's own layout, in its JSON header
SQLITE_MAGIC = b"SQLite format 3\x00"

ACTIVE = ("claimed", "running")  # held by a live (or dead, once stale) process
RESULTS = ("completed", "diverged")  # a usable stored result
STATUSES = (*ACTIVE, *RESULTS, "failed", "corrupt")

SCHEMA = f"""
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,                -- canonical JSON, sorted keys
    family TEXT NOT NULL,              -- denormalised from spec, for filters
    p INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    science_version INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN {STATUSES!r}),
    owner TEXT,                        -- host:pid:token of the process that holds/held it
    generation INTEGER NOT NULL,       -- +1 at every claim: guards against stale writers
    heartbeat REAL,                    -- unix time, refreshed while claimed/running
    created REAL NOT NULL,
    updated REAL NOT NULL,
    error TEXT,
    epochs INTEGER,
    stopped INTEGER,
    final_train_acc REAL,
    final_val_acc REAL,
    provenance TEXT,                   -- JSON
    trace BLOB,
    checksum TEXT                      -- SHA-256 of trace
);
CREATE INDEX runs_status ON runs (status);
CREATE INDEX runs_family ON runs (family, p, seed);
"""
COLUMNS = (
    "run_id",
    "spec",
    "family",
    "p",
    "seed",
    "science_version",
    "status",
    "owner",
    "generation",
    "heartbeat",
    "created",
    "updated",
    "error",
    "epochs",
    "stopped",
    "final_train_acc",
    "final_val_acc",
    "provenance",
    "trace",
    "checksum",
)


class RegistryError(Exception):
    """A store that cannot be used, or runs that failed to train."""


class CorruptTrace(Exception):
    """A stored trace that is missing, fails its checksum, or cannot be decoded."""


def check_location(path: Path, *, create: bool) -> bool:
    """Raise :class:`RegistryError` unless ``path`` can hold a registry; touches nothing.

    Returns True when the store already exists (and is ours), False when it is to be created.
    """
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise RegistryError(f"run store {path} exists but is not a regular file")
        _check_header(path)
        # WAL mode writes -wal/-shm files beside the store, so even a read needs the directory.
        _check_writable(path.parent, path)
        if not os.access(path, os.R_OK | os.W_OK):
            raise RegistryError(f"run store {path} is not readable and writable by this user")
        return True
    if not create:
        raise RegistryError(f"no run store at {path}")
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    _check_writable(ancestor, path)
    return False


def _check_writable(directory: Path, path: Path) -> None:
    if not directory.is_dir():
        raise RegistryError(f"cannot use run store {path}: {directory} is not a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise RegistryError(f"cannot use run store {path}: directory {directory} is not writable")


def _check_header(path: Path) -> None:
    """The SQLite header (first 100 bytes) names the application and schema version."""
    try:
        with open(path, "rb") as f:
            head = f.read(100)
    except OSError as exc:
        raise RegistryError(f"run store {path} cannot be read: {exc.strerror}") from None
    if len(head) < 100 or not head.startswith(SQLITE_MAGIC):
        raise RegistryError(f"{path} is not a grokclaims run store (not an SQLite database)")
    app_id = int.from_bytes(head[68:72], "big")
    version = int.from_bytes(head[60:64], "big")
    if app_id != APPLICATION_ID:
        raise RegistryError(
            f"{path} is an SQLite database but not a grokclaims run store "
            f"(application_id {app_id:#x}, expected {APPLICATION_ID:#x}); choose another path"
        )
    if version != SCHEMA_VERSION:
        raise RegistryError(
            f"run store {path} has schema version {version}; this grokclaims reads "
            f"version {SCHEMA_VERSION}"
        )


def create_store(path: Path) -> None:
    """Build an empty store beside ``path`` and link it into place (atomic; first one wins)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.executescript(SCHEMA)
            con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            con.execute("PRAGMA journal_mode = WAL")  # persistent in the file header
        finally:
            con.close()  # the last connection checkpoints and removes the -wal/-shm files
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        except OSError:  # a filesystem without hard links
            if not path.exists():
                os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def connect(path: Path, *, timeout: float = 60.0) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit ``BEGIN IMMEDIATE``)."""
    con = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")  # durable across crashes of the process
    con.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    app_id = con.execute("PRAGMA application_id").fetchone()[0]
    version = con.execute("PRAGMA user_version").fetchone()[0]
    columns = tuple(r[1] for r in con.execute("PRAGMA table_info(runs)"))
    if app_id != APPLICATION_ID or version != SCHEMA_VERSION or columns != COLUMNS:
        con.close()
        raise RegistryError(f"run store {path} does not have the expected schema")
    return con


def encode_result(result: RunResult) -> tuple[bytes, str]:
    """The compressed archive of a result and its SHA-256 (hex)."""
    header = {
        "format": BLOB_FORMAT,
        "status": result.status,
        "epochs": int(result.epochs),
        "stopped": bool(result.stopped),
        "wall_time": float(result.wall_time),
        "ensemble_size": int(result.ensemble_size),
        "device": str(result.device),
        "extras": sorted(result.extras),
    }
    arrays = {f"trace.{k}": np.asarray(v) for k, v in result.trace.arrays().items()}
    arrays.update(
        {f"extra.{i}": np.asarray(result.extras[k]) for i, k in enumerate(header["extras"])}
    )
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    blob = buf.getvalue()
    return blob, hashlib.sha256(blob).hexdigest()


def decode_result(blob: bytes | None, checksum: str | None) -> RunResult:
    """The stored result, or :class:`CorruptTrace` saying what is wrong with it."""
    if blob is None or checksum is None:
        raise CorruptTrace("trace missing")
    if hashlib.sha256(blob).hexdigest() != checksum:
        raise CorruptTrace("trace checksum mismatch")
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            header = json.loads(z["header"].tobytes())
            if header.get("format") != BLOB_FORMAT:
                raise CorruptTrace(f"unknown trace format {header.get('format')!r}")
            trace = Trace(**{k: z[f"trace.{k}"] for k in TRACE_FIELDS})
            extras = {k: z[f"extra.{i}"] for i, k in enumerate(header["extras"])}
    except CorruptTrace:
        raise
    except Exception as exc:  # any decoding failure means the bytes cannot be trusted
        raise CorruptTrace(f"trace unreadable ({type(exc).__name__}: {exc})") from None
    return RunResult(
        status=header["status"],
        epochs=header["epochs"],
        stopped=header["stopped"],
        trace=trace,
        extras=extras,
        wall_time=header["wall_time"],
        ensemble_size=header["ensemble_size"],
        device=header["device"],
    )


def summary(result: RunResult) -> dict[str, float | int | None]:
    """Columns kept beside the blob so that listing and export need not decode traces."""

    def last(a: np.ndarray) -> float | None:
        return float(a[-1]) if len(a) and np.isfinite(a[-1]) else None

    return {
        "epochs": int(result.epochs),
        "stopped": int(bool(result.stopped)),
        "final_train_acc": last(result.trace.train_acc),
        "final_val_acc": last(result.trace.val_acc),
    }


def spec_columns(spec: RunSpec) -> dict[str, Any]:
    return {
        "spec": json.dumps(spec.canonical(), sort_keys=True),
        "family": spec.model.family,
        "p": spec.task.p,
        "seed": spec.seed,
        "science_version": science_version(),
    }


def result_columns(result: RunResult, provenance: dict[str, Any]) -> dict[str, Any]:
    blob, checksum = encode_result(result)
    return {
        "status": result.status,
        "error": None,
        **summary(result),
        "provenance": json.dumps(provenance),
        "trace": blob,
        "checksum": checksum,
    }


def where(**filters: Any) -> tuple[str, list]:
    """A ``WHERE`` clause (or "") and its arguments: equality per column, ``status`` may be a
    list, ``prefix`` matches the start of the run id; None means no filter."""
    clauses, args = [], []
    for name, value in filters.items():
        if value is None:
            continue
        if name == "status":
            values = [value] if isinstance(value, str) else list(value)
            clauses.append(f"status IN ({','.join('?' * len(values))})")
            args += values
        elif name == "prefix":
            clauses.append("substr(run_id, 1, ?) = ?")
            args += [len(value), value]
        else:
            clauses.append(f"{name} = ?")
            args.append(value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


LIST_COLUMNS = (
    "run_id, status, family, p, seed, science_version, epochs, stopped, final_train_acc,"
    " final_val_acc, error, owner, heartbeat, created, updated, spec, provenance"
)


def flatten_row(row: sqlite3.Row) -> dict[str, Any]:
    """A listing row: its columns, the spec as dotted keys (``task.p``), then provenance."""
    out = {k: row[k] for k in row.keys() if k not in ("spec", "provenance")}  # noqa: SIM118
    if out.get("stopped") is not None:
        out["stopped"] = bool(out["stopped"])
    for k in ("heartbeat", "created", "updated"):
        if out.get(k) is not None:
            out[k] = datetime.fromtimestamp(out[k], timezone.utc).isoformat(timespec="seconds")

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}{k}.", v)
        else:  # lists (betas) as JSON text, so that CSV and parquet columns stay scalar
            out.setdefault(prefix[:-1], json.dumps(value) if isinstance(value, list) else value)

    walk("", json.loads(row["spec"]))
    for k, v in json.loads(row["provenance"] or "{}").items():
        out.setdefault(k, v)
    return out


# -- provenance ----------------------------------------------------------------------------


def science_version() -> int:
    from grokclaims import SCIENCE_VERSION  # at call time, as RunSpec.run_id reads it

    return SCIENCE_VERSION


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def provenance(result: RunResult, **times: Any) -> dict[str, Any]:
    """Where, when and with what a result was computed (``times``: start, end, ...)."""
    import torch

    return {
        "package_version": __version__,
        "science_version": science_version(),
        "git_commit": git_commit(),
        "torch_version": torch.__version__,
        "device": str(result.device),
        "device_name": device_name(str(result.device)),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "worker": os.environ.get("PYTEST_XDIST_WORKER"),
        **times,
        "wall_time": float(result.wall_time),
        "ensemble_size": int(result.ensemble_size),
    }


@functools.cache
def git_commit() -> str | None:
    """HEAD of the checkout the package runs from; None outside git (never an error)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip() if out.returncode == 0 else ""
    return commit or None


@functools.cache
def device_name(device: str) -> str:
    if device.startswith("cuda"):
        try:
            import torch

            return torch.cuda.get_device_name(torch.device(device))
        except Exception:  # a name is provenance, never a reason to fail a run
            return device
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"
