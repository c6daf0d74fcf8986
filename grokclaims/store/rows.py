"""What a row of the run store holds, and how rows are written and queried.

A :class:`~grokclaims.engine.trace.RunResult` is stored as a ``np.savez_compressed`` archive (trace
arrays, extras, and a small JSON header of its scalars) in the row itself, with a checksum.
:func:`decode_row` checks it, and the spec and provenance, and raises :class:`CorruptTrace`
rather than ever returning damaged or mismatched data.

The checksum (:func:`row_checksum`, ``"v2:"`` + SHA-256) covers the run id, the canonical spec
text and the archive, so a trace moved to another row (two rows' traces swapped) fails it too.
Rows written before it carry the plain SHA-256 of the archive (no prefix): those are still read
and checked that way (no schema change, no migration: a warm store stays warm), and their spec
is checked against their run id instead.

Beside the result each row keeps the canonical spec (JSON, plus a few denormalised columns for
filters) and its provenance (:mod:`grokclaims.provenance`): what is needed to reproduce the
numbers.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import numpy as np

from grokclaims.engine.trace import TRACE_FIELDS, RunResult, Trace
from grokclaims.provenance import science_version
from grokclaims.spec.run import RunSpec

BLOB_FORMAT = 1  # the trace archive's own layout, in its JSON header
SQL_CHUNK = 500  # run ids per IN (...) clause, well below SQLite's variable limit


class CorruptTrace(Exception):
    """A stored trace that is missing, fails its checksum, or cannot be decoded."""


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


CHECKSUM_V2 = "v2:"


def row_checksum(run_id: str, spec_text: str, blob: bytes) -> str:
    """The checksum of a row: its run id, its spec (as stored) and its trace archive."""
    h = hashlib.sha256()
    for part in (run_id.encode(), spec_text.encode(), blob):
        h.update(len(part).to_bytes(8, "big"))  # lengths: no two splits hash alike
        h.update(part)
    return CHECKSUM_V2 + h.hexdigest()


def decode_result(
    blob: bytes | None,
    checksum: str | None,
    run_id: str | None = None,
    spec_text: str | None = None,
) -> RunResult:
    """The stored result, or :class:`CorruptTrace` saying what is wrong with it. A ``v2``
    checksum needs the row's ``run_id`` and ``spec_text``; a legacy one covers the blob only."""
    if blob is None or checksum is None:
        raise CorruptTrace("trace missing")
    if checksum.startswith(CHECKSUM_V2):
        if run_id is None or spec_text is None or row_checksum(run_id, spec_text, blob) != checksum:
            raise CorruptTrace("checksum mismatch (trace, spec or run id)")
    elif hashlib.sha256(blob).hexdigest() != checksum:
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


def decode_row(row: Any, wanted: RunSpec | None) -> tuple[RunSpec, RunResult, dict[str, Any]]:
    """(spec, result, provenance) of a stored row (``run_id, spec, provenance, trace,
    checksum``), or :class:`CorruptTrace`: an unreadable spec or provenance, or a spec that is
    not the run's (``wanted``, else its run id), is damage like a bad trace."""
    rid, spec_text = row["run_id"], row["spec"]
    result = decode_result(row["trace"], row["checksum"], rid, spec_text)
    try:
        if wanted is not None:
            if spec_text != spec_text_of(wanted):
                raise CorruptTrace("stored spec differs from the run's spec")
            spec = wanted
        else:
            spec = RunSpec.from_canonical(json.loads(spec_text))
            if spec.run_id != rid and row["science_version"] == science_version():
                raise CorruptTrace(f"stored spec is that of run {spec.run_id}")
        provenance = json.loads(row["provenance"]) if row["provenance"] else {}
        if not isinstance(provenance, dict):
            raise ValueError("provenance is not a JSON object")
    except CorruptTrace:
        raise
    except Exception as exc:  # JSON, a missing key, an invalid spec: the row cannot be trusted
        raise CorruptTrace(f"spec or provenance unreadable ({type(exc).__name__}: {exc})") from None
    return spec, result, provenance


def spec_text_of(spec: RunSpec) -> str:
    return json.dumps(spec.canonical(), sort_keys=True)


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
        "spec": spec_text_of(spec),
        "family": spec.model.family,
        "p": spec.task.p,
        "seed": spec.seed,
        "science_version": science_version(),
    }


def result_columns(spec: RunSpec, result: RunResult, provenance: dict[str, Any]) -> dict[str, Any]:
    blob, _ = encode_result(result)
    return {
        "status": result.status,
        "error": None,
        **summary(result),
        "provenance": json.dumps(provenance),
        "trace": blob,
        "checksum": row_checksum(spec.run_id, spec_text_of(spec), blob),
    }


def trained_row(
    spec: RunSpec, result: RunResult, provenance: dict[str, Any], owner: str
) -> dict[str, Any]:
    """The row of a run that ``owner`` trained: spec, result and provenance."""
    now = time.time()
    return {
        "run_id": spec.run_id,
        **spec_columns(spec),
        "owner": owner,
        "generation": 1,
        "heartbeat": now,
        "created": now,
        "updated": now,
        **result_columns(spec, result, provenance),
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


def select(con: sqlite3.Connection, sql: str, ids: Sequence[str]) -> list:
    """``sql`` with ``{ids}`` standing for a placeholder list, over ``ids`` in chunks."""
    rows = []
    for i in range(0, len(ids), SQL_CHUNK):
        chunk = list(ids[i : i + SQL_CHUNK])
        marks = ",".join("?" * len(chunk))
        rows += con.execute(sql.format(ids=marks), chunk).fetchall()
    return rows


def insert(con, values: dict[str, Any], unless_status: tuple[str, ...] | None = None) -> int:
    """Insert a row; with ``unless_status``, overwrite an existing row unless its status is one
    of those (its creation time and generation are kept). Returns the rows written."""
    cols, marks = ", ".join(values), ", ".join("?" * len(values))
    sql = f"INSERT INTO runs ({cols}) VALUES ({marks})"
    if unless_status is not None:
        keep = ("run_id", "created", "generation")
        sets = ", ".join(f"{c} = excluded.{c}" for c in values if c not in keep)
        sql += f" ON CONFLICT (run_id) DO UPDATE SET {sets} WHERE status NOT IN {unless_status!r}"
    return con.execute(sql, list(values.values())).rowcount


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

    for column in ("spec", "provenance"):
        try:
            value = json.loads(row[column] or "{}")
        except ValueError:  # a damaged row is listed (and flagged), never a traceback
            out[f"{column}_error"] = "unreadable JSON"
            continue
        if column == "spec":
            walk("", value)
        elif isinstance(value, dict):
            for k, v in value.items():
                out.setdefault(k, v)
    return out
