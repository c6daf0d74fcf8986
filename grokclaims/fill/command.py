"""``grokclaims fill``: train every run the selected claims need, as cross-claim ensembles, on
this machine or a Ray cluster; then ``pytest claims --grok-scale NAME`` trains nothing.

::

    grokclaims fill --scale nightly                                  # this machine
    grokclaims fill --scale paper --executor ray --ray-address auto  # a running Ray cluster
    grokclaims fill --scale smoke claims/test_song_ye.py -k SY6      # some claims only

Exit status: 0 every run stored, 1 some runs failed (or a claim could not be planned), 2 bad
input, 130 interrupted. Nothing heavy is imported until the arguments are good.
"""

from __future__ import annotations

import argparse
import logging
import sys

from grokclaims.arguments import positive, stale_after
from grokclaims.store.format import MIN_STALE_AFTER

DEFAULT_MEMBERS = {"cpu": 64, "cuda": 256}  # members per ensemble, when not given


def add_parser(commands) -> argparse.ArgumentParser:
    """The ``fill`` subcommand, on the command line's subparsers."""
    p = commands.add_parser(
        "fill",
        help="train the runs the claims need, as cross-claim ensembles (locally or on Ray)",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("paths", nargs="*", default=["claims"], help="claim files or dirs (claims)")
    # Checked in run(): the scales' module loads torch, and --help should not.
    p.add_argument("--scale", required=True, help="the grid: smoke, medium, nightly or paper")
    p.add_argument("-k", dest="keyword", metavar="EXPR", help="only claims matching (pytest -k)")
    p.add_argument("--seeds", type=positive, metavar="N", help="seeds per claim (--grok-seeds)")
    p.add_argument(
        "--store",
        metavar="PATH",
        help="run store (default: $GROKCLAIMS_STORE, else .grokclaims/runs.sqlite at the git "
        "top level); local disk only, it is written by this process alone",
    )
    p.add_argument("--executor", choices=("local", "ray"), default="local")
    p.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="a running Ray cluster: auto or HOST:PORT (default: start one on this machine)",
    )
    p.add_argument("--workers", type=positive, metavar="N", help="local: worker processes")
    p.add_argument("--device", choices=("cpu", "cuda"), help="train on (default: GPUs if any)")
    p.add_argument("--max-members", type=positive, metavar="N", help="members per ensemble")
    p.add_argument("--cpus-per-task", type=float, default=1.0, metavar="N", help="ray, on CPUs")
    p.add_argument("--in-flight", type=positive, metavar="N", help="ray: ensembles submitted")
    p.add_argument("--max-retries", type=int, default=3, metavar="N", help="per lost worker")
    p.add_argument(
        "--no-ship-code",
        action="store_true",
        help="ray: workers import their own installed grokclaims instead of the driver's",
    )
    p.add_argument(
        "--stale-after",
        type=stale_after,
        default=120.0,
        metavar="S",
        help=f"heartbeat age that makes a held run stale (at least {MIN_STALE_AFTER:.0f})",
    )
    p.add_argument("--progress-every", type=float, default=30.0, metavar="S")
    p.add_argument("--dry-run", action="store_true", help="print the ensembles, train nothing")
    p.add_argument(
        "--summary-json",
        metavar="PATH",
        help="also write what the fill did (runs wanted, already stored, trained here, failed; "
        "seconds) to PATH as JSON",
    )
    p.set_defaults(action=run)
    return p


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except KeyboardInterrupt:
        print("grokclaims fill: interrupted; unfinished runs released", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    from grokclaims.setups.scales import SCALES
    from grokclaims.store.format import resolve_store

    if args.scale not in SCALES:
        print(
            f"grokclaims fill: error: unknown scale {args.scale!r}; choose from {sorted(SCALES)}",
            file=sys.stderr,
        )
        return 2

    log = logging.getLogger("grokclaims")
    log.setLevel(logging.INFO)
    store = resolve_store(args.store, _root())
    from grokclaims.fill.collect import collect

    collected = collect(
        args.paths, scale=args.scale, store=store, seeds=args.seeds, keyword=args.keyword
    )
    for error in collected.errors:
        print(f"grokclaims fill: could not plan {error}", file=sys.stderr)
    print(
        f"grokclaims fill: {collected.tests} claim tests need {len(collected.specs)} runs "
        f"at {args.scale} scale",
        file=sys.stderr,
    )
    from grokclaims.fill.driver import fill
    from grokclaims.fill.plan import plan_jobs
    from grokclaims.store.registry import Registry

    registry = Registry(store, stale_after=args.stale_after, heartbeat_every=args.stale_after / 4)
    executor = None
    try:
        if args.dry_run:
            members = args.max_members or DEFAULT_MEMBERS[args.device or "cpu"]
            for job in plan_jobs(registry.missing(collected.specs), max_members=members):
                print(f"{job.label}: est. {job.cost / 60:.1f} min at full budget")
            return 0
        _interrupt_on_sigterm()
        try:
            executor = _executor(args)
        except (RuntimeError, ConnectionError) as exc:  # no Ray, no cluster at that address
            print(f"grokclaims fill: error: {exc}", file=sys.stderr)
            return 2
        report = fill(
            collected.specs,
            registry,
            executor,
            max_members=args.max_members or DEFAULT_MEMBERS[executor.device],
            log=log,
            progress_every=args.progress_every,
        )
    finally:
        registry.close()
        if executor is not None:
            executor.close()
    print(f"grokclaims fill: {report.summary()}", file=sys.stderr)
    if args.summary_json:
        _write_summary(args.summary_json, report, collected)
    for rid, error in list(report.failed.items())[:10]:
        print(f"  failed {rid}: {error.strip().splitlines()[-1][:200]}", file=sys.stderr)
    return 0 if report.ok and not collected.errors else 1


def _write_summary(path: str, report, collected) -> None:
    import json
    from pathlib import Path

    Path(path).write_text(
        json.dumps(
            {
                "wanted": report.wanted,
                "already": report.already,
                "trained": report.trained,
                "by_others": report.by_others,
                "failed": len(report.failed),
                "jobs": report.jobs,
                "seconds": round(report.seconds, 1),
                "plan_errors": len(collected.errors),
            }
        )
    )


def _executor(args: argparse.Namespace):
    if args.executor == "ray":
        from grokclaims.fill.ray_executor import RayExecutor

        return RayExecutor(
            args.ray_address,
            device=args.device,
            cpus_per_task=args.cpus_per_task,
            max_retries=args.max_retries,
            ship_code=not args.no_ship_code,
            in_flight=args.in_flight,
        )
    from grokclaims.fill.executors import LocalExecutor

    return LocalExecutor(args.workers, device=args.device, max_retries=args.max_retries)


def _root():
    """The git top level of the current directory (the current directory outside git), as for
    ``grokclaims runs``."""
    import subprocess
    from pathlib import Path

    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return Path.cwd()
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else Path.cwd()


def _interrupt_on_sigterm() -> None:
    """A terminated fill (a batch system's time limit, ``kill``) unwinds like Ctrl-C: the jobs
    in flight are stopped and their runs released instead of left to go stale."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt("terminated (SIGTERM)")

    signal.signal(signal.SIGTERM, interrupt)
