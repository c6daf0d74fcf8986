"""Which runs the selected claims need: a ``--grok-plan`` pytest session in this process, with
a small plugin of our own that keeps each claim's planned specs.

The plan mode (:class:`grokclaims.plugin.context.Claim` with ``plan=True``) stops each claim at
its one ``grok.runs(...)`` call and puts the specs, as canonical JSON, into the claim's payload;
the payload rides in the test report, which is what we read here: the same collection as
``pytest claims --grok-plan``, with the same options (scale, seeds, ``-k``, paths).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grokclaims.plugin.context import PAYLOAD_KEY
from grokclaims.spec.run import RunSpec


@dataclass
class Collected:
    specs: list[RunSpec] = field(default_factory=list)  # distinct, in the order claims ask
    tests: int = 0  # claim tests that planned runs
    by_test: dict[str, list[str]] = field(default_factory=dict)  # test -> its run ids, in order
    errors: list[str] = field(default_factory=list)  # tests or files that could not plan
    exit_code: int = 0


class _PlanReader:
    """The pytest plugin object: reads the planned specs from each claim's payload."""

    def __init__(self) -> None:
        self.canonical: dict[str, dict] = {}
        self.by_test: dict[str, list[str]] = {}
        self.tests = 0
        self.errors: list[str] = []
        self.interrupted = False

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        # pytest ends a session with collection errors by a KeyboardInterrupt subclass too
        # (exit status 2 either way): only a real Ctrl-C counts.
        self.interrupted = not isinstance(excinfo.value, pytest.Session.Interrupted)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        payloads = [json.loads(v) for k, v in report.user_properties if k == PAYLOAD_KEY]
        if report.when == "call" and payloads:
            planned = payloads[0].get("planned") or []
            self.tests += bool(planned)
            if planned:
                self.by_test[report.nodeid] = [p["run_id"] for p in planned]
            for p in planned:
                self.canonical.setdefault(p["run_id"], p["spec"])
            if not planned and report.failed and payloads[0].get("result") is None:
                self.errors.append(f"{report.nodeid}: {_last_line(report.longreprtext)}")
        elif report.failed and not payloads:
            self.errors.append(
                f"{report.nodeid} ({report.when}): {_last_line(report.longreprtext)}"
            )

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report, config):
        """No progress letter per test (every planned claim is a skip): the plan table and the
        errors read here are this session's output."""
        return report.outcome, "", ""

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(
                f"{report.nodeid or 'collection'}: {_last_line(report.longreprtext)}"
            )


def collect(
    paths: Sequence[str],
    *,
    scale: str,
    store: Path,
    seeds: int | None = None,
    keyword: str | None = None,
    quiet: bool = True,
) -> Collected:
    """Plan the claims under ``paths`` at ``scale`` (against ``store``: unchanged)."""
    args = [
        *paths,
        "--grok-plan",
        "--grok-scale",
        scale,
        "--grok-store",
        str(store),
        "-p",
        "no:cacheprovider",
    ]
    if seeds is not None:
        args += ["--grok-seeds", str(seeds)]
    if keyword:
        args += ["-k", keyword]
    if quiet:
        args += ["-qq", "--no-header", "--disable-warnings", "-o", "console_output_style=classic"]
    reader = _PlanReader()
    code = pytest.main(args, plugins=[reader])
    if reader.interrupted:  # Ctrl-C while planning: no partial fill
        raise KeyboardInterrupt("interrupted while planning")
    out = Collected(
        tests=reader.tests, by_test=reader.by_test, errors=reader.errors, exit_code=int(code)
    )
    for run_id, canonical in reader.canonical.items():
        spec = RunSpec.from_canonical(canonical)
        if spec.run_id != run_id:
            raise RuntimeError(
                f"run {run_id}: its planned spec gives run id {spec.run_id}; the plan and this "
                "process disagree on the science version"
            )
        out.specs.append(spec)
    if code not in (0, 5) and not out.errors and not out.specs:
        out.errors.append(f"the plan session ended with pytest exit status {int(code)}")
    return out


def _last_line(text: str) -> str:
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "no message"
