"""``grokclaims fill --executor ray`` on a real Ray cluster of this machine: a head started here
on 127.0.0.1 with two CPUs (no network beyond the machine), driven by the command in a
subprocess. The fill gives the same store as a ``local`` fill and as ``pytest`` alone
(bit-identical traces on CPU), survives a worker killed mid-task (Ray retries it) and a driver
killed halfway (the restarted one trains only what is not stored).

Skipped when Ray is not installed (``pip install -e ".[ray]"``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from test_fill import (  # noqa: E402
    assert_same_runs,
    claims_dir,
    env,
    fill_cmd,
    rows,
    run_fill,
    run_pytest,
    slow_claims,
)

from grokclaims.fill.ray_executor import LOOPBACK_ENV  # noqa: E402

HEAD_START_SECONDS = 60

# One worker runs them all under xdist (the plugin makes --dist loadgroup the default): one
# Ray head, not one per worker.
pytestmark = pytest.mark.xdist_group("ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def head():
    """A Ray head on loopback with 2 CPUs, in its own process group; stopped at the end
    (SIGTERM: Ray drains and stops what it started; SIGKILL of the group if it lingers)."""
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="gcray", dir="/tmp")  # short: Ray's socket paths are limited
    ray_bin = Path(sys.executable).with_name("ray")
    proc = subprocess.Popen(
        [
            str(ray_bin),
            "start",
            "--head",
            "--block",
            "--node-ip-address=127.0.0.1",
            f"--port={port}",
            "--num-cpus=2",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={temp}",
        ],
        env=env(**{LOOPBACK_ENV: "0"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines = []
    deadline = time.monotonic() + HEAD_START_SECONDS
    for line in proc.stdout:  # "Ray runtime started." once the head is up
        lines.append(line)
        if "Ray runtime started" in line or time.monotonic() > deadline:
            break
    if not any("Ray runtime started" in ln for ln in lines):
        _stop(proc)
        pytest.fail("the Ray head did not start:\n" + "".join(lines[-20:]))
    try:
        yield {"address": f"127.0.0.1:{port}", "sid": proc.pid}
    finally:
        _stop(proc)
        shutil.rmtree(temp, ignore_errors=True)


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)
    time.sleep(1)
    for pid in _session_pids(proc.pid):  # what is left of our head's session, by id
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _session_pids(sid: int, title: bytes = b"") -> list[int]:
    """The processes of session ``sid`` (our head and what it started: Ray's workers get
    process groups of their own, but stay in the session), whose command line starts with
    ``title``. Other Ray clusters of the machine are left alone."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if os.getsid(int(d.name)) == sid and (d / "cmdline").read_bytes().startswith(title):
                out.append(int(d.name))
        except (OSError, ProcessLookupError):
            continue
    return out


def ray_fill(claims: Path, store: Path, head: dict, *extra: str, timeout=90):
    return run_fill(
        claims,
        store,
        "--executor",
        "ray",
        "--ray-address",
        head["address"],
        *extra,
        timeout=timeout,
    )


def test_ray_fill_equals_a_local_fill_and_pytest_alone(tmp_path, head):
    claims = claims_dir(tmp_path)
    stores = {k: tmp_path / f"{k}.sqlite" for k in ("ray", "local", "pytest")}
    out = ray_fill(claims, stores["ray"], head)
    assert out.returncode == 0, out.stderr
    assert "6 runs: 0 already stored, 6 trained here in 2 ensembles" in out.stderr
    assert run_fill(claims, stores["local"], "--workers", "2").returncode == 0
    assert run_pytest(claims, stores["pytest"]).returncode == 0
    filled = rows(stores["ray"])
    assert {r["provenance"]["executor"] for r in filled.values()} == {"ray"}
    assert all(r["provenance"]["git_commit"] for r in filled.values())  # from the driver
    assert_same_runs(filled, rows(stores["local"]))
    assert_same_runs(filled, rows(stores["pytest"]))
    judged = run_pytest(claims, stores["ray"])  # judges, trains nothing
    assert judged.returncode == 0 and "2 passed" in judged.stdout, judged.stdout
    assert {i: r["updated"] for i, r in rows(stores["ray"]).items()} == {
        i: r["updated"] for i, r in filled.items()
    }


def test_a_worker_killed_mid_task_is_retried_by_ray(tmp_path, head):
    claims = slow_claims(tmp_path, widths=(8,), epochs=6000)
    store = tmp_path / "runs.sqlite"
    driver = subprocess.Popen(
        fill_cmd(claims, store, "--executor", "ray", "--ray-address", head["address"]),
        cwd=tmp_path,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and time.monotonic() < deadline and driver.poll() is None:
        pids = _session_pids(head["sid"], b"ray::grokclaims-ensemble")
        if pids:
            time.sleep(0.5)  # in the middle of training, not at its start
            os.kill(pids[0], signal.SIGKILL)
            killed = pids[0]
        time.sleep(0.05)
    _, err = driver.communicate(timeout=90)
    assert killed is not None, "no training task seen:\n" + err
    assert driver.returncode == 0, err
    stored = rows(store)
    assert len(stored) == 2 and {r["status"] for r in stored.values()} == {"completed"}
    assert {r["provenance"]["pid"] for r in stored.values()} != {killed}  # the retry's worker
    assert {r["epochs"] for r in stored.values()} == {6000}


def test_a_driver_killed_halfway_resumes_without_training_twice(tmp_path, head):
    claims = slow_claims(tmp_path, widths=(8, 9, 10, 11), epochs=3000)
    store = tmp_path / "runs.sqlite"
    cmd = fill_cmd(
        claims, store, "--executor", "ray", "--ray-address", head["address"], "--in-flight", "1"
    )
    driver = subprocess.Popen(
        cmd, cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    done = {}
    while time.monotonic() < deadline and driver.poll() is None:
        done = (
            {i: r for i, r in rows(store).items() if r["status"] == "completed"}
            if (store.exists())
            else {}
        )
        if len(done) >= 4:
            break
        time.sleep(0.1)
    driver.kill()  # no chance to release anything
    driver.wait()
    before = {i: r for i, r in rows(store).items() if r["status"] == "completed"}
    assert 4 <= len(before) < 8, "the driver should be killed halfway"
    held = {i for i, r in rows(store).items() if r["status"] in ("claimed", "running")}
    out = ray_fill(claims, store, head, "--in-flight", "1")
    assert out.returncode == 0, out.stderr
    assert f"{len(before)} already stored" in out.stderr
    assert f"taking over {len(held)} runs held by dead processes" in out.stderr or not held
    after = rows(store)
    assert len(after) == 8 and {r["status"] for r in after.values()} == {"completed"}
    for rid, row in before.items():  # finished before the kill: kept, not trained again
        assert (after[rid]["checksum"], after[rid]["updated"]) == (row["checksum"], row["updated"])
