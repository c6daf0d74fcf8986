"""Activating the plugin in a process (once): until then it is inert (see
:mod:`grokclaims.plugin.session`); the header line it prints."""

from __future__ import annotations

import pytest

from grokclaims.plugin.options import check_settings
from grokclaims.plugin.state import fresh_line, is_worker, state_key
from grokclaims.plugin.workers import activate_worker


def activate(config: pytest.Config, *, late: bool = False) -> dict:
    """Make the plugin active in this process (once): a worker takes its GPU and threads; the
    controller checks the settings (usage errors) and, when ``late`` (it is active only from
    collection on), prints the header line it could not print at the start."""
    state = config.stash[state_key]
    if state["active"]:
        return state
    state["active"] = True
    if is_worker(config):
        activate_worker(config)
        return state
    check_settings(state["settings"], collect_only=bool(config.option.collectonly))
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if late and tr is not None:
        fresh_line(tr)
        tr.write_line(header_line(state["settings"]))
    return state


def header_line(s: dict) -> str:
    from grokclaims.report.render import SOURCE_NAMES
    from grokclaims.setups.scales import get_scale

    scale = get_scale(s["scale"])
    seeds = scale.seed_list(s["seeds"])
    own = scale.own_seeds(s["seeds"])
    extra = "".join(f" ({SOURCE_NAMES[src]}: {len(v)})" for src, v in own.items())
    device = s["device"] or (f"one GPU per worker ({s['n_gpus']} GPUs)" if s["n_gpus"] else "cpu")
    return (
        f"grokclaims: scale={scale.name}, seeds={len(seeds)} {list(seeds)}{extra}, "
        f"device={device}, store={s['store']}" + (", plan only" if s["plan"] else "")
    )
