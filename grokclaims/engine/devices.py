"""Which GPU an xdist worker trains on, and how many CPU threads it gets.

Pure functions of counts and environment strings, so they are tested without CUDA. The plugin's
controller computes an assignment per worker (``pytest_configure_node``) and each worker sets
``CUDA_VISIBLE_DEVICES`` to it before torch initialises CUDA (:func:`pin_gpu`, which fails
loudly when something initialised CUDA first: the variable would be ignored, and every worker
would train on the first GPU); inside the worker the GPU is then ``cuda:0``.
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from collections.abc import Sequence


def visible_devices(env: dict[str, str] | None = None) -> list[str] | None:
    """The user's ``CUDA_VISIBLE_DEVICES`` as a list (None when unset; [] when set empty)."""
    env = os.environ if env is None else env
    value = env.get("CUDA_VISIBLE_DEVICES")
    if value is None:
        return None
    return [d.strip() for d in value.split(",") if d.strip()]


# Device nodes of a GPU driver (NVIDIA, AMD ROCm, WSL): without any, there is no GPU to count
# and torch (seconds to import) need not be loaded to say so.
DRIVER_PATHS = ("/dev/nvidiactl", "/proc/driver/nvidia", "/dev/kfd", "/dev/dxg")


class GpuPinningError(RuntimeError):
    """CUDA was initialised in a worker before grokclaims could give it its GPU."""


def driver_present() -> bool:
    return "torch" in sys.modules or any(os.path.exists(p) for p in DRIVER_PATHS)


def gpu_count(env: dict[str, str] | None = None) -> int:
    """GPUs this process may use, without initialising CUDA in it (NVML-based count); 0 at
    once, without importing torch, on a machine without a GPU driver."""
    if not driver_present():
        return 0
    try:
        import torch

        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # a broken driver means no GPU for us, not a crash
        return 0
    visible = visible_devices(env)
    return min(n, len(visible)) if visible is not None else n


def worker_index(worker_id: str) -> int:
    """``"gw3"`` -> 3 (xdist names workers gw0, gw1, ...; replacements get new numbers)."""
    match = re.fullmatch(r"gw(\d+)", worker_id)
    if match is None:
        raise ValueError(f"not an xdist worker id: {worker_id!r}")
    return int(match.group(1))


def assign_gpu(
    index: int, n_gpus: int, visible: list[str] | None = None, in_use: Sequence[str] = ()
) -> str | None:
    """The ``CUDA_VISIBLE_DEVICES`` value for worker ``index``: round-robin over the GPUs.

    ``visible`` is what the user already set (physical ids or UUIDs); the worker gets one entry
    of it, so ``CUDA_VISIBLE_DEVICES=3,5`` with two workers gives "3" and "5". None: no GPU.
    ``in_use`` lists the GPUs of the live workers (one entry per worker): the least used GPU
    wins, round-robin among equals. Workers started in order get plain round-robin (gw0 -> 0,
    gw1 -> 1, ...); a replacement for a crashed worker (xdist names it gw8, gw9, ...) takes the
    GPU the crashed one left instead of doubling up on ``index % n_gpus``.
    """
    if n_gpus <= 0:
        return None
    ids = visible if visible is not None else [str(i) for i in range(n_gpus)]
    ids = ids[:n_gpus]
    if not ids:
        return None
    load = Counter(in_use)
    best = min(range(len(ids)), key=lambda i: (load[ids[i]], (i - index) % len(ids)))
    return ids[best]


def pin_gpu(gpu: str, env: dict[str, str] | None = None) -> None:
    """Make ``gpu`` (a ``CUDA_VISIBLE_DEVICES`` entry) this process's only GPU, and check that
    it took: once CUDA is initialised (``torch.cuda.is_available()`` is enough, in a conftest or
    another plugin), the variable is ignored and the worker would silently use every GPU."""
    env = os.environ if env is None else env
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        raise GpuPinningError(_pinning_message(gpu, "CUDA is already initialised"))
    env["CUDA_VISIBLE_DEVICES"] = gpu
    if torch is None or not hasattr(torch._C, "_cuda_getDeviceCount"):
        return  # no CUDA build: nothing could have read the variable before us
    seen = torch._C._cuda_getDeviceCount()  # initialises the driver now, under our variable
    if seen > 1:
        raise GpuPinningError(_pinning_message(gpu, f"torch sees {seen} GPUs, not 1"))


def _pinning_message(gpu: str, what: str) -> str:
    return (
        f"grokclaims could not pin this xdist worker to GPU {gpu}: {what}. Something (a "
        "conftest or plugin calling torch.cuda.is_available() or creating a CUDA tensor) "
        "initialised CUDA before grokclaims' pytest_configure; move that call into a fixture "
        "or a test, or run without -n"
    )


def threads_per_worker(n_cores: int, n_workers: int) -> int:
    """Each worker's share of the CPU cores (at least one thread)."""
    return max(1, n_cores // max(1, n_workers))


def cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
