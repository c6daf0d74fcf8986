"""Toy claim modules and helpers for the black-box tests of the pytest plugin.

The toy claims train tiny Chopra MLPs (p = 5, width 8, 20 epochs: a fraction of a second) or no
runs at all; every session they run in points ``--grok-store`` and ``--grok-report-dir`` into the
test's temporary directory.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib.pyplot
import pytest
import scipy.stats

import grokclaims.engine.cost
import grokclaims.plugin.context
import grokclaims.plugin.registry
import grokclaims.report
import grokclaims.setups.sources
import grokclaims.verdicts

# pytester restores sys.modules after each in-process session: what the toy sessions import is
# imported here once, so that each session does not import it again (the hypothesis plugin,
# which imports hypothesis at the end of every session, is turned off in them: grok_args). The
# plugin itself imports none of it until a claim runs.
_IMPORTED = (
    grokclaims.engine.cost,
    grokclaims.plugin.context,
    grokclaims.plugin.registry,
    grokclaims.report,
    grokclaims.setups.sources,
    grokclaims.verdicts,
    matplotlib.pyplot,
    scipy.stats,
)

# Supported (with runs, a measurement and a figure), refuted, inconclusive, a crash, and a
# parametrised supported claim; decided by the verdicts' rules or a ClaimResult built directly.
TOY = '''
import pytest

from grokclaims.setups.sources import ChopraSetup
from grokclaims.verdicts import ClaimResult, Verdict, decide_interval

TINY = ChopraSetup(p=5, width=8, max_epochs=20, eval_every=10)


@pytest.mark.claim(id="TOY1", source="Toy et al. (2024), sec. 1", statement="x lies in [0, 2]")
def test_supported(grok):
    """The toy models fit five residues."""
    runs = grok.runs([TINY.spec(s) for s in grok.seeds])
    grok.record("runs", len(runs), (len(runs), len(runs)), source_value=3)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([r.result.trace.val_acc[-1] for r in runs])
    grok.figure(fig, "val")
    grok.conclude(decide_interval("x", 1.0, (0.9, 1.1), 0.0, 2.0, "x in [0, 2]"))


@pytest.mark.claim(id="TOY2", source="Toy et al. (2024), sec. 2", statement="y lies in [0, 2]")
def test_refuted(grok):
    grok.conclude(decide_interval("y", 5.0, (4.5, 5.5), 0.0, 2.0, "y in [0, 2]"))


@pytest.mark.claim(id="TOY3", source="Toy et al. (2024), sec. 3", statement="z is positive")
def test_inconclusive(grok):
    grok.conclude(ClaimResult("z", 0.25, (-0.5, 1.0), 0.31, "z > 0", Verdict.INCONCLUSIVE,
                              "inconclusive: the interval [-0.5, 1] straddles 0"))


@pytest.mark.claim(id="TOY4", source="Toy et al. (2024), sec. 4", statement="w can be computed")
def test_crash(grok):
    grok.record("w", 1 / 0)


@pytest.mark.claim(id="TOY5", source="Toy et al. (2024), sec. 5", statement="v is small")
@pytest.mark.parametrize("v", [0.5, 1.5])
def test_param(grok, v):
    grok.conclude(ClaimResult("v", v, None, None, "v <= 2", Verdict.SUPPORTED, "supported: v <= 2"))
'''

# test id -> (pytest outcome, verdict) of TOY
TOY_EXPECTED = {
    "TOY1": ("passed", "supported"),
    "TOY2": ("failed", "refuted"),
    "TOY3": ("skipped", "inconclusive"),
    "TOY4": ("failed", "error"),
    "TOY5[0.5]": ("passed", "supported"),
    "TOY5[1.5]": ("passed", "supported"),
}

TINY_SETUP = "ChopraSetup(p=5, width=8, max_epochs=20, eval_every=10)"

# Two claims over overlapping tiny runs: seeds 0-2; seeds 1-3 and a wider model of seeds 0 and 4
# (six distinct runs: planned_specs()). Each records how many of its runs it trained.
PLANNED = f"""
import pytest

from grokclaims.setups.sources import ChopraSetup
from grokclaims.verdicts import decide_point

TINY = {TINY_SETUP}


def _conclude(grok, runs):
    acc = sum(r.result.trace.val_acc[-1] for r in runs) / len(runs)
    grok.record("trained", sum(r.trained for r in runs))
    grok.conclude(decide_point("mean final val acc", acc, 0.0, 1.0, "in [0, 1]"))


@pytest.mark.claim(id="PL1", statement="the first runs train")
def test_first(grok):
    _conclude(grok, grok.runs([TINY.spec(s) for s in (0, 1, 2)]))


@pytest.mark.claim(id="PL2", statement="the second runs train")
def test_second(grok):
    _conclude(grok, grok.runs([TINY.spec(s) for s in (1, 2, 3)]
                              + [TINY.spec(0, width=12), TINY.spec(4, width=12)]))
"""


def planned_specs():
    """The distinct runs PLANNED asks for: seeds 0-3 at width 8, seeds 0 and 4 at width 12."""
    from grokclaims.setups.sources import ChopraSetup

    tiny = ChopraSetup(p=5, width=8, max_epochs=20, eval_every=10)
    return [tiny.spec(s) for s in (0, 1, 2, 3)] + [tiny.spec(0, width=12), tiny.spec(4, width=12)]


def grok_args(
    tmp: Path, *extra: str, report_dir: Path | None = None, store: Path | None = None
) -> list[str]:
    """Command-line arguments pointing the store and the reports into ``tmp``."""
    return [
        "-p",
        "no:cacheprovider",
        "-p",
        "no:hypothesispytest",
        "--grok-store",
        str(store or tmp / "store" / "runs.sqlite"),
        "--grok-report-dir",
        str(report_dir or tmp / "reports"),
        *extra,
    ]


def run_claims(
    pytester: pytest.Pytester,
    *extra: str,
    subprocess: bool = False,
    report_dir: Path | None = None,
    store: Path | None = None,
) -> pytest.RunResult:
    args = grok_args(pytester.path, *extra, report_dir=report_dir, store=store)
    if subprocess:
        return pytester.runpytest_subprocess(*args, timeout=120)
    return pytester.runpytest(*args)


def report_dirs(report_dir: Path) -> list[Path]:
    """The reports written into ``report_dir``, oldest first (``latest`` left out)."""
    return sorted(
        p
        for p in report_dir.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
    )


def load_results(report: Path) -> dict:
    """results.json, parsed strictly (NaN or Infinity would not be valid JSON)."""

    def reject(name: str):
        raise ValueError(f"results.json holds {name}, which is not JSON")

    return json.loads((report / "results.json").read_text(), parse_constant=reject)


def outcomes(results: dict) -> dict[str, tuple[str, str]]:
    """test id -> (pytest outcome, verdict) from a results.json."""
    from grokclaims.report.history import verdict_of

    return {c["test_id"]: (c["outcome"], verdict_of(c)) for c in results["claims"]}


def plan_totals(stdout: str) -> tuple[int, int, int]:
    """(runs, stored, to train) from the plan table's total line."""
    m = re.search(r"^total \(distinct runs\)\s+(\d+)\s+(\d+)\s+(\d+)\s", stdout, re.M)
    assert m is not None, stdout
    return int(m[1]), int(m[2]), int(m[3])
