"""Figures of the training dynamics: the Chopra MLP (CH) and the tutorial transformer (BR).

Pure functions: traces (objects with the :class:`~grokclaims.engine.trace.Trace` fields) and
the measurements of ``grokclaims.analysis`` in, a ``matplotlib.figure.Figure`` out; nothing is
trained, measured or saved here. A milestone that
was never reached is ``None`` and is simply not drawn; a swept value whose runs never grokked
is drawn at the top of the axis as an open marker ("not by the budget").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from grokclaims.analysis.norms import NormPeak

_COLORS = (
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:red",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:gray",
    "tab:olive",
    "tab:cyan",
)


def _color(i: int) -> str:
    return _COLORS[i % len(_COLORS)]


def _positive(values) -> np.ndarray:
    """Values for a log axis: non-positive entries become NaN (not drawn)."""
    v = np.asarray(values, dtype=float)
    return np.where(v > 0, v, np.nan)


def training_curves(
    traces: Sequence,
    labels: Sequence[str],
    memorised: Sequence[int | None],
    generalised: Sequence[int | None],
    *,
    title: str = "",
    memorised_label: str = "overfit",
    generalised_label: str = "grok",
    bars: Sequence[tuple[float, str]] = (),
) -> Figure:
    """CH1: train/test accuracy, log losses and the weight norm against epochs, per seed, with
    the memorisation (dashed) and generalisation (dotted) epochs marked, and the claim's
    accuracy ``bars`` ((level, label): e.g. BR2's plateau bar, test <= 0.2 at memorisation)
    as horizontal lines; test accuracy at each memorisation epoch is a dot."""
    fig = Figure(figsize=(13, 4.3))
    ax_acc, ax_loss, ax_norm = fig.subplots(1, 3)
    for i, (tr, lab) in enumerate(zip(traces, labels)):
        c = _color(i)
        e = np.asarray(tr.eval_epoch)
        ax_acc.plot(e, tr.train_acc, color=c, lw=1, ls="--", alpha=0.8)
        ax_acc.plot(e, tr.val_acc, color=c, lw=1.5, label=lab)
        ax_loss.plot(e, _positive(tr.train_loss), color=c, lw=1, ls="--", alpha=0.8)
        ax_loss.plot(e, _positive(tr.val_loss), color=c, lw=1.5)
        ax_norm.plot(e, tr.weight_norm, color=c, lw=1.5)
        for ax in (ax_acc, ax_loss, ax_norm):
            if memorised[i] is not None:
                ax.axvline(memorised[i], color=c, ls="--", lw=0.8, alpha=0.6)
            if generalised[i] is not None:
                ax.axvline(generalised[i], color=c, ls=":", lw=1.2)
        if memorised[i] is not None and bars:
            j = int(np.searchsorted(e, memorised[i]))
            ax_acc.plot([e[j]], [tr.val_acc[j]], "o", color=c, ms=5, zorder=4)
    ax_acc.set(
        xlabel="epoch",
        ylabel="accuracy",
        ylim=(-0.02, 1.02),
        title="accuracy (dashed: train, solid: test)",
    )
    ax_loss.set(
        xlabel="epoch",
        ylabel="cross-entropy",
        yscale="log",
        title="loss (dashed: train, solid: test)",
    )
    ax_norm.set(xlabel="epoch", ylabel="global L2 norm", title="weight norm")
    # the reference lines in the legend too (grey proxies: each seed's lines take its colour)
    ax_acc.plot([], [], color="grey", ls="--", lw=0.8, label=f"{memorised_label} epoch")
    ax_acc.plot([], [], color="grey", ls=":", lw=1.2, label=f"{generalised_label} epoch")
    for level, label in bars:
        ax_acc.axhline(level, color="k", ls="-.", lw=0.9, alpha=0.6, label=label)
    if bars:
        ax_acc.plot([], [], "o", color="grey", ms=5, label=f"test at the {memorised_label}")
    # one legend below the panels: inside, it hid the curves
    handles, names = ax_acc.get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=min(len(names), 6), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def weight_norm(
    traces: Sequence,
    labels: Sequence[str],
    peaks: Sequence[NormPeak | None],
    generalised: Sequence[int | None],
    at_generalised: Sequence[float | None],
    *,
    bar: float | None = None,
    title: str = "",
) -> Figure:
    """CH2: the weight norm against epochs with its peak (triangle) and the grok epoch (dotted
    line, circle at ``at_generalised``, the norm there) per seed; with ``bar``, the claim's
    level ``bar`` x peak as a short dashed segment from the peak to the grok epoch."""
    fig = Figure(figsize=(7, 4.3))
    ax = fig.subplots()
    for i, (tr, lab) in enumerate(zip(traces, labels)):
        c = _color(i)
        e, n = np.asarray(tr.eval_epoch), np.asarray(tr.weight_norm, dtype=float)
        ax.plot(e, n, color=c, lw=1.5, label=lab)
        if peaks[i] is not None:
            ax.plot([peaks[i].epoch], [peaks[i].value], "^", color=c, ms=8)
        if generalised[i] is not None:
            ax.axvline(generalised[i], color=c, ls=":", lw=1.2)
            ax.plot([generalised[i]], [at_generalised[i]], "o", color=c, ms=6)
            if bar is not None and peaks[i] is not None:
                level = bar * peaks[i].value
                ax.plot([peaks[i].epoch, generalised[i]], [level, level], color=c, ls="--", lw=1)
    # the markers and reference lines, in the legend (grey: one entry for every seed's)
    ax.plot([], [], "^", color="grey", ms=8, label="norm peak")
    ax.plot([], [], "o:", color="grey", ms=6, lw=1.2, label="grok epoch, norm there")
    if bar is not None:
        ax.plot([], [], "--", color="grey", lw=1, label=f"{bar:g} x peak (the claim's bar)")
    ax.set(xlabel="epoch", ylabel="global L2 norm of the parameters", title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def sweep(
    values: Sequence[float],
    per_seed: Sequence[Sequence[float | None]],
    medians: Sequence[float],
    *,
    xlabel: str,
    ylabel: str = "grok epoch",
    budget: float | None = None,
    source: Mapping[float, float | None] | None = None,
    second: Sequence[Sequence[float | None]] | None = None,
    second_medians: Sequence[float] | None = None,
    second_label: str = "",
    log_x: bool = False,
    categorical: bool = False,
    ordered: bool = True,
    title: str = "",
) -> Figure:
    """A sweep: the milestone of each seed (points) and their ``medians`` (line; an infinite
    median, more than half never reached, is not drawn) against the swept value; seeds that
    never reached it are open markers at ``budget`` with an upward arrow (censored: later than
    the budget). ``second`` (with ``second_medians``) draws another milestone (e.g. the overfit
    epoch) in grey; ``source`` overlays the source's own numbers (None: "never, by the source's
    budget"). ``ordered`` False (categories with no order, e.g. operations): medians are short
    bars, never a line joining the categories."""
    fig = Figure(figsize=(6.5, 4.8))
    ax = fig.subplots()
    xs = np.arange(len(values), dtype=float) if categorical else np.asarray(values, dtype=float)

    def draw(series, medians, color, label, marker):
        for x, seeds in zip(xs, series):
            got = [float(v) for v in seeds if v is not None]
            missed = len(seeds) - len(got)
            jitter = np.linspace(-0.04, 0.04, max(len(seeds), 1))[: len(got)]
            px = x + jitter * (1 if categorical else (x if log_x else 0))
            ax.scatter(px, got, color=color, marker=marker, s=22, zorder=3)
            if missed and budget is not None:
                spread = np.linspace(-0.08, 0.08, missed) if missed > 1 else np.zeros(1)
                cx = x + spread * (1 if categorical else (x if log_x else 0))
                ax.scatter(
                    cx,
                    [budget] * missed,
                    facecolors="none",
                    edgecolors=color,
                    marker=marker,
                    s=40,
                    zorder=3,
                )
                for xc in cx:  # censored: the milestone lies above the budget
                    ax.annotate(
                        "",
                        xy=(xc, budget * 1.06),
                        xytext=(xc, budget),
                        arrowprops={"arrowstyle": "->", "color": color, "lw": 0.9},
                        annotation_clip=False,
                    )
        med = [m if np.isfinite(m) else np.nan for m in medians]
        lab = f"{label} (Kaplan–Meier median of seeds)"
        if ordered:  # the bar marks a median with no neighbour to join (others censored)
            ax.plot(xs, med, color=color, lw=1.2, marker="_", ms=16, mew=1.5, label=lab)
        else:  # no order among the categories: a bar per category, nothing joins them
            ax.scatter(xs, med, marker="_", s=400, color=color, lw=1.5, label=lab, zorder=2)

    draw(per_seed, medians, "tab:blue", ylabel, "o")
    if second is not None:
        draw(second, second_medians, "tab:gray", second_label, "s")
    if source:
        sx = [x for x, v in zip(xs, values) if v in source]
        sy = [
            source[v] if source[v] is not None else (budget or np.nan)
            for v in values
            if v in source
        ]
        never = [source[v] is None for v in values if v in source]
        ax.scatter(
            [x for x, n in zip(sx, never) if not n],
            [y for y, n in zip(sy, never) if not n],
            marker="*",
            s=120,
            color="tab:red",
            zorder=4,
            label="source (seed 42)",
        )
        if any(never):
            ax.scatter(
                [x for x, n in zip(sx, never) if n],
                [y for y, n in zip(sy, never) if n],
                marker="*",
                s=120,
                facecolors="none",
                edgecolors="tab:red",
                zorder=4,
                label="source: never, by its 5,000 epochs",
            )
    if budget is not None:
        ax.axhline(
            budget,
            color="k",
            lw=0.8,
            ls="--",
            alpha=0.5,
            label=f"budget {budget:,.0f} (open markers with arrow: not reached)",
        )
        ax.set_ylim(top=budget * 1.15)
    if categorical:
        ax.set_xticks(xs, [str(v) for v in values])
    elif log_x:
        ax.set_xscale("log")
        ax.minorticks_off()  # the log axis's minor labels (3 x 10^1 ...) collide with ours
        ax.set_xticks(xs, [f"{v:g}" for v in values])
    ax.set(xlabel=xlabel, ylabel="epoch", title=title)
    # Below the axes: inside, the legend hid seeds and censored markers (CH3, CH5).
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    fig.tight_layout()
    return fig


def values_at_budget(
    values: Sequence[float],
    per_seed: Sequence[Sequence[float]],
    medians: Sequence[float],
    *,
    xlabel: str,
    ylabel: str,
    source: Mapping[float, float] | None = None,
    threshold: float | None = None,
    title: str = "",
) -> Figure:
    """BR1: a metric at a fixed budget (test accuracy at epoch 150) against the swept value,
    per seed and its ``medians`` over seeds, with the source's numbers overlaid."""
    fig = Figure(figsize=(6.5, 4))
    ax = fig.subplots()
    xs = np.arange(len(values), dtype=float)
    for x, seeds in zip(xs, per_seed):
        ys = [float(v) for v in seeds]
        ax.scatter(
            x + np.linspace(-0.08, 0.08, max(len(ys), 1))[: len(ys)],
            ys,
            color="tab:blue",
            s=22,
            zorder=3,
        )
    ax.plot(xs, list(medians), color="tab:blue", label="ours (median of seeds)")
    if source:
        ax.scatter(
            [x for x, v in zip(xs, values) if v in source],
            [source[v] for v in values if v in source],
            marker="*",
            s=120,
            color="tab:red",
            label="source",
            zorder=4,
        )
    if threshold is not None:
        ax.axhline(
            threshold, color="k", ls="--", lw=0.8, alpha=0.5, label=f"the claim's {threshold:.0%}"
        )
    ax.set_xticks(xs, [f"{v:g}" for v in values])
    ax.set(xlabel=xlabel, ylabel=ylabel, ylim=(-0.02, 1.05), title=title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def accuracy_derivative(
    traces: Sequence,
    labels: Sequence[str],
    derivatives: Sequence[tuple[np.ndarray, np.ndarray]],
    windows: Sequence[tuple[int, int] | None],
    *,
    title: str = "",
) -> Figure:
    """BR3: test accuracy (top) and its ``derivatives`` per epoch (bottom; (epochs, d acc / d
    epoch) per trace), with each seed's 10 % -> 90 % rise shaded."""
    fig = Figure(figsize=(8, 5.5))
    ax_acc, ax_d = fig.subplots(2, 1, sharex=True)
    for i, (tr, lab, (de, dv)) in enumerate(zip(traces, labels, derivatives)):
        c = _color(i)
        e = np.asarray(tr.eval_epoch, dtype=float)
        v = np.asarray(tr.val_acc, dtype=float)
        ax_acc.plot(e, v, color=c, lw=1.3, label=lab)
        ax_acc.plot(e, tr.train_acc, color=c, lw=0.8, ls="--", alpha=0.6)
        if len(de):
            ax_d.plot(de, dv, color=c, lw=1)
        if windows[i] is not None:
            for ax in (ax_acc, ax_d):
                ax.axvspan(*windows[i], color=c, alpha=0.12)
    ax_acc.set(
        ylabel="accuracy",
        ylim=(-0.02, 1.02),
        title=title or "test accuracy (solid; train dashed) and its derivative",
    )
    ax_d.set(xlabel="epoch", ylabel="d(test acc)/d(epoch)")
    ax_acc.legend(fontsize=7)
    fig.tight_layout()
    return fig


def fourier_spectra(
    initial: Sequence[np.ndarray | None],
    final: Sequence[np.ndarray | None],
    labels: Sequence[str],
    p: int,
    *,
    final_name: str = "after grokking",
    notes: Sequence[str] | None = None,
    title: str = "",
) -> Figure:
    """BR4: the token embedding's Fourier power over Z_p (share of the non-constant power per
    frequency k = 1 .. p // 2, ``analysis.fourier.fourier_power_share``; None: not recorded),
    at initialisation (left) and at the reading ``final_name`` (right), per seed; ``notes``
    (per seed) label the right panel's bars, e.g. with the decided share and its null."""
    fig = Figure(figsize=(11, 3.8))
    axes = fig.subplots(1, 2, sharey=True)
    k = np.arange(1, p // 2 + 1)
    width = 0.8 / max(len(labels), 1)
    right = [lab if not n else f"{lab}: {n}" for lab, n in zip(labels, notes or [""] * len(labels))]
    for ax, embs, name, labs in zip(
        axes, (initial, final), ("initialisation", final_name), (labels, right)
    ):
        for i, (share, lab) in enumerate(zip(embs, labs)):
            if share is None:
                continue
            ax.bar(
                k + (i - (len(labels) - 1) / 2) * width,
                share,
                width=width,
                color=_color(i),
                label=lab,
            )
        ax.set(xlabel="frequency k (with p - k)", title=f"token embedding, {name}")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    axes[0].set_ylabel("share of non-constant power")
    top = max((float(np.max(x)) for x in (*initial, *final) if x is not None), default=1.0)
    axes[0].set_ylim(0, top * 1.45)  # room for the legends above the bars
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
