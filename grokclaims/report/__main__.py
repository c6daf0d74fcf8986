"""``python -m grokclaims.report diff OLD NEW``: the verdicts that moved between two reports
(exit 1 when one did, 2 when a path is not a report; the nightly job uses it). Only the tests
present in both reports are compared; the others are listed, and do not count as moved."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grokclaims.report.history import absent, changes, is_partial, verdicts


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
    old, new = verdicts(args.old), verdicts(args.new)
    moved = changes(old, new)
    for test, a, b in moved:
        print(f"{test}: {a} -> {b}")
    if not moved:
        print(f"no verdict moved among the {len(set(old) & set(new))} tests of both reports")
    only_old, only_new = absent(old, new)
    for path, tests in ((args.old, only_old), (args.new, only_new)):
        if tests:
            print(f"only in {path} (not compared): {', '.join(tests)}")
    for path in (args.old, args.new):
        if is_partial(path):
            print(f"note: {path} is a partial report")
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
