"""The report: the changes since the previous report, ``python -m grokclaims.report diff`` and
the report directory (unique names, the ``latest`` link)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from toyclaims import load_results, report_dirs, run_claims

from grokclaims import provenance, report

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FLIP = """
import os

import pytest
from grokclaims.verdicts import decide_point


@pytest.mark.claim(id="FL1", statement="v stays below 2")
def test_flips(grok):
    v = float(os.environ["TOY_FLIP_VALUE"])
    grok.conclude(decide_point("v", v, 0.0, 2.0, "v in [0, 2]"))


@pytest.mark.claim(id="FL2", statement="w stays below 2")
def test_steady(grok):
    grok.conclude(decide_point("w", 1.0, 0.0, 2.0, "w in [0, 2]"))
"""


def _diff(old, new) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grokclaims.report", "diff", str(old), str(new)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_two_sessions_into_one_report_dir_show_the_moved_verdict(pytester, monkeypatch):
    pytester.makepyfile(test_flip=FLIP)
    monkeypatch.setenv("TOY_FLIP_VALUE", "1.0")
    run_claims(pytester).assert_outcomes(passed=2)
    monkeypatch.setenv("TOY_FLIP_VALUE", "3.0")  # at once: the same second, most likely
    run_claims(pytester).assert_outcomes(passed=1, failed=1)

    reports = pytester.path / "reports"
    old, new = report_dirs(reports)  # two reports: the second did not overwrite the first
    assert (reports / "latest").resolve() == new.resolve()
    assert load_results(new)["meta"]["previous_report"] == old.name
    md = (new / "REPORT.md").read_text()
    section = md.split("## Changes since the previous report")[1].split("\n## ")[0]
    assert f"Compared with `{old.name}`:" in section
    assert "| FL1 | supported | refuted |" in section
    assert "FL2" not in section  # unchanged

    moved = _diff(old, new)
    assert moved.returncode == 1, moved
    assert moved.stdout.splitlines() == ["FL1: supported -> refuted"]
    same = _diff(old, old)
    assert (same.returncode, same.stdout.strip()) == (
        0,
        "no verdict moved among the 2 tests of both reports",
    )
    assert _diff(old, reports / "latest").returncode == 1  # the link works as a report

    monkeypatch.setenv("TOY_FLIP_VALUE", "3.0")
    run_claims(pytester).assert_outcomes(passed=1, failed=1)
    third = report_dirs(reports)[-1]
    assert f"No verdict moved since `{new.name}` (among the tests of both)." in (
        (third / "REPORT.md").read_text()
    )


def test_a_partial_session_is_marked_and_never_becomes_the_baseline(pytester, monkeypatch):
    """A ``-k`` session writes a partial report: not ``latest``, not the next session's previous
    report, and the tests it lacks are not moved verdicts, there or in ``report diff``."""
    pytester.makepyfile(test_flip=FLIP)
    monkeypatch.setenv("TOY_FLIP_VALUE", "1.0")
    run_claims(pytester).assert_outcomes(passed=2)
    reports = pytester.path / "reports"
    (full,) = report_dirs(reports)
    monkeypatch.setenv("TOY_FLIP_VALUE", "3.0")
    part = run_claims(pytester, "-k", "steady")
    part.assert_outcomes(passed=1, deselected=1)
    part.stdout.fnmatch_lines(["report: *REPORT.md (partial: not a baseline for comparisons)"])
    partial = report_dirs(reports)[-1]
    meta = load_results(partial)["meta"]
    assert meta["partial"] == ["-k steady"]
    assert meta["previous_report"] == full.name  # compared with the full one, on FL2 only
    assert meta["only_in_previous"] == ["FL1"]
    md = (partial / "REPORT.md").read_text()
    assert "**Partial session** (-k steady)" in md
    assert "Only in the previous report (not compared): FL1." in md
    assert (reports / "latest").resolve() == full.resolve()  # not the partial one

    diff = _diff(full, partial)
    assert diff.returncode == 0, diff.stdout  # FL1 is absent, not moved
    assert f"only in {full} (not compared): FL1" in diff.stdout
    assert f"note: {partial} is a partial report" in diff.stdout

    monkeypatch.setenv("TOY_FLIP_VALUE", "1.0")
    run_claims(pytester).assert_outcomes(passed=2)
    last = report_dirs(reports)[-1]
    meta = load_results(last)["meta"]
    assert (meta["partial"], meta["previous_report"]) == ([], full.name)
    assert (meta["only_in_previous"], meta["only_in_this"]) == ([], [])
    assert (reports / "latest").resolve() == last.resolve()


def test_a_session_of_one_file_or_node_id_is_partial(pytester):
    pytester.makepyfile(test_flip=FLIP.replace('os.environ["TOY_FLIP_VALUE"]', '"1.0"'))
    run_claims(pytester, "test_flip.py::test_steady").assert_outcomes(passed=1)
    run_claims(pytester, "test_flip.py").assert_outcomes(passed=2)
    first, second = report_dirs(pytester.path / "reports")
    assert load_results(first)["meta"]["partial"] == ["only test_flip.py::test_steady"]
    assert load_results(second)["meta"]["partial"] == ["only test_flip.py"]
    assert not (pytester.path / "reports" / "latest").exists()


def test_diff_of_something_that_is_not_a_report(tmp_path):
    out = _diff(tmp_path / "nope", tmp_path)
    assert out.returncode == 2
    assert "not a grokclaims report (no results.json)" in out.stderr


def _results(verdicts: dict[str, str | None]) -> list[dict]:
    out = []
    for test_id, verdict in verdicts.items():
        result = (
            None
            if verdict is None
            else {
                "name": "x",
                "estimate": 1.0,
                "interval": [0.5, 1.5],
                "p_value": None,
                "tolerance": "x in [0, 2]",
                "verdict": verdict,
                "rule": f"{verdict}: a rule",
                "details": {},
            }
        )
        out.append(
            {
                "claim_id": test_id.split("[")[0],
                "test_id": test_id,
                "statement": "s",
                "result": result,
                "outcome": "passed",
                "measurements": [],
                "figures": [],
                "runs": [],
                "planned": [],
                "error": None if result else "Traceback: boom",
            }
        )
    return out


def _meta(scale: str = "smoke") -> dict:
    return report.session_meta(
        scale=scale,
        seeds=(0, 1, 2),
        device=None,
        n_gpus=0,
        store="/tmp/runs.sqlite",
        start=time.time() - 60,
        end=time.time(),
    )


def test_changes_compares_the_tests_of_both_and_lists_the_others_apart():
    old = {"A1": "supported", "A2": "refuted", "A3": "inconclusive"}
    new = {"A1": "refuted", "A2": "refuted", "A4": "supported"}
    assert report.changes(old, new) == [("A1", "supported", "refuted")]
    assert report.absent(old, new) == (["A3"], ["A4"])
    assert report.changes(old, dict(old)) == []


def test_reports_written_in_the_same_second_get_distinct_directories(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "git_commit", lambda cwd=None: None)
    dirs = [
        report.write_report(tmp_path, _results({"A1": v}), _meta())
        for v in ("supported", "refuted", "supported")
    ]
    assert len(set(dirs)) == 3
    assert report_dirs(tmp_path) == dirs  # name order is time order
    assert (tmp_path / "latest").resolve() == dirs[-1].resolve()
    assert [load_results(d)["meta"]["previous_report"] for d in dirs] == [
        None,
        dirs[0].name,
        dirs[1].name,
    ]
    assert [report.verdicts(d) for d in dirs] == [
        {"A1": "supported"},
        {"A1": "refuted"},
        {"A1": "supported"},
    ]


def test_the_previous_report_is_of_the_same_scale(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "git_commit", lambda cwd=None: None)
    smoke = report.write_report(tmp_path, _results({"A1": "supported"}), _meta("smoke"))
    report.write_report(tmp_path, _results({"A1": "refuted"}), _meta("nightly"))
    again = report.write_report(tmp_path, _results({"A1": "supported"}), _meta("smoke"))
    assert load_results(again)["meta"]["previous_report"] == smoke.name
    assert (
        f"No verdict moved since `{smoke.name}` (among the tests of both)."
        in (again / "REPORT.md").read_text()
    )


def test_latest_replaces_a_copy_made_without_symlinks(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "git_commit", lambda cwd=None: None)
    (tmp_path / "latest").mkdir()
    (tmp_path / "latest" / "REPORT.md").write_text("old copy")
    out = report.write_report(tmp_path, _results({"A1": "supported"}), _meta())
    assert (tmp_path / "latest").is_symlink()
    assert (tmp_path / "latest" / "REPORT.md").read_text() == (out / "REPORT.md").read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_report_of_errors_and_verdicts(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "git_commit", lambda cwd=None: "abc123")
    results = _results({"B2": "refuted", "A1[p=5]": "supported", "B1": None})
    results[0]["runs"] = [{"run_id": "r1", "trained": True}, {"run_id": "r2", "trained": False}]
    results[1]["runs"] = [{"run_id": "r2", "trained": False}]
    out = report.write_report(tmp_path, results, _meta())
    data = load_results(out)
    assert [c["test_id"] for c in data["claims"]] == ["A1[p=5]", "B1", "B2"]  # claim order
    assert (data["meta"]["runs"], data["meta"]["trained"], data["meta"]["reused"]) == (2, 1, 1)
    md = (out / "REPORT.md").read_text()
    assert "| git commit | `abc123` |" in md
    assert "| runs | 2 used: 1 trained in this session, 1 reused from the registry |" in md
    assert "| [B1](#b1) | s | 💥 error | n/a |" in md
    assert "Traceback: boom" in md
    assert "| [B2](#b2) | s | ❌ refuted | x = 1 [0.5, 1.5] | x in [0, 2] |" in md


def test_record_parts_lists_each_part_of_a_conjunction_with_its_verdict_and_rule():
    from grokclaims.plugin.context import Claim
    from grokclaims.setups.scales import SCALES
    from grokclaims.verdicts import decide_all, decide_interval

    claim = Claim(
        claim_id="X",
        test_id="X",
        statement="",
        source="",
        quote="",
        scale=SCALES["smoke"],
        seeds=(0,),
        device=None,
        registry=None,
    )
    claim.record_parts(
        {
            "ratio": decide_interval("r", 4.0, (3.5, float("inf")), 3, 10, "3-10"),
            "all": decide_all("share", [True, False]),
        }
    )
    ratio, share = claim.measurements
    assert ratio["name"] == "[inconclusive] ratio: r"
    assert (ratio["value"], ratio["interval"]) == (4.0, [3.5, "inf"])
    assert ratio["note"].startswith("inconclusive: the interval [3.5, inf] straddles")
    assert share["name"] == "[refuted] all: share" and share["note"].startswith("refuted: 1 of 2")


def test_verdicts_are_counted_per_test_case_and_once_per_claim(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "git_commit", lambda cwd=None: "abc123")
    results = _results(
        {
            "SY6[p=23]": "supported",
            "SY6[p=29]": "supported",
            "SY10[alpha=0.8]": "supported",
            "SY10": "inconclusive",
            "CH3[sweep]": "supported",
            "CH3[wd=0]": "refuted",
            "BR1": None,
        }
    )
    from grokclaims.report.render import verdict_counts

    tests, claims, per = verdict_counts(results)
    assert (tests["supported"], tests["refuted"], tests["inconclusive"], tests["error"]) == (
        4,
        1,
        1,
        1,
    )
    # SY6: all cases supported; SY10: one inconclusive case; CH3: one refuted case
    assert per == {"SY6": "supported", "SY10": "inconclusive", "CH3": "refuted", "BR1": "error"}
    assert (claims["supported"], claims["refuted"], claims["inconclusive"]) == (1, 1, 1)
    md = (report.write_report(tmp_path, results, _meta()) / "REPORT.md").read_text()
    assert "| test cases | 4 | 1 | 1 | 1 | 7 |" in md
    assert "| claims | 1 | 1 | 1 | 1 | 4 |" in md
    assert "refuted if any of its cases is refuted" in md


def test_a_claim_is_supported_only_if_every_case_is():
    from grokclaims.report.render import claim_verdict

    assert claim_verdict(["supported", "supported"]) == "supported"
    assert claim_verdict(["supported", "inconclusive"]) == "inconclusive"
    assert claim_verdict(["supported", "error", "inconclusive"]) == "error"
    assert claim_verdict(["error", "refuted"]) == "refuted"


def test_the_header_lists_a_source_whose_seeds_differ_from_the_scale(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "git_commit", lambda cwd=None: None)
    from grokclaims.setups.scales import MEDIUM

    meta = report.session_meta(
        scale="medium",
        seeds=MEDIUM.seed_list(),
        seeds_by_source=MEDIUM.own_seeds(),
        device=None,
        n_gpus=0,
        store="/tmp/runs.sqlite",
        start=time.time() - 60,
        end=time.time(),
    )
    assert meta["seeds"] == [0, 1, 2, 3, 4]
    assert meta["seeds_by_source"] == {"ch": list(range(14))}
    text = report.write_report(tmp_path, _results({"A1": "supported"}), meta) / "REPORT.md"
    assert "| seeds | 5: 0, 1, 2, 3, 4; Chopra claims: 14: 0-13 |" in text.read_text()
    assert "seeds_by_source" not in _meta()  # a plain list: one number for every claim
