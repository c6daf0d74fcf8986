"""Song & Ye's figures: memorisation times, the race and its agreement across cells (the
memory grid's, SY1/SY2/SY8, are in ``figures.capacity``).

Pure functions from measurements (arrays, :class:`~grokclaims.setups.race_data.RaceData`,
:class:`~grokclaims.analysis.crossing_censored.CrossingReport`) to figures. A run that never
reached its milestone is drawn as an open marker at the budget with an upward arrow (it is
censored there, never a time); P× is a point only where both curves are observed, otherwise a
shaded bracket (CLAIMS.md revision 2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from grokclaims.analysis.crossing_censored import CrossingReport
from grokclaims.setups.race import RaceCell
from grokclaims.setups.race_data import RaceData

SEED_ALPHA = 0.45
REGIME_NAMES = ("underfit", "immediate", "grokking")


def setup(cell: RaceCell) -> str:
    """The setting in a title: p, operation, alpha, weight decay."""
    return f"p = {cell.p}, a {cell.op} b, alpha {cell.alpha}, wd {cell.weight_decay}"


def _log_x(ax) -> None:
    """Log P axis labelled at 1, 2 and 5 times each decade in plain numbers (at most three
    labels a decade, so they never collide), minor ticks unlabelled."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=12))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _seed_points(ax, P, values, color, label, marker="o", budget=None):
    """Per-seed points of a (n_P, n_seeds) array at their P; with ``budget``, runs that never
    reached (NaN) as open markers at the budget with an upward arrow."""
    v = np.asarray(values, dtype=float)
    x = np.repeat(np.asarray(P, dtype=float)[:, None], v.shape[1], axis=1)
    ok = np.isfinite(v)
    ax.scatter(x[ok], v[ok], s=14, color=color, alpha=SEED_ALPHA, marker=marker, label=label)
    if budget is not None and (~ok).any():
        xs = np.unique(x[~ok])
        ax.scatter(
            xs,
            np.full(xs.size, budget),
            s=46 if marker == "o" else 30,
            facecolors="none",
            edgecolors=color,
            marker=marker,
            label=f"{label or 'runs'}: not reached by {budget:,.0f} (censored)",
        )
        for xi in xs:
            ax.annotate(
                "",
                (xi, budget * 1.5),
                (xi, budget * 1.05),
                arrowprops={"arrowstyle": "->", "color": color, "lw": 1},
                annotation_clip=False,
            )
        # Room above the budget for the arrows, as data the autoscaling includes: fixing the
        # limits here would freeze them in the axis's current (linear) scale, and a log scale
        # set afterwards would get a lower limit <= 0 (a collapsed axis).
        ax.update_datalim([(xs[0], budget * 1.7)])
        ax.autoscale_view()


def race(data: RaceData, report: CrossingReport, onset: float | None, title: str = ""):
    """Left: T_mem and T_gen per seed (censored runs open at the budget) and their Kaplan–Meier
    medians where observed, with every crossing (a point, or a shaded bracket) and the onset.
    Right: each seed's delay against P, the onset marked (SY6, SY10)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    budget = data.cell.max_epochs
    for which, values, color, name, marker in (
        ("mem", data.t_mem, "tab:red", "T_mem (random targets)", "o"),
        ("gen", data.t_gen, "tab:blue", "T_gen (task, val ≥ 99 %)", "s"),
    ):
        _seed_points(a, data.P, values, color, name, marker=marker, budget=budget)
        pts = [pt for pt in data.curve(which) if pt.observed]
        if pts:
            a.plot(
                [pt.P for pt in pts],
                [pt.epochs for pt in pts],
                "-",
                color=color,
                label=f"{name.split()[0]}: Kaplan–Meier median (observed)",
            )
    a.axhline(budget, color="grey", lw=0.8, ls=":", label=f"budget {budget:,}")
    lo_x, hi_x = data.P.min() / 1.3, data.P.max() * 1.3
    for c in report.crossings:
        for ax in (a, b):
            lab = str(c) if ax is a else None
            if c.is_point:
                ax.axvline(c.P, color="k", ls="--", lw=1, label=lab)
            else:
                lo = max(c.between[0], lo_x) if c.between[0] > 0 else lo_x
                hi = min(c.between[1], hi_x) if math.isfinite(c.between[1]) else hi_x
                ax.axvspan(lo, hi, color="k", alpha=0.1, label=f"{lab} (bracket)" if lab else None)
    if report.authors_linear is not None:
        a.axvline(
            report.authors_linear,
            color="tab:orange",
            ls=":",
            lw=1,
            label=f"authors' linear P× = {report.authors_linear:,.0f}",
        )
    for ax in (a, b):
        if onset is not None:
            ax.axvline(
                onset, color="tab:green", lw=1.5, label=f"onset = {onset:,.0f}" if ax is a else None
            )
        _log_x(ax)
        ax.set_xlim(lo_x, hi_x)
        ax.set_xlabel("parameters P")
    a.set_yscale("log")
    a.set_ylabel("epochs")
    a.legend(fontsize=6, loc="lower left")
    _seed_points(b, data.P, data.delay, "tab:purple", "delay per seed")
    b.axhline(0, color="k", lw=0.6)
    b.set_ylabel("delay (epochs; underfit runs have none)")
    b.legend(fontsize=7)
    fig.suptitle(f"{title} ({setup(data.cell)}, dropout {data.cell.dropout})")
    fig.tight_layout()
    return fig


def times(
    series: Mapping[str, tuple[Sequence[float], np.ndarray]],
    *,
    ylabel: str,
    lines: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    vlines: Mapping[str, float] | None = None,
    budget: float | None = None,
    title: str = "",
):
    """Per-seed epochs against P (log-log) for several series, with optional fitted lines;
    with ``budget``, runs that never reached (NaN) are open markers at it with an arrow."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (name, (P, values)) in enumerate(series.items()):
        marker = "os^"[i % 3]
        _seed_points(ax, P, values, colors[i % len(colors)], name, marker, budget=budget)
    if budget is not None:
        ax.axhline(budget, color="grey", lw=0.8, ls=":", label=f"budget {budget:,.0f}")
    for name, (x, y) in (lines or {}).items():
        ax.plot(x, y, "-", lw=1, label=name)
    for name, x in (vlines or {}).items():
        ax.axvline(x, color="grey", ls="--", lw=0.8, label=name)
    _log_x(ax)
    ax.set_yscale("log")
    ax.set_xlabel("parameters P")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def regimes(
    data: RaceData, by_threshold: Mapping[str, np.ndarray], no_train: np.ndarray, title: str = ""
):
    """Each (width, seed) run's regime against P, one panel per delay threshold (SY4); runs
    that generalised without ever reaching 99 % running train accuracy are open markers."""
    n = len(by_threshold)
    fig, axes = plt.subplots(1, n, figsize=(5 * n, 3), squeeze=False)
    P = np.repeat(data.P[:, None], data.t_train.shape[1], axis=1)
    for ax, (label, reg) in zip(axes[0], by_threshold.items()):
        for k, name in enumerate(REGIME_NAMES):
            sel = reg == name
            x, open_ = P[sel], no_train[sel]
            jitter = np.linspace(-0.12, 0.12, max(x.size, 1))[: x.size]
            ax.scatter(
                x[~open_],
                (k + jitter)[~open_],
                s=18,
                color=f"C{k}",
                label=f"{name} ({int(sel.sum())} in all)",
            )
            if open_.any():
                ax.scatter(
                    x[open_],
                    (k + jitter)[open_],
                    s=30,
                    facecolors="none",
                    edgecolors=f"C{k}",
                    label=f"{name}: train never 99 % ({int(open_.sum())})",
                )
        ax.set_yticks(range(len(REGIME_NAMES)), REGIME_NAMES)
        _log_x(ax)
        ax.set_xlabel("parameters P")
        ax.set_title(label, fontsize=9)
        ax.legend(fontsize=6)
    fig.suptitle(title or "regimes")
    fig.tight_layout()
    return fig


def agreement(
    p_cross: Sequence[float], onset: Sequence[float], labels: Sequence[str], title: str = ""
):
    """Empirical onset against predicted P× per cell, log-log, with the identity line (SY7)."""
    fig, ax = plt.subplots(figsize=(5, 4.5))
    x, y = np.asarray(p_cross, float), np.asarray(onset, float)
    ok = np.isfinite(x) & np.isfinite(y)
    ax.scatter(x[ok], y[ok], s=20)
    for xi, yi, lab in zip(x[ok], y[ok], np.asarray(labels, dtype=object)[ok]):
        ax.annotate(str(lab), (xi, yi), fontsize=6, xytext=(3, 3), textcoords="offset points")
    if ok.any():
        lo, hi = min(x[ok].min(), y[ok].min()) / 1.5, max(x[ok].max(), y[ok].max()) * 1.5
        ax.plot([lo, hi], [lo, hi], "k:", lw=1, label="onset = P×")
        ax.fill_between(
            [lo, hi],
            [lo / 2, hi / 2],
            [lo * 2, hi * 2],
            color="grey",
            alpha=0.15,
            label="±0.3 decades",
        )
        _log_x(ax)
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    ax.set_xlabel("predicted P× (point crossings only)")
    ax.set_ylabel("empirical onset")
    ax.set_title(title or f"onset vs P× ({int(ok.sum())} of {ok.size} cells defined)")
    fig.tight_layout()
    return fig


def axis_trends(
    axis_values: Mapping[str, Sequence[float]],
    log_ratios: Mapping[str, Sequence[float]],
    title: str = "",
):
    """log10(onset / P×) against each swept axis's value (SY10)."""
    n = max(len(axis_values), 1)
    fig, axes = plt.subplots(1, n, figsize=(3.8 * n, 4.2), squeeze=False)
    for ax, name in zip(axes[0], axis_values):
        x = np.asarray(axis_values[name], dtype=float)
        y = np.asarray(log_ratios[name], dtype=float)
        ok = np.isfinite(y)
        ax.scatter(x[ok], y[ok], s=20, label="cells with a point P×")
        # the axis's own values as ticks (a few, never colliding), the cells without a ratio
        # marked along the bottom
        ax.set_xticks(np.unique(x), [f"{v:g}" for v in np.unique(x)])
        ax.set_xlim(x.min() - 0.1 * (np.ptp(x) or 1), x.max() + 0.1 * (np.ptp(x) or 1))
        if (~ok).any():
            ax.scatter(  # on the axis line, in axes coordinates: these cells have no value
                x[~ok],
                np.full((~ok).sum(), 0.0),
                marker="x",
                color="grey",
                clip_on=False,
                transform=ax.get_xaxis_transform(),
                label="no ratio: no onset, or P× only bracketed (on the axis)",
            )
        ax.axhspan(-0.3, 0.3, color="grey", alpha=0.15, label="±0.3 decades")
        ax.axhline(0, color="k", lw=0.8, label="onset = P×")
        ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.22))
        ax.set_xlabel(name)
        ax.set_ylabel("log10(onset / P×)")
        lo, hi = ax.get_ylim()
        ax.set_ylim(min(lo, -0.45), max(hi, 0.45))
    fig.suptitle(title or "log ratio per swept axis")
    fig.tight_layout()
    return fig
