"""The plugin's options and the settings they resolve to, once, on the controller (or the only
process): ``--grok-scale``, ``--grok-store``, ``--grok-report-dir``, ``--grok-seeds``,
``--grok-device``, ``--grok-no-report``, ``--grok-no-fill`` (each also an ini key without the
dashes, e.g. ``grok_scale``) and ``--grok-plan``.

Reading the settings (:func:`read_settings`) is cheap and touches nothing: every session does it,
claims or not. :func:`check_settings` (the report directory, the store, the device) runs only
once the plugin is active (:mod:`grokclaims.plugin.session`), and turns each problem into one
usage error before any test runs. Nothing here imports torch unless a device is asked for.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from grokclaims.arguments import positive
from grokclaims.engine import devices
from grokclaims.store.format import RegistryError, check_location, resolve_store, verify_store

# The names of grokclaims.setups.scales.SCALES, here so that registering the options imports no
# torch (tests/test_scales.py checks that the two agree).
SCALE_NAMES = ("medium", "nightly", "paper", "smoke")


OPTIONS = {  # name: (ini type, help)
    "grok_scale": (
        "string",
        "claim scale: smoke, medium, nightly or paper "
        "(default: smoke without a GPU, nightly with one)",
    ),
    "grok_store": (
        "string",
        "run registry (SQLite file); default $GROKCLAIMS_STORE or "
        ".grokclaims/runs.sqlite at the project root",
    ),
    "grok_report_dir": ("string", "where reports are written (default: reports/)"),
    "grok_seeds": ("string", "seeds per claim (overrides the scale's count)"),
    "grok_device": ("string", "training device: cpu, cuda, cuda:N or mps (default: a GPU if any)"),
    "grok_no_report": ("bool", "do not write a report"),
    "grok_no_fill": (
        "bool",
        "with -n: train each claim's runs when it runs, instead of filling every missing run "
        "first as cross-claim ensembles",
    ),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grokclaims", "grokking claims")
    group.addoption(
        "--grok-scale", choices=SCALE_NAMES, default=None, help=OPTIONS["grok_scale"][1]
    )
    group.addoption("--grok-store", default=None, metavar="PATH", help=OPTIONS["grok_store"][1])
    group.addoption(
        "--grok-report-dir", default=None, metavar="DIR", help=OPTIONS["grok_report_dir"][1]
    )
    group.addoption(
        "--grok-seeds", type=positive, default=None, metavar="N", help=OPTIONS["grok_seeds"][1]
    )
    group.addoption("--grok-device", default=None, metavar="DEV", help=OPTIONS["grok_device"][1])
    group.addoption(
        "--grok-no-report", action="store_true", default=None, help=OPTIONS["grok_no_report"][1]
    )
    group.addoption(
        "--grok-no-fill", action="store_true", default=None, help=OPTIONS["grok_no_fill"][1]
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


def explicit(config: pytest.Config) -> bool:
    """Whether the session asks for grokclaims itself: a ``--grok-*`` option on the command
    line or a ``grok_*`` ini key (in the ini file or ``-o``). Such a session is active from its
    start (header, option checks); any other only once it collects a claim test."""
    if config.getoption("grok_plan"):
        return True
    return any(
        config.getoption(name) is not None or config.getini(name) not in (None, "", [])
        for name in OPTIONS
    )


def read_settings(config: pytest.Config) -> dict:
    """Settings decided once, on the controller (or the only process), passed to workers.
    Cheap and without side effects: bad values of given options are usage errors here, the
    locations and the device are checked by :func:`check_settings`."""
    root = Path(config.rootpath)
    scale = _setting(config, "grok_scale")
    if scale is not None and scale not in SCALE_NAMES:
        raise pytest.UsageError(
            f"grok_scale: unknown scale {scale!r}; choose from {sorted(SCALE_NAMES)}"
        )
    n_gpus = devices.gpu_count()
    seeds = _setting(config, "grok_seeds")
    if seeds is not None:
        try:
            seeds = positive(str(seeds))
        except Exception as exc:
            raise pytest.UsageError(f"grok_seeds: {exc}") from None
    report_dir = _path_setting(config, "grok_report_dir") or root / "reports"
    store = resolve_store(_path_setting(config, "grok_store"), root)
    return {
        "scale": scale or ("nightly" if n_gpus else "smoke"),
        "seeds": seeds,
        "device": _setting(config, "grok_device"),
        "store": str(store),
        "report_dir": str(report_dir),
        "no_report": bool(_setting(config, "grok_no_report")),
        "no_fill": bool(_setting(config, "grok_no_fill")),
        "plan": bool(config.getoption("grok_plan")),
        "n_gpus": n_gpus,
        "explicit": explicit(config),
    }


def check_settings(settings: dict, *, collect_only: bool = False) -> None:
    """Each problem of an active session's settings as one usage error, before any test runs:
    the device, the report directory (created unless nothing will be written), the store
    (created if missing, else its header, schema and pages checked)."""
    check_device(settings["device"], settings["n_gpus"])
    if collect_only:  # collecting creates nothing: no store, no report directory
        return
    store = Path(settings["store"])
    try:
        exists = check_location(store, create=True)  # touches nothing
        if exists:
            verify_store(store)  # header, schema, quick_check
    except RegistryError as exc:
        raise pytest.UsageError(f"--grok-store: {exc}") from None
    if not settings["no_report"] and not settings["plan"]:
        check_report_dir(Path(settings["report_dir"]))
    if not exists:  # created only once everything else is known to be good
        try:
            verify_store(store)
        except RegistryError as exc:
            raise pytest.UsageError(f"--grok-store: {exc}") from None


DEVICE_FORMS = "cpu, cuda, cuda:N or mps"


def check_device(device: str | None, n_gpus: int) -> None:
    """``--grok-device``: a device this machine has (otherwise every claim would fail, one by
    one, when it first trains)."""
    if device is None or device == "cpu":
        return
    m = re.fullmatch(r"cuda(?::(\d+))?", device)
    if m is not None:
        if n_gpus == 0:
            raise pytest.UsageError(
                f"--grok-device {device}: no CUDA device is visible on this machine"
            )
        if m[1] is not None and int(m[1]) >= n_gpus:
            raise pytest.UsageError(
                f"--grok-device {device}: this machine shows {n_gpus} CUDA device(s), "
                f"cuda:0 to cuda:{n_gpus - 1}"
            )
        return
    if device == "mps":
        import torch

        if not torch.backends.mps.is_available():
            raise pytest.UsageError("--grok-device mps: MPS is not available on this machine")
        return
    raise pytest.UsageError(f"--grok-device {device}: unknown device; use {DEVICE_FORMS}")


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
