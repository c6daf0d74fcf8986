"""Fill first: an xdist session (``pytest claims -n N``) trains every missing run of the claims
it collected before any claim runs, as ``grokclaims fill`` on N local workers, then judges.

Claim by claim, a worker whose claim needs runs that another worker is training waits for them
idle, and the claims that come last train alone: the second full medium run spent 47 of its 194
worker-minutes so (docs/calibration_medium.md). The fill plans every run of every collected
claim, groups them across claims into ensembles and trains the costliest first, so every worker
stays busy; the claims then read what is stored. Their results are the same either way (the
members of an ensemble do not depend on the others it holds:
``tests/test_fill.py::test_local_fill_then_pytest_trains_nothing_and_matches_pytest_alone``).

When: the controller of an xdist session, once the first worker has collected, if that worker
collected claim tests, unless the session only plans (``--grok-plan``) or collects, asks not to
(``--grok-no-fill``), or trains on one named device (``--grok-device cuda:N`` or ``mps``: a
fill trains on all GPUs or the CPU). The workers wait meanwhile (idle; they start no claim
before the fill ends). The fill runs as a child process (``python -m grokclaims fill``, the
collected claim tests as its arguments, the session's scale, seeds, store and device); its
progress lines go to the terminal. Whatever it could not train (a failed run, a claim it could
not plan) the claims train or report as before; Ctrl-C stops it and releases its runs.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from grokclaims.plugin.progress import collected_claims
from grokclaims.plugin.state import state_key, write_line

INTERRUPT_GRACE_S = 60.0  # how long a Ctrl-C'd fill gets to stop its workers and release runs


def fill_device(device: str | None) -> tuple[str | None, str | None]:
    """(the fill's ``--device``, or None for its default; why not to fill, or None)."""
    if device in (None, "cpu", "cuda"):
        return device, None
    return None, f"--grok-device {device} names one device; a fill trains on all of them"


def fill_command(settings: dict, claim_ids: list[str], workers: int, summary: Path) -> list[str]:
    """The ``grokclaims fill`` command line for these claim tests and this session's settings."""
    cmd = [sys.executable, "-m", "grokclaims", "fill", *claim_ids]
    cmd += ["--scale", settings["scale"], "--store", settings["store"]]
    cmd += ["--executor", "local", "--workers", str(workers), "--summary-json", str(summary)]
    if settings["seeds"] is not None:
        cmd += ["--seeds", str(settings["seeds"])]
    device, _ = fill_device(settings["device"])
    if device is not None:
        cmd += ["--device", device]
    return cmd


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids: list[str]) -> None:
    """xdist controller: the first worker has collected; fill its claims' runs first."""
    config = node.config
    state = config.stash[state_key]
    if state["fill"] is not None:  # once per session (every worker collects the same tests)
        return
    state["fill"] = {}
    s = state["settings"]
    if s["plan"] or s["no_fill"] or config.option.collectonly:
        return
    claims = collected_claims(s["progress_dir"])  # read once, not once per test
    claim_ids = [i for i in ids if i in claims]
    if not claim_ids:
        return
    from grokclaims.plugin.activation import activate

    try:
        activate(config, late=True)  # its header line before the fill's output
    except pytest.UsageError as exc:  # the first claim's report would say so too: say it now
        s["no_report"] = True
        write_line(config, f"[grokclaims] error: {exc}")
        return
    _, why_not = fill_device(s["device"])
    if why_not:
        write_line(config, f"[grokclaims] claims train their own runs: {why_not}")
        return
    workers = int(node.workerinput.get("workercount") or 1)
    state["fill"] = run_fill(config, s, claim_ids, workers)


def run_fill(config: pytest.Config, settings: dict, claim_ids: list[str], workers: int) -> dict:
    """Run the fill as a child process with pytest's capture suspended; its summary."""
    write_line(
        config,
        f"[grokclaims] fill first: training the missing runs of {len(claim_ids)} claim tests "
        f"on {workers} workers before they run (--grok-no-fill: claim by claim)",
    )
    with tempfile.TemporaryDirectory(prefix="grokclaims-fill-") as tmp:
        summary = Path(tmp) / "summary.json"
        cmd = fill_command(settings, claim_ids, workers, summary)
        capman = config.pluginmanager.getplugin("capturemanager")
        suspended = capman.global_and_fixture_disabled() if capman else contextlib.nullcontext()
        start = time.monotonic()
        with suspended:
            proc = subprocess.Popen(cmd, cwd=config.rootpath)
            try:
                code = proc.wait()
            except KeyboardInterrupt:  # the fill got the same SIGINT: let it release its runs
                try:
                    proc.wait(timeout=INTERRUPT_GRACE_S)
                except (subprocess.TimeoutExpired, KeyboardInterrupt):
                    proc.kill()
                raise
        try:
            out = json.loads(summary.read_text())
        except (OSError, ValueError):
            out = {}
    out["exit_status"] = code
    out["wall_s"] = round(time.monotonic() - start, 1)  # planning included
    if code != 0:
        write_line(
            config,
            f"[grokclaims] the fill ended with status {code}; the claims train or report "
            "whatever it left",
        )
    return out
