"""The store's file: where it is found (``--grok-store`` > ``$GROKCLAIMS_STORE`` > the project's
default), and stores that must be refused without being touched."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from grokclaims.store.format import DEFAULT_STORE, ENV_STORE, resolve_store
from grokclaims.store.registry import Registry, RegistryError


def test_resolve_store_cli_over_env_over_project_default(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_STORE, raising=False)
    assert resolve_store(None, tmp_path) == tmp_path / DEFAULT_STORE
    monkeypatch.setenv(ENV_STORE, str(tmp_path / "env.sqlite"))
    assert resolve_store(None, tmp_path) == tmp_path / "env.sqlite"
    assert resolve_store(tmp_path / "cli.sqlite", tmp_path) == tmp_path / "cli.sqlite"
    monkeypatch.chdir(tmp_path)
    assert resolve_store("rel/x.sqlite", "/elsewhere") == tmp_path / "rel" / "x.sqlite"


# -- bad stores ------------------------------------------------------------------------------------


def _snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in directory.iterdir()}


def _not_a_registry(path: Path) -> None:
    path.write_text("just some notes\n" * 20)


def _other_schema(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO runs (name) VALUES ('theirs')")
    con.commit()
    con.close()


def _newer_registry(path: Path) -> None:
    Registry(path).close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.close()


def _empty_file(path: Path) -> None:
    path.touch()


@pytest.mark.parametrize(
    "make, message",
    [
        (_not_a_registry, "not an SQLite database"),
        (_other_schema, "not a grokclaims run store"),
        (_newer_registry, "schema version 99"),
        (_empty_file, "not an SQLite database"),
    ],
)
def test_a_file_that_is_not_our_registry_is_refused_untouched(tmp_path, make, message):
    path = tmp_path / "runs.sqlite"
    make(path)
    before = _snapshot(tmp_path)
    with pytest.raises(RegistryError, match=message) as err:
        Registry(path)
    assert str(path) in str(err.value)
    assert _snapshot(tmp_path) == before


def test_a_parent_that_is_a_file_is_refused(tmp_path):
    blocker = tmp_path / "plain-file"
    blocker.write_text("x")
    before = _snapshot(tmp_path)
    with pytest.raises(RegistryError, match="is not a directory"):
        Registry(blocker / "sub" / "runs.sqlite")
    assert _snapshot(tmp_path) == before


def test_a_store_path_that_is_a_directory_is_refused(tmp_path):
    (tmp_path / "runs.sqlite").mkdir()
    with pytest.raises(RegistryError, match="not a regular file"):
        Registry(tmp_path / "runs.sqlite")


def test_an_unwritable_directory_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("this user writes to read-only directories (root); see the test above")
        with pytest.raises(RegistryError, match="not writable"):
            Registry(locked / "deeper" / "runs.sqlite")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_create_false_refuses_a_missing_store_and_creates_nothing(tmp_path):
    with pytest.raises(RegistryError, match="no run store"):
        Registry(tmp_path / "absent" / "runs.sqlite", create=False)
    assert list(tmp_path.iterdir()) == []
