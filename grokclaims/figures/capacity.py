"""Song & Ye's memory-grid figures: capacity per setting (SY1), memorisation against C·P/K
(SY2) and T_mem against C·P/K per dataset size with the leave-one-cell-out lines (SY8).

Pure functions from :class:`~grokclaims.setups.capacity_data.MemoryData` and numbers the claim
measured. A run that never memorised within its budget is an open marker at the budget with an
upward arrow (censored there, never a time); every reference line is in the legend.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from grokclaims.figures.race import _log_x, _seed_points
from grokclaims.setups.capacity_data import MemoryData

SIZE_MARKERS = "os^Dv<>p"


def capacity(
    datas: Mapping[str, MemoryData],
    fits: Mapping[str, tuple[float, float]],
    references: Mapping[str, float],
    title: str = "",
):
    """One panel per setting: final memorised bits against P per run, filled where the run held
    less than its data and had saturated (the points C is fitted on), open where it was still
    gaining bits (a lower bound), grey where it memorised or held >= 0.9 K; the fitted line, each
    dataset's K and the reference capacities."""
    fig, axes = plt.subplots(1, len(datas), figsize=(8 * len(datas), 4.2), squeeze=False)
    for ax, (label, d) in zip(axes[0], datas.items()):
        for k, n in enumerate(np.unique(d.n)):
            rows = d.n == n
            mk = SIZE_MARKERS[k % len(SIZE_MARKERS)]
            x = np.repeat(d.P[rows][:, None], d.bits.shape[1], axis=1)
            b, over, sat = d.bits[rows], d.over_capacity[rows], d.saturated[rows]
            use = over.all(axis=1, keepdims=True) & np.ones_like(over)
            color = f"C{k}"
            ax.scatter(
                x[use & sat],
                b[use & sat],
                color=color,
                marker=mk,
                s=18,
                label=f"n = {n:,.0f}: over capacity, saturated",
            )
            if (use & ~sat).any():
                ax.scatter(
                    x[use & ~sat],
                    b[use & ~sat],
                    facecolors="none",
                    edgecolors=color,
                    marker=mk,
                    s=30,
                    label=f"n = {n:,.0f}: still gaining bits",
                )
            if (~use).any():
                ax.scatter(
                    x[~use],
                    b[~use],
                    color="grey",
                    marker=mk,
                    s=12,
                    alpha=0.5,
                    label=f"n = {n:,.0f}: memorised or holds ≥ 0.9 K",
                )
            ax.axhline(
                d.K[rows][0],
                color=color,
                ls="--",
                lw=0.7,
                label=f"K = {d.K[rows][0]:,.0f} bits (n = {n:,.0f})",
            )
        grid = np.geomspace(d.P.min() / 1.5, d.P.max() * 1.5, 50)
        slope, intercept = fits.get(label, (np.nan, np.nan))
        if np.isfinite(slope):
            line = intercept + slope * grid
            ok = line > 0
            ax.plot(grid[ok], line[ok], "k-", lw=1, label=f"fit: C = {slope:.2f} bits/param")
        for name, c in references.items():
            ax.plot(grid, c * grid, ls=":", lw=1, label=f"{name}: {c} bits/param")
        _log_x(ax)
        ax.set_yscale("log")
        ax.set_ylim(np.nanmin(d.bits) / 2, d.K.max() * 3)
        ax.set_xlabel("parameters P")
        ax.set_ylabel("memorised bits (final evaluation)")
        ax.set_title(f"{label}: {d.grid.setup(d.setting)}", fontsize=9)
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def memorised(
    d: MemoryData,
    C: float,
    logistic: tuple[float, float] | None,
    x50: tuple[float, float] | None,
    title: str = "",
):
    """Share of seeds memorising within the budget at each point against C·P/K (one marker per
    dataset size), the logistic fit, its 50 % point's interval and the band [0.5, 2]."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ratio = C * d.P / d.K
    share = d.t_mem.shape[1] - np.isnan(d.t_mem).sum(axis=1)
    for k, n in enumerate(np.unique(d.n)):
        rows = d.n == n
        ax.scatter(
            ratio[rows],
            share[rows] / d.t_mem.shape[1],
            marker=SIZE_MARKERS[k % 8],
            s=30,
            label=f"n = {n:,.0f} (K = {d.K[rows][0]:,.0f} bits)",
        )
    if logistic is not None:  # logit P(memorised) = b0 + b1·log10(C·P/K)
        x = np.geomspace(ratio.min(), ratio.max(), 100)
        b0, b1 = logistic
        ax.plot(x, 1 / (1 + np.exp(-(b0 + b1 * np.log10(x)))), "k-", lw=1, label="logistic fit")
    if x50 is not None:
        lo, hi = max(x50[0], ratio.min() / 2), min(x50[1], ratio.max() * 2)
        ax.axvspan(lo, hi, color="k", alpha=0.1, label="50 % point: 95 % interval")
    for v, name in ((0.5, "C·P/K = 0.5"), (2.0, "C·P/K = 2")):
        ax.axvline(v, color="tab:red", ls="--", lw=0.8, label=name)
    ax.axvline(1.0, color="grey", ls=":", lw=0.8, label="C·P = K")
    ax.set_xscale("log")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel(f"C·P/K (C = {C:.2f} bits/param, measured at this setting)")
    ax.set_ylabel(f"share memorised by {d.grid.max_epochs:,} epochs")
    ax.legend(fontsize=6)
    ax.set_title(f"{title}\n{d.grid.setup(d.setting)}", fontsize=9)
    fig.tight_layout()
    return fig


def speed(d: MemoryData, C: float, fit: tuple[float, float] | None, title: str = ""):
    """T_mem per run against P, one colour per dataset size (runs not memorising by the budget
    open at it with an arrow), with the line log10 T = a + b·log10(C·P/K) fitted on every
    cell's observed medians, ``fit`` = (b, a), drawn for each size."""
    fig, ax = plt.subplots(figsize=(6, 4))
    budget = d.grid.max_epochs
    for k, n in enumerate(np.unique(d.n)):
        rows = d.n == n
        _seed_points(
            ax,
            d.P[rows],
            d.t_mem[rows],
            f"C{k}",
            f"n = {n:,.0f} (K = {d.K[rows][0]:,.0f})",
            SIZE_MARKERS[k % 8],
            budget,
        )
    ax.axhline(budget, color="grey", lw=0.8, ls=":", label=f"budget {budget:,}")
    if fit is not None:
        b, a = fit
        x = np.geomspace(d.P.min(), d.P.max(), 50)
        for k, n in enumerate(np.unique(d.n)):
            K = d.K[d.n == n][0]
            ax.plot(
                x,
                10 ** (a + b * np.log10(C * x / K)),
                "-",
                lw=1,
                color=f"C{k}",
                label=f"fit on every size, drawn at n = {n:,.0f}: T = 10^{a:.2f} (C·P/K)^{b:.2f}",
            )
    _log_x(ax)
    ax.set_yscale("log")
    observed = d.t_mem[~np.isnan(d.t_mem)]
    ax.set_ylim(observed.min() / 2 if observed.size else budget / 10, budget * 2.5)
    ax.set_xlabel("parameters P")
    ax.set_ylabel("T_mem (epochs to 99 % running train accuracy)")
    ax.legend(fontsize=6)
    ax.set_title(f"{title}\n{d.grid.setup(d.setting)}, C = {C:.2f}", fontsize=9)
    fig.tight_layout()
    return fig
