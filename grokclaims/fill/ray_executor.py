"""The ``ray`` executor: one Ray task per ensemble on a Ray cluster (``pip install -e
".[ray]"``).

Each task asks for one GPU on a cluster with GPUs (Ray sets its ``CUDA_VISIBLE_DEVICES``), or
``cpus_per_task`` CPUs otherwise (and trains with that many torch threads). A task whose worker
dies (a node lost, a process killed) is retried by Ray, ``max_retries`` times; a training error
is not retried (training is deterministic: it would fail again) and comes back as the outcome.
Tasks return their results; only the driver writes the store.

The driver's own ``grokclaims`` package is shipped to the workers (Ray's ``py_modules``), so a
cluster needs only torch and Ray installed: the workers run the driver's exact code (the run ids
they compute are checked against the driver's, :mod:`grokclaims.fill.task`).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from grokclaims.fill.executors import Outcome
from grokclaims.fill.plan import Job
from grokclaims.fill.task import train_job

# Ray's switch to keep a one-machine cluster on the loopback interface (its name is historical:
# on Linux the default is to bind the node's outward address).
LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def _ray():
    try:
        import ray
    except ImportError:
        raise RuntimeError(
            'the ray executor needs Ray: pip install -e ".[ray]" (or pip install "ray>=2.40")'
        ) from None
    return ray


def _loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]")
    return host in ("127.0.0.1", "localhost", "::1")


class RayExecutor:
    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        device: str | None = None,
        cpus_per_task: float = 1.0,
        max_retries: int = 3,
        num_cpus: int | None = None,
        ship_code: bool = True,
        in_flight: int | None = None,
    ):
        if address is None or _loopback(address):
            # Before Ray is imported (it reads the switch then): a one-machine cluster stays
            # on the loopback interface, and "127.0.0.1:PORT" is not rewritten to the node's
            # outward address, where such a cluster does not listen.
            os.environ.setdefault(LOOPBACK_ENV, "0")
        ray = _ray()
        import grokclaims

        runtime_env: dict[str, Any] = {}
        if ship_code:
            runtime_env["py_modules"] = [str(Path(grokclaims.__file__).parent)]
            runtime_env["excludes"] = ["__pycache__", "*.pyc"]
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        if address is None:  # a private one-machine cluster
            ray.init(
                num_cpus=num_cpus,
                include_dashboard=False,
                runtime_env=runtime_env or None,
                log_to_driver=False,
            )
        else:
            ray.init(address=address, runtime_env=runtime_env or None, log_to_driver=False)
        self._ray = ray
        gpus = ray.cluster_resources().get("GPU", 0)
        self.device = "cuda" if device != "cpu" and gpus > 0 else "cpu"
        self.cpus_per_task = float(cpus_per_task)
        self._in_flight_setting = in_flight
        resources = (
            {"num_gpus": 1, "num_cpus": 1}
            if self.device == "cuda"
            else {"num_cpus": self.cpus_per_task, "num_gpus": 0}
        )
        self._remote = ray.remote(train_job).options(
            max_retries=max_retries, retry_exceptions=False, name="grokclaims-ensemble", **resources
        )
        self._refs: dict[Any, Job] = {}

    def slots(self) -> int:
        """The cluster's capacity now (it may grow or shrink while the fill runs)."""
        if self._in_flight_setting:
            return self._in_flight_setting
        res = self._ray.cluster_resources()
        if self.device == "cuda":
            return max(1, int(res.get("GPU", 0)))
        return max(1, int(res.get("CPU", 0) // self.cpus_per_task))

    def submit(self, job: Job) -> None:
        threads = None if self.device == "cuda" else max(1, int(self.cpus_per_task))
        ref = self._remote.remote([s.canonical() for s in job.specs], self.device, threads)
        self._refs[ref] = job

    def in_flight(self) -> int:
        return len(self._refs)

    def wait(self, timeout: float) -> list[tuple[Job, Outcome]]:
        if not self._refs:
            return []
        ray = self._ray
        refs = list(self._refs)
        ready, _ = ray.wait(refs, num_returns=1, timeout=timeout)
        if ready:  # and whatever else has finished meanwhile
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        out: list[tuple[Job, Outcome]] = []
        for ref in ready:
            job = self._refs.pop(ref)
            try:
                out.append((job, ray.get(ref)))
            except ray.exceptions.RayTaskError as exc:  # the training error, as raised
                out.append((job, exc.as_instanceof_cause()))
            except ray.exceptions.RayError as exc:  # worker lost past its retries, cancelled
                out.append((job, exc))
        return out

    def cancel(self) -> None:
        for ref in self._refs:
            # A task already finished or lost has nothing left to stop.
            with contextlib.suppress(Exception):
                self._ray.cancel(ref, force=True)
        self._refs.clear()

    def close(self) -> None:
        self._ray.shutdown()
