"""``grokclaims runs``: list, show, export, delete on a small store; status 2 on bad input."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from grokclaims import cli
from grokclaims.data.tasks import TaskSpec
from grokclaims.engine.trace import RunResult, Trace
from grokclaims.families import ChopraMLP, SongYe
from grokclaims.spec.run import RunSpec, Schedule, StopRule
from grokclaims.store.format import ENV_STORE
from grokclaims.store.registry import Registry, RegistryError

NEVER = StopRule(train_acc=None, val_acc=None)
SCHEDULE = Schedule(max_epochs=2, batch_size=None, eval_every=1)


def song_ye(seed: int) -> RunSpec:
    return RunSpec(TaskSpec(p=5), SongYe(dim=4, heads=1), schedule=SCHEDULE, stop=NEVER, seed=seed)


def chopra(seed: int) -> RunSpec:
    task = TaskSpec(p=5, op="+", encoding="one_hot")
    return RunSpec(task, ChopraMLP(width=8), schedule=SCHEDULE, stop=NEVER, seed=seed)


def quick(specs, **_) -> list[RunResult]:
    """Stands in for training: the CLI only reads what is stored."""
    e = SCHEDULE.max_epochs
    ev = np.linspace(0.0, 1.0, e + 1)
    trace = Trace(np.full(e, 0.5), np.ones(e), np.arange(e + 1), ev, ev, ev, ev, ev)
    return [RunResult("completed", e, False, trace, ensemble_size=len(specs)) for _ in specs]


def boom(specs, **_):
    raise ValueError("boom: out of memory")


@pytest.fixture
def store(tmp_path, monkeypatch):
    """Two song_ye runs and a chopra_mlp run completed, one failed, one stale claimed row."""
    monkeypatch.delenv(ENV_STORE, raising=False)
    path = tmp_path / "runs.sqlite"
    with Registry(path) as reg:
        reg.get_or_train([song_ye(0), song_ye(1), chopra(0)], trainer=quick)
        with pytest.raises(RegistryError):
            reg.get_or_train([chopra(1)], trainer=boom)
    old = time.time() - 3600
    con = sqlite3.connect(path)
    with con:  # a run whose trainer died an hour ago
        (spec,) = con.execute("SELECT spec FROM runs").fetchone()
        con.execute(
            "INSERT INTO runs (run_id, spec, family, p, seed, science_version, status, owner,"
            " generation, heartbeat, created, updated) VALUES ('deadbeef00000000dead', ?,"
            " 'song_ye', 5, 9, 1, 'running', 'gone:1:x', 1, ?, ?, ?)",
            (spec, old, old, old),
        )
    con.close()
    return path


def run(capsys, *args) -> tuple[int, str, str]:
    code = cli.main(["runs", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_filters_by_status_family_and_limit(store, capsys):
    code, out, _ = run(capsys, "--store", str(store), "list")
    assert code == 0 and len(out.splitlines()) == 1 + 5
    code, out, _ = run(capsys, "list", "--store", str(store), "--family", "chopra_mlp")
    lines = out.splitlines()[1:]
    assert code == 0 and len(lines) == 2 and all("chopra_mlp" in line for line in lines)
    _, out, _ = run(capsys, "list", "--store", str(store), "--status", "failed")
    assert len(out.splitlines()) == 2 and chopra(1).run_id in out
    _, out, _ = run(capsys, "list", "--store", str(store), "--status", "completed", "--limit", "1")
    assert len(out.splitlines()) == 2
    _, out, _ = run(capsys, "list", "--store", str(store), "--seed", "7")
    assert out.strip() == "no runs match"


def test_show_prints_spec_provenance_and_trace_summary(store, capsys):
    spec = song_ye(1)
    code, out, _ = run(capsys, "--store", str(store), "show", spec.run_id[:8])
    assert code == 0
    assert f"run {spec.run_id}: completed" in out
    assert '"dim": 4' in out and "seed: 1" in out
    assert "git_commit:" in out and "torch_version:" in out and "ensemble_size: 2" in out
    assert "trace: 2 epochs" in out and "final train acc" in out
    code, out, _ = run(capsys, "--store", str(store), "show", chopra(1).run_id)
    assert code == 0 and f"run {chopra(1).run_id}: failed" in out
    assert "ValueError: boom: out of memory" in out


def test_show_reports_a_corrupt_trace_with_status_1(store, capsys):
    spec = song_ye(0)
    con = sqlite3.connect(store)
    with con:
        con.execute("UPDATE runs SET trace = x'00' WHERE run_id = ?", (spec.run_id,))
    con.close()
    code, out, err = run(capsys, "--store", str(store), "show", spec.run_id)
    assert code == 1 and "corrupt or missing" in out
    assert spec.run_id in err  # the registry's warning


def test_export_csv_and_parquet_round_trip(store, tmp_path, capsys):
    code, out, _ = run(capsys, "--store", str(store), "export", str(tmp_path / "runs.csv"))
    assert code == 0 and "exported 5 runs" in out
    table = pd.read_csv(tmp_path / "runs.csv")
    assert len(table) == 5 and {"run_id", "status", "task.p", "model.family"} <= set(table)
    assert set(table["status"]) == {"completed", "failed", "running"}
    pytest.importorskip("pyarrow")
    out_path = tmp_path / "done.parquet"
    code, _, _ = run(
        capsys, "--store", str(store), "export", str(out_path), "--status", "completed"
    )
    table = pd.read_parquet(out_path)
    assert code == 0 and len(table) == 3 and {"git_commit", "device_name"} <= set(table)


def test_export_refuses_bad_targets_with_status_2(store, tmp_path, capsys, monkeypatch):
    code, _, err = run(capsys, "--store", str(store), "export", str(tmp_path / "runs.xlsx"))
    assert code == 2 and ".csv or .parquet" in err
    code, _, err = run(capsys, "--store", str(store), "export", str(tmp_path / "no/dir/x.csv"))
    assert code == 2 and "not a directory" in err
    monkeypatch.setattr(cli, "_has_parquet_engine", lambda: False)
    code, _, err = run(capsys, "--store", str(store), "export", str(tmp_path / "x.parquet"))
    assert code == 2 and "pip install pyarrow" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.sqlite"]


def test_delete_failed_stale_and_by_id(store, capsys):
    args = ["--store", str(store), "delete"]
    code, out, _ = run(capsys, *args, "--failed")
    assert code == 0 and out.strip() == "deleted 1 run"
    code, out, _ = run(capsys, *args, "--stale")
    assert code == 0 and out.strip() == "deleted 1 run"
    code, _, err = run(capsys, *args, "--id", song_ye(0).run_id, "--id", "nope")
    assert code == 2 and "nope" in err
    code, out, _ = run(capsys, *args, "--id", song_ye(0).run_id)
    assert code == 0 and out.strip() == "deleted 1 run"
    with Registry(store) as reg:
        # runs() lists newest first; which of two ids sorts first depends on SCIENCE_VERSION
        assert sorted(r["run_id"] for r in reg.runs()) == sorted(
            [song_ye(1).run_id, chopra(0).run_id]
        )
        assert reg.runs(status=["failed", "running"]) == []


def test_bad_input_exits_2_and_creates_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_STORE, raising=False)
    assert cli.main([]) == 2
    assert run(capsys, "list")[0] == 2  # default store absent: an error, not a new file
    assert run(capsys, "--store", str(tmp_path / "x.sqlite"), "show", "abc")[0] == 2
    assert run(capsys, "delete")[0] == 2  # one of --failed/--stale/--id is required
    assert run(capsys, "list", "--limit", "0")[0] == 2
    (tmp_path / "notes.txt").write_text("hello")
    code, _, err = run(capsys, "--store", "notes.txt", "list")
    assert code == 2 and "not an SQLite database" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_store_from_environment_and_ambiguous_prefix(store, capsys, monkeypatch):
    monkeypatch.setenv(ENV_STORE, str(store))
    code, _, err = run(capsys, "show", "")
    assert code == 2 and "matches 5 runs" in err
    code, out, _ = run(capsys, "list", "--p", "5")
    assert code == 0 and len(out.splitlines()) == 6


def test_python_dash_m_grokclaims(store):
    out = subprocess.run(
        [sys.executable, "-m", "grokclaims", "runs", "--store", str(store), "list"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert chopra(0).run_id in out.stdout


def test_stale_after_has_a_floor_so_live_rows_are_never_deleted(store, capsys):
    con = sqlite3.connect(store)
    with con:  # a live process: its heartbeat 2 s old
        con.execute("UPDATE runs SET heartbeat = ? WHERE status = 'running'", (time.time() - 2,))
    con.close()
    args = ["--store", str(store), "delete", "--stale"]
    for bad in ("1", "29.9", "nan", "abc"):
        code, _, err = run(capsys, *args, "--stale-after", bad)
        assert code == 2 and "--stale-after" in err, (bad, err)
    assert "must be at least 30 s, got 1" in run(capsys, *args, "--stale-after", "1")[2]
    code, out, _ = run(capsys, *args, "--stale-after", "30")
    assert code == 0 and out.strip() == "deleted 0 runs"
    with Registry(store) as reg:
        assert len(reg.runs(status="running")) == 1


def test_list_and_show_of_a_row_with_damaged_spec_and_provenance(store, capsys):
    rid = song_ye(0).run_id
    con = sqlite3.connect(store)
    with con:
        con.execute("UPDATE runs SET spec = '{broken', provenance = '[1' WHERE run_id = ?", (rid,))
    con.close()
    code, out, err = run(capsys, "--store", str(store), "list")
    assert code == 0 and rid in out
    code, out, err = run(capsys, "--store", str(store), "show", rid)
    assert code == 1, (out, err)
    assert "spec: unreadable (damaged row" in out
    assert "provenance: unreadable (damaged row" in out


def _exit_code(argv) -> int:
    try:
        return cli.main(argv)
    except SystemExit as e:  # a sub-command's parser may exit by itself
        return e.code


def test_both_commands_share_their_argument_checks(tmp_path, capsys):
    """`grokclaims runs` and `grokclaims fill` reject the same bad values with the same message
    (one definition in grokclaims.arguments)."""
    store = str(tmp_path / "runs.sqlite")
    checks = {
        ("--stale-after", "5"): "must be at least 30 s, got 5",
        ("--stale-after", "abc"): "not a number: 'abc'",
    }
    for (opt, bad), message in checks.items():
        for argv in (
            ["runs", "--store", store, "delete", "--stale", opt, bad],
            ["fill", "--scale", "smoke", opt, bad],
        ):
            assert _exit_code(argv) == 2, argv
            assert message in capsys.readouterr().err, argv
    for argv in (["runs", "--store", store, "list", "--limit", "0"], ["fill", "--seeds", "0"]):
        assert _exit_code(argv) == 2, argv
        assert "must be >= 1, got 0" in capsys.readouterr().err, argv
