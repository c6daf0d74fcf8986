"""The run registry: reuse by spec, one training per run across processes, crash recovery,
corrupt traces, failures, Ctrl-C (stores refused untouched: test_store_format.py)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import grokclaims
from grokclaims import provenance
from grokclaims.data.tasks import TaskSpec
from grokclaims.engine.trace import Progress, RunResult, Trace
from grokclaims.engine.train import train_ensemble
from grokclaims.families import SongYe
from grokclaims.spec.run import OptimSpec, RunSpec, Schedule, StopRule
from grokclaims.store import rows as rowfmt
from grokclaims.store.registry import Registry, RegistryError

NEVER = StopRule(train_acc=None, val_acc=None)
LOG = "grokclaims_test_registry"  # our own logger: the plugin may stop "grokclaims" propagating


def tiny(seed: int = 0, dim: int = 4, **changes) -> RunSpec:
    spec = RunSpec(
        task=TaskSpec(p=5),
        model=SongYe(dim=dim, heads=1, dropout=0.0),
        schedule=Schedule(max_epochs=3, batch_size=None, eval_every=1),
        stop=NEVER,
        seed=seed,
    )
    return dataclasses.replace(spec, **changes)


def fake_result(spec: RunSpec) -> RunResult:
    """A deterministic stand-in for training: arrays derived from the run id, no torch."""
    rng = np.random.default_rng(int(spec.run_id[:12], 16))
    e = spec.schedule.max_epochs
    trace = Trace(
        batch_acc=rng.random(e),
        batch_loss=rng.random(e),
        eval_epoch=np.arange(e + 1),
        train_acc=rng.random(e + 1),
        train_loss=rng.random(e + 1),
        val_acc=rng.random(e + 1),
        val_loss=rng.random(e + 1),
        weight_norm=rng.random(e + 1),
    )
    return RunResult("completed", e, False, trace, extras={"emb": rng.random((5, 4))})


class Trainer:
    """Records each call's run ids; ``fail`` is raised on the call numbered ``fail_on``."""

    def __init__(self, real: bool = False, fail: BaseException | None = None, fail_on: int = 1):
        self.calls: list[list[str]] = []
        self.real, self.fail, self.fail_on = real, fail, fail_on

    def __call__(self, specs, *, device=None, progress=None):
        self.calls.append([s.run_id for s in specs])
        if self.fail is not None and len(self.calls) == self.fail_on:
            raise self.fail
        if self.real:
            return train_ensemble(specs, device="cpu", progress=progress)
        return [fake_result(s) for s in specs]

    @property
    def trained(self) -> list[str]:
        return [i for call in self.calls for i in call]


@pytest.fixture
def log(caplog) -> logging.Logger:
    caplog.set_level(logging.INFO, logger=LOG)
    return logging.getLogger(LOG)


@pytest.fixture
def store(tmp_path) -> Path:
    return tmp_path / "store" / "runs.sqlite"


def same_trace(a: Trace, b: Trace) -> bool:
    return all(
        np.array_equal(x, y, equal_nan=True)
        for x, y in zip(a.arrays().values(), b.arrays().values())
    )


def rows(path: Path) -> dict[str, sqlite3.Row]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        return {r["run_id"]: r for r in con.execute("SELECT * FROM runs")}
    finally:
        con.close()


# -- finding runs by spec ----------------------------------------------------------------------


def test_equal_spec_reuses_the_stored_run_with_identical_trace(store, log):
    specs = [tiny(0), tiny(1)]
    trainer = Trainer(real=True)
    first = Registry(store, log=log).get_or_train(specs, trainer=trainer)
    assert [r.trained for r in first] == [True, True]
    # An equal spec built anew, asked of a fresh registry (as another session would).
    again = Registry(store, log=log)
    second = again.get_or_train([tiny(1), tiny(0), tiny(1)], trainer=trainer)
    assert [r.trained for r in second] == [False, False, False]
    assert len(trainer.calls) == 1
    assert second[0].run_id == first[1].run_id and second[1].spec == specs[0]
    assert all(same_trace(a.trace, b.trace) for a, b in zip(first, second[1::-1]))
    assert again.counts == {"trained": 0, "reused": 2}


SPEC_CHANGES = {
    "task": dict(task=TaskSpec(p=7)),
    "task-op": dict(task=TaskSpec(p=5, op="+")),
    "model": dict(model=SongYe(dim=8, heads=1, dropout=0.0)),
    "model-member-field": dict(model=SongYe(dim=4, heads=1, dropout=0.1)),
    "optim": dict(optim=OptimSpec(lr=3e-3)),
    "schedule": dict(schedule=Schedule(max_epochs=4, batch_size=None, eval_every=1)),
    "stop": dict(stop=StopRule(train_acc=None, val_acc=None, patience=1)),
    "seed": dict(seed=1),
}


@pytest.mark.parametrize("field", SPEC_CHANGES)
def test_any_spec_change_is_a_new_run(store, log, field):
    reg = Registry(store, log=log)
    trainer = Trainer()
    base = reg.get_or_train([tiny()], trainer=trainer)[0]
    changed = tiny(**SPEC_CHANGES[field])
    runs = reg.get_or_train([tiny(), changed], trainer=trainer)
    assert changed.run_id != base.run_id
    assert [r.trained for r in runs] == [False, True]
    assert trainer.trained == [base.run_id, changed.run_id]


def test_science_version_bump_is_a_new_run(store, log, monkeypatch):
    reg = Registry(store, log=log)
    trainer = Trainer()
    old = reg.get_or_train([tiny()], trainer=trainer)[0]
    monkeypatch.setattr(grokclaims, "SCIENCE_VERSION", grokclaims.SCIENCE_VERSION + 1)
    new = reg.get_or_train([tiny()], trainer=trainer)[0]
    assert new.run_id != old.run_id and new.trained
    assert new.provenance["science_version"] == grokclaims.SCIENCE_VERSION
    assert rows(store)[new.run_id]["science_version"] == grokclaims.SCIENCE_VERSION


def test_missing_groups_by_ensemble_key_and_chunks_by_max_members(store, log):
    reg = Registry(store, log=log, max_members=2)
    specs = [tiny(s) for s in range(4)] + [tiny(s, dim=8) for s in range(2)]
    reg.get_or_train(specs[:1], trainer=Trainer())
    assert reg.missing(specs + specs) == specs[1:]
    assert set(rows(store)) == {specs[0].run_id}  # missing() claimed nothing
    trainer = Trainer()
    runs = reg.get_or_train(specs, trainer=trainer)
    dim = {s.run_id: s.model.dim for s in specs}
    # One call per ensemble, at most max_members each: dim=4 seeds 1-3, dim=8 seeds 0-1.
    assert [[dim[i] for i in call] for call in trainer.calls] == [[4, 4], [4], [8, 8]]
    assert [r.run_id for r in runs] == [s.run_id for s in specs]
    assert reg.missing(specs) == []
    assert reg.counts == {"trained": 6, "reused": 1}


def test_provenance_is_stored_with_every_run(store, log):
    run = Registry(store, log=log).get_or_train([tiny()], trainer=Trainer(real=True))[0]
    prov = Registry(store, log=log).get(tiny()).provenance
    assert prov == run.provenance
    assert prov["package_version"] == grokclaims.__version__
    assert prov["torch_version"] and prov["device"] == "cpu" and prov["device_name"]
    assert prov["host"] and prov["pid"] == os.getpid() and prov["ensemble_size"] == 1
    assert prov["git_commit"] is None or re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", prov["git_commit"])
    assert prov["start"] <= prov["end"] and prov["wall_time"] >= 0
    assert prov["science_version"] == grokclaims.SCIENCE_VERSION


def test_a_dirty_tree_shows_in_the_provenance(store, log, monkeypatch):
    # the report's header takes the same provenance.git_commit (test_provenance.py)
    monkeypatch.setattr(provenance, "git_commit", lambda cwd=None: "abc+dirty")
    run = Registry(store, log=log).get_or_train([tiny()], trainer=Trainer())[0]
    assert run.provenance["git_commit"] == "abc+dirty"
    assert Registry(store, log=log).get(tiny()).provenance["git_commit"] == "abc+dirty"


def test_progress_is_logged_per_worker(store, log, caplog, monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")

    def trainer(specs, *, device=None, progress=None):
        progress(Progress(epoch=1200, max_epochs=5000, active=12, total=16, elapsed=40.0))
        return [fake_result(s) for s in specs]

    Registry(store, log=log).get_or_train([tiny()], trainer=trainer)
    line = next(m for m in caplog.messages if "epoch 1200/5000" in m)
    assert line.startswith("[gw3] training 16 members (song_ye dim=4, p=5)")
    assert "12 active, 40 s elapsed, ETA ≤ 2 min" in line


# -- failures, Ctrl-C, corruption ----------------------------------------------------------------


def test_trainer_error_marks_runs_failed_and_a_later_call_retries(store, log):
    specs = [tiny(0), tiny(1)]
    reg = Registry(store, log=log)
    with pytest.raises(RegistryError, match=r"2 run\(s\) failed") as err:
        reg.get_or_train(specs, trainer=Trainer(fail=ValueError("boom")))
    assert all(s.run_id in str(err.value) for s in specs)
    stored = rows(store)
    assert {r["status"] for r in stored.values()} == {"failed"}
    assert all("ValueError: boom" in r["error"] for r in stored.values())
    assert reg.get(specs[0]) is None and reg.missing(specs) == specs
    runs = reg.get_or_train(specs, trainer=Trainer())
    assert [r.trained for r in runs] == [True, True]
    assert {r["status"] for r in rows(store).values()} == {"completed"}
    assert all(r["error"] is None for r in rows(store).values())


def test_keyboard_interrupt_releases_this_callers_rows(store, log):
    specs = [tiny(0), tiny(0, dim=8), tiny(0, dim=16)]  # three ensembles, three trainer calls
    reg = Registry(store, log=log)
    trainer = Trainer(fail=KeyboardInterrupt(), fail_on=2)
    with pytest.raises(KeyboardInterrupt):
        reg.get_or_train(specs, trainer=trainer)
    assert len(trainer.calls) == 2
    # The finished group stays; the interrupted and the queued groups are gone, not held.
    assert {i: r["status"] for i, r in rows(store).items()} == {specs[0].run_id: "completed"}
    again = Trainer()
    runs = reg.get_or_train(specs, trainer=again)
    assert again.trained == [specs[1].run_id, specs[2].run_id]
    assert [r.trained for r in runs] == [False, True, True]


def _flip_byte(con, rid):
    blob = bytearray(con.execute("SELECT trace FROM runs WHERE run_id = ?", (rid,)).fetchone()[0])
    blob[len(blob) // 2] ^= 0xFF
    con.execute("UPDATE runs SET trace = ? WHERE run_id = ?", (bytes(blob), rid))


def _drop_trace(con, rid):
    con.execute("UPDATE runs SET trace = NULL WHERE run_id = ?", (rid,))


def _garbage_with_valid_checksum(con, rid):
    junk = b"not an npz archive"
    con.execute(
        "UPDATE runs SET trace = ?, checksum = ? WHERE run_id = ?",
        (junk, hashlib.sha256(junk).hexdigest(), rid),
    )


@pytest.mark.parametrize("damage", [_flip_byte, _drop_trace, _garbage_with_valid_checksum])
def test_corrupt_trace_is_reported_and_retrained_never_used(store, log, caplog, damage):
    spec, other = tiny(0), tiny(1)
    reg = Registry(store, log=log)
    original = reg.get_or_train([spec, other], trainer=Trainer())[0]
    con = sqlite3.connect(store)
    with con:
        damage(con, spec.run_id)
    con.close()
    caplog.clear()
    assert reg.get(spec) is None
    assert reg.missing([spec, other]) == [spec]
    trainer = Trainer()
    run, kept = reg.get_or_train([spec, other], trainer=trainer)
    assert trainer.trained == [spec.run_id]
    assert run.trained and not kept.trained
    assert same_trace(run.trace, original.trace)
    assert np.array_equal(run.result.extras["emb"], original.result.extras["emb"])
    warnings = [r.message for r in caplog.records if r.levelno == logging.WARNING]
    assert any(spec.run_id in m and "trained again" in m for m in warnings)
    assert same_trace(Registry(store, log=log).get(spec).trace, original.trace)


# -- several processes ---------------------------------------------------------------------------

WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    import numpy as np
    from grokclaims.store.registry import Registry
    from grokclaims.spec.run import RunSpec
    from grokclaims.engine.train import train_ensemble

    store, work, name, n, mode = sys.argv[1:6]
    work, n = Path(work), int(n)
    specs = [RunSpec.from_canonical(d) for d in json.loads((work / "specs.json").read_text())]

    def trainer(group, *, device=None, progress=None):
        with open(work / "trained.log", "a") as f:
            f.write("".join(s.run_id + "\\n" for s in group))
        if mode == "hang":
            (work / "started").write_text(str(os.getpid()))
            time.sleep(300)
        time.sleep(0.3)  # training takes a while: the others must wait, not train
        return train_ensemble(group, device="cpu", progress=progress)

    (work / f"ready-{name}").touch()
    while len(list(work.glob("ready-*"))) < n:  # start together, so they really compete
        time.sleep(0.01)
    reg = Registry(store, heartbeat_every=0.1, stale_after=20.0, poll_every=0.05)
    runs = reg.get_or_train(specs, trainer=trainer)
    arrays = {f"{r.run_id}.{k}": v for r in runs for k, v in r.trace.arrays().items()}
    np.savez(work / f"out-{name}.npz", trained=[r.trained for r in runs], **arrays)
    """
)


def _spawn(store: Path, work: Path, name: str, n: int, mode: str = "normal") -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("PYTEST_XDIST_WORKER", None)
    args = [sys.executable, "-c", WORKER, str(store), str(work), name, str(n), mode]
    return subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True)


def _write_specs(work: Path, specs: list[RunSpec]) -> None:
    work.mkdir(parents=True, exist_ok=True)
    (work / "specs.json").write_text(json.dumps([s.canonical() for s in specs]))


def test_four_processes_asking_for_the_same_12_specs_train_each_once(tmp_path):
    specs = [tiny(s) for s in range(6)] + [tiny(s, dim=8) for s in range(6)]
    store, work = tmp_path / "runs.sqlite", tmp_path / "work"
    _write_specs(work, specs)
    procs = [_spawn(store, work, f"p{i}", 4) for i in range(4)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors
    trained = (work / "trained.log").read_text().split()
    assert sorted(trained) == sorted(s.run_id for s in specs)  # 12 trainings, none twice
    outs = [np.load(work / f"out-p{i}.npz") for i in range(4)]
    assert sum(int(o["trained"].sum()) for o in outs) == 12
    keys = set(outs[0].files) - {"trained"}
    assert len(keys) == 12 * 8
    for o in outs[1:]:
        assert set(o.files) - {"trained"} == keys
        assert all(np.array_equal(o[k], outs[0][k], equal_nan=True) for k in keys)
    assert {r["status"] for r in rows(store).values()} == {"completed"}


def test_a_killed_trainers_runs_are_taken_over_and_completed(tmp_path, log, caplog):
    specs = [tiny(s) for s in range(3)]
    store, work = tmp_path / "runs.sqlite", tmp_path / "work"
    _write_specs(work, specs)
    proc = _spawn(store, work, "doomed", 1, mode="hang")
    try:
        deadline = time.monotonic() + 120
        while not (work / "started").exists():
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the trainer subprocess never started"
            time.sleep(0.05)
        held = rows(store)
        assert {r["status"] for r in held.values()} == {"running"}
        assert all(f":{proc.pid}:" in r["owner"] for r in held.values())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    reg = Registry(store, stale_after=1.0, heartbeat_every=0.2, poll_every=0.05, log=log)
    trainer = Trainer()
    runs = reg.get_or_train(specs, trainer=trainer)
    assert [r.trained for r in runs] == [True] * 3
    assert sorted(trainer.trained) == sorted(s.run_id for s in specs)
    assert {r["status"] for r in rows(store).values()} == {"completed"}
    takeovers = [m for m in caplog.messages if "taking over" in m]
    assert len(takeovers) == 3 and all(str(proc.pid) in m for m in takeovers)


def test_a_live_owner_is_waited_for_even_past_stale_after(store, log):
    """The heartbeat keeps a long training alive: the waiter reads, it does not retrain."""
    specs = [tiny(0), tiny(1)]
    kw = dict(stale_after=0.5, heartbeat_every=0.05, poll_every=0.02, log=log)
    owner, waiter = Registry(store, **kw), Registry(store, **kw)
    started, out = threading.Event(), {}

    def slow(group, **_):
        started.set()
        time.sleep(1.5)  # three times stale_after
        return [fake_result(s) for s in group]

    thread = threading.Thread(
        target=lambda: out.update(runs=owner.get_or_train(specs, trainer=slow))
    )
    thread.start()
    assert started.wait(30)
    trainer = Trainer()
    read = waiter.get_or_train(specs, trainer=trainer)
    thread.join()
    assert trainer.calls == []
    assert [r.trained for r in read] == [False, False]
    assert [r.trained for r in out["runs"]] == [True, True]
    assert all(same_trace(a.trace, b.trace) for a, b in zip(read, out["runs"]))


def test_a_slow_owner_taken_over_by_mistake_keeps_the_first_result(store, log, caplog):
    """Both trainings are valid; the one stored first stays and the late one says so."""
    spec = tiny()
    slow_owner = Registry(store, stale_after=60.0, heartbeat_every=30.0, log=log)
    impatient = Registry(store, stale_after=0.02, heartbeat_every=0.01, log=log)

    def slow(group, **_):
        time.sleep(0.1)  # looks dead to `impatient`, whose takeover trains and stores first
        assert impatient.get_or_train(group, trainer=Trainer())[0].trained
        return [fake_result(s) for s in group]

    assert slow_owner.get_or_train([spec], trainer=slow)[0].trained
    assert rows(store)[spec.run_id]["owner"] == impatient.owner
    assert any("completed elsewhere" in m and spec.run_id in m for m in caplog.messages)


def test_a_failure_in_another_process_during_the_call_is_reported(store, log):
    spec = tiny()
    reg = Registry(store, poll_every=0.02, log=log)
    now = time.time()
    con = sqlite3.connect(store)
    with con:
        con.execute(
            "INSERT INTO runs (run_id, spec, family, p, seed, science_version, status, owner,"
            " generation, heartbeat, created, updated) VALUES (?, '{}', 'song_ye', 5, 0, 1,"
            " 'running', 'elsewhere:1:x', 1, ?, ?, ?)",
            (spec.run_id, now, now, now),
        )
    errors = []

    def ask():
        try:
            reg.get_or_train([spec], trainer=Trainer())
        except RegistryError as exc:
            errors.append(str(exc))

    thread = threading.Thread(target=ask)
    thread.start()
    time.sleep(0.2)
    with con:
        con.execute("UPDATE runs SET status = 'failed', error = 'CUDA out of memory'")
    con.close()
    thread.join(30)
    assert len(errors) == 1 and spec.run_id in errors[0] and "out of memory" in errors[0]


def _bad_spec_json(con, rid):
    con.execute("UPDATE runs SET spec = '{\"task\": ' WHERE run_id = ?", (rid,))


def _bad_provenance_json(con, rid):
    con.execute("UPDATE runs SET provenance = 'not json' WHERE run_id = ?", (rid,))


def _unknown_family(con, rid):
    spec = json.loads(con.execute("SELECT spec FROM runs WHERE run_id = ?", (rid,)).fetchone()[0])
    spec["model"]["family"] = "no_such_family"
    con.execute("UPDATE runs SET spec = ? WHERE run_id = ?", (json.dumps(spec), rid))


@pytest.mark.parametrize("damage", [_bad_spec_json, _bad_provenance_json, _unknown_family])
def test_a_damaged_spec_or_provenance_is_retrained_like_a_damaged_trace(store, log, damage):
    spec, other = tiny(0), tiny(1)
    reg = Registry(store, log=log)
    reg.get_or_train([spec, other], trainer=Trainer())
    con = sqlite3.connect(store)
    with con:
        damage(con, spec.run_id)
    con.close()
    assert reg.get(spec.run_id) is None  # read without the spec to compare: still detected
    assert reg.get(spec) is None
    listed = {r["run_id"]: r for r in reg.runs()}  # listing a damaged row is no traceback
    assert set(listed) == {spec.run_id, other.run_id}
    trainer = Trainer()
    run, kept = reg.get_or_train([spec, other], trainer=trainer)
    assert trainer.trained == [spec.run_id]
    assert run.trained and not kept.trained
    assert reg.get(spec.run_id) is not None


def test_traces_swapped_between_two_rows_are_detected(store, log):
    a, b = tiny(0), tiny(1)
    reg = Registry(store, log=log)
    reg.get_or_train([a, b], trainer=Trainer())
    con = sqlite3.connect(store)
    with con:
        got = {r: (t, c) for r, t, c in con.execute("SELECT run_id, trace, checksum FROM runs")}
        for mine, theirs in ((a.run_id, b.run_id), (b.run_id, a.run_id)):
            con.execute(
                "UPDATE runs SET trace = ?, checksum = ? WHERE run_id = ?", (*got[theirs], mine)
            )
    con.close()
    assert reg.missing([a, b]) == [a, b]
    assert reg.get(a) is None and reg.get(b.run_id) is None


def test_rows_with_the_old_checksum_of_the_trace_alone_are_still_read(store, log):
    """Stores written before the checksum covered the run id and spec stay warm: the old
    checksum (plain SHA-256 of the trace) is checked as it was."""
    spec = tiny(0)
    reg = Registry(store, log=log)
    original = reg.get_or_train([spec], trainer=Trainer())[0]
    con = sqlite3.connect(store)
    with con:
        (blob,) = con.execute("SELECT trace FROM runs").fetchone()
        con.execute("UPDATE runs SET checksum = ?", (hashlib.sha256(blob).hexdigest(),))
    con.close()
    run = reg.get(spec)
    assert run is not None and same_trace(run.trace, original.trace)
    assert reg.get(spec.run_id) is not None
    con = sqlite3.connect(store)
    with con:  # an old row whose spec is another run's: detected through its run id
        con.execute("UPDATE runs SET spec = ?", (rowfmt.spec_text_of(tiny(1)),))
    con.close()
    assert reg.get(spec.run_id) is None
