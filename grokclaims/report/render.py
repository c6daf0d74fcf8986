"""REPORT.md: the header, the verdict table, the changes since the previous report, the expected
outcomes at this scale, and one section per claim (numbers beside the source's, figures)."""

from __future__ import annotations

from collections import defaultdict

from grokclaims.report.history import verdict_of

VERDICT_MARK = {
    "supported": "✅ supported",
    "refuted": "❌ refuted",
    "inconclusive": "❔ inconclusive",
    "error": "💥 error",
    "planned": "planned",
}


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


def claim_order(claim_id: str) -> tuple:
    """Sort key of a claim id: Song & Ye, Chopra, other sources; then its number."""
    prefix = "".join(c for c in claim_id if c.isalpha())
    number = "".join(c for c in claim_id if c.isdigit())
    return ({"SY": 0, "CH": 1, "BR": 2}.get(prefix, 3), int(number) if number else 0, claim_id)


COUNTED = ("supported", "refuted", "inconclusive", "error", "planned")
CLAIM_RULE = (
    "A claim with several test cases (SY6 per prime, SY10 per cell and its trend, the CH "
    "sweeps and values) counts once: refuted if any of its cases is refuted; supported only if "
    "every case is supported; otherwise inconclusive, or error when a case has no verdict "
    "(an error) and none is refuted."
)


def claim_verdict(verdicts: list[str]) -> str:
    """One verdict per claim from its cases' verdicts (``CLAIM_RULE``)."""
    if "refuted" in verdicts:
        return "refuted"
    if verdicts and all(v == "supported" for v in verdicts):
        return "supported"
    if "error" in verdicts:
        return "error"
    if verdicts and all(v == "planned" for v in verdicts):
        return "planned"
    return "inconclusive"


def verdict_counts(results: list[dict]) -> tuple[dict[str, int], dict[str, int], dict[str, str]]:
    """The verdicts counted per test case and per claim id, and each claim's verdict."""
    per_claim: dict[str, list[str]] = defaultdict(list)
    for e in results:
        per_claim[e["claim_id"]].append(verdict_of(e))
    claims = {
        c: claim_verdict(v) for c, v in sorted(per_claim.items(), key=lambda kv: claim_order(kv[0]))
    }
    tests = {k: sum(verdict_of(e) == k for e in results) for k in COUNTED}
    by_claim = {k: sum(v == k for v in claims.values()) for k in COUNTED}
    return tests, by_claim, claims


def _counts_section(results: list[dict]) -> list[str]:
    tests, by_claim, claims = verdict_counts(results)
    shown = [k for k in COUNTED if tests[k] or by_claim[k]]
    lines = [
        "## Counts",
        "",
        "| | " + " | ".join(shown) + " | total |",
        "|---|" + "---|" * (len(shown) + 1),
        f"| test cases | {' | '.join(str(tests[k]) for k in shown)} | {len(results)} |",
        f"| claims | {' | '.join(str(by_claim[k]) for k in shown)} | {len(claims)} |",
        "",
        CLAIM_RULE,
        "",
        "Per claim: "
        + ", ".join(f"{c} {VERDICT_MARK.get(v, v).split()[0]}" for c, v in claims.items())
        + ".",
        "",
    ]
    return lines


SOURCE_NAMES = {"ch": "Chopra claims", "br": "tutorial claims"}


def _fill_text(fill: dict | None) -> str:
    """The fill-first stage's share of the session's training (``pytest -n``), if it ran."""
    if not fill:
        return ""
    text = (
        f" ({fill.get('trained', 0)} of them by its fill-first stage, "
        f"{fill['wall_s'] / 60:.1f} min before the claims ran"
    )
    failed = fill.get("failed", 0)
    if failed:
        text += f"; {failed} runs failed there"
    if fill.get("exit_status"):
        text += f"; it ended with status {fill['exit_status']}"
    return text + ")"


def _seeds(seeds: list[int]) -> str:
    """'5: 0, 1, 2, 3, 4'; a long run of seeds as '14: 0-13'."""
    if len(seeds) > 5 and seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{len(seeds)}: {seeds[0]}-{seeds[-1]}"
    return f"{len(seeds)}: {', '.join(map(str, seeds))}"


def render(results: list[dict], meta: dict, moved) -> str:
    lines = [f"# grokclaims report: {meta['scale']} scale", ""]
    if meta.get("partial"):
        lines += [
            f"**Partial session** ({'; '.join(meta['partial'])}): this report covers only "
            "some claims; it is not `latest` and no later report is compared with it.",
            "",
        ]
    lines += [
        "| | |",
        "|---|---|",
        f"| scale | {meta['scale']} |",
        f"| seeds | {_seeds(meta['seeds'])}"
        + "".join(
            f"; {SOURCE_NAMES.get(src, src)}: {_seeds(v)}"
            for src, v in (meta.get("seeds_by_source") or {}).items()
        )
        + " |",
        f"| git commit | `{meta.get('git_commit') or 'unknown'}` |",
        f"| package / torch / python | {meta['package_version']} / {meta['torch']} / "
        f"{meta['python']} |",
        f"| device | {meta['device']} on {meta['host']} |",
        f"| started / duration | {meta['start']} / {meta['duration_s'] / 60:.1f} min |",
        f"| runs | {meta['runs']} used: {meta['trained']} trained in this session"
        f"{_fill_text(meta.get('fill'))}, {meta['reused']} reused from the registry |",
        "",
        "Train accuracy of the Song & Ye runs is measured as the authors do: the running mean "
        "over each epoch's mini-batches while training (dropout on); validation accuracy is an "
        "evaluation pass (dropout off). Verdicts: supported (pass), refuted (fail), "
        "inconclusive (skip); an outcome declared for this scale in "
        "`grokclaims/verdicts/expected.py` is marked *expected*.",
        "",
    ]
    lines += _counts_section(results)
    lines += [
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
        lines.append(
            f"No verdict moved since `{meta['previous_report']}` (among the tests of both)."
        )
    else:
        lines.append(f"Compared with `{meta['previous_report']}`:")
        lines += ["", "| test | before | now |", "|---|---|---|"]
        lines += [f"| {t} | {a} | {b} |" for t, a, b in moved]
    for key, where in (("only_in_previous", "the previous report"), ("only_in_this", "this one")):
        if meta.get(key):
            lines += ["", f"Only in {where} (not compared): {', '.join(meta[key])}."]
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
