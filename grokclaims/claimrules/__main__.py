"""``python -m grokclaims.claimrules [--reps N] [--seeds 3 5 10]``: the table of every claim
rule's simulated error rates (docs/error_rates.md is this command's output)."""

from __future__ import annotations

import argparse

from grokclaims.claimrules import RULES
from grokclaims.claimrules.errors import MAX_FALSE_SUPPORT, REPS, error_rates


def table(seeds: list[int], reps: int) -> str:
    lines = [
        "| claim | seeds | false support | false refute | power | refutes a false claim |",
        "|---|---|---|---|---|---|",
    ]
    for claim_id in sorted(RULES):
        for n in seeds:
            r = error_rates(RULES[claim_id], n, reps=reps)
            flag = "" if r.acceptable else f" (> {MAX_FALSE_SUPPORT:.0%})"
            lines.append(
                f"| {claim_id} | {n} | {r.false_support:.1%}{flag} | {r.false_refute:.1%} | "
                f"{r.power:.1%} | {r.true_refute:.1%} |"
            )
    scenarios = [
        "",
        "Scenarios (the claim true at the source's effect / false just past its tolerance):",
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
    ap.add_argument("--seeds", type=int, nargs="+", default=[3, 5, 10])
    args = ap.parse_args(argv)
    print(table(args.seeds, args.reps))


if __name__ == "__main__":
    main()
