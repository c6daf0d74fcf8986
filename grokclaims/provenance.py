"""Provenance: where, when and with what something was computed.

One source for the run store (each trained run's provenance, :func:`run_provenance`) and the
report (its header): the git commit of the checkout the package runs from, with ``+dirty`` when
its tracked files have uncommitted changes; the package, science, torch and python versions; the
host; the device's name. Nothing here is a reason to fail: what cannot be found is None.

The bottom layer: imports nothing of grokclaims but its versions (torch only when asked).
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from grokclaims import __version__

__all__ = [
    "device_name",
    "git_commit",
    "host",
    "python_version",
    "run_provenance",
    "science_version",
    "torch_version",
    "utc_now",
]


def science_version() -> int:
    from grokclaims import SCIENCE_VERSION  # at call time, as RunSpec.run_id reads it

    return SCIENCE_VERSION


def torch_version() -> str:
    import torch

    return torch.__version__


def python_version() -> str:
    return sys.version.split()[0]


def host() -> str:
    return socket.gethostname()


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def git_commit(cwd: Path | None = None) -> str | None:
    """HEAD of the checkout at ``cwd`` (default: the one the package runs from), ``+dirty``
    when tracked files differ from it; None outside git (never an error)."""
    # GIT_OPTIONAL_LOCKS=0: `git status` must not take index.lock (it would refresh the index),
    # which could make a commit running at the same time in the checkout fail.
    run = dict(
        capture_output=True,
        text=True,
        cwd=cwd or Path(__file__).parent,
        timeout=5,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
    )
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], **run)
        if out.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], **run)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


@functools.cache
def device_name(device: str) -> str:
    """The GPU's name for a CUDA device, else the CPU's model name."""
    if device.startswith("cuda"):
        try:
            import torch

            return torch.cuda.get_device_name(torch.device(device))
        except Exception:  # a name is provenance, never a reason to fail a run
            return device
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def run_provenance(device: str, **fields: Any) -> dict[str, Any]:
    """Where and with what a run was computed on ``device``; ``fields`` (times, wall time,
    ensemble size) follow the environment's."""
    return {
        "package_version": __version__,
        "science_version": science_version(),
        "git_commit": git_commit(),
        "torch_version": torch_version(),
        "device": device,
        "device_name": device_name(device),
        "host": host(),
        "pid": os.getpid(),
        "worker": os.environ.get("PYTEST_XDIST_WORKER"),
        **fields,
    }
