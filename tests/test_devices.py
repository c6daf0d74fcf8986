"""One GPU per xdist worker, simulated (no CUDA here): the pure assignment, the controller's
``pytest_configure_node`` on fake nodes and the worker's ``pytest_configure`` (a real xdist
session on simulated GPUs, with a worker that crashes: test_plugin.py).

The behaviour: round-robin over the GPUs (or over the user's ``CUDA_VISIBLE_DEVICES``), so 8
workers on 8 GPUs get one each and 4 workers on 2 GPUs get 0, 1, 0, 1; a replacement worker
(xdist names it gw8, gw9, ...) takes the least used GPU, which is the one the crashed worker
left (without that knowledge: its index modulo the GPU count).
"""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch

from grokclaims import plugin
from grokclaims.engine import devices
from grokclaims.plugin.state import new_state, state_key


def test_visible_devices_parses_the_users_list():
    assert devices.visible_devices({}) is None
    assert devices.visible_devices({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert devices.visible_devices({"CUDA_VISIBLE_DEVICES": "3,5"}) == ["3", "5"]
    assert devices.visible_devices({"CUDA_VISIBLE_DEVICES": " 3 , 5 ,"}) == ["3", "5"]
    uuid = "GPU-8a1b2c3d-0000-1111-2222-333344445555"
    assert devices.visible_devices({"CUDA_VISIBLE_DEVICES": uuid}) == [uuid]


@pytest.mark.parametrize(
    "env, count", [({}, 8), ({"CUDA_VISIBLE_DEVICES": "3,5"}, 2), ({"CUDA_VISIBLE_DEVICES": ""}, 0)]
)
def test_gpu_count_is_bounded_by_the_visible_devices(monkeypatch, env, count):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 8)
    assert devices.gpu_count(env) == count


def test_gpu_count_is_zero_without_cuda_or_with_a_broken_driver(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert devices.gpu_count({}) == 0

    def broken():
        raise RuntimeError("CUDA driver version is insufficient")

    monkeypatch.setattr(torch.cuda, "is_available", broken)
    assert devices.gpu_count({}) == 0


def test_worker_index():
    assert [devices.worker_index(f"gw{i}") for i in (0, 3, 12)] == [0, 3, 12]
    for bad in ("master", "gw", "gw-1", "3"):
        with pytest.raises(ValueError, match="not an xdist worker id"):
            devices.worker_index(bad)


def test_eight_workers_on_eight_gpus_get_one_each():
    assert [devices.assign_gpu(i, 8) for i in range(8)] == [str(i) for i in range(8)]


def test_four_workers_on_two_gpus_share_them_round_robin():
    assert [devices.assign_gpu(i, 2) for i in range(4)] == ["0", "1", "0", "1"]


def test_the_users_visible_devices_are_handed_out():
    assert [devices.assign_gpu(i, 2, ["3", "5"]) for i in range(3)] == ["3", "5", "3"]
    # more ids than GPUs (CUDA ignores those past the last usable one): the first ones
    assert [devices.assign_gpu(i, 2, ["3", "5", "6"]) for i in range(3)] == ["3", "5", "3"]


def test_no_gpu():
    assert devices.assign_gpu(0, 0) is None
    assert devices.assign_gpu(3, 2, []) is None  # CUDA_VISIBLE_DEVICES="" hides them all


def test_a_replacement_worker_gets_a_gpu_again():
    # without knowing who is alive: its index modulo the GPU count
    assert devices.assign_gpu(8, 8) == "0"
    assert devices.assign_gpu(9, 2, ["3", "5"]) == "5"
    # gw3 crashed, its replacement gw8 takes GPU 3, not GPU 0 which gw0 still uses
    alive = [str(i) for i in range(8) if i != 3]
    assert devices.assign_gpu(8, 8, in_use=alive) == "3"
    assert devices.assign_gpu(4, 2, ["3", "5"], in_use=["3", "5", "5"]) == "3"


@pytest.mark.parametrize(
    "cores, workers, threads", [(16, 8, 2), (16, 3, 5), (2, 4, 1), (2, 2, 1), (1, 1, 1), (8, 0, 8)]
)
def test_threads_per_worker(cores, workers, threads):
    assert devices.threads_per_worker(cores, workers) == threads


# -- the controller's hook, with fake xdist nodes -----------------------------------------------


def _controller(n_gpus: int):
    config = SimpleNamespace(stash=pytest.Stash())
    settings = {
        "scale": "smoke",
        "seeds": None,
        "device": None,
        "store": "/tmp/x.sqlite",
        "report_dir": "/tmp/reports",
        "no_report": False,
        "plan": False,
        "n_gpus": n_gpus,
        "explicit": True,
        "progress_dir": "/tmp/grokclaims-progress-test",
    }
    config.stash[state_key] = new_state(settings)
    return config


def _start(config, worker_id: str):
    node = SimpleNamespace(
        config=config, workerinput={"workerid": worker_id}, gateway=SimpleNamespace(id=worker_id)
    )
    plugin.pytest_configure_node(node)
    return node


def _gpus(config, n_workers: int) -> list[str | None]:
    return [_start(config, f"gw{i}").workerinput["grokclaims_gpu"] for i in range(n_workers)]


def test_configure_node_gives_eight_workers_eight_gpus(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    config = _controller(8)
    node = _start(config, "gw0")
    assert node.workerinput["grokclaims"] == config.stash[state_key]["settings"]
    assert node.workerinput["grokclaims_gpu"] == "0"
    assert [_start(config, f"gw{i}").workerinput["grokclaims_gpu"] for i in range(1, 8)] == [
        str(i) for i in range(1, 8)
    ]


def test_configure_node_shares_two_gpus_among_four_workers(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert _gpus(_controller(2), 4) == ["0", "1", "0", "1"]


def test_configure_node_honours_the_users_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    assert _gpus(_controller(2), 2) == ["3", "5"]


def test_configure_node_without_gpus(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert _gpus(_controller(0), 2) == [None, None]


def test_a_crashed_workers_replacement_takes_its_gpu(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    config = _controller(8)
    nodes = [_start(config, f"gw{i}") for i in range(8)]
    plugin.pytest_testnodedown(nodes[3], error="worker 'gw3' crashed")
    assert _start(config, "gw8").workerinput["grokclaims_gpu"] == "3"
    plugin.pytest_testnodedown(nodes[5], error="crashed")
    plugin.pytest_testnodedown(nodes[6], error="crashed")
    assert _start(config, "gw9").workerinput["grokclaims_gpu"] == "5"
    assert _start(config, "gw10").workerinput["grokclaims_gpu"] == "6"


def test_a_replacement_that_the_controller_never_saw_go_down_still_gets_a_gpu(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    config = _controller(2)
    _start(config, "gw0")
    assert _start(config, "gw8").workerinput["grokclaims_gpu"] == "5"  # 8 % 2 -> "5"


def test_auto_workers_one_per_gpu_or_per_core(monkeypatch):
    monkeypatch.setattr(devices, "gpu_count", lambda env=None: 8)
    assert plugin.pytest_xdist_auto_num_workers(None) == 8
    monkeypatch.setattr(devices, "gpu_count", lambda env=None: 0)
    monkeypatch.setattr(devices, "cpu_cores", lambda: 6)
    assert plugin.pytest_xdist_auto_num_workers(None) == 6


# -- the worker's pytest_configure, with a fake worker config -----------------------------------


def _worker_config(**workerinput):
    settings = _controller(2).stash[state_key]["settings"]
    return SimpleNamespace(
        workerinput={"grokclaims": settings, **workerinput},
        stash=pytest.Stash(),
        addinivalue_line=lambda name, line: None,
    )


def test_a_worker_sees_only_its_gpu(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")  # restored after the test
    config = _worker_config(grokclaims_gpu="5", workerid="gw1", workercount=2)
    plugin.pytest_configure(config)
    try:
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "5"
        assert config.stash[state_key]["settings"]["n_gpus"] == 2
    finally:
        plugin.pytest_unconfigure(config)


def test_a_worker_without_gpu_gets_its_share_of_the_cores(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(devices, "cpu_cores", lambda: 16)
    threads = []
    monkeypatch.setattr(torch, "set_num_threads", threads.append)
    config = _worker_config(grokclaims_gpu=None, workerid="gw0", workercount=4)
    plugin.pytest_configure(config)
    plugin.pytest_unconfigure(config)
    assert threads == [4]
    assert "CUDA_VISIBLE_DEVICES" not in os.environ


def test_the_worker_hook_runs_before_other_plugins_can_initialise_cuda():
    assert plugin.pytest_configure.pytest_impl["tryfirst"]


# -- pinning that cannot be silently defeated -----------------------------------------------------


def test_pinning_after_cuda_was_initialised_is_a_loud_error(monkeypatch):
    env = {}
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    with pytest.raises(devices.GpuPinningError, match="could not pin this xdist worker to GPU 3"):
        devices.pin_gpu("3", env)
    assert env == {}


def test_pinning_that_torch_ignores_is_a_loud_error(monkeypatch):
    """``torch.cuda.is_available()`` in a conftest initialises the driver without making
    ``is_initialized()`` true: after pinning, torch must see one GPU, not all of them."""
    monkeypatch.setattr(torch._C, "_cuda_getDeviceCount", lambda: 8, raising=False)
    env = {}
    with pytest.raises(devices.GpuPinningError, match="torch sees 8 GPUs, not 1"):
        devices.pin_gpu("3", env)
    monkeypatch.setattr(torch._C, "_cuda_getDeviceCount", lambda: 1, raising=False)
    devices.pin_gpu("3", env)
    assert env == {"CUDA_VISIBLE_DEVICES": "3"}


def test_a_gpu_worker_also_gets_its_share_of_the_cores(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    monkeypatch.setattr(devices, "cpu_cores", lambda: 16)
    threads = []
    monkeypatch.setattr(torch, "set_num_threads", threads.append)
    config = _worker_config(grokclaims_gpu="5", workerid="gw1", workercount=8)
    plugin.pytest_configure(config)
    plugin.pytest_unconfigure(config)
    assert threads == [2]
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "5"


def test_no_gpu_driver_means_no_gpus_without_importing_torch():
    code = (
        "import sys; from grokclaims.engine import devices; "
        "devices.DRIVER_PATHS = ('/nonexistent',); "
        "print(devices.gpu_count(), 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "False"]


def test_max_worker_restart_defaults_to_zero_with_loadgroup():
    option = SimpleNamespace(numprocesses=2, dist="no", distload=False, maxworkerrestart=None)
    plugin.pytest_cmdline_main(SimpleNamespace(option=option))
    assert (option.dist, option.maxworkerrestart) == ("loadgroup", "0")
    mine = SimpleNamespace(numprocesses=2, dist="no", distload=False, maxworkerrestart="3")
    plugin.pytest_cmdline_main(SimpleNamespace(option=mine))
    assert (mine.dist, mine.maxworkerrestart) == ("loadgroup", "3")
    chosen = SimpleNamespace(numprocesses=2, dist="load", distload=False, maxworkerrestart=None)
    plugin.pytest_cmdline_main(SimpleNamespace(option=chosen))
    assert (chosen.dist, chosen.maxworkerrestart) == ("load", None)
