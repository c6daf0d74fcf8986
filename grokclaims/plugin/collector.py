"""Each claim's outcome and payload: the worker attaches it to the test report; the controller
collects it, prints the verdict as it arrives and writes the report (or the plan) at the end."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from grokclaims.plugin.state import (
    PAYLOAD_KEY,
    active_state,
    claim_key,
    fresh_line,
    state_key,
    write_line,
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Worker side: the claim's verdict decides the test's outcome (see ``Claim.conclude``) and
    its payload rides in the test report to the controller."""
    outcome = yield
    report = outcome.get_result()
    claim = item.stash.get(claim_key, None)
    if claim is None or report.when != "call":
        return
    from grokclaims.plugin.context import PlanOnly

    if call.excinfo is not None and call.excinfo.errisinstance(PlanOnly):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), (item.location[1] or 0) + 1, str(call.excinfo.value))
    elif (
        report.skipped
        and claim.result is not None
        and not hasattr(report, "wasxfail")
        and isinstance(report.longrepr, tuple)
    ):
        # inconclusive: the skip is raised inside grok.conclude; show the claim's test instead
        report.longrepr = (str(item.path), (item.location[1] or 0) + 1, report.longrepr[2])
    elif report.passed and claim.result is None:
        report.outcome = "failed"
        report.longrepr = f"{claim.claim_id}: the test ended without grok.conclude(verdict)"
    report.user_properties.append((PAYLOAD_KEY, claim.payload()))


class Collector:
    """Controller side (also without xdist): each claim's payload as its report arrives; the
    verdict printed at once; the report written at the end. Registered in every session, it
    does nothing until the plugin is active (or the first claim's report activates it)."""

    def __init__(self, config: pytest.Config):
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        payloads = [v for k, v in report.user_properties if k == PAYLOAD_KEY]
        failed_claim = report.failed and "claim" in report.keywords
        crashed = report.failed and report.when == "???"  # xdist's report of a crashed worker
        if not payloads and not failed_claim and not crashed:
            return
        state = self.config.stash[state_key]
        entry = _entry(report, payloads[0] if payloads else None)
        if crashed and not failed_claim:
            state["crashed"].append(entry)  # listed only in a session that has claims
            return
        if not state["active"]:  # an xdist controller learns here that the session has claims
            from grokclaims.plugin.activation import activate

            try:
                activate(self.config, late=True)
            except pytest.UsageError as exc:  # too late to stop: say it once, write no report
                state["settings"]["no_report"] = True
                write_line(self.config, f"[grokclaims] error: {exc}")
        state["results"].append(entry)
        _start_progress(self.config, state)
        if not state["settings"]["plan"]:
            write_line(self.config, f"[grokclaims] {entry['test_id']}: {entry['outcome_text']}")

    def pytest_runtest_logstart(self, nodeid: str, location) -> None:
        state = active_state(self.config)
        if state is not None:
            _start_progress(self.config, state)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        state = self.config.stash[state_key]
        if state["progress"] is not None:
            state["progress"].stop()
        if not state["active"]:
            return
        if state["crashed"]:
            state["results"] += state["crashed"]
            state["partial"].append(f"{len(state['crashed'])} test(s) crashed their worker")
        if exitstatus == pytest.ExitCode.INTERRUPTED or session.shouldstop or session.shouldfail:
            state["partial"].append("stopped early")
        _finish(self.config)


def _start_progress(config: pytest.Config, state: dict) -> None:
    """The session's progress line (a thread of the controller), once the session is active."""
    if state["progress"] is not None or state["settings"]["plan"]:
        return
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr is None:
        return
    from grokclaims.plugin.progress import SessionProgress

    state["progress"] = SessionProgress(
        state["settings"], state, write=lambda line: write_line(config, line)
    )
    state["progress"].start()


def _entry(report: pytest.TestReport, payload: str | None) -> dict:
    from grokclaims.report import estimate_text

    data = (
        json.loads(payload)
        if payload
        else {
            "claim_id": report.nodeid.split("::")[-1],
            "test_id": report.nodeid,
            "result": None,
            "measurements": [],
            "figures": [],
            "runs": [],
            "planned": [],
        }
    )
    data["nodeid"] = report.nodeid
    data["outcome"] = report.outcome
    data["duration"] = report.duration
    result = data.get("result")
    if result is not None:
        text = f"{result['verdict']}: {estimate_text(result)} (expected {result['tolerance']})"
        if data.get("expected"):
            text += f"; expected at this scale: {data['expected']['verdict']}"
    else:
        text = "error: " + _first_line(report.longreprtext)
        data["error"] = report.longreprtext[-4000:]
    data["outcome_text"] = text
    return data


def _first_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "no message"


def _finish(config: pytest.Config) -> None:
    from grokclaims.report import plan_table, session_meta, write_report
    from grokclaims.setups.scales import get_scale

    state = config.stash[state_key]
    s = state["settings"]
    results = state["results"]
    if not results:
        return
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if s["plan"]:
        text = plan_table(results, device=s["device"] or ("cuda" if s["n_gpus"] else "cpu"))
        if tr is not None:
            fresh_line(tr)  # not on the line of pytest's [100%]
            tr.write_sep("=", "grokclaims plan")
            tr.write_line(text)
        return
    if s["no_report"]:
        return
    meta = session_meta(
        scale=s["scale"],
        seeds=get_scale(s["scale"]).seed_list(s["seeds"]),
        seeds_by_source=get_scale(s["scale"]).own_seeds(s["seeds"]),
        device=s["device"],
        n_gpus=s["n_gpus"],
        store=s["store"],
        start=state["start"],
        end=time.time(),
    )
    meta["partial"] = list(dict.fromkeys(state["partial"]))
    if state["fill"]:
        meta["fill"] = state["fill"]
    path = write_report(Path(s["report_dir"]), results, meta)
    if tr is not None:
        fresh_line(tr)
        tr.write_sep("=", "grokclaims report")
        partial = " (partial: not a baseline for comparisons)" if meta["partial"] else ""
        tr.write_line(f"report: {path / 'REPORT.md'}{partial}")
