"""What a claim test holds: the ``grok`` fixture's object.

A claim test asks it for runs (trained or read through the registry), records measurements
with their intervals, attaches figures, and concludes with a verdict::

    runs = grok.runs(specs)              # one call: --grok-plan counts exactly these
    grok.record("P×", 9_100, (7_000, 12_000))
    grok.figure(figures.race(...))
    grok.conclude(result)                # supported -> pass, refuted -> fail, inconclusive -> skip

Everything recorded travels to the controller as JSON in the test report (so it works under
xdist), where the report plugin writes it out.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from grokclaims.claimrules.errors import ClaimRule, ErrorRates, error_rates
from grokclaims.plugin.progress import note_runs
from grokclaims.plugin.state import PAYLOAD_KEY
from grokclaims.setups.scales import Scale
from grokclaims.spec.run import RunSpec
from grokclaims.store.registry import Registry, Run
from grokclaims.verdicts import ClaimResult, Verdict
from grokclaims.verdicts.expected import expected_outcome

__all__ = ["PAYLOAD_KEY", "Claim", "PlanOnly"]


@functools.cache
def _error_rates(rule: ClaimRule, n_seeds: int) -> ErrorRates:
    return error_rates(rule, n_seeds)


class PlanOnly(Exception):
    """Raised by :meth:`Claim.runs` in plan mode: the test stops once its runs are counted."""


@dataclass
class Claim:
    claim_id: str
    test_id: str
    statement: str
    source: str
    quote: str
    scale: Scale
    seeds: tuple[int, ...]
    device: str | None
    registry: Registry
    plan: bool = False
    progress_dir: str | None = None  # where the session's progress line learns of our runs
    measurements: list[dict[str, Any]] = field(default_factory=list)
    figures: list[dict[str, str]] = field(default_factory=list)
    used_runs: list[dict[str, Any]] = field(default_factory=list)
    planned: list[dict[str, Any]] = field(default_factory=list)
    result: ClaimResult | None = None
    expected: dict[str, str] | None = None
    _asked: bool = False
    _started: float = field(default_factory=time.perf_counter)

    def runs(self, specs: Sequence[RunSpec]) -> list[Run]:
        """All runs of this claim, in one call; missing ones are trained (as ensembles)."""
        if self._asked:
            raise RuntimeError(
                "a claim asks for its runs in one grok.runs(...) call, so that "
                "--grok-plan can count them; collect the specs first"
            )
        self._asked = True
        if self.plan:
            missing = {s.run_id for s in self.registry.missing(specs)}
            self.planned = [
                {
                    "run_id": s.run_id,
                    "missing": s.run_id in missing,
                    "family": s.model.family,
                    "epochs": s.schedule.max_epochs,
                    "spec": s.canonical(),
                }
                for s in specs
            ]
            raise PlanOnly(
                f"planned {len({s.run_id for s in specs})} runs, {len(missing)} to train"
            )
        note_runs(self.progress_dir, self.test_id, [s.run_id for s in specs])
        runs = self.registry.get_or_train(specs, device=self.device)
        for run in runs:
            self.used_runs.append(
                {
                    "run_id": run.run_id,
                    "trained": run.trained,
                    "status": run.status,
                    "provenance": run.provenance,
                }
            )
        return runs

    def record(
        self,
        name: str,
        value: float | None,
        interval: Sequence[float] | None = None,
        unit: str = "",
        source_value: float | str | None = None,
        note: str = "",
    ) -> None:
        """A measurement shown in the report, beside the source's own number if it has one."""
        self.measurements.append(
            {
                "name": name,
                "value": _number(value),
                "interval": None
                if interval is None
                else [_number(v, open_bound=True) for v in interval],
                "unit": unit,
                "source_value": _number(source_value)
                if not isinstance(source_value, str)
                else source_value,
                "note": note,
            }
        )

    def record_parts(self, parts: Mapping[str, ClaimResult]) -> None:
        """Each part of a conjunction (``decide_conjunction``) as a row: its verdict, estimate,
        interval and the rule that decided it."""
        for key, r in parts.items():
            self.record(
                f"[{r.verdict.value}] {key}: {r.name}", r.estimate, interval=r.interval, note=r.rule
            )

    def figure(self, fig, name: str = "") -> None:
        """Attach a matplotlib figure (rendered to PNG now; the report writes the file)."""
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
        stem = _slug(f"{self.test_id}-{name}" if name else self.test_id)
        self.figures.append(
            {
                "name": f"{stem}-{len(self.figures)}.png",
                "png": base64.b64encode(buf.getvalue()).decode(),
            }
        )

    def record_error_rates(self, rule: ClaimRule) -> None:
        """The rule's simulated false-support rate and power at this scale's number of seeds
        (``grokclaims.claimrules.errors``), as rows of the claim's section."""
        rates = _error_rates(rule, len(self.seeds))
        n, reps = rates.n_seeds, rates.reps
        self.record(
            f"rule: simulated false support at {n} seeds",
            rates.false_support,
            note=f"claim false just past its tolerance; {reps} simulated data sets",
        )
        self.record(
            f"rule: simulated power at {n} seeds",
            rates.power,
            note=f"claim true at the source's effect; false refute {rates.false_refute:.0%}",
        )

    def conclude(self, result: ClaimResult) -> None:
        """State the verdict; it decides the test outcome (see the module docstring)."""
        self.result = result
        exp = expected_outcome(self.scale.name, self.claim_id, self.test_id)
        if exp is not None:
            self.expected = {"verdict": exp.verdict.value, "reason": exp.reason}
            if result.verdict is exp.verdict:
                pytest.xfail(
                    f"expected {exp.verdict.value} at {self.scale.name} scale: {exp.reason}"
                )
            pytest.fail(
                f"{self.claim_id} was declared {exp.verdict.value} at "
                f"{self.scale.name} scale ({exp.reason}) but is "
                f"{result.verdict.value}: {result.summary()}. Update "
                "grokclaims/verdicts/expected.py.",
                pytrace=False,
            )
        if result.verdict is Verdict.SUPPORTED:
            return
        if result.verdict is Verdict.REFUTED:
            pytest.fail(f"{self.claim_id} refuted: {result.summary()}", pytrace=False)
        pytest.skip(f"{self.claim_id} inconclusive: {result.summary()}")

    def payload(self) -> str:
        return json.dumps(
            {
                "claim_id": self.claim_id,
                "test_id": self.test_id,
                "statement": self.statement,
                "source": self.source,
                "quote": self.quote,
                "scale": self.scale.name,
                "seeds": list(self.seeds),
                "result": self.result.to_dict() if self.result is not None else None,
                "expected": self.expected,
                "measurements": self.measurements,
                "figures": self.figures,
                "runs": self.used_runs,
                "planned": self.planned,
                "seconds": time.perf_counter() - self._started,
            }
        )


def _number(v, open_bound: bool = False):
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    if open_bound and math.isinf(f):  # an interval's open end (a censored ratio's bound)
        return "inf" if f > 0 else "-inf"
    return None if math.isnan(f) else f


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_")[:120]
