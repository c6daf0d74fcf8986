"""The nightly grid's prediction from what a medium run measured (docs/nightly_design.md).

For each width of a race cell: its C·P/K, the predicted T_mem (SY8's fit, log10 T_mem =
a + b·log10(C·P/K)) and T_gen (the same line fitted to the weight-decay-1 cells' T_gen medians),
whether T_mem is predicted to be observed (C·P/K at or above the smallest ratio at which medium
memorised random targets, and within the budget), its distance from the predicted crossing
P× (medium's C·P×/K) and whether it is predicted to generalise first (delay 0).

Medium trains p = 23 (502 training pairs, one optimiser step an epoch), so its times are steps
as well as epochs. A nightly cell has ``ceil(n_train / 512)`` steps an epoch; both readings are
given ("steps": the time transfers per optimiser step; "epochs": per pass over the data).

    python -m grokclaims.design [REPORT_DIR]   # the table, from MEDIUM below or a medium report

Pure: ``measure`` is given the report's results and a lookup of its runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from grokclaims.analysis.capacity import weighted_ols
from grokclaims.setups.race import RaceCell
from grokclaims.setups.race_data import measure_cell
from grokclaims.setups.scales import get_scale

WINDOW = 0.3  # decades: SY6's tolerance, ">= 3 widths within ±0.3 decades of P×"


@dataclass(frozen=True)
class Measured:
    """What a medium run measured that the prediction uses, each from its report."""

    C: float  # SY1's C at the race setting, bits/parameter (a lower bound where SY1 says so)
    mem_fit: tuple[float, float]  # SY8: (slope, intercept) of log10 T_mem on log10(C·P/K)
    gen_fit: tuple[float, float]  # (slope, intercept) of log10 T_gen medians, wd-1 cells
    cross_ratio: float  # C·P×/K of the weight-decay-1 cells' point crossings (their mean)
    memorised_ratio: float  # the smallest C·P/K at which most seeds memorised (SY2)
    source: str  # the report it comes from


# reports/20261201T004449Z-medium (re-measured by `python -m grokclaims.design REPORT_DIR`; the
# first full run, reports/20261130T221850Z-medium, gives the same numbers): SY1 C (race) 0.638;
# SY8 fit_all (-1.371, 3.644); the T_gen medians of the central and op=* cells fitted the same
# way (`measure`); P× 8,108 (central) and 8,532 (op=*) -> C·P×/K 2.22 and 2.34; SY2: 4 of 5
# seeds memorised at C·P/K 1.44, none at 1.25.
MEDIUM = Measured(
    C=0.638,
    mem_fit=(-1.371, 3.644),
    gen_fit=(-0.429, 3.250),
    cross_ratio=2.28,
    memorised_ratio=1.44,
    source="reports/20261201T004449Z-medium",
)


@dataclass(frozen=True)
class Row:
    dim: int
    P: int
    ratio: float  # C·P/K
    t_mem: float  # predicted, in medium's steps
    t_gen: float
    steps_per_epoch: int
    mem_observed: bool
    decades_from_cross: float  # log10(P / P×)
    generalises_first: bool

    def epochs(self, t: float) -> tuple[float, float]:
        """(steps reading, epochs reading) of a predicted time, in the cell's epochs."""
        return t / self.steps_per_epoch, t


def p_cross(cell: RaceCell, m: Measured) -> float:
    """The predicted crossing: the P at which C·P/K is medium's C·P×/K."""
    return m.cross_ratio * cell.complexity / m.C


def _line(fit: tuple[float, float], x: float) -> float:
    slope, intercept = fit
    return 10 ** (intercept + slope * math.log10(x))


def predict(cell: RaceCell, m: Measured, *, batch_size: int = 512) -> list[Row]:
    """One row per width of ``cell``."""
    steps = math.ceil(cell.n_train / batch_size)
    cross = p_cross(cell, m)
    rows = []
    for dim in cell.dims:
        P = cell.n_params(dim)
        ratio = m.C * P / cell.complexity
        t_mem, t_gen = _line(m.mem_fit, ratio), _line(m.gen_fit, ratio)
        # Observed under both readings: the slower (epochs) one within the cell's budget.
        observed = ratio >= m.memorised_ratio and t_mem <= cell.max_epochs
        rows.append(
            Row(
                dim=dim,
                P=P,
                ratio=ratio,
                t_mem=t_mem,
                t_gen=t_gen,
                steps_per_epoch=steps,
                mem_observed=observed,
                decades_from_cross=math.log10(P / cross),
                generalises_first=t_gen <= cell.max_epochs and (not observed or t_gen < t_mem),
            )
        )
    return rows


@dataclass(frozen=True)
class Summary:
    p_cross: float
    mem_observed: int  # widths with T_mem predicted observed
    near_cross: int  # widths within ±0.3 decades of P×
    observed_below: int  # widths below P× with T_mem observed (a point crossing needs 1 + 1)
    observed_above: int
    delay_zero: bool  # some width predicted to generalise first


def summarise(cell: RaceCell, m: Measured) -> Summary:
    rows = predict(cell, m)
    return Summary(
        p_cross=p_cross(cell, m),
        mem_observed=sum(r.mem_observed for r in rows),
        near_cross=sum(abs(r.decades_from_cross) <= WINDOW for r in rows),
        observed_below=sum(r.mem_observed and r.decades_from_cross < 0 for r in rows),
        observed_above=sum(r.mem_observed and r.decades_from_cross > 0 for r in rows),
        delay_zero=any(r.generalises_first for r in rows),
    )


def table(cells: list[RaceCell], m: Measured) -> str:
    """The markdown prediction table of docs/nightly_design.md."""
    out = [
        "| cell | dim | P | C·P/K | T_mem observed? | T_mem, epochs (steps / epochs reading) "
        "| T_gen, epochs (steps / epochs reading) | log10(P / P×) | generalises first? |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for cell in cells:
        name = f"p = {cell.p} {cell.label}"
        for r in predict(cell, m):
            tm, tg = r.epochs(r.t_mem), r.epochs(r.t_gen)
            mem = (
                f"{tm[0]:,.0f} / {tm[1]:,.0f}"
                if r.mem_observed
                else f"— (C·P/K below {m.memorised_ratio:.2f})"
            )
            out.append(
                f"| {name} | {r.dim} | {r.P:,} | {r.ratio:.2f} | "
                f"{'yes' if r.mem_observed else 'no'} | {mem} | {tg[0]:,.0f} / {tg[1]:,.0f} | "
                f"{r.decades_from_cross:+.2f} | {'yes' if r.generalises_first else 'no'} |"
            )
        out.append(f"| {name} | P× | {p_cross(cell, m):,.0f} | {m.cross_ratio:.2f} | | | | | |")
    return "\n".join(out)


def measure(results: dict, runs_of: Callable[[list], dict], source: str) -> Measured:
    """The inputs from a medium report's ``results.json`` (SY1, SY2, SY6/SY10's crossings, SY8)
    and its runs (T_gen): ``runs_of(specs)`` returns ``{run_id: run}`` from the report's store;
    ``source`` names the report."""
    by = {c["test_id"]: c for c in results["claims"]}
    seeds = results["meta"]["seeds"]
    C = by["SY1"]["result"]["estimate"]
    mem_fit = tuple(by["SY8"]["result"]["details"]["error"]["details"]["fit_all"])
    sy2 = by["SY2"]["result"]["details"]
    share = dict(zip(sy2["ratios"], sy2["memorised_share"], strict=True))
    memorised = min(r for r, s in share.items() if s > 0.5)
    scale = get_scale(results["meta"]["scale"])
    cells = [c for c in scale.sy.cells() if c.weight_decay == scale.sy.central[0].weight_decay]
    xs, ys, crosses = [], [], []
    for cell in cells:
        specs = [cell.task_spec(d, s) for d in cell.dims for s in seeds]
        specs += [cell.memory_spec(d, s) for d in cell.dims for s in seeds]
        data = measure_cell(cell, seeds, runs_of(specs))
        for pt in data.curve("gen"):
            if pt.observed:
                xs.append(math.log10(C * pt.P / cell.complexity))
                ys.append(math.log10(pt.epochs))
        points = data.crossings().points
        if len(points) == 1:  # one point crossing (SY6's P×); brackets tell no ratio
            crosses.append(C * points[0] / cell.complexity)
    slope, intercept = weighted_ols(np.array(xs), np.array(ys), np.ones(len(xs)))
    return Measured(
        C=C,
        mem_fit=mem_fit,
        gen_fit=(float(slope), float(intercept)),
        cross_ratio=float(np.mean(crosses)),
        memorised_ratio=memorised,
        source=source,
    )
