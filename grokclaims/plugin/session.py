"""The session: settings at configure (workers take theirs from the controller), activation,
the header line, the claim marker's check, what makes a session partial, and the teardown.

The plugin loads in every pytest session of the environment but stays inert (no header, no
report, no store, no torch) until it is *activated*: at configure when the session asks for it
(a ``--grok-*`` option, a ``grok_*`` ini key), otherwise when it collects a test with the
``claim`` marker (an xdist controller, which collects nothing, when the first claim's report
arrives; :mod:`grokclaims.plugin.collector`). Activating checks the settings (one usage error
each, :func:`~grokclaims.plugin.options.check_settings`).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from grokclaims.plugin.activation import activate, header_line
from grokclaims.plugin.options import read_settings
from grokclaims.plugin.state import active_state, is_worker, new_state, state_key

MARKER_KWARGS = {"id", "source", "statement"}


@pytest.hookimpl(tryfirst=True)  # before conftests' pytest_configure can initialise CUDA
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "claim(id, source, statement): a claim of the grokking "
        "literature tested as an experiment (grokclaims)",
    )
    if is_worker(config):
        settings = dict(config.workerinput["grokclaims"])
    else:
        settings = read_settings(config)
        # where workers say which runs they wait for (the progress line); made only if used
        settings["progress_dir"] = str(
            Path(tempfile.gettempdir()) / f"grokclaims-progress-{uuid.uuid4().hex[:12]}"
        )
    state = new_state(settings)
    config.stash[state_key] = state
    if not is_worker(config):
        from grokclaims.plugin.collector import Collector

        state["partial"] = partial_reasons(config)
        config.pluginmanager.register(Collector(config), "grokclaims-collector")
    if settings["explicit"]:
        activate(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(state_key, None)
    if state is None:
        return
    if state["progress"] is not None:
        state["progress"].stop()
    if state["active"]:
        from grokclaims.plugin.registry import close_registry

        close_registry(state)
    if not is_worker(config):
        shutil.rmtree(state["settings"]["progress_dir"], ignore_errors=True)


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = active_state(config)
    return [header_line(state["settings"])] if state is not None else []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    claims = []
    for item in items:
        for marker in item.iter_markers("claim"):
            unknown = set(marker.kwargs) - MARKER_KWARGS
            if unknown or marker.args:
                raise pytest.UsageError(
                    f"{item.nodeid}: claim marker takes only "
                    f"{sorted(MARKER_KWARGS)} as keywords; got unknown "
                    f"{sorted(unknown) or list(marker.args)}"
                )
            if "id" not in marker.kwargs or "statement" not in marker.kwargs:
                raise pytest.UsageError(f"{item.nodeid}: claim marker needs id= and statement=")
        if item.get_closest_marker("claim") is not None:
            claims.append(item.nodeid)
    state = config.stash[state_key]
    if claims:
        state["claims_total"] = len(claims)
        activate(config, late=True)
        if is_worker(config):
            from grokclaims.plugin.progress import note_collected

            note_collected(state["settings"]["progress_dir"], claims)


@pytest.hookimpl(trylast=True)  # after -k/-m and other plugins (--lf) have deselected
def pytest_deselected(items) -> None:
    if items:
        config = items[0].config
        state = config.stash.get(state_key, None)
        if state is not None and not is_worker(config) and not state["partial"]:
            state["partial"].append(f"{len(items)} tests deselected")


def partial_reasons(config: pytest.Config) -> list[str]:
    """Why this session runs only part of the claims (empty: all of them): its report is
    marked partial and never becomes the baseline of the next comparison."""
    opt = config.option
    reasons = []
    if getattr(opt, "keyword", ""):
        reasons.append(f"-k {opt.keyword}")
    if getattr(opt, "markexpr", ""):
        reasons.append(f"-m {opt.markexpr}")
    if getattr(opt, "lf", False):
        reasons.append("--last-failed")
    if getattr(opt, "stepwise", False) or getattr(opt, "stepwise_skip", False):
        reasons.append("--stepwise")
    if getattr(opt, "deselect", None):
        reasons.append("--deselect")
    base = Path(config.invocation_params.dir)
    for arg in config.args:
        path = arg.split("::")[0]
        if "::" in arg or (base / path).is_file():
            reasons.append(f"only {arg}")
    return reasons
