"""The session: settings and state at configure (workers take theirs from the controller), the
header line, the claim marker's check, and the teardown."""

from __future__ import annotations

from pathlib import Path

import pytest

from grokclaims.plugin.collector import Collector
from grokclaims.plugin.options import check_report_dir, resolve_settings
from grokclaims.plugin.registry import close_registry
from grokclaims.plugin.state import is_worker, new_state, state_key
from grokclaims.plugin.workers import configure_worker
from grokclaims.setups.scales import get_scale

MARKER_KWARGS = {"id", "source", "statement"}


@pytest.hookimpl(tryfirst=True)  # before conftests' pytest_configure can initialise CUDA
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "claim(id, source, statement): a claim of the grokking "
        "literature tested as an experiment (grokclaims)",
    )
    if is_worker(config):
        settings = configure_worker(config)
    else:
        settings = resolve_settings(config)
        if not settings["no_report"] and not settings["plan"]:
            check_report_dir(Path(settings["report_dir"]))
    config.stash[state_key] = new_state(settings)
    if not is_worker(config):
        config.pluginmanager.register(Collector(config), "grokclaims-collector")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(state_key, None)
    if state is None:
        return
    close_registry(state)


def pytest_report_header(config: pytest.Config) -> list[str]:
    s = config.stash[state_key]["settings"]
    scale = get_scale(s["scale"])
    seeds = scale.seed_list(s["seeds"])
    device = s["device"] or (f"one GPU per worker ({s['n_gpus']} GPUs)" if s["n_gpus"] else "cpu")
    return [
        f"grokclaims: scale={scale.name}, seeds={len(seeds)} {list(seeds)}, "
        f"device={device}, store={s['store']}" + (", plan only" if s["plan"] else "")
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
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
