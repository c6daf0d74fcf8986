"""The command line: look after the run registry (``grokclaims runs ...``).

::

    grokclaims runs [--store PATH] list [--status S] [--family F] [--p P] [--seed N] [--limit N]
    grokclaims runs show RUN_ID             # a unique prefix is enough
    grokclaims runs export OUT.csv|OUT.parquet [the list filters]
    grokclaims runs delete (--failed | --stale [--stale-after S] | --id RUN_ID [--id ...])
    grokclaims fill --scale NAME [PATHS] [-k EXPR] [--executor local|ray] ...  (grokclaims.fill)

``python -m grokclaims runs ...`` is the same. The store is found as pytest finds it:
``--store`` > ``$GROKCLAIMS_STORE`` > ``.grokclaims/runs.sqlite`` at the git top level of the
current directory (or the current directory outside git). Exit status: 0 done, 1 a stored run is
unusable (``show`` of a corrupt trace), 2 bad input (unknown run, bad store, bad file type).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from grokclaims.arguments import positive, stale_after
from grokclaims.store.format import ACTIVE, HEARTBEAT_SECONDS, MIN_STALE_AFTER, STATUSES

LIST_COLUMNS = (
    "run_id",
    "status",
    "family",
    "p",
    "seed",
    "epochs",
    "final_train_acc",
    "final_val_acc",
    "device",
    "end",
)
EXPORT_SUFFIXES = (".csv", ".parquet")


class UsageError(Exception):
    """Bad input on the command line (exit status 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or an argparse usage error (2)
        return exc.code if isinstance(exc.code, int) else 2
    if getattr(args, "action", None) is None:  # no command, or `runs` without an action
        getattr(args, "help_parser", parser).print_help(sys.stderr)
        return 2
    log = logging.getLogger("grokclaims")
    if not log.handlers:  # warnings (a corrupt trace) reach the terminal
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("grokclaims: %(message)s"))
        log.addHandler(handler)
    from grokclaims.store.registry import (
        RegistryError,  # torch loads only once the arguments are good
    )

    try:
        return args.action(args)
    except (UsageError, RegistryError) as exc:
        print(f"grokclaims: error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grokclaims", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    from grokclaims.fill.command import add_parser as add_fill_parser

    add_fill_parser(commands)  # `grokclaims fill`: its options and action live in grokclaims.fill
    runs = commands.add_parser("runs", help="list, show, export or delete stored runs")
    runs.add_argument(
        "--store",
        metavar="PATH",
        help="registry file (default: $GROKCLAIMS_STORE, else "
        ".grokclaims/runs.sqlite at the git top level)",
    )
    runs.set_defaults(help_parser=runs)
    actions = runs.add_subparsers(title="actions", metavar="ACTION")
    # --store is accepted after the action too; SUPPRESS keeps it from overwriting the above.
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument("--store", metavar="PATH", default=argparse.SUPPRESS)
    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--status", choices=STATUSES)
    filters.add_argument("--family", help="model family, e.g. song_ye, chopra_mlp, tutorial")
    filters.add_argument("--p", type=int, help="the task's prime")
    filters.add_argument("--seed", type=int)
    filters.add_argument("--limit", type=positive, metavar="N", help="at most N rows")

    a = actions.add_parser("list", parents=[store, filters], help="one line per run")
    a.set_defaults(action=_list)
    a = actions.add_parser("show", parents=[store], help="spec, provenance and trace of a run")
    a.add_argument("run_id", metavar="RUN_ID")
    a.set_defaults(action=_show)
    a = actions.add_parser("export", parents=[store, filters], help="rows to CSV or parquet")
    a.add_argument("out", metavar="OUT", type=Path, help="OUT.csv or OUT.parquet")
    a.set_defaults(action=_export)
    a = actions.add_parser("delete", parents=[store], help="delete failed, stale or given runs")
    which = a.add_mutually_exclusive_group(required=True)
    which.add_argument("--failed", action="store_true", help="runs whose training failed")
    which.add_argument("--stale", action="store_true", help="claimed/running, heartbeat stale")
    which.add_argument("--id", dest="ids", action="append", metavar="RUN_ID", help="this run")
    a.add_argument(
        "--stale-after",
        type=stale_after,
        default=120.0,
        metavar="SECONDS",
        help="heartbeat age that makes a held run stale (default 120, at least "
        f"{MIN_STALE_AFTER:.0f}: live processes refresh it every {HEARTBEAT_SECONDS:.0f} s)",
    )
    a.set_defaults(action=_delete)
    return parser


def _registry(args: argparse.Namespace, **kw):
    from grokclaims.store.format import resolve_store
    from grokclaims.store.registry import Registry

    return Registry(resolve_store(args.store, _project_root()), create=False, **kw)


def _project_root() -> Path:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return Path.cwd()
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else Path.cwd()


def _rows(args: argparse.Namespace) -> list[dict]:
    with _registry(args) as reg:
        return reg.runs(
            status=args.status, family=args.family, p=args.p, seed=args.seed, limit=args.limit
        )


def _list(args: argparse.Namespace) -> int:
    import pandas as pd

    rows = _rows(args)
    if not rows:
        print("no runs match")
        return 0
    table = pd.DataFrame(rows).reindex(columns=list(LIST_COLUMNS))
    print(table.to_string(index=False, na_rep="-", float_format=lambda x: f"{x:.3f}"))
    return 0


def _show(args: argparse.Namespace) -> int:
    with _registry(args) as reg:
        rows = reg.runs(prefix=args.run_id)
        if not rows:
            raise UsageError(f"no run {args.run_id!r} in {reg.path}")
        if len(rows) > 1:
            raise UsageError(f"{args.run_id!r} matches {len(rows)} runs; give more of the id")
        row = rows[0]
        run = reg.get(row["run_id"]) if row["status"] not in (*ACTIVE, "failed") else None
        stored = reg.con.execute(
            "SELECT spec, provenance FROM runs WHERE run_id = ?", (row["run_id"],)
        ).fetchone()
    print(f"run {row['run_id']}: {row['status']} (science version {row['science_version']})")
    damaged = False
    for name in ("spec", "provenance"):
        if not stored[name]:
            continue
        try:
            fields = json.loads(stored[name])
            items = fields.items()
        except (ValueError, AttributeError):  # a damaged row: said, not a traceback
            print(f"{name}: unreadable (damaged row; the next get_or_train trains it again)")
            damaged = True
            continue
        print(f"{name}:")
        for k, v in items:
            print(f"  {k}: {json.dumps(v, sort_keys=True) if name == 'spec' else v}")
    if row["status"] in ACTIVE:
        print(f"held by {row['owner']}, heartbeat {row['heartbeat']}")
    if row["error"]:
        print("error:")
        print(_indent(row["error"].rstrip()))
    if row["status"] in ("completed", "diverged", "corrupt"):
        if run is None or damaged:
            print("trace: corrupt or missing; the next get_or_train trains this run again")
            return 1
        print(_trace_summary(run.result))
    return 0


def _trace_summary(result) -> str:
    t = result.trace

    def last(a) -> str:
        return f"{a[-1]:.4f}" if len(a) else "-"

    how = "stop rule met" if result.stopped else "budget or divergence"
    return (
        f"trace: {result.epochs} epochs ({how}), {len(t.eval_epoch)} evaluations; final "
        f"train acc {last(t.train_acc)}, val acc {last(t.val_acc)}, batch acc "
        f"{last(t.batch_acc)}; trained on {result.device} in {result.wall_time:.1f} s "
        f"(ensemble of {result.ensemble_size})"
    )


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _export(args: argparse.Namespace) -> int:
    import pandas as pd

    out: Path = args.out
    if out.suffix.lower() not in EXPORT_SUFFIXES:
        raise UsageError(f"export writes {' or '.join(EXPORT_SUFFIXES)} files, not {out.name!r}")
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: {out.parent} is not a directory")
    if out.suffix.lower() == ".parquet" and not _has_parquet_engine():
        raise UsageError("writing parquet needs pyarrow (pip install pyarrow); or export .csv")
    table = pd.DataFrame(_rows(args))
    try:
        if out.suffix.lower() == ".csv":
            table.to_csv(out, index=False)
        else:
            table.to_parquet(out, index=False)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"exported {len(table)} runs to {out}")
    return 0


def _has_parquet_engine() -> bool:
    import importlib.util

    return any(importlib.util.find_spec(m) is not None for m in ("pyarrow", "fastparquet"))


def _delete(args: argparse.Namespace) -> int:
    with _registry(args, stale_after=args.stale_after) as reg:
        if args.ids:
            known = {r["run_id"] for r in reg.runs()}
            unknown = [i for i in args.ids if i not in known]
            if unknown:
                raise UsageError(f"no run {', '.join(unknown)} in {reg.path}; nothing deleted")
            n = reg.delete(run_ids=args.ids)
        elif args.failed:
            n = reg.delete(status="failed")
        else:
            n = reg.delete(stale=True)
    print(f"deleted {n} run{'s' if n != 1 else ''}")
    return 0
