"""Song & Ye's figures: capacity, memorisation times, the race and its agreement across cells.

Pure functions from measurements (arrays, :class:`~grokclaims.setups.race.RaceData`) to figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from grokclaims.setups.race import REGIMES, OnsetComparison, RaceData

SEED_ALPHA = 0.45


def _seed_points(ax, P, values, color, label, marker="o"):
    """Per-seed points of a (n_P, n_seeds) array at their P (NaN left out)."""
    v = np.asarray(values, dtype=float)
    x = np.repeat(np.asarray(P, dtype=float)[:, None], v.shape[1], axis=1)
    ok = np.isfinite(v)
    ax.scatter(x[ok], v[ok], s=14, color=color, alpha=SEED_ALPHA, marker=marker, label=label)


def _geo_mean(values) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        logs = np.log(np.where(v > 0, v, np.nan))
        count = np.isfinite(logs).sum(axis=1)
        return np.where(count > 0, np.exp(np.nansum(logs, axis=1) / np.maximum(count, 1)), np.nan)


def race(data: RaceData, cmp: OnsetComparison, title: str = ""):
    """Left: T_mem and T_gen against P with the crossing P× (and its CI) and the onset marked.
    Right: each seed's delay against P, the onset marked (SY6)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    budget = data.cell.max_epochs
    for values, color, name in (
        (data.t_mem, "tab:red", "T_mem (random targets)"),
        (data.t_gen, "tab:blue", "T_gen (task, val ≥ 99 %)"),
    ):
        _seed_points(a, data.P, values, color, None)
        a.plot(data.P, _geo_mean(values), "-", color=color, label=name)
    a.axhline(budget, color="grey", lw=0.8, ls=":", label=f"budget {budget}")
    for ax in (a, b):
        if cmp.p_cross is not None:
            ax.axvline(cmp.p_cross, color="k", ls="--", lw=1, label=f"P× = {cmp.p_cross:,.0f}")
        if cmp.onset is not None:
            ax.axvline(cmp.onset, color="tab:green", lw=1.5, label=f"onset = {cmp.onset:,.0f}")
        ax.set_xscale("log")
        ax.set_xlabel("parameters P")
    a.set_yscale("log")
    a.set_ylabel("epochs")
    a.legend(fontsize=7)
    _seed_points(b, data.P, data.delay, "tab:purple", "delay per seed")
    b.set_ylabel("delay (epochs)")
    b.legend(fontsize=7)
    fig.suptitle(
        title
        or f"race, {data.cell.label}: p = {data.cell.p}, op {data.cell.op}, alpha {data.cell.alpha}"
    )
    fig.tight_layout()
    return fig


def capacity(
    P,
    bits,
    slope: float,
    intercept: float,
    K: float | None = None,
    references: Mapping[str, float] | None = None,
    title: str = "",
):
    """Saturated memorised bits against P per seed, the fitted line, reference capacities."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    P = np.asarray(P, dtype=float)
    _seed_points(ax, P, bits, "tab:red", "bits per seed")
    grid = np.linspace(0, P.max() * 1.05, 50)
    if np.isfinite(slope):
        ax.plot(
            grid, intercept + slope * grid, "k-", lw=1, label=f"fit: C = {slope:.2f} bits/param"
        )
    for name, c in (references or {}).items():
        ax.plot(grid, c * grid, ls=":", lw=1, label=f"{name}: {c} bits/param")
    if K is not None:
        ax.axhline(K, color="grey", ls="--", lw=0.8, label=f"dataset K = {K:,.0f} bits")
    ax.set_xlabel("parameters P")
    ax.set_ylabel("memorised bits")
    ax.legend(fontsize=7)
    ax.set_title(title or "capacity")
    fig.tight_layout()
    return fig


def times(
    series: Mapping[str, tuple[Sequence[float], np.ndarray]],
    *,
    ylabel: str,
    lines: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    vlines: Mapping[str, float] | None = None,
    title: str = "",
):
    """Per-seed epochs against P (log-log) for several series, with optional fitted lines."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (name, (P, values)) in enumerate(series.items()):
        _seed_points(ax, P, values, colors[i % len(colors)], name)
    for name, (x, y) in (lines or {}).items():
        ax.plot(x, y, "-", lw=1, label=name)
    for name, x in (vlines or {}).items():
        ax.axvline(x, color="grey", ls="--", lw=0.8, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parameters P")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def regimes(data: RaceData, title: str = ""):
    """Each (width, seed) run's regime against P (SY4)."""
    fig, ax = plt.subplots(figsize=(5.5, 3))
    reg = data.regime
    for k, name in enumerate(REGIMES):
        x = np.repeat(data.P[:, None], reg.shape[1], axis=1)[reg == name]
        jitter = np.linspace(-0.12, 0.12, max(x.size, 1))[: x.size]
        ax.scatter(x, k + jitter, s=18, label=f"{name} ({x.size})")
    ax.set_yticks(range(len(REGIMES)), REGIMES)
    ax.set_xscale("log")
    ax.set_xlabel("parameters P")
    ax.set_title(title or "regimes")
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
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    ax.set_xlabel("predicted P×")
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
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3), squeeze=False)
    for ax, name in zip(axes[0], axis_values):
        ax.scatter(axis_values[name], log_ratios[name], s=20)
        ax.axhspan(-0.3, 0.3, color="grey", alpha=0.15)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xlabel(name)
        ax.set_ylabel("log10(onset / P×)")
    fig.suptitle(title or "log ratio per swept axis")
    fig.tight_layout()
    return fig
