"""A report's history: the verdict of each test of a report, the previous report of a scale, and
the verdicts that moved between two reports."""

from __future__ import annotations

import json
from pathlib import Path


def verdict_of(entry: dict) -> str:
    if entry.get("result") is not None:
        return entry["result"]["verdict"]
    return "planned" if entry.get("planned") else "error"


def previous_report(report_dir: Path, scale: str, exclude: Path | None = None) -> Path | None:
    candidates = sorted(
        p
        for p in report_dir.glob(f"*-{scale}")
        if p.is_dir() and (p / "results.json").exists() and p != exclude
    )
    return candidates[-1] if candidates else None


def verdicts(path: Path) -> dict[str, str]:
    data = json.loads((path / "results.json").read_text())
    return {e["test_id"]: verdict_of(e) for e in data["claims"]}


def changes(old: dict[str, str], new: dict[str, str]) -> list[tuple[str, str, str]]:
    """(test id, old verdict, new verdict) for every test whose verdict moved or appeared."""
    out = [(t, old.get(t, "absent"), v) for t, v in sorted(new.items()) if old.get(t) != v]
    out += [(t, v, "absent") for t, v in sorted(old.items()) if t not in new]
    return out
