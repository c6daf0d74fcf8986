"""What the plugin keeps: the session's state in ``config.stash`` and each test's claim."""

from __future__ import annotations

import time

import pytest

from grokclaims.plugin.context import Claim
from grokclaims.setups.scales import get_scale

state_key = pytest.StashKey[dict]()
claim_key = pytest.StashKey[Claim]()


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def new_state(settings: dict) -> dict:
    """A session's state: its settings, the claims' results as they arrive, the registry and
    progress log once opened, and (xdist controller) the GPU of each worker."""
    return {
        "settings": settings,
        "results": [],
        "registry": None,
        "start": time.time(),
        "log_handler": None,
        "gpus": {},
    }


def session_scale(config: pytest.Config):
    """This session's :class:`~grokclaims.setups.scales.Scale` (for ``pytest_generate_tests``)."""
    return get_scale(config.stash[state_key]["settings"]["scale"])
