"""The pytest plugin, black-box: toy claim modules run in pytester sessions.

Verdicts decide outcomes (supported -> pass, refuted -> fail, inconclusive -> skip), every claim
reaches the report (crashes too), ``-n 2`` reports what ``-n 0`` does, bad options stop the
session before any claim runs, and the plan mode counts exactly the runs a real session trains.
"""

from __future__ import annotations

import re
import sqlite3

import pytest
from toyclaims import (
    PLANNED,
    TOY,
    TOY_EXPECTED,
    load_results,
    outcomes,
    plan_totals,
    planned_specs,
    report_dirs,
    run_claims,
)

from grokclaims.store.registry import Registry

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_verdicts_decide_outcomes_and_the_report_lists_every_claim(pytester):
    pytester.makepyfile(test_toy=TOY)
    result = run_claims(pytester, "-rs")
    result.assert_outcomes(passed=3, failed=2, skipped=1)
    out = result.stdout.str()
    # refuted: a failure that gives observed vs expected, the interval and the rule
    assert (
        "TOY2 refuted: y = 5 [4.5, 5.5]; expected y in [0, 2]; refuted: the interval "
        "[4.5, 5.5] lies entirely outside [0, 2]"
    ) in out
    # inconclusive: a skip with the reason, located at the claim's test (not in grokclaims)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED [[]1[]] test_toy.py:*: TOY3 inconclusive: z = 0.25 "
            "[[]-0.5, 1[]], p = 0.31; expected z > 0; inconclusive: *"
        ]
    )
    assert "context.py" not in out
    # each verdict printed as it arrives
    result.stdout.fnmatch_lines_random(
        [
            "[[]grokclaims[]] TOY1: supported: x = 1 [[]0.9, 1.1[]]*",
            "[[]grokclaims[]] TOY2: refuted: *",
            "[[]grokclaims[]] TOY4: error: *ZeroDivisionError*",
        ]
    )

    reports = pytester.path / "reports"
    (report,) = report_dirs(reports)
    assert report.name.endswith("-smoke")
    latest = reports / "latest"
    assert latest.is_symlink() and latest.resolve() == report.resolve()
    assert f"report: {report / 'REPORT.md'}" in out

    results = load_results(report)
    assert outcomes(results) == TOY_EXPECTED
    meta = results["meta"]
    assert (meta["scale"], meta["seeds"], meta["runs"], meta["trained"], meta["reused"]) == (
        "smoke",
        [0, 1, 2],
        3,
        3,
        0,
    )
    by_id = {c["test_id"]: c for c in results["claims"]}
    assert by_id["TOY1"]["measurements"][0]["value"] == 3.0
    assert by_id["TOY3"]["result"]["p_value"] == 0.31
    assert "ZeroDivisionError" in by_id["TOY4"]["error"]
    (figure,) = by_id["TOY1"]["figures"]
    assert figure.startswith("figures/") and figure.endswith(".png")
    assert (report / figure).read_bytes().startswith(b"\x89PNG")

    md = (report / "REPORT.md").read_text()
    assert "| runs | 3 used: 3 trained in this session, 0 reused from the registry |" in md
    for row in [
        "| [TOY1](#toy1) | x lies in [0, 2] | ✅ supported | x = 1 [0.9, 1.1] | "
        f"x in [0, 2] | [figure]({figure}) |",
        "| [TOY2](#toy2) | y lies in [0, 2] | ❌ refuted | y = 5 [4.5, 5.5] | y in [0, 2] |",
        "| [TOY3](#toy3) | z is positive | ❔ inconclusive | z = 0.25 [-0.5, 1], p = 0.31 |",
        "| [TOY4](#toy4) | w can be computed | 💥 error | n/a |",
        "| [TOY5[0.5]](#toy5) | v is small | ✅ supported | v = 0.5 |",
        "| [TOY5[1.5]](#toy5) | v is small | ✅ supported | v = 1.5 |",
    ]:
        assert row in md, row
    assert f"![TOY1]({figure})" in md
    assert "> The toy models fit five residues." in md  # the docstring, quoted
    assert "ZeroDivisionError: division by zero" in md
    assert "No previous report at this scale." in md


# Collected before test_toy.py; under ``-n 2 --dist load`` xdist's first batch gives the first
# two tests to the worker ready first and the next two to the other, which dies on GPU4 and is
# replaced (by gw2). GPU2 keeps the first worker busy until then, so that it still holds its
# GPU when the replacement's is chosen.
GPU_CLAIMS = """
import os
import time
from pathlib import Path

import pytest
from grokclaims.verdicts import decide_point


def _where(grok):
    grok.record("gpu", None, note=os.environ.get("CUDA_VISIBLE_DEVICES", "-"))
    grok.record("worker", None, note=os.environ.get("PYTEST_XDIST_WORKER", "-"))
    grok.conclude(decide_point("a", 1.0, 0.0, 2.0, "a in [0, 2]"))


@pytest.mark.claim(id="GPU1", statement="first on one worker")
def test_gpu_first(grok):
    _where(grok)


@pytest.mark.claim(id="GPU2", statement="second on that worker")
def test_gpu_second(grok):
    replaced = Path(__file__).parent / "replaced"  # written by the conftest (controller)
    deadline = time.monotonic() + 60
    while os.environ.get("TOY_CRASH") and not replaced.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    _where(grok)


@pytest.mark.claim(id="GPU3", statement="first on the other worker")
def test_gpu_third(grok):
    _where(grok)


@pytest.mark.claim(id="GPU4", statement="kills its worker")
def test_gpu_crash(grok):
    if os.environ.get("TOY_CRASH"):
        os._exit(3)
"""

# Two simulated GPUs (CUDA is absent here), only where the test asks for them; the controller
# says which GPU it gives each worker.
FAKE_GPUS = """
import os
from pathlib import Path

import pytest
from grokclaims.engine import devices

if os.environ.get("TOY_FAKE_GPUS"):
    devices.gpu_count = lambda env=None: int(os.environ["TOY_FAKE_GPUS"])

    @pytest.hookimpl(trylast=True)
    def pytest_configure_node(node):
        tr = node.config.pluginmanager.get_plugin("terminalreporter")
        tr.write_line(f"[toy] {node.gateway.id} -> GPU {node.workerinput['grokclaims_gpu']}")
        if node.gateway.id not in ("gw0", "gw1"):
            (Path(__file__).parent / "replaced").touch()
"""


def test_xdist_gives_the_same_report_as_one_process(pytester, monkeypatch):
    """``-n 2`` (on two simulated GPUs, CUDA_VISIBLE_DEVICES=3,5, a worker crashing) writes one
    report with every claim and the verdicts of ``-n 0``; each worker sees its own GPU and the
    crashed worker's replacement gets its GPU."""
    pytester.makeconftest(FAKE_GPUS)
    pytester.makepyfile(test_toy=TOY, test_gpu=GPU_CLAIMS)
    common = ("--grok-scale", "smoke", "--grok-device", "cpu")
    serial = run_claims(
        pytester, "test_toy.py", "-n", "0", *common, report_dir=pytester.path / "serial"
    )
    serial.assert_outcomes(passed=3, failed=2, skipped=1)

    monkeypatch.setenv("TOY_FAKE_GPUS", "2")
    monkeypatch.setenv("TOY_CRASH", "1")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    # --dist load: under loadgroup/loadscope (the plugin's default with -n) xdist 3.8 re-runs
    # the test a worker crashed on (pytest-xdist#1371) and can hang once a lone worker is
    # replaced (#1327); neither is the plugin's to fix.
    parallel = run_claims(
        pytester,
        "-n",
        "2",
        "--dist",
        "load",
        *common,
        subprocess=True,
        report_dir=pytester.path / "parallel",
        store=pytester.path / "parallel.sqlite",
    )
    parallel.assert_outcomes(passed=3 + 3, failed=2 + 1, skipped=1)
    gpu_of = {"gw0": "3", "gw1": "5"}  # the user's devices, one per worker
    parallel.stdout.fnmatch_lines_random(
        ["*2 workers*", "[[]toy[]] gw0 -> GPU 3", "[[]toy[]] gw1 -> GPU 5"]
    )
    crashed = re.search(r"replacing crashed worker (gw[01])", parallel.stdout.str())[1]
    survivor = "gw1" if crashed == "gw0" else "gw0"
    # the replacement takes the crashed worker's GPU, not the one the survivor still uses
    parallel.stdout.fnmatch_lines([f"[[]toy[]] gw2 -> GPU {gpu_of[crashed]}"])

    (one,) = report_dirs(pytester.path / "serial")
    (two,) = report_dirs(pytester.path / "parallel")  # one report, from the controller
    results = load_results(two)
    toy = {k: v for k, v in outcomes(results).items() if k.startswith("TOY")}
    assert outcomes(load_results(one)) == toy == TOY_EXPECTED
    meta = results["meta"]
    assert (meta["runs"], meta["trained"], meta["reused"]) == (3, 3, 0)
    where = {
        c["test_id"]: {m["name"]: m["note"] for m in c["measurements"]}
        for c in results["claims"]
        if c["test_id"].startswith("GPU")
    }
    assert where == {
        "GPU1": {"gpu": gpu_of[survivor], "worker": survivor},
        "GPU2": {"gpu": gpu_of[survivor], "worker": survivor},
        "GPU3": {"gpu": gpu_of[crashed], "worker": crashed},
    }
    (crash,) = [c for c in results["claims"] if c["nodeid"].endswith("::test_gpu_crash")]
    assert crash["outcome"] == "failed"
    assert (
        f"worker '{crashed}' crashed while running 'test_gpu.py::test_gpu_crash'" in crash["error"]
    )
    md = (two / "REPORT.md").read_text()
    for test_id in [*TOY_EXPECTED, "GPU1", "GPU2", "GPU3", "test_gpu.py::test_gpu_crash"]:
        assert f"| [{test_id}](" in md
    assert len(list((two / "figures").glob("*.png"))) == 1


BROKEN = """
import pytest
from grokclaims.verdicts import decide_point


@pytest.fixture
def data():
    raise RuntimeError("cannot load the data")


@pytest.mark.claim(id="OK1", statement="fine")
def test_ok(grok):
    grok.conclude(decide_point("a", 1.0, 0.0, 2.0, "a in [0, 2]"))


@pytest.mark.claim(id="BAD1", statement="a fixture fails")
def test_setup_fails(grok, data):
    pass


@pytest.mark.claim(id="BAD2", statement="forgets its verdict")
def test_no_verdict(grok):
    grok.record("b", 2.0)


@pytest.mark.claim(id="BAD3", statement="refuted")
def test_refuted(grok):
    grok.conclude(decide_point("c", 3.0, 0.0, 2.0, "c in [0, 2]"))


def test_not_a_claim():
    assert False
"""


def test_failing_and_broken_claims_still_leave_a_full_report(pytester):
    pytester.makepyfile(test_broken=BROKEN)
    result = run_claims(pytester)
    result.assert_outcomes(passed=1, failed=3, errors=1)
    result.stdout.fnmatch_lines(["*BAD2: the test ended without grok.conclude(verdict)*"])
    (report,) = report_dirs(pytester.path / "reports")
    results = load_results(report)
    assert {c["nodeid"].split("::")[-1]: c["outcome"] for c in results["claims"]} == {
        "test_ok": "passed",
        "test_setup_fails": "failed",
        "test_no_verdict": "failed",
        "test_refuted": "failed",
    }  # a plain failing test is no claim
    got = outcomes(results)
    assert got["OK1"] == ("passed", "supported")
    assert got["BAD2"] == ("failed", "error")
    assert got["BAD3"] == ("failed", "refuted")
    md = (report / "REPORT.md").read_text()
    assert "cannot load the data" in md
    assert "💥 error" in md and "❌ refuted" in md and "✅ supported" in md


@pytest.mark.parametrize(
    "args, message",
    [
        (["--grok-scale", "huge"], "argument --grok-scale: invalid choice: 'huge'"),
        (["-o", "grok_scale=huge"], "grok_scale: unknown scale 'huge'"),
        (["--grok-seeds", "-1"], "argument --grok-seeds: must be >= 1, got -1"),
        (["--grok-seeds=-1"], "argument --grok-seeds: must be >= 1, got -1"),
        (["--grok-seeds", "0"], "argument --grok-seeds: must be >= 1, got 0"),
        (["--grok-seeds", "abc"], "argument --grok-seeds: not an integer: 'abc'"),
        (["-o", "grok_seeds=0"], "grok_seeds: must be >= 1, got 0"),
    ],
)
def test_bad_options_fail_fast(pytester, args, message):
    pytester.makepyfile(test_toy=TOY)
    result = run_claims(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()
    assert not (pytester.path / "reports").exists()
    assert not (pytester.path / "store").exists()


def test_an_unwritable_report_dir_fails_fast(pytester):
    pytester.makepyfile(test_toy=TOY)
    (pytester.path / "a_file").write_text("not a directory\n")
    result = run_claims(pytester, report_dir=pytester.path / "a_file" / "reports")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--grok-report-dir */a_file/reports: not writable (Not a directory)*"]
    )
    result.stdout.no_fnmatch_line("*[[]grokclaims[]] TOY*")
    assert not (pytester.path / "store").exists()  # nothing ran


@pytest.mark.parametrize("kind", ["text", "sqlite"])
def test_a_store_that_is_not_a_registry_fails_fast(pytester, kind):
    pytester.makepyfile(test_toy=TOY)
    store = pytester.path / "notes.db"
    if kind == "text":
        store.write_text("my notes\n" * 20)
    else:
        con = sqlite3.connect(store)
        con.execute("CREATE TABLE t (x)")
        con.commit()
        con.close()
    before = store.read_bytes()
    result = run_claims(pytester, store=store)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--grok-store: {store}*not a grokclaims run store*"])
    result.stdout.no_fnmatch_line("*[[]grokclaims[]] TOY*")
    assert store.read_bytes() == before  # left untouched
    assert not (pytester.path / "reports").exists()


def test_relative_paths_are_taken_from_the_current_directory_or_the_ini_file(pytester, monkeypatch):
    pytester.makepyfile(test_toy=TOY)
    sub = pytester.mkdir("sub")
    monkeypatch.chdir(sub)
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--grok-store",
        "runs.sqlite",
        "--grok-report-dir",
        "out",
        "../test_toy.py",
        "-k",
        "param",
    )
    result.assert_outcomes(passed=2)
    assert (sub / "runs.sqlite").is_file()
    assert len(report_dirs(sub / "out")) == 1
    assert not (pytester.path / "out").exists()
    # in the ini file: relative to the ini file's directory
    pytester.makeini("[pytest]\ngrok_report_dir = ini-out\ngrok_store = ini.sqlite\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "../test_toy.py", "-k", "param")
    result.assert_outcomes(passed=2)
    assert (pytester.path / "ini.sqlite").is_file()
    assert len(report_dirs(pytester.path / "ini-out")) == 1


def _completed(store) -> int:
    with Registry(store) as reg:
        return len(reg.runs(status="completed"))


def test_plan_counts_the_runs_that_a_real_session_then_trains(pytester):
    pytester.makepyfile(test_planned=PLANNED)
    store = pytester.path / "store" / "runs.sqlite"
    specs = planned_specs()
    with Registry(store) as reg:  # one of the six runs is stored already
        reg.get_or_train(specs[:1])

    plan = run_claims(pytester, "--grok-plan", "-rs")
    plan.assert_outcomes(skipped=2)
    plan.stdout.fnmatch_lines(
        [
            "*= grokclaims plan =*",
            "claim * runs * stored * to train *",
            "PL1 * 3 * 1 * 2 *",
            "PL2 * 5 * 0 * 5 *",
            "SKIPPED [[]1[]] test_planned.py:*: planned 3 runs, 2 to train",
        ]
    )
    assert plan_totals(plan.stdout.str()) == (len(specs), 1, len(specs) - 1)
    assert _completed(store) == 1  # the plan trained nothing
    assert not (pytester.path / "reports").exists()  # and wrote no report

    real = run_claims(pytester)
    real.assert_outcomes(passed=2)
    assert _completed(store) == len(specs)
    (first,) = report_dirs(pytester.path / "reports")
    results = load_results(first)
    meta = results["meta"]
    assert (meta["runs"], meta["trained"], meta["reused"]) == (len(specs), len(specs) - 1, 1)
    trained = {c["test_id"]: c["measurements"][0]["value"] for c in results["claims"]}
    assert sum(trained.values()) == len(specs) - 1  # what the plan said was missing
    assert (
        f"| runs | {len(specs)} used: {len(specs) - 1} trained in this session, 1 reused "
        "from the registry |"
    ) in (first / "REPORT.md").read_text()

    again = run_claims(pytester)
    again.assert_outcomes(passed=2)
    again.stdout.no_fnmatch_line("*training * members*")
    second = report_dirs(pytester.path / "reports")[-1]
    assert second != first
    rerun = load_results(second)
    assert (rerun["meta"]["trained"], rerun["meta"]["reused"]) == (0, len(specs))
    assert outcomes(rerun) == outcomes(results)
    assert {c["test_id"]: c["result"] for c in rerun["claims"]} == {
        c["test_id"]: c["result"] for c in results["claims"]
    }
    assert "No verdict moved since" in (second / "REPORT.md").read_text()
    assert _completed(store) == len(specs)


SLOW_CLAIM = """
import pytest

from grokclaims.setups.sources import ChopraSetup


@pytest.mark.claim(id="SLOW", statement="trains for a long time")
def test_slow(grok):
    grok.runs([ChopraSetup(p=5, width=8, max_epochs=10_000_000, eval_every=1000).spec(0)])
"""


def test_a_terminated_session_releases_its_claimed_runs(tmp_path):
    """SIGTERM (a CI timeout, kill) unwinds like Ctrl-C: the run being trained is released, not
    left 'running' until its heartbeat goes stale."""
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    (tmp_path / "test_slow.py").write_text(SLOW_CLAIM)
    store = tmp_path / "runs.sqlite"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "test_slow.py",
            "-p",
            "no:cacheprovider",
            "--grok-store",
            str(store),
            "--grok-report-dir",
            str(tmp_path / "reports"),
            "-q",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )

    def running() -> int:
        if not store.exists():
            return 0
        con = sqlite3.connect(store)
        try:
            return con.execute("SELECT COUNT(*) FROM runs WHERE status = 'running'").fetchone()[0]
        except sqlite3.OperationalError:
            return 0
        finally:
            con.close()

    deadline = time.monotonic() + 60
    while running() == 0 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert running() == 1, proc.stdout.read().decode() if proc.poll() is not None else ""
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode != 0
    assert running() == 0, out
    assert "released 1 unfinished runs" in out, out
