"""A report's history: the verdict of each test of a report, the previous report of a scale, and
the verdicts that moved between two reports.

A *partial* report (a session run with ``-k``, ``-m``, ``--lf``, node ids or some of the claim
files, or one stopped early; ``meta.partial`` lists why) is never a baseline: the previous
report is the newest complete one. Two reports are compared on the tests both have; a test in
only one of them is listed apart (:func:`absent`), never counted as a moved verdict."""

from __future__ import annotations

import json
from pathlib import Path


def verdict_of(entry: dict) -> str:
    if entry.get("result") is not None:
        return entry["result"]["verdict"]
    return "planned" if entry.get("planned") else "error"


def is_partial(path: Path) -> bool:
    """Whether the report at ``path`` covers only part of its session's claims."""
    try:
        meta = json.loads((path / "results.json").read_text()).get("meta", {})
    except (OSError, ValueError):
        return True  # unreadable: no baseline either
    return bool(meta.get("partial"))


def previous_report(report_dir: Path, scale: str, exclude: Path | None = None) -> Path | None:
    """The newest complete report of ``scale`` in ``report_dir`` (partial ones are skipped)."""
    candidates = sorted(
        p
        for p in report_dir.glob(f"*-{scale}")
        if p.is_dir() and not p.is_symlink() and (p / "results.json").exists() and p != exclude
    )
    for p in reversed(candidates):
        if not is_partial(p):
            return p
    return None


def verdicts(path: Path) -> dict[str, str]:
    data = json.loads((path / "results.json").read_text())
    return {e["test_id"]: verdict_of(e) for e in data["claims"]}


def changes(old: dict[str, str], new: dict[str, str]) -> list[tuple[str, str, str]]:
    """(test id, old verdict, new verdict) for every test of both whose verdict moved."""
    return [(t, old[t], v) for t, v in sorted(new.items()) if t in old and old[t] != v]


def absent(old: dict[str, str], new: dict[str, str]) -> tuple[list[str], list[str]]:
    """(tests only in the old report, tests only in the new one): not compared."""
    return sorted(set(old) - set(new)), sorted(set(new) - set(old))
