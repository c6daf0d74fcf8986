"""The fill-first stage of an xdist session (grokclaims.plugin.fill_first): ``pytest -n 2``
trains every missing run of the collected claims as ``grokclaims fill`` does before any claim
runs; the claims then train nothing and decide as they would claim by claim."""

from __future__ import annotations

import sys
from pathlib import Path

from toyclaims import PLANNED, load_results, plan_totals, report_dirs, run_claims

from grokclaims.plugin.fill_first import fill_command, fill_device


def _session(pytester, name: str, *extra: str, store: str = "runs.sqlite"):
    result = run_claims(
        pytester,
        "-n",
        "2",
        *extra,
        subprocess=True,
        report_dir=pytester.path / name,
        store=pytester.path / store,
    )
    result.assert_outcomes(passed=2)
    (report,) = report_dirs(pytester.path / name)
    return result, load_results(report), (report / "REPORT.md").read_text()


def _values(results: dict) -> dict:
    return {
        c["test_id"]: {m["name"]: m["value"] for m in c["measurements"]}
        | {"estimate": c["result"]["estimate"]}
        for c in results["claims"]
    }


def test_an_xdist_session_fills_first_then_judges_as_claim_by_claim(pytester):
    pytester.makepyfile(test_planned=PLANNED)
    out, results, md = _session(pytester, "filled")
    out.stdout.fnmatch_lines(
        ["*fill first: training the missing runs of 2 claim tests on 2 workers*"]
    )
    out.stderr.fnmatch_lines(["*6 runs wanted, 0 stored, 6 to train*"])  # the fill's log
    filled = _values(results)
    # the claims found every run stored: none trained its own
    assert {t: v["trained"] for t, v in filled.items()} == {"PL1": 0, "PL2": 0}
    meta = results["meta"]
    assert meta["fill"]["trained"] == 6 and meta["fill"]["exit_status"] == 0
    assert (meta["runs"], meta["trained"], meta["reused"]) == (6, 6, 0)
    assert "6 used: 6 trained in this session (6 of them by its fill-first stage" in md

    # the same claims trained claim by claim, on a store of their own: the same numbers
    out, results, md = _session(pytester, "own", "--grok-no-fill", store="own.sqlite")
    assert "fill first" not in out.stdout.str()
    own = _values(results)
    assert sum(v.pop("trained") for v in own.values()) == 6
    assert own == {t: {k: v for k, v in d.items() if k != "trained"} for t, d in filled.items()}
    assert "fill" not in results["meta"] and results["meta"]["trained"] == 6
    assert "fill-first" not in md

    # warm: the fill finds nothing to train, and says so in the report
    out, results, md = _session(pytester, "warm")
    out.stderr.fnmatch_lines(["*6 runs wanted, 6 stored, 0 to train*"])
    meta = results["meta"]
    assert meta["fill"]["trained"] == 0
    assert (meta["runs"], meta["trained"], meta["reused"]) == (6, 0, 6)


def test_a_plan_session_does_not_fill(pytester):
    pytester.makepyfile(test_planned=PLANNED)
    result = run_claims(pytester, "--grok-plan", "-n", "2", subprocess=True)
    assert "fill first" not in result.stdout.str()
    assert plan_totals(result.stdout.str()) == (6, 0, 6)  # planned only: nothing trained


def test_the_fill_command_carries_the_session_settings():
    settings = {"scale": "medium", "store": "/s/runs.sqlite", "seeds": 7, "device": "cpu"}
    ids = ["claims/test_a.py::test_x[op=*]", "claims/test_b.py::test_y"]
    cmd = fill_command(settings, ids, 2, Path("/t/summary.json"))
    assert cmd[:4] == [sys.executable, "-m", "grokclaims", "fill"]
    assert cmd[4:6] == ids
    rest = cmd[6:]
    for flag, value in [
        ("--scale", "medium"),
        ("--store", "/s/runs.sqlite"),
        ("--workers", "2"),
        ("--seeds", "7"),
        ("--device", "cpu"),
        ("--executor", "local"),
        ("--summary-json", "/t/summary.json"),
    ]:
        assert rest[rest.index(flag) + 1] == value
    default = fill_command(settings | {"seeds": None, "device": None}, ids, 8, Path("s"))
    assert "--seeds" not in default and "--device" not in default  # the fill's own defaults


def test_a_session_on_one_named_device_trains_claim_by_claim():
    assert fill_device(None) == (None, None)
    assert fill_device("cuda") == ("cuda", None)
    assert fill_device("cpu") == ("cpu", None)
    for one in ("cuda:1", "mps"):
        device, why = fill_device(one)
        assert device is None and one in why
