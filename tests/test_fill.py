"""``grokclaims fill`` without Ray: the plan of ensembles, the progress line, the collection
through the plan mode, the driver's faults (failures, runs held by others, a dead driver's runs,
an interruption) on an in-process executor, and a ``local`` fill that ``pytest`` then judges
without training, with the same store contents as ``pytest`` alone.

The helpers at the top (tiny claim dirs, the command in a subprocess, stores read back) are
shared with tests/test_fill_ray.py.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from toyclaims import PLANNED, planned_specs

from grokclaims.fill.driver import Progress, fill
from grokclaims.fill.plan import Job, plan_jobs
from grokclaims.fill.task import train_job
from grokclaims.setups.sources import ChopraSetup
from grokclaims.spec.run import ensemble_key
from grokclaims.store.registry import Registry

ROOT = Path(__file__).resolve().parents[1]

# Longer tiny runs (seconds each, early stopping off): in flight long enough to kill a
# worker or the driver in the middle. One ensemble of two seeds per width.
SLOW = """
import pytest

from grokclaims.setups.sources import ChopraSetup
from grokclaims.verdicts import decide_point

SLOW = ChopraSetup(p=5, width=8, max_epochs={epochs}, eval_every={every}, patience=10**6)


@pytest.mark.claim(id="SL1", statement="slow runs train")
def test_slow(grok):
    runs = grok.runs([SLOW.spec(s, width=w) for w in {widths} for s in (0, 1)])
    grok.record("trained", sum(r.trained for r in runs))
    grok.conclude(decide_point("n", len(runs), 0, 1000, "any number of runs"))
"""


def claims_dir(tmp: Path, name: str = "claims", text: str = PLANNED) -> Path:
    d = tmp / name
    d.mkdir()
    (d / "test_claims.py").write_text(text)
    return d


def slow_claims(tmp: Path, *, widths=(8,), epochs=6000) -> Path:
    text = SLOW.format(epochs=epochs, every=epochs // 6, widths=tuple(widths))
    return claims_dir(tmp, "slow", text)


def env(**extra: str) -> dict[str, str]:
    """This checkout's package first, one torch thread per process (two busy cores)."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
        "RAY_USAGE_STATS_ENABLED": "0",
        **extra,
    }


def fill_cmd(claims: Path, store: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "grokclaims",
        "fill",
        "--scale",
        "smoke",
        str(claims),
        "--store",
        str(store),
        "--progress-every",
        "1",
        *extra,
    ]


def run_fill(claims: Path, store: Path, *extra: str, timeout=90) -> subprocess.CompletedProcess:
    out = subprocess.run(
        fill_cmd(claims, store, *extra),
        cwd=claims.parent,
        env=env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return out


def run_pytest(claims: Path, store: Path, timeout=90) -> subprocess.CompletedProcess:
    """``pytest CLAIMS --grok-scale smoke`` on ``store``, as a user runs it."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(claims),
            "--grok-scale",
            "smoke",
            "--grok-store",
            str(store),
            "--grok-no-report",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:hypothesispytest",
            "-q",
            "-rA",
        ],
        cwd=claims.parent,
        env=env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def rows(store: Path) -> dict[str, dict]:
    """Every row of a store: status, spec, provenance, checksum, the decoded result."""
    from grokclaims.store.rows import decode_result

    con = sqlite3.connect(store)
    con.row_factory = sqlite3.Row
    out = {}
    for r in con.execute("SELECT * FROM runs"):
        d = dict(r)
        d["provenance"] = json.loads(d["provenance"]) if d["provenance"] else {}
        if d["status"] in ("completed", "diverged"):
            d["result"] = decode_result(d["trace"], d["checksum"], d["run_id"], d["spec"])
        out[d["run_id"]] = d
    con.close()
    return out


def assert_same_runs(a: dict[str, dict], b: dict[str, dict]) -> None:
    """Same runs, same specs and statuses, bit-identical traces."""
    assert sorted(a) == sorted(b)
    for rid in a:
        ra, rb = a[rid], b[rid]
        assert (ra["status"], ra["spec"], ra["epochs"]) == (rb["status"], rb["spec"], rb["epochs"])
        ta, tb = ra["result"].trace.arrays(), rb["result"].trace.arrays()
        for name in ta:
            assert np.array_equal(ta[name], tb[name], equal_nan=True), (rid, name)


# -- the plan --------------------------------------------------------------------------------

TINY = ChopraSetup(p=5, width=8, max_epochs=20, eval_every=10)


def unit_cost(spec) -> float:
    return 1.0


def test_plan_groups_runs_across_claims_by_shape_each_once():
    specs = planned_specs()  # 4 runs of width 8, 2 of width 12
    jobs = plan_jobs(specs + specs[:3], max_members=64, cost=unit_cost)
    assert sorted(len(j.specs) for j in jobs) == [2, 4]
    assert sorted(i for j in jobs for i in j.ids) == sorted(s.run_id for s in specs)
    for j in jobs:
        assert len({ensemble_key(s) for s in j.specs}) == 1
    assert [j.cost for j in jobs] == [4.0, 2.0]  # costliest first


def test_plan_cuts_big_groups_evenly_and_fills_idle_slots():
    specs = [TINY.spec(s) for s in range(10)]
    assert sorted(len(j.specs) for j in plan_jobs(specs, max_members=4, cost=unit_cost)) == [
        3,
        3,
        4,
    ]
    # One group of 4 and three slots: halved until every slot has an ensemble.
    jobs = plan_jobs(specs[:4], max_members=64, slots=3, cost=unit_cost)
    assert sorted(len(j.specs) for j in jobs) == [1, 1, 2]
    assert sorted(i for j in jobs for i in j.ids) == sorted(s.run_id for s in specs[:4])
    # Single runs cannot be split further: fewer ensembles than slots.
    assert len(plan_jobs(specs[:2], max_members=64, slots=8, cost=unit_cost)) == 2
    with pytest.raises(ValueError, match="max_members"):
        plan_jobs(specs, max_members=0)


def test_progress_line_counts_and_estimates_by_cost():
    p = Progress(total=10, cost=100.0, log=logging.getLogger("test"), every=30)
    assert "0/10 runs done, 2 running, 10 left" in p.line(2, now=p.start + 60) and "ETA ?" in (
        p.line(2, now=p.start + 60)
    )
    p.add(4, 25.0)
    p.add(0, 0.0, failed=1)
    line = p.line(1, now=p.start + 120)  # a quarter of the cost in 2 min: 6 min left
    assert "4/10 runs done (1 failed), 1 running, 5 left" in line
    assert "2.0 runs/min" in line and "ETA 6 min" in line


# -- the driver, on an executor in this process ----------------------------------------------


class Inline:
    """An executor in this process: each submitted job trains at the next ``wait``; jobs with a
    run in ``fail`` raise instead; ``interrupt`` makes ``wait`` raise KeyboardInterrupt."""

    name, device = "inline", "cpu"

    def __init__(self, fail=(), interrupt=False):
        self.jobs: list[Job] = []
        self.fail, self.interrupt = set(fail), interrupt
        self.trained: list[str] = []
        self.cancelled = False

    def slots(self) -> int:
        return 2

    def submit(self, job: Job) -> None:
        self.jobs.append(job)

    def in_flight(self) -> int:
        return len(self.jobs)

    def wait(self, timeout: float):
        if self.interrupt:
            raise KeyboardInterrupt
        out = []
        for job in self.jobs:
            if self.fail & set(job.ids):
                out.append((job, RuntimeError("boom: CUDA out of memory")))
            else:
                out.append((job, train_job([s.canonical() for s in job.specs], "cpu", 1)))
                self.trained += job.ids
        self.jobs = []
        return out

    def cancel(self) -> None:
        self.cancelled = True
        self.jobs = []

    def close(self) -> None:
        pass


def test_fill_stores_each_run_records_failures_and_a_later_fill_retries_them(tmp_path):
    specs = planned_specs()
    wide = {s.run_id for s in specs if s.model.width == 12}
    with Registry(tmp_path / "runs.sqlite") as reg:
        ex = Inline(fail=wide)
        report = fill(specs, reg, ex, max_members=64, poll_every=0.05)
        assert (report.trained, report.already, set(report.failed)) == (4, 0, wide)
        assert sorted(ex.trained) == sorted(s.run_id for s in specs if s.run_id not in wide)
    stored = rows(tmp_path / "runs.sqlite")
    assert {r["status"] for i, r in stored.items() if i in wide} == {"failed"}
    assert all("boom: CUDA out of memory" in stored[i]["error"] for i in wide)
    done = [r for i, r in stored.items() if i not in wide]
    assert all(r["status"] == "completed" for r in done)
    assert {r["provenance"]["executor"] for r in done} == {"inline"}
    assert all(r["provenance"]["ensemble_size"] == 4 for r in done)  # across both claims
    with Registry(tmp_path / "runs.sqlite") as reg:
        ex = Inline()
        report = fill(specs, reg, ex, max_members=64, poll_every=0.05)
    assert (report.trained, report.already, report.ok) == (2, 4, True)
    assert sorted(ex.trained) == sorted(wide)


def test_fill_leaves_runs_held_by_a_live_process_to_it(tmp_path):
    specs = planned_specs()
    theirs = specs[0]
    calls = []

    def slow_trainer(group, **kw):
        calls.append([s.run_id for s in group])
        time.sleep(1.0)
        from grokclaims.engine.train import train_ensemble

        return train_ensemble(group, device="cpu")

    def other_session():  # a pytest session training the same run meanwhile
        with Registry(tmp_path / "runs.sqlite") as other:
            other.get_or_train([theirs], trainer=slow_trainer)

    Registry(tmp_path / "runs.sqlite").close()
    thread = threading.Thread(target=other_session)
    thread.start()
    while not calls:
        time.sleep(0.02)
    with Registry(tmp_path / "runs.sqlite") as reg:
        ex = Inline()
        report = fill(specs, reg, ex, max_members=64, poll_every=0.1)
    thread.join()
    assert theirs.run_id not in ex.trained and calls == [[theirs.run_id]]
    assert (report.trained, report.by_others, report.ok) == (5, 1, True)
    stored = rows(tmp_path / "runs.sqlite")
    assert {r["status"] for r in stored.values()} == {"completed"} and len(stored) == 6
    assert "executor" not in stored[theirs.run_id]["provenance"]  # the other session's row


def test_a_restarted_fill_takes_over_a_dead_drivers_runs_and_keeps_finished_ones(tmp_path):
    import socket
    import subprocess

    from grokclaims.store import rows as rowfmt

    specs = planned_specs()
    path = tmp_path / "runs.sqlite"
    with Registry(path) as reg:
        fill(specs[:2], reg, Inline(), max_members=64, poll_every=0.05)
    before = rows(path)
    # Two runs held by a fill driver of this host that was killed (its pid no longer exists),
    # with a fresh heartbeat: they would otherwise be waited for until stale.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    owner = f"{socket.gethostname()}:{int(dead.stdout)}:deadbeef"
    now = time.time()
    with Registry(path) as reg:
        reg._write(
            lambda con: [
                rowfmt.insert(
                    con,
                    {
                        "run_id": s.run_id,
                        **rowfmt.spec_columns(s),
                        "status": "running",
                        "owner": owner,
                        "generation": 1,
                        "heartbeat": now,
                        "created": now,
                        "updated": now,
                    },
                )
                for s in specs[2:4]
            ]
        )
        ex = Inline()
        report = fill(specs, reg, ex, max_members=64, poll_every=0.05)
    assert (report.taken_over, report.already, report.trained, report.ok) == (2, 2, 4, True)
    assert sorted(ex.trained) == sorted(s.run_id for s in specs[2:])
    after = rows(path)
    for rid, row in before.items():  # finished runs: not trained again, not rewritten
        assert {k: after[rid][k] for k in ("checksum", "updated", "owner", "provenance")} == {
            k: row[k] for k in ("checksum", "updated", "owner", "provenance")
        }
    assert {r["status"] for r in after.values()} == {"completed"} and len(after) == 6


def test_an_interrupted_fill_stops_its_jobs_and_releases_its_runs(tmp_path):
    path = tmp_path / "runs.sqlite"
    with Registry(path) as reg:
        ex = Inline(interrupt=True)
        with pytest.raises(KeyboardInterrupt):
            fill(planned_specs(), reg, ex, max_members=64, poll_every=0.05)
    assert ex.cancelled and rows(path) == {}  # claimed, then released: simply absent


# -- the command, on this machine --------------------------------------------------------------


def test_local_fill_then_pytest_trains_nothing_and_matches_pytest_alone(tmp_path):
    claims = claims_dir(tmp_path)
    filled, alone = tmp_path / "filled.sqlite", tmp_path / "alone.sqlite"
    out = run_fill(claims, filled, "--workers", "2")
    assert out.returncode == 0, out.stderr
    assert "6 runs: 0 already stored, 6 trained here in 2 ensembles" in out.stderr
    assert "[fill] 6/6 runs done, 0 running, 0 left" in out.stderr
    before = rows(filled)
    assert {r["provenance"]["executor"] for r in before.values()} == {"local"}
    judged = run_pytest(claims, filled)
    assert judged.returncode == 0 and "2 passed" in judged.stdout, judged.stdout
    after = rows(filled)  # pytest read the runs: nothing trained, nothing rewritten
    assert {i: r["updated"] for i, r in after.items()} == {
        i: r["updated"] for i, r in before.items()
    }
    assert run_pytest(claims, alone).returncode == 0
    assert_same_runs(before, rows(alone))


def test_fill_command_dry_run_and_bad_input(tmp_path):
    claims = claims_dir(tmp_path)
    out = run_fill(claims, tmp_path / "runs.sqlite", "--dry-run", "-k", "second")
    assert out.returncode == 0, out.stderr
    assert "1 claim tests need 5 runs" in out.stderr
    assert "3 x chopra_mlp width=8, p=5" in out.stdout and "2 x chopra_mlp width=12" in out.stdout
    bad = run_fill(claims, tmp_path / "runs.sqlite", "--scale", "huge")
    assert bad.returncode == 2 and "unknown scale 'huge'" in bad.stderr
    (claims / "test_broken.py").write_text("import no_such_module\n")
    broken = run_fill(claims, tmp_path / "runs.sqlite", "--dry-run")
    assert broken.returncode == 0 and "could not plan" in broken.stderr
