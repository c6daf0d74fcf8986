"""Benchmark: filling a scale's runs with cross-claim ensembles against ``pytest -n`` training
them claim by claim, on the same machine, in one run.

``python -m grokclaims.bench_fill`` (default: the smoke scale's Song & Ye claims,
``claims/test_song_ye.py``, two workers) times, each from an empty store of its own:

(a) ``grokclaims fill --scale S CLAIMS --workers N``, then ``pytest CLAIMS`` judging from the
    filled store (it must train nothing);
(b) ``pytest CLAIMS -n N --grok-no-fill``, which trains each claim's runs as that claim's
    ensembles (without ``--grok-no-fill`` an xdist session fills first, as (a) does:
    :mod:`grokclaims.plugin.fill_first`).

It prints both wall times, their ratio, the ensembles each side trained, the load average
before and after, and checks that both stores hold the same runs with bit-identical traces.
``--seeds K`` runs a reduced version (the scale's claims with K seeds). ``--count`` trains
nothing: it plans the claims (any scale, ``--scale paper`` too) and counts the ensembles each
way would train: claim by claim (one process, claims in order, each training its runs not yet
stored, grouped by shape, at most 256 members: the registry's grouping; xdist splits finer) and
across claims (``grokclaims fill``'s plan).

This is a benchmark, not a test: timings vary with the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, out


def _pytest(claims: list[str], store: Path, scale: str, seeds: int | None, *extra: str):
    cmd = [sys.executable, "-m", "pytest", *claims, "--grok-scale", scale, "--grok-store"]
    cmd += [str(store), "--grok-no-report", "-p", "no:cacheprovider", "-q", *extra]
    return cmd + (["--grok-seeds", str(seeds)] if seeds else [])


def _ensembles(store: Path) -> tuple[int, int]:
    """(runs, distinct ensembles) trained into ``store``: one ensemble per start time and
    size and host:pid (the members of one ensemble share them)."""
    con = sqlite3.connect(store)
    provs = [json.loads(p) for (p,) in con.execute("SELECT provenance FROM runs")]
    con.close()
    keys = {(p["start"], p["ensemble_size"], p["host"], p["pid"]) for p in provs}
    return len(provs), len(keys)


def _same_traces(a: Path, b: Path) -> tuple[int, int]:
    """(runs in both, runs whose stored trace differs) between two stores."""
    import numpy as np

    from grokclaims.store.rows import decode_result

    def load(p: Path) -> dict:
        con = sqlite3.connect(p)
        out = {
            r[0]: decode_result(r[1], r[2], r[0], r[3]).trace.arrays()
            for r in con.execute("SELECT run_id, trace, checksum, spec FROM runs")
        }
        con.close()
        return out

    ta, tb = load(a), load(b)
    both = set(ta) & set(tb)
    differ = sum(
        not all(np.array_equal(ta[i][k], tb[i][k], equal_nan=True) for k in ta[i]) for i in both
    )
    if set(ta) != set(tb):
        differ += len(set(ta) ^ set(tb))
    return len(both), differ


def count(claims: list[str], scale: str, seeds: int | None, members: int) -> None:
    """Ensembles and members per ensemble, claim by claim and across claims (no training)."""
    import math

    from grokclaims.fill.collect import collect
    from grokclaims.fill.plan import plan_jobs
    from grokclaims.spec.run import ensemble_key

    tmp = Path(tempfile.mkdtemp(prefix="bench-fill-count-"))
    got = collect(claims, scale=scale, store=tmp / "empty.sqlite", seeds=seeds)
    specs = {s.run_id: s for s in got.specs}
    stored: set[str] = set()
    per_claim = []
    for ids in got.by_test.values():
        groups: dict[tuple, int] = {}
        for rid in dict.fromkeys(ids):
            if rid not in stored:
                key = ensemble_key(specs[rid])
                groups[key] = groups.get(key, 0) + 1
                stored.add(rid)
        per_claim += [
            n / math.ceil(n / 256) for n in groups.values() for _ in range(math.ceil(n / 256))
        ]
    across = plan_jobs(got.specs, max_members=members, slots=1, cost=lambda s: 1.0)
    n = len(got.specs)
    print(f"{' '.join(claims)} at {scale} scale: {got.tests} claim tests, {n} distinct runs")
    print(
        f"claim by claim: {len(per_claim)} ensembles, {n / max(1, len(per_claim)):.1f} members each"
    )
    largest = max((len(j.specs) for j in across), default=0)
    print(
        f"across claims (max {members}): {len(across)} ensembles, "
        f"{n / max(1, len(across)):.1f} members each, largest {largest}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("claims", nargs="*", default=["claims/test_song_ye.py"])
    parser.add_argument("--scale", default="smoke")
    parser.add_argument("--seeds", type=int, default=None, help="a reduced run: K seeds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--count", action="store_true", help="count ensembles, train nothing")
    parser.add_argument("--max-members", type=int, default=256, help="with --count")
    args = parser.parse_args(argv)
    if args.count:
        count(args.claims, args.scale, args.seeds, args.max_members)
        return 0
    cwd = Path.cwd()
    tmp = Path(tempfile.mkdtemp(prefix="bench-fill-"))
    load0 = os.getloadavg()
    fill = [sys.executable, "-m", "grokclaims", "fill", "--scale", args.scale, *args.claims]
    fill += ["--store", str(tmp / "fill.sqlite"), "--workers", str(args.workers)]
    fill += ["--progress-every", "60"] + (["--seeds", str(args.seeds)] if args.seeds else [])
    t_fill, out = _run(fill, cwd)
    if out.returncode != 0:
        print(out.stderr[-3000:], file=sys.stderr)
        return 1
    judge = _pytest(args.claims, tmp / "fill.sqlite", args.scale, args.seeds)
    t_judge, jout = _run(judge, cwd)
    load1 = os.getloadavg()
    pyt = _pytest(
        args.claims,
        tmp / "pytest.sqlite",
        args.scale,
        args.seeds,
        "-n",
        str(args.workers),
        "--grok-no-fill",
    )
    t_pytest, pout = _run(pyt, cwd)
    load2 = os.getloadavg()
    runs_f, ens_f = _ensembles(tmp / "fill.sqlite")
    runs_p, ens_p = _ensembles(tmp / "pytest.sqlite")
    both, differ = _same_traces(tmp / "fill.sqlite", tmp / "pytest.sqlite")
    summary = [line for line in out.stderr.splitlines() if "grokclaims fill:" in line]
    print(f"claims: {' '.join(args.claims)} at {args.scale} scale, seeds {args.seeds or 'scale'}")
    print(f"(a) fill, {args.workers} workers: {t_fill:.0f} s ({runs_f} runs in {ens_f} ensembles)")
    print(
        f"    then pytest judging: {t_judge:.0f} s (exit {jout.returncode}); total "
        f"{t_fill + t_judge:.0f} s"
    )
    print(
        f"(b) pytest -n {args.workers} --grok-no-fill: {t_pytest:.0f} s ({runs_p} runs in "
        f"{ens_p} ensembles; "
        f"exit {pout.returncode})"
    )
    print(f"ratio (b) / (a, fill + judge): {t_pytest / (t_fill + t_judge):.2f}")
    print(f"same runs, bit-identical traces: {both - differ}/{both} (differ: {differ})")
    print(
        "load average (1, 5, 15 min) at start, between, end: "
        f"{load0[0]:.1f}/{load0[1]:.1f}/{load0[2]:.1f}, {load1[0]:.1f}/{load1[1]:.1f}/"
        f"{load1[2]:.1f}, {load2[0]:.1f}/{load2[1]:.1f}/{load2[2]:.1f}"
    )
    for line in summary:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
