"""The plugin's options and the settings they resolve to, once, on the controller (or the only
process): ``--grok-scale``, ``--grok-store``, ``--grok-report-dir``, ``--grok-seeds``,
``--grok-device``, ``--grok-no-report`` (each also an ini key without the dashes, e.g.
``grok_scale``) and ``--grok-plan``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grokclaims.engine import devices
from grokclaims.setups.scales import SCALES
from grokclaims.store.format import ENV_STORE, RegistryError, check_location, resolve_store


def _positive_int(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


OPTIONS = {  # name: (ini type, help)
    "grok_scale": (
        "string",
        "claim scale: smoke, nightly or paper (default: smoke without a GPU, nightly with one)",
    ),
    "grok_store": (
        "string",
        "run registry (SQLite file); default $GROKCLAIMS_STORE or "
        ".grokclaims/runs.sqlite at the project root",
    ),
    "grok_report_dir": ("string", "where reports are written (default: reports/)"),
    "grok_seeds": ("string", "seeds per claim (overrides the scale's count)"),
    "grok_device": ("string", "training device: cpu, cuda, cuda:N (default: a GPU if any)"),
    "grok_no_report": ("bool", "do not write a report"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grokclaims", "grokking claims")
    group.addoption(
        "--grok-scale", choices=sorted(SCALES), default=None, help=OPTIONS["grok_scale"][1]
    )
    group.addoption("--grok-store", default=None, metavar="PATH", help=OPTIONS["grok_store"][1])
    group.addoption(
        "--grok-report-dir", default=None, metavar="DIR", help=OPTIONS["grok_report_dir"][1]
    )
    group.addoption(
        "--grok-seeds", type=_positive_int, default=None, metavar="N", help=OPTIONS["grok_seeds"][1]
    )
    group.addoption("--grok-device", default=None, metavar="DEV", help=OPTIONS["grok_device"][1])
    group.addoption(
        "--grok-no-report", action="store_true", default=None, help=OPTIONS["grok_no_report"][1]
    )
    group.addoption(
        "--grok-plan",
        action="store_true",
        default=False,
        help="list each claim's runs, how many are stored, and the estimated "
        "compute, without training",
    )
    for name, (kind, help_) in OPTIONS.items():
        parser.addini(name, help_, type=kind, default=None)


def _setting(config: pytest.Config, name: str):
    value = config.getoption(name)
    if value is None:
        value = config.getini(name)
    return value if value not in ("", []) else None


def _path_setting(config: pytest.Config, name: str) -> Path | None:
    """A path option: on the command line relative to where pytest was started, as typed; in
    the ini file relative to that file's directory (the rootdir without one)."""
    value = config.getoption(name)
    if value not in (None, ""):
        return Path(config.invocation_params.dir) / Path(value).expanduser()
    value = config.getini(name)
    if value in (None, ""):
        return None
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    return Path(base) / Path(value).expanduser()


def resolve_settings(config: pytest.Config) -> dict:
    """Settings decided once, on the controller (or the only process), passed to workers."""
    root = Path(config.rootpath)
    scale = _setting(config, "grok_scale")
    if scale is not None and scale not in SCALES:
        raise pytest.UsageError(
            f"grok_scale: unknown scale {scale!r}; choose from {sorted(SCALES)}"
        )
    n_gpus = devices.gpu_count()
    seeds = _setting(config, "grok_seeds")
    if seeds is not None:
        try:
            seeds = _positive_int(str(seeds))
        except Exception as exc:
            raise pytest.UsageError(f"grok_seeds: {exc}") from None
    report_dir = _path_setting(config, "grok_report_dir") or root / "reports"
    store_setting = _path_setting(config, "grok_store")
    store = resolve_store(store_setting, root)
    if store_setting is not None or os.environ.get(ENV_STORE):
        # A store the user named must be usable before any claim runs (touches nothing; the
        # default one is only checked when a claim opens it, so harness-only sessions don't).
        try:
            check_location(store, create=True)
        except RegistryError as exc:
            raise pytest.UsageError(f"--grok-store: {exc}") from None
    return {
        "scale": scale or ("nightly" if n_gpus else "smoke"),
        "seeds": seeds,
        "device": _setting(config, "grok_device"),
        "store": str(store),
        "report_dir": str(report_dir),
        "no_report": bool(_setting(config, "grok_no_report")),
        "plan": bool(config.getoption("grok_plan")),
        "n_gpus": n_gpus,
    }


def check_report_dir(path: Path) -> None:
    """Stop the session before any claim runs if the report cannot be written."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise pytest.UsageError(
            f"--grok-report-dir {path}: not writable ({exc.strerror or exc})"
        ) from None
