"""Writing a session's report: ``<report dir>/<UTC time>-<scale>/`` with REPORT.md, figures/*.png
and results.json, the session's metadata, and the ``latest`` link to the newest complete report
(a partial one, ``meta["partial"]`` non-empty, is written but not linked)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
from pathlib import Path

from grokclaims import __version__, provenance
from grokclaims.report.history import absent, changes, previous_report, verdict_of, verdicts
from grokclaims.report.render import claim_order, render


def session_meta(
    *,
    scale: str,
    seeds,
    device,
    n_gpus: int,
    store: str,
    start: float,
    end: float,
    seeds_by_source: dict | None = None,
) -> dict:
    """The header of a session's report: scale, seeds, provenance, device, store, times;
    ``seeds_by_source``: the sources whose seeds differ from the scale's (``Scale.own_seeds``)."""
    return {
        "scale": scale,
        "seeds": list(seeds),
        **(
            {"seeds_by_source": {k: list(v) for k, v in seeds_by_source.items()}}
            if seeds_by_source
            else {}
        ),
        "package_version": __version__,
        "git_commit": provenance.git_commit(),
        "torch": provenance.torch_version(),
        "python": provenance.python_version(),
        "host": provenance.host(),
        "platform": platform.platform(),
        "device": device or (f"{n_gpus} GPU(s), one per worker" if n_gpus else "cpu"),
        "store": store,
        "start": dt.datetime.fromtimestamp(start, dt.timezone.utc).isoformat(timespec="seconds"),
        "end": dt.datetime.fromtimestamp(end, dt.timezone.utc).isoformat(timespec="seconds"),
        "duration_s": round(end - start, 1),
    }


def run_counts(results: list[dict], filled: int = 0) -> dict[str, int]:
    """Distinct runs used by the claims, split into trained in this session and reused;
    ``filled``: the runs the session's fill-first stage trained (the claims then read them
    from the store, so their own entries count them as reused)."""
    trained, seen = set(), set()
    for entry in results:
        for run in entry.get("runs", []):
            seen.add(run["run_id"])
            if run.get("trained"):
                trained.add(run["run_id"])
    trained_n = min(len(trained) + filled, len(seen))
    return {"runs": len(seen), "trained": trained_n, "reused": len(seen) - trained_n}


def write_report(report_dir: Path, results: list[dict], meta: dict) -> Path:
    """Write the report of one session; returns its directory."""
    out = _new_report_dir(report_dir, meta["scale"])
    (out / "figures").mkdir()
    results = unique_figure_names(
        sorted(results, key=lambda e: (claim_order(e["claim_id"]), e["test_id"]))
    )
    for entry in results:
        for fig in entry.get("figures", []):
            (out / "figures" / fig["name"]).write_bytes(base64.b64decode(fig["png"]))
    prev = previous_report(report_dir, meta["scale"], exclude=out)
    moved, unmatched = None, ([], [])
    if prev:
        old, new = verdicts(prev), {e["test_id"]: verdict_of(e) for e in results}
        moved, unmatched = changes(old, new), absent(old, new)
    meta = {
        "partial": [],
        **meta,
        **run_counts(results, filled=meta.get("fill", {}).get("trained", 0)),
        "previous_report": prev.name if prev else None,
        "only_in_previous": unmatched[0],
        "only_in_this": unmatched[1],
    }
    slim = [
        {k: v for k, v in e.items() if k != "figures"}
        | {"figures": [f"figures/{f['name']}" for f in e.get("figures", [])]}
        for e in results
    ]
    (out / "results.json").write_text(json.dumps({"meta": meta, "claims": slim}, indent=1))
    (out / "REPORT.md").write_text(render(results, meta, moved))
    if not meta["partial"]:  # `latest` is what the next comparison starts from
        _point_latest(report_dir, out)
    return out


def unique_figure_names(results: list[dict]) -> list[dict]:
    """The entries with figure names that no two tests share. A figure's name is its test id
    made a file name, which drops characters (``X[op=+]`` and ``X[op=*]`` both give ``X_op=``);
    where that makes two tests' names equal, each gets a hash of its test id, so that none
    overwrites another; names that did not collide stay as they are."""
    owners: dict[str, set[str]] = {}
    for e in results:
        for f in e.get("figures", []):
            owners.setdefault(f["name"], set()).add(e["test_id"])
    out = []
    for e in results:
        figures = []
        for f in e.get("figures", []):
            if len(owners[f["name"]]) > 1:
                stem, dot, ext = f["name"].rpartition(".")
                tag = hashlib.sha256(e["test_id"].encode()).hexdigest()[:8]
                f = {**f, "name": f"{stem}-{tag}{dot}{ext}" if dot else f"{ext}-{tag}"}
            figures.append(f)
        out.append({**e, "figures": figures} if "figures" in e else e)
    return out


def _new_report_dir(report_dir: Path, scale: str) -> Path:
    """``<UTC time>-<scale>``, created here; sessions ending in the same second (or writing at
    once) get ``<UTC time>.001-<scale>``, ... so that none overwrites another and the names
    still sort in time order."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    report_dir.mkdir(parents=True, exist_ok=True)
    for n in range(1000):
        out = report_dir / (f"{stamp}-{scale}" if n == 0 else f"{stamp}.{n:03d}-{scale}")
        try:
            out.mkdir()
        except FileExistsError:
            continue
        return out
    raise FileExistsError(f"{report_dir}: no free report name for {stamp}-{scale}")


def _point_latest(report_dir: Path, target: Path) -> None:
    latest = report_dir / "latest"
    if latest.is_dir() and not latest.is_symlink():  # a copy made without symlinks
        shutil.rmtree(latest)
    tmp = report_dir / f".latest-{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(target.name, target_is_directory=True)
        os.replace(tmp, latest)  # atomic: a session finishing at the same time cannot break it
    except OSError:  # no symlinks (some Windows setups): a copy instead
        tmp.unlink(missing_ok=True)
        if latest.is_symlink() or latest.is_file():
            latest.unlink()
        shutil.copytree(target, latest)
