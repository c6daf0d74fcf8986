"""``python -m grokclaims.claimrules [--reps N]``: the table of every claim's rule and its
simulated error rates at each scale's number of seeds (docs/error_rates.md is this command's
output). One row per claim id of CLAIMS.md and scale; a claim without a registered rule, or
that the scale cannot decide, is marked with the reason instead of numbers."""

from __future__ import annotations

import argparse

from grokclaims.claimrules import RULES, song_ye_cells
from grokclaims.claimrules.errors import (
    MAX_FALSE_SUPPORT,
    REPS,
    SCALE_SEEDS,
    error_rates,
    seeds_at,
)

# The 21 claims of CLAIMS.md (tests/test_claimrules_table.py checks this against the file).
CLAIM_IDS = (
    *(f"SY{i}" for i in range(1, 11)),
    *(f"CH{i}" for i in range(1, 7)),
    *(f"BR{i}" for i in range(1, 6)),
)
# Rows beside the claims: a part decided by another rule, and the rule it uses.
EXTRA_ROWS = {"SY10[cell]": "SY6", "CH[value]": "CH[value]"}


def at_scale(row: str, scale: str):
    """(rule, n_seeds, reason): the rule deciding ``row`` at ``scale`` and its number of seeds,
    or rule None and the reason the scale cannot decide it."""
    n = seeds_at(scale, row)
    if row in ("SY7", "SY10"):
        why = song_ye_cells.cannot_decide(row, scale)
        return (None, n, why) if why else (song_ye_cells.rule_at(row, scale), n, "")
    rule = RULES.get(EXTRA_ROWS.get(row, row))
    if rule is None:
        return None, n, "no revision-2 rule registered"
    if n < rule.min_seeds:
        return None, n, f"{n} seeds; the rule needs {rule.min_seeds}"
    return rule, n, ""


def rows(reps: int, scales=tuple(SCALE_SEEDS)) -> list[tuple[str, str, int, str]]:
    """(row id, scale, seeds, the table's cells after 'seeds') per row and scale."""
    out = []
    for row in (*CLAIM_IDS, *EXTRA_ROWS):
        for scale in scales:
            rule, n, why = at_scale(row, scale)
            if rule is None:
                cells = f"cannot be decided at this scale: {why} | | | "
            else:
                r = error_rates(rule, n, reps=reps)
                flag = "" if r.acceptable else f" (> {MAX_FALSE_SUPPORT:.0%})"
                cells = (
                    f"{r.false_support:.1%}{flag} | {r.false_refute:.1%} | {r.power:.1%} | "
                    f"{r.true_refute:.1%}"
                )
            out.append((row, scale, n, cells))
    return out


def table(reps: int) -> str:
    lines = [
        "| claim | scale | seeds | false support | false refute | power | refutes a false claim |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {row} | {scale} | {n} | {cells} |" for row, scale, n, cells in rows(reps)]
    scenarios = [
        "",
        "Scenarios (the claim true at the source's effect / false just past its tolerance; SY7 "
        "and SY10 at the nightly numbers of cells and axis values):",
        "",
    ]
    for claim_id in sorted(RULES):
        rule = RULES[claim_id]
        scenarios.append(
            f"- **{claim_id}**: holds: {rule.holds.description}; fails: {rule.fails.description}."
        )
    return "\n".join(lines + scenarios)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m grokclaims.claimrules")
    ap.add_argument("--reps", type=int, default=REPS)
    args = ap.parse_args(argv)
    print(table(args.reps))


if __name__ == "__main__":
    main()
