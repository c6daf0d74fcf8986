"""The verdict report: REPORT.md, figures/*.png and results.json, written by the controller.

Layout: ``<report dir>/<UTC time>-<scale>/`` and a ``latest`` link to the newest. REPORT.md has a
header (scale, seeds, git commit, device, duration, runs trained vs reused), the verdict table,
one section per claim (figures, numbers beside the source's, the source sentence, the rule that
decided), the expected outcomes at this scale, and the verdicts that moved since the previous
report of the same scale. ``python -m grokclaims.report diff OLD NEW`` compares two reports
(exit 1 when a verdict moved; the nightly job uses it).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from grokclaims import __version__

VERDICT_MARK = {
    "supported": "✅ supported",
    "refuted": "❌ refuted",
    "inconclusive": "❔ inconclusive",
    "error": "💥 error",
    "planned": "planned",
}


def git_commit(cwd: Path | None = None) -> str | None:
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


def session_meta(
    *, scale: str, seeds, device, n_gpus: int, store: str, start: float, end: float
) -> dict:
    import torch

    return {
        "scale": scale,
        "seeds": list(seeds),
        "package_version": __version__,
        "git_commit": git_commit(),
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "host": platform.node(),
        "platform": platform.platform(),
        "device": device or (f"{n_gpus} GPU(s), one per worker" if n_gpus else "cpu"),
        "store": store,
        "start": dt.datetime.fromtimestamp(start, dt.timezone.utc).isoformat(timespec="seconds"),
        "end": dt.datetime.fromtimestamp(end, dt.timezone.utc).isoformat(timespec="seconds"),
        "duration_s": round(end - start, 1),
    }


def verdict_of(entry: dict) -> str:
    if entry.get("result") is not None:
        return entry["result"]["verdict"]
    return "planned" if entry.get("planned") else "error"


def run_counts(results: list[dict]) -> dict[str, int]:
    """Distinct runs used by the claims, split into trained in this session and reused."""
    trained, seen = set(), set()
    for entry in results:
        for run in entry.get("runs", []):
            seen.add(run["run_id"])
            if run.get("trained"):
                trained.add(run["run_id"])
    return {"runs": len(seen), "trained": len(trained), "reused": len(seen - trained)}


def _fmt(v, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
        return f"{v:.{digits}g}"
    return f"{v:,.{digits}g}" if abs(v) < 1000 else f"{v:,.0f}"


def estimate_text(result: dict | None) -> str:
    """'name = estimate [lo, hi], p = ...' of a result as stored in results.json."""
    if result is None:
        return "n/a"
    text = f"{result['name']} = {_fmt(result['estimate'])}"
    if result.get("interval"):
        lo, hi = result["interval"]
        text += f" [{_fmt(lo)}, {_fmt(hi)}]"
    if result.get("p_value") is not None:
        text += f", p = {_fmt(result['p_value'])}"
    return text


def previous_report(report_dir: Path, scale: str, exclude: Path | None = None) -> Path | None:
    candidates = sorted(
        p
        for p in report_dir.glob(f"*-{scale}")
        if p.is_dir() and (p / "results.json").exists() and p != exclude
    )
    return candidates[-1] if candidates else None


def verdicts(path: Path) -> dict[str, str]:
    data = json.loads((path / "results.json").read_text())
    return {e["test_id"]: verdict_of(e) for e in data["claims"]}


def changes(old: dict[str, str], new: dict[str, str]) -> list[tuple[str, str, str]]:
    """(test id, old verdict, new verdict) for every test whose verdict moved or appeared."""
    out = [(t, old.get(t, "absent"), v) for t, v in sorted(new.items()) if old.get(t) != v]
    out += [(t, v, "absent") for t, v in sorted(old.items()) if t not in new]
    return out


def write_report(report_dir: Path, results: list[dict], meta: dict) -> Path:
    """Write the report of one session; returns its directory."""
    out = _new_report_dir(report_dir, meta["scale"])
    (out / "figures").mkdir()
    results = sorted(results, key=lambda e: (_claim_order(e["claim_id"]), e["test_id"]))
    for entry in results:
        for fig in entry.get("figures", []):
            (out / "figures" / fig["name"]).write_bytes(base64.b64decode(fig["png"]))
    prev = previous_report(report_dir, meta["scale"], exclude=out)
    moved = (
        changes(verdicts(prev), {e["test_id"]: verdict_of(e) for e in results}) if prev else None
    )
    meta = {**meta, **run_counts(results), "previous_report": prev.name if prev else None}
    slim = [
        {k: v for k, v in e.items() if k != "figures"}
        | {"figures": [f"figures/{f['name']}" for f in e.get("figures", [])]}
        for e in results
    ]
    (out / "results.json").write_text(json.dumps({"meta": meta, "claims": slim}, indent=1))
    (out / "REPORT.md").write_text(render(results, meta, moved))
    _point_latest(report_dir, out)
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


def _claim_order(claim_id: str) -> tuple:
    prefix = "".join(c for c in claim_id if c.isalpha())
    number = "".join(c for c in claim_id if c.isdigit())
    return ({"SY": 0, "CH": 1, "BR": 2}.get(prefix, 3), int(number) if number else 0, claim_id)


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


def render(results: list[dict], meta: dict, moved) -> str:
    lines = [f"# grokclaims report: {meta['scale']} scale", ""]
    lines += [
        "| | |",
        "|---|---|",
        f"| scale | {meta['scale']} |",
        f"| seeds | {len(meta['seeds'])}: {', '.join(map(str, meta['seeds']))} |",
        f"| git commit | `{meta.get('git_commit') or 'unknown'}` |",
        f"| package / torch / python | {meta['package_version']} / {meta['torch']} / "
        f"{meta['python']} |",
        f"| device | {meta['device']} on {meta['host']} |",
        f"| started / duration | {meta['start']} / {meta['duration_s'] / 60:.1f} min |",
        f"| runs | {meta['runs']} used: {meta['trained']} trained in this session, "
        f"{meta['reused']} reused from the registry |",
        "",
        "Train accuracy of the Song & Ye runs is measured as the authors do: the running mean "
        "over each epoch's mini-batches while training (dropout on); validation accuracy is an "
        "evaluation pass (dropout off). Verdicts: supported (pass), refuted (fail), "
        "inconclusive (skip); an outcome declared for this scale in `grokclaims/expected.py` "
        "is marked *expected*.",
        "",
        "## Verdicts",
        "",
        "| test | claim | verdict | estimate [95 % interval] | tolerance | figure |",
        "|---|---|---|---|---|---|",
    ]
    for e in results:
        r = e.get("result")
        figs = e.get("figures", [])
        fig = f"[figure](figures/{figs[0]['name']})" if figs else ""
        mark = VERDICT_MARK.get(verdict_of(e), verdict_of(e))
        if e.get("expected"):
            mark += " (expected)"
        lines.append(
            f"| [{e['test_id']}](#{_anchor(e['claim_id'])}) | {e.get('statement', '')} "
            f"| {mark} | {estimate_text(r)} | {r['tolerance'] if r else ''} | {fig} |"
        )
    lines += ["", "## Changes since the previous report", ""]
    if moved is None:
        lines.append("No previous report at this scale.")
    elif not moved:
        lines.append(f"No verdict moved since `{meta['previous_report']}`.")
    else:
        lines.append(f"Compared with `{meta['previous_report']}`:")
        lines += ["", "| test | before | now |", "|---|---|---|"]
        lines += [f"| {t} | {a} | {b} |" for t, a, b in moved]
    expected = [e for e in results if e.get("expected")]
    if expected:
        lines += ["", "## Expected outcomes at this scale", ""]
        lines += [
            f"- **{e['test_id']}**: {e['expected']['verdict']}. {e['expected']['reason']}"
            for e in expected
        ]
    by_claim: dict[str, list[dict]] = defaultdict(list)
    for e in results:
        by_claim[e["claim_id"]].append(e)
    for claim_id, entries in by_claim.items():
        lines += ["", f"## {claim_id}", "", f"**Claim.** {entries[0].get('statement', '')}", ""]
        if entries[0].get("quote"):
            source = entries[0].get("source", "")
            lines += [f"**Source** ({source}):", ""]
            lines += ["> " + ln for ln in entries[0]["quote"].splitlines()] + [""]
        for e in entries:
            lines += _case(e)
    return "\n".join(lines) + "\n"


def _anchor(claim_id: str) -> str:
    return claim_id.lower()


def _case(e: dict) -> list[str]:
    r = e.get("result")
    out = [f"### {e['test_id']}: {VERDICT_MARK.get(verdict_of(e), verdict_of(e))}", ""]
    if r is not None:
        out += [f"- {estimate_text(r)}; tolerance: {r['tolerance']}", f"- rule: {r['rule']}"]
    else:
        out += ["```", (e.get("error") or "no verdict").strip()[-1500:], "```"]
    if e.get("expected"):
        out.append(
            f"- expected at this scale: {e['expected']['verdict']} ({e['expected']['reason']})"
        )
    runs = e.get("runs", [])
    if runs:
        trained = sum(1 for r_ in runs if r_.get("trained"))
        out.append(
            f"- runs: {len(runs)} ({trained} trained here, {len(runs) - trained} reused); "
            f"{e.get('seconds', 0):.0f} s"
        )
    out.append("")
    if e.get("measurements"):
        out += ["| measurement | value | interval | source |", "|---|---|---|---|"]
        for m in e["measurements"]:
            iv = (
                f"[{_fmt(m['interval'][0])}, {_fmt(m['interval'][1])}]" if m.get("interval") else ""
            )
            unit = f" {m['unit']}" if m.get("unit") else ""
            src = _fmt(m.get("source_value")) if m.get("source_value") is not None else ""
            note = f" ({m['note']})" if m.get("note") else ""
            out.append(f"| {m['name']}{note} | {_fmt(m['value'])}{unit} | {iv} | {src} |")
        out.append("")
    for fig in e.get("figures", []):
        out += [f"![{e['test_id']}](figures/{fig['name']})", ""]
    return out


def plan_table(results: list[dict], device: str) -> str:
    from grokclaims.engine.cost import estimate_seconds

    rows, all_ids, missing_ids, seconds = [], set(), set(), 0.0
    counted: set[str] = set()
    for e in sorted(results, key=lambda e: (_claim_order(e["claim_id"]), e["test_id"])):
        planned = e.get("planned") or []
        ids = {p["run_id"] for p in planned}
        miss = {p["run_id"] for p in planned if p["missing"]}
        secs = sum(
            estimate_seconds(p["spec"], device)
            for p in planned
            if p["missing"] and p["run_id"] not in counted
        )
        counted |= miss
        all_ids |= ids
        missing_ids |= miss
        seconds += secs
        rows.append(
            f"{e['test_id']:<28} {len(ids):>6} {len(ids) - len(miss):>8} {len(miss):>9}"
            f" {secs / 3600:>10.2f}"
        )
    head = f"{'claim':<28} {'runs':>6} {'stored':>8} {'to train':>9} {'est. hours':>10}"
    foot = (
        f"{'total (distinct runs)':<28} {len(all_ids):>6} {len(all_ids - missing_ids):>8} "
        f"{len(missing_ids):>9} {seconds / 3600:>10.2f}"
    )
    return "\n".join(
        [
            head,
            *rows,
            foot,
            f"(estimate for device '{device}', budgets in full; "
            "early stopping makes real runs shorter)",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m grokclaims.report")
    sub = ap.add_subparsers(dest="cmd", required=True)
    diff = sub.add_parser(
        "diff", help="list verdicts that moved between two reports; exit 1 if any did"
    )
    diff.add_argument("old", type=Path)
    diff.add_argument("new", type=Path)
    args = ap.parse_args(argv)
    for path in (args.old, args.new):
        if not (path / "results.json").exists():
            print(f"{path}: not a grokclaims report (no results.json)", file=sys.stderr)
            return 2
    moved = changes(verdicts(args.old), verdicts(args.new))
    for test, a, b in moved:
        print(f"{test}: {a} -> {b}")
    if not moved:
        print("no verdict moved")
    return 1 if moved else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
