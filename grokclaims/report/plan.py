"""The plan table (``--grok-plan``): each claim's runs, how many are stored, how many are to
train, and the estimated compute."""

from __future__ import annotations

from grokclaims.report.render import claim_order


def plan_table(results: list[dict], device: str) -> str:
    from grokclaims.engine.cost import estimate_seconds  # torch loads for a plan only

    # A row's hours are all of its own runs to train (a claim whose runs an earlier row also
    # needs does not show 0.00 h); the total counts each distinct run once.
    rows, all_ids, missing_ids, seconds = [], set(), set(), 0.0
    for e in sorted(results, key=lambda e: (claim_order(e["claim_id"]), e["test_id"])):
        planned = e.get("planned") or []
        ids = {p["run_id"] for p in planned}
        miss = {p["run_id"] for p in planned if p["missing"]}
        costs = {p["run_id"]: estimate_seconds(p["spec"], device) for p in planned if p["missing"]}
        secs = sum(costs.values())
        seconds += sum(c for rid, c in costs.items() if rid not in missing_ids)
        all_ids |= ids
        missing_ids |= miss
        rows.append(
            f"{e['test_id']:<28} {len(ids):>6} {len(ids) - len(miss):>8} {len(miss):>9}"
            f" {secs / 3600:>10.2f}"
        )
    head = f"{'claim':<28} {'runs':>6} {'stored':>8} {'to train':>9} {'est. hours':>10}"
    foot = (
        f"{'total (distinct runs)':<28} {len(all_ids):>6} {len(all_ids - missing_ids):>8} "
        f"{len(missing_ids):>9} {seconds / 3600:>10.2f}"
    )
    shared = "; a run several claims need is in each one's hours, once in the total"
    return "\n".join(
        [
            head,
            *rows,
            foot,
            f"(estimate for device '{device}', budgets in full; "
            f"early stopping makes real runs shorter{shared})",
        ]
    )
