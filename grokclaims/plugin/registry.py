"""The session's run registry: opened when a claim first asks for it, with its progress lines on
the real stderr and SIGTERM unwinding like Ctrl-C; closed at the end of the session."""

from __future__ import annotations

import logging
import sys

import pytest

from grokclaims.plugin.state import state_key
from grokclaims.store.registry import Registry

log = logging.getLogger("grokclaims")


def session_registry(config: pytest.Config) -> Registry:
    """The session's registry, opened (with the progress log and SIGTERM) on the first call."""
    state = config.stash[state_key]
    if state["registry"] is None:
        _install_progress_log(config)
        _interrupt_on_sigterm(state)
        try:
            state["registry"] = Registry(state["settings"]["store"], log=log)
        except Exception as exc:
            raise pytest.UsageError(f"--grok-store: {exc}") from None
    return state["registry"]


def _install_progress_log(config: pytest.Config) -> None:
    """Registry progress lines go to the real stderr, past pytest's capture (prefixed per worker
    by the registry), so long training is visible under xdist too. Installed when a claim first
    asks for the registry, removed at the end of the session."""
    capman = config.pluginmanager.get_plugin("capturemanager")

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            line = self.format(record) + "\n"
            if capman is not None:
                with capman.global_and_fixture_disabled():
                    sys.stderr.write(line)
                    sys.stderr.flush()
            else:
                sys.stderr.write(line)

    state = config.stash[state_key]
    if state["log_handler"] is None:
        handler = Handler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        state["log_handler"] = (handler, log.level, log.propagate)
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def _interrupt_on_sigterm(state: dict) -> None:
    """A terminated session (a CI timeout, ``kill``) unwinds like Ctrl-C, so the registry
    releases the runs this process had claimed instead of leaving them to go stale."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt("terminated (SIGTERM)")

    state["sigterm"] = signal.signal(signal.SIGTERM, interrupt)


def close_registry(state: dict) -> None:
    """Undo what :func:`session_registry` set up: the log handler, SIGTERM, the registry."""
    if state["log_handler"] is not None:
        handler, level, propagate = state["log_handler"]
        log.removeHandler(handler)
        log.setLevel(level)
        log.propagate = propagate
        state["log_handler"] = None
    if "sigterm" in state:
        import signal

        signal.signal(signal.SIGTERM, state.pop("sigterm"))
    if state["registry"] is not None:
        state["registry"].close()
        state["registry"] = None
