"""Where ensembles train. An executor takes :class:`~grokclaims.fill.plan.Job` objects and hands
back each one's outcome (the dict of :func:`~grokclaims.fill.task.train_job`, or the exception
that ended it); the driver does the rest.

``local``: this machine, one worker process per GPU (``CUDA_VISIBLE_DEVICES`` set per worker
before torch initialises CUDA, as the plugin does for xdist workers:
:mod:`grokclaims.engine.devices`) or, without GPUs, one per CPU core, each with its share of the
threads. A worker that dies (killed, out of memory) is replaced and its ensemble retried, at most
``max_retries`` times. The ``ray`` executor is in :mod:`grokclaims.fill.ray_executor`.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from grokclaims.engine import devices
from grokclaims.fill.plan import Job
from grokclaims.fill.task import train_job

Outcome = dict[str, Any] | BaseException


class Executor(Protocol):
    name: str
    device: str  # "cpu" or "cuda": for the cost estimate and the ensemble size

    def slots(self) -> int:
        """How many ensembles train at once now (the driver keeps that many in flight)."""

    def submit(self, job: Job) -> None: ...

    def wait(self, timeout: float) -> list[tuple[Job, Outcome]]:
        """The jobs that ended within ``timeout`` seconds, with their outcomes."""

    def in_flight(self) -> int: ...

    def cancel(self) -> None:
        """Stop every job in flight (the driver was interrupted)."""

    def close(self) -> None: ...


def _init_worker(assignments) -> None:
    """A new worker process: its GPU (before torch touches CUDA) or its CPU threads."""
    gpu, threads = assignments.get()
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu
    import torch

    torch.set_num_threads(threads)


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int | None = None, *, device: str | None = None, max_retries=3):
        n_gpus = 0 if device == "cpu" else devices.gpu_count()
        self.device = "cuda" if n_gpus else "cpu"
        self.n = workers or n_gpus or devices.cpu_cores()
        self.threads = devices.threads_per_worker(devices.cpu_cores(), self.n)
        self.max_retries = max_retries
        visible = devices.visible_devices()
        self._gpus = [devices.assign_gpu(i, n_gpus, visible) for i in range(self.n)]
        self._futures: dict[Future, Job] = {}
        self._tries: dict[int, int] = {}
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn: a fresh interpreter per worker (fork would copy the driver's threads and its
        # SQLite connection); each takes one (gpu, threads) assignment from the queue.
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.SimpleQueue()
        for gpu in self._gpus:
            queue.put((gpu, self.threads))
        return ProcessPoolExecutor(
            self.n, mp_context=ctx, initializer=_init_worker, initargs=(queue,)
        )

    def slots(self) -> int:
        return self.n

    def submit(self, job: Job) -> None:
        device = "cuda" if self.device == "cuda" else "cpu"
        fut = self._pool.submit(train_job, [s.canonical() for s in job.specs], device, None)
        self._futures[fut] = job

    def in_flight(self) -> int:
        return len(self._futures)

    def wait(self, timeout: float) -> list[tuple[Job, Outcome]]:
        if not self._futures:
            return []
        done, _ = wait_futures(list(self._futures), timeout=timeout, return_when=FIRST_COMPLETED)
        out: list[tuple[Job, Outcome]] = []
        broken = []
        for fut in done:
            job = self._futures.pop(fut)
            exc = fut.exception()
            if isinstance(exc, BrokenProcessPool):
                broken.append(job)
            else:
                out.append((job, exc if exc is not None else fut.result()))
        if broken:
            # A worker died: every job of the pool fails with it. Retry them on a new pool.
            broken += list(self._futures.values())
            self._futures.clear()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            for job in broken:
                tries = self._tries[id(job)] = self._tries.get(id(job), 0) + 1
                if tries > self.max_retries:
                    out.append((job, RuntimeError(f"worker process died {tries} times")))
                else:
                    self.submit(job)
        return out

    def cancel(self) -> None:
        for fut in self._futures:
            fut.cancel()
        self._futures.clear()
        # Workers in the middle of an ensemble are ended with the pool's processes.
        for proc in list(getattr(self._pool, "_processes", {}).values()):
            proc.terminate()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
