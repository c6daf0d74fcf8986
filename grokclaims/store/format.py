"""Where the run store lies and how: one SQLite file, its schema, its statuses.

A store is a single SQLite file (WAL mode) so that it can be copied between machines as one
object. It is recognised by its ``application_id`` and ``user_version`` header fields, which are
read as plain bytes *before* SQLite opens the file: a file that is not ours is reported and left
untouched (SQLite would otherwise switch it to WAL or add tables). A new store is built under a
temporary name and linked into place, so a reader never sees a half-made one and two processes
creating it at once agree on one file. What a row holds: :mod:`grokclaims.store.rows`.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path

APPLICATION_ID = 0x47524B43  # "GRKC": marks an SQLite file as a grokclaims registry
SCHEMA_VERSION = 1  # PRAGMA user_version; bumped when the tables below change
SQLITE_MAGIC = b"SQLite format 3\x00"
DEFAULT_STORE = Path(".grokclaims") / "runs.sqlite"
ENV_STORE = "GROKCLAIMS_STORE"

HEARTBEAT_SECONDS = 5.0  # how often a process refreshes the heartbeat of the rows it holds
# The least heartbeat age that may call a held row abandoned from the command line: six missed
# beats, so that a process that is merely slow (a busy store, a paused machine) is not deleted.
MIN_STALE_AFTER = 30.0

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


def resolve_store(cli_path: str | os.PathLike | None, root: str | os.PathLike) -> Path:
    """The store to use: ``--grok-store`` > ``$GROKCLAIMS_STORE`` > ``root/.grokclaims/...``.

    A path given by the user is taken relative to the current directory, as typed; the default
    is anchored at the project root, never at wherever pytest happens to start.
    """
    if cli_path is not None and str(cli_path) != "":
        return Path(cli_path).expanduser().absolute()
    env = os.environ.get(ENV_STORE, "")
    if env:
        return Path(env).expanduser().absolute()
    return (Path(root) / DEFAULT_STORE).absolute()


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


def connect(path: Path, *, timeout: float = 60.0, check: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit ``BEGIN IMMEDIATE``).

    ``check``: also ``PRAGMA quick_check`` (every page's structure, not the contents of rows), so
    that a file truncated or damaged past its header is one clear error when the store is
    opened, not an error in the middle of each claim. Any SQLite error is a
    :class:`RegistryError`.
    """
    try:
        con = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise RegistryError(f"run store {path} cannot be opened: {exc}") from None
    try:
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = NORMAL")  # durable across crashes of the process
        con.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        columns = tuple(r[1] for r in con.execute("PRAGMA table_info(runs)"))
        if app_id != APPLICATION_ID or version != SCHEMA_VERSION or columns != COLUMNS:
            raise RegistryError(f"run store {path} does not have the expected schema")
        if check:
            problems = [r[0] for r in con.execute("PRAGMA quick_check(5)")]
            if problems != ["ok"]:
                raise RegistryError(
                    f"run store {path} is damaged (SQLite quick_check: "
                    f"{problems[0].splitlines()[0]}); "
                    "restore it from a copy, or move it away to start an empty one"
                )
    except sqlite3.Error as exc:
        con.close()
        raise RegistryError(f"run store {path} is damaged or unreadable: {exc}") from None
    except RegistryError:
        con.close()
        raise
    return con


def verify_store(path: Path) -> None:
    """Make sure a store at ``path`` can be used: created if missing, otherwise its header,
    schema and pages checked (:class:`RegistryError` with the one reason otherwise)."""
    if not check_location(path, create=True):
        try:
            create_store(path)
        except (OSError, sqlite3.Error) as exc:
            raise RegistryError(f"cannot create run store {path}: {exc}") from None
    connect(path, check=True).close()
