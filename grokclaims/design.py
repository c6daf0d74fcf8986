"""``python -m grokclaims.design [REPORT_DIR]``: the nightly grid's prediction per width
(docs/nightly_design.md), from the medium numbers recorded in
``grokclaims.setups.nightly_design.MEDIUM`` or re-measured from a medium report and its store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from grokclaims.setups.nightly_design import MEDIUM, measure, summarise, table
from grokclaims.setups.scales import NIGHTLY


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv:
        from grokclaims.store.registry import Registry

        results = json.loads((Path(argv[0]) / "results.json").read_text())
        reg = Registry(results["meta"]["store"], create=False)
        m = measure(results, lambda specs: {s.run_id: reg.get(s) for s in specs}, argv[0])
    else:
        m = MEDIUM
    print(m)
    cells = list(NIGHTLY.sy.central) + [
        NIGHTLY.sy.cell("alpha", a) for a in NIGHTLY.sy.suites["alpha"] if a != 0.5
    ]
    print(table(cells, m))
    for cell in cells:
        print(f"p = {cell.p} {cell.label}: {summarise(cell, m)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
