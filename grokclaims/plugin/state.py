"""What the plugin keeps: the session's state in ``config.stash`` and each test's claim.

Every session has a state (its settings are cheap to read); only an *active* one (it collected
a claim test, or asked for grokclaims with a ``--grok-*`` option or ``grok_*`` ini key) prints,
opens the store or writes a report (:mod:`grokclaims.plugin.session`).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

PAYLOAD_KEY = "grokclaims"  # the user property that carries a claim's payload
state_key = pytest.StashKey[dict]()
claim_key = pytest.StashKey[Any]()  # a grokclaims.plugin.context.Claim


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def new_state(settings: dict) -> dict:
    """A session's state: its settings, whether it is active, the claims' results as they
    arrive, the registry and progress log once opened, (xdist controller) the GPU of each
    worker, the tests whose worker crashed, why the session ran only part of its claims, and
    (controller) what the fill-first stage did."""
    return {
        "settings": settings,
        "active": False,
        "results": [],
        "registry": None,
        "start": time.time(),
        "log_handler": None,
        "gpus": {},
        "crashed": [],
        "partial": [],
        "claims_total": None,
        "progress": None,
        "fill": None,  # xdist controller: the fill-first stage's summary ({} if none ran)
    }


def active_state(config: pytest.Config) -> dict | None:
    """The session's state when the plugin is active, else None."""
    state = config.stash.get(state_key, None)
    return state if state is not None and state["active"] else None


def session_scale(config: pytest.Config):
    """This session's :class:`~grokclaims.setups.scales.Scale` (for ``pytest_generate_tests``)."""
    from grokclaims.setups.scales import get_scale

    return get_scale(config.stash[state_key]["settings"]["scale"])


def fresh_line(tr) -> None:
    """Start a new terminal line: ``ensure_newline`` alone misses the line of progress dots
    (and ``[100%]``) that pytest and xdist leave open."""
    tr.ensure_newline()
    if getattr(tr._tw, "width_of_current_line", 0):
        tr._tw.line()


def write_line(config: pytest.Config, line: str) -> None:
    """One line of the plugin's own on the terminal, on a line of its own (no terminal: none)."""
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        fresh_line(tr)
        tr.write_line(line)
