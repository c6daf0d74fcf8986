"""``python -m grokclaims.report diff OLD NEW``: the verdicts that moved between two reports
(exit 1 when one did, 2 when a path is not a report; the nightly job uses it)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grokclaims.report.history import changes, verdicts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m grokclaims.report")
    sub = ap.add_subparsers(dest="cmd", required=True)
    diff = sub.add_parser(
        "diff", help="list verdicts that moved between two reports; exit 1 if any did"
    )
    diff.add_argument("old", type=Path)
    diff.add_argument("new", type=Path)
    args = ap.parse_args(argv)
    for path in (args.old, args.new):
        if not (path / "results.json").exists():
            print(f"{path}: not a grokclaims report (no results.json)", file=sys.stderr)
            return 2
    moved = changes(verdicts(args.old), verdicts(args.new))
    for test, a, b in moved:
        print(f"{test}: {a} -> {b}")
    if not moved:
        print("no verdict moved")
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
