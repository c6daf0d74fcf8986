"""xdist: ``--dist loadgroup`` (and ``--max-worker-restart 0``) by default, one GPU per worker
(handed out by the controller, taken by the worker before any claim runs, and verified), each
worker's share of the CPU threads, and ``-n auto`` as one worker per GPU (or per core)."""

from __future__ import annotations

import pytest

from grokclaims.engine import devices
from grokclaims.plugin.state import state_key


def activate_worker(config: pytest.Config) -> None:
    """An active xdist worker: its GPU (set before torch initialises CUDA, and verified), and
    its share of the CPU threads either way (a GPU worker still runs data and statistics on
    the CPU, and eight workers of all cores each would oversubscribe the machine)."""
    gpu = config.workerinput.get("grokclaims_gpu")
    if gpu is not None:
        devices.pin_gpu(gpu)
    import torch

    count = config.workerinput.get("workercount", 1)
    torch.set_num_threads(devices.threads_per_worker(devices.cpu_cores(), count))


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """With ``-n``, distribute by ``xdist_group`` (``--dist loadgroup``) unless the user chose a
    mode: claims sharing one set of runs carry the same group, so they run on one worker, one
    after another, instead of one worker training while the others wait for its runs.

    With it, ``--max-worker-restart 0`` unless the user chose a number: under loadgroup
    pytest-xdist 3.8 hangs forever once a worker dies (the kernel's out-of-memory killer), so a
    crash ends the session instead; the crashed test is an error row of the report, which is
    marked partial."""
    option = config.option
    if (
        getattr(option, "numprocesses", None)
        and getattr(option, "dist", None) == "no"
        and not getattr(option, "distload", False)
    ):
        option.dist = "loadgroup"
        if getattr(option, "maxworkerrestart", "absent") is None:
            option.maxworkerrestart = "0"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist controller: one GPU per worker, inside any CUDA_VISIBLE_DEVICES the user set."""
    state = node.config.stash[state_key]
    settings = state["settings"]
    node.workerinput["grokclaims"] = settings
    index = devices.worker_index(node.gateway.id)
    gpu = devices.assign_gpu(
        index, settings["n_gpus"], devices.visible_devices(), in_use=list(state["gpus"].values())
    )
    node.workerinput["grokclaims_gpu"] = gpu
    if gpu is not None:
        state["gpus"][node.gateway.id] = gpu


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """xdist controller: a worker that ended (or crashed) frees its GPU for its replacement."""
    state = node.config.stash.get(state_key, None)
    if state is not None:
        state["gpus"].pop(node.gateway.id, None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker per GPU, or per CPU core without GPUs."""
    return devices.gpu_count() or devices.cpu_cores()
