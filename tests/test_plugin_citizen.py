"""The plugin as a good pytest citizen: inert outside claim sessions, one usage error per bad
option or store, a crashed worker ends the session with an error row, unique figure files, the
plan table on its own line, and the session's progress line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from toyclaims import TOY, load_results, report_dirs, run_claims

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PLAIN = """
def test_one():
    assert 1 + 1 == 2
"""


def test_an_unrelated_project_stays_untouched(pytester):
    """No header, no reports/, no store; --collect-only neither; importing the plugin loads no
    torch, scipy or matplotlib."""
    pytester.makepyfile(test_plain=PLAIN)
    for args in ((), ("--collect-only",), ("-n", "2")):
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
        assert result.ret == 0, result.stdout.str()
        result.stdout.no_fnmatch_line("grokclaims:*")  # the header
        result.stdout.no_fnmatch_line("*[[]grokclaims[]]*")
    made = {p.name for p in pytester.path.iterdir() if not p.name.startswith(("runpytest-", "std"))}
    assert made == {"test_plain.py"}  # (pytester's own files aside) no reports/, no store
    code = (
        "import sys, grokclaims.plugin; "
        "print(sorted(m for m in ('torch', 'scipy', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_collect_only_of_claims_creates_nothing(pytester):
    pytester.makepyfile(test_toy=TOY)
    result = pytester.runpytest("-p", "no:cacheprovider", "--collect-only")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["grokclaims: scale=smoke*"])  # active: it collected claims
    assert not (pytester.path / "reports").exists()
    assert not (pytester.path / ".grokclaims").exists()


@pytest.mark.parametrize(
    "device, message",
    [
        ("tpu", "--grok-device tpu: unknown device; use cpu, cuda, cuda:N or mps"),
        ("cuda", "--grok-device cuda: no CUDA device is visible on this machine"),
        ("cuda:1", "--grok-device cuda:1: no CUDA device is visible on this machine"),
    ],
)
def test_a_bad_device_is_one_usage_error_before_any_test(pytester, device, message):
    pytester.makepyfile(test_toy=TOY)
    for plan in ((), ("--grok-plan",)) if device == "tpu" else ((),):
        result = run_claims(pytester, "--grok-device", device, *plan, subprocess=True)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        errors = [ln for ln in result.stderr.lines if ln.strip()]
        assert errors == [f"ERROR: {message}"], errors
        result.stdout.no_fnmatch_line("*TOY*")
    assert not (pytester.path / "store").exists()
    assert not (pytester.path / "reports").exists()


@pytest.mark.parametrize("damage", ["truncated", "corrupted", "uncreatable"])
def test_a_damaged_or_uncreatable_store_is_one_usage_error(pytester, tmp_path, damage):
    pytester.makepyfile(test_toy=TOY)
    store = pytester.path / "runs.sqlite"
    if damage == "uncreatable":
        (pytester.path / "ro").mkdir()
        store = pytester.path / "ro" / "sub" / "runs.sqlite"
        (pytester.path / "ro" / "sub").write_text("a file where the directory should be")
    else:
        # a real store with rows, damaged past its 100-byte header
        run_claims(pytester, "-k", "supported", store=store).assert_outcomes(passed=1)
        data = bytearray(store.read_bytes())
        assert len(data) > 8192
        if damage == "truncated":
            data = data[: len(data) // 2 + 1000]
        else:
            data[4096 + 8 : 4096 + 400] = os.urandom(392)  # the second page's cells
        store.write_bytes(bytes(data))
    result = run_claims(pytester, store=store, subprocess=True)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    errors = [ln for ln in result.stderr.lines if ln.strip()]
    assert len(errors) == 1 and errors[0].startswith("ERROR: --grok-store: "), errors
    assert str(store) in errors[0]
    result.stdout.no_fnmatch_line("*[[]grokclaims[]] TOY*")


CRASH = """
import os

import pytest
from grokclaims.verdicts import decide_point


@pytest.mark.claim(id="CR1", statement="kills its worker, as the OOM killer would")
def test_crash(grok):
    os._exit(9)


@pytest.mark.claim(id="CR2", statement="fine")
def test_fine(grok):
    grok.conclude(decide_point("a", 1.0, 0.0, 2.0, "a in [0, 2]"))
"""


def test_a_killed_worker_ends_the_session_with_an_error_row(pytester):
    """``-n 2`` with the plugin's loadgroup default: no hang, the crash is a row of the report
    (an error), and the report is partial."""
    pytester.makepyfile(test_crash=CRASH)
    result = run_claims(pytester, "-n", "2", subprocess=True)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*crashed*"])
    (report,) = report_dirs(pytester.path / "reports")
    results = load_results(report)
    (crash,) = [c for c in results["claims"] if c["nodeid"].endswith("::test_crash")]
    assert crash["outcome"] == "failed" and crash["result"] is None
    assert "crashed while running" in crash["error"]
    assert any("crashed their worker" in r for r in results["meta"]["partial"])
    assert not (pytester.path / "reports" / "latest").exists()


FIGURES = """
import pytest
import matplotlib.pyplot as plt
from grokclaims.verdicts import decide_point


@pytest.mark.claim(id="X", statement="figures per op")
@pytest.mark.parametrize("op", ["+", "*", "/"], ids=lambda op: f"op={op}")
def test_ops(grok, op):
    fig, ax = plt.subplots()
    ax.set_title(op)
    grok.figure(fig)
    grok.conclude(decide_point("a", 1.0, 0.0, 2.0, "a in [0, 2]"))


@pytest.mark.claim(id="Y", statement="a plain name")
def test_plain(grok):
    fig, _ = plt.subplots()
    grok.figure(fig)
    grok.conclude(decide_point("a", 1.0, 0.0, 2.0, "a in [0, 2]"))
"""


def test_figures_of_ids_that_differ_only_in_dropped_characters_do_not_overwrite(pytester):
    pytester.makepyfile(test_fig=FIGURES)
    run_claims(pytester).assert_outcomes(passed=4)
    (report,) = report_dirs(pytester.path / "reports")
    files = {p.name for p in (report / "figures").glob("*.png")}
    assert len(files) == 4
    assert "Y-0.png" in files  # a name that did not collide stays as it was
    claims = {c["test_id"]: c["figures"] for c in load_results(report)["claims"]}
    names = [claims[f"X[op={op}]"][0] for op in "+*/"]
    assert len(set(names)) == 3 and all(n.startswith("figures/X_op=-0-") for n in names)
    md = (report / "REPORT.md").read_text()
    assert all(f"]({n})" in md for n in names)


SLOW = """
import time

import pytest
from grokclaims.setups.sources import ChopraSetup
from grokclaims.verdicts import decide_point

TINY = ChopraSetup(p=5, width=8, max_epochs=20, eval_every=10)


@pytest.mark.claim(id="SL1", statement="runs, then waits")
def test_slow(grok):
    grok.runs([TINY.spec(s) for s in (0, 1)])
    time.sleep(3)
    grok.conclude(decide_point("a", 1.0, 0.0, 2.0, "a in [0, 2]"))


@pytest.mark.claim(id="SL2", statement="waits")
def test_wait(grok):
    time.sleep(2)
    grok.conclude(decide_point("a", 1.0, 0.0, 2.0, "a in [0, 2]"))
"""


def test_the_session_progress_line(pytester, monkeypatch):
    monkeypatch.setenv("GROKCLAIMS_PROGRESS_SECONDS", "1")
    pytester.makepyfile(test_slow=SLOW)
    result = run_claims(pytester, "-n", "2", subprocess=True)
    result.assert_outcomes(passed=2)
    lines = [ln for ln in result.stdout.lines if "[grokclaims] session:" in ln]
    assert 2 <= len(lines) <= result.duration + 2, lines  # at most one a second
    assert any(
        "runs 2 done, 0 training, 0 waiting (2 asked for so far); claims " in ln for ln in lines
    ), lines
    assert all("claims " in ln and "/2 done;" in ln for ln in lines), lines


def test_progress_line_counts():
    from grokclaims.plugin.progress import progress_line

    line = progress_line(
        {"a": "completed", "b": "running", "c": "claimed", "d": "failed"}, 6, 1, 4, 60.0
    )
    assert line == (
        "[grokclaims] session: runs 1 done, 2 training, 3 waiting (6 asked for so far); "
        "claims 1/4 done; about 3 min left"
    )
    assert "time left unknown" in progress_line({}, 0, 0, None, 5.0)


def test_the_plan_table_starts_on_its_own_line(pytester):
    from toyclaims import PLANNED

    pytester.makepyfile(test_planned=PLANNED)
    out = run_claims(pytester, "--grok-plan").stdout.str()
    (sep,) = [ln for ln in out.splitlines() if "grokclaims plan" in ln]
    assert sep.startswith("=") and "%]" not in sep
    result = run_claims(pytester, "--grok-plan", "-n", "2", subprocess=True)
    (sep,) = [ln for ln in result.stdout.lines if "grokclaims plan" in ln]
    assert sep.startswith("=") and "%]" not in sep


def test_a_claim_whose_runs_an_earlier_row_also_needs_shows_its_own_hours(monkeypatch):
    from toyclaims import planned_specs

    import grokclaims.engine.cost
    from grokclaims.report import plan_table

    monkeypatch.setattr(grokclaims.engine.cost, "estimate_seconds", lambda spec, device: 1800.0)
    spec = planned_specs()[0]
    planned = [{"run_id": spec.run_id, "missing": True, "spec": spec.canonical()}]
    entries = [{"claim_id": c, "test_id": c, "planned": planned} for c in ("PL1", "PL2")]
    lines = plan_table(entries, device="cpu").splitlines()
    hours = {ln.split()[0]: ln.split()[-1] for ln in lines[1:4]}
    assert hours["PL1"] == "0.50"
    assert hours["PL1"] == hours["PL2"] == hours["total"]  # each row its own; total once


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_claim_session_without_grok_options_activates_when_it_collects_claims(pytester, workers):
    """No --grok-* option: the plugin wakes up on the claims it collects (an xdist controller,
    which collects nothing, on the first claim's report) and writes the usual report."""
    pytester.makepyfile(test_fig=FIGURES)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-n", workers, timeout=120
    )
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["grokclaims: scale=smoke*", "report: *REPORT.md"])
    (report,) = report_dirs(pytester.path / "reports")
    assert len(load_results(report)["claims"]) == 4
    assert (pytester.path / ".grokclaims" / "runs.sqlite").exists()
