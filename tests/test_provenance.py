"""Provenance, one source for the run store and the report: the git commit (``+dirty`` when tracked
files have uncommitted changes, None outside git, never an error), the environment of a run."""

from __future__ import annotations

import os
import re
import subprocess
import time

import pytest

from grokclaims import __version__, provenance, report


def _git(repo, *args: str) -> str:
    out = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_git_commit_is_head_and_dirty_when_a_tracked_file_changed(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "commit", "-q", "-m", "first")
    head = _git(tmp_path, "rev-parse", "HEAD")
    assert re.fullmatch(r"[0-9a-f]{40}", head)
    assert provenance.git_commit(tmp_path) == head
    (tmp_path / "untracked.txt").write_text("new\n")  # untracked files do not count
    assert provenance.git_commit(tmp_path) == head
    (tmp_path / "a.txt").write_text("two\n")
    assert provenance.git_commit(tmp_path) == f"{head}+dirty"
    _git(tmp_path, "add", "a.txt")  # staged but not committed: still dirty
    assert provenance.git_commit(tmp_path) == f"{head}+dirty"
    _git(tmp_path, "commit", "-q", "-m", "second")
    assert provenance.git_commit(tmp_path) == _git(tmp_path, "rev-parse", "HEAD")


def test_git_commit_outside_git_is_none(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert provenance.git_commit(tmp_path) is None


def test_git_commit_takes_no_optional_locks(monkeypatch):
    calls = []

    def run(args, **kwargs):
        calls.append((args, kwargs.get("env", {}).get("GIT_OPTIONAL_LOCKS")))
        return subprocess.CompletedProcess(args, 0, stdout="abc\n" if "rev-parse" in args else "")

    monkeypatch.setattr(subprocess, "run", run)
    assert provenance.git_commit() == "abc"
    assert [lock for _, lock in calls] == ["0", "0"]


@pytest.mark.parametrize("error", [OSError("no git"), subprocess.TimeoutExpired("git", 5)])
def test_git_commit_without_git(monkeypatch, error):
    def run(args, **kwargs):
        raise error

    monkeypatch.setattr(subprocess, "run", run)
    assert provenance.git_commit() is None


def test_run_provenance_names_the_environment(monkeypatch):
    monkeypatch.setattr(provenance, "git_commit", lambda cwd=None: "abc+dirty")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    prov = provenance.run_provenance("cpu", start="s", wall_time=1.5)
    assert list(prov) == [
        "package_version",
        "science_version",
        "git_commit",
        "torch_version",
        "device",
        "device_name",
        "host",
        "pid",
        "worker",
        "start",
        "wall_time",
    ]
    assert prov["package_version"] == __version__ and prov["git_commit"] == "abc+dirty"
    assert prov["device"] == "cpu" and prov["device_name"] and prov["host"]
    assert (prov["pid"], prov["worker"], prov["start"]) == (os.getpid(), "gw1", "s")


def test_the_report_header_shows_a_dirty_commit(monkeypatch):
    """As a run's provenance does (test_registry.py): one git_commit for both."""
    monkeypatch.setattr(provenance, "git_commit", lambda cwd=None: "abc+dirty")
    now = time.time()
    meta = report.session_meta(
        scale="smoke", seeds=(0,), device=None, n_gpus=0, store="x", start=now, end=now
    )
    assert meta["git_commit"] == "abc+dirty"
    md = report.render([], {**meta, "runs": 0, "trained": 0, "reused": 0}, None)
    assert "| git commit | `abc+dirty` |" in md
