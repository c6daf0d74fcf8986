"""The dynamics figures show what the claims decide: no line joins unordered categories (CH5),
every reference line is in a legend (budget, the claim's bars), the decided numbers are on the
figure (BR4)."""

from __future__ import annotations

import numpy as np

from grokclaims.analysis.norms import norm_peak
from grokclaims.engine.trace import Trace
from grokclaims.figures import dynamics


def _trace(shift: int) -> Trace:
    e = np.arange(0, 301)
    test = 1 / (1 + np.exp(-(e - 200 - shift) / 8))
    train = 1 / (1 + np.exp(-(e - 60 - shift) / 6))
    return Trace(
        batch_acc=train[1:],
        batch_loss=1.01 - train[1:],
        eval_epoch=e,
        train_acc=train,
        train_loss=1.01 - train,
        val_acc=test,
        val_loss=1.01 - test,
        weight_norm=50 - 0.05 * e + 5 * np.exp(-((e - 80 - shift) ** 2) / 400),
    )


def _legend_texts(fig) -> list[str]:
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
    return [t.get_text() for lg in legends if lg is not None for t in lg.get_texts()]


def test_unordered_categories_are_never_joined_by_a_line():
    fig = dynamics.sweep(
        ["+", "-", "*"],
        [[1300, 1800, 1700], [1850, 1650, 1900], [1100, 1350, None]],
        [1700, 1850, 1350],
        xlabel="operation",
        budget=4000,
        categorical=True,
        ordered=False,
    )
    ax = fig.axes[0]
    for line in ax.get_lines():
        y = np.asarray(line.get_ydata(), dtype=float)
        x = np.asarray(line.get_xdata(), dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        # the only lines with two points or more are horizontal reference lines
        assert ok.sum() < 2 or np.ptp(y[ok]) == 0, (x, y)
    assert any("budget 4,000" in t for t in _legend_texts(fig))


def test_the_claims_bars_and_markers_are_in_the_legends():
    traces = [_trace(0), _trace(10)]
    fig = dynamics.training_curves(
        traces,
        ["seed 0", "seed 1"],
        [80, 90],
        [205, 215],
        memorised_label="memorisation step",
        bars=[(0.2, "the claim's plateau: test <= 0.2 there")],
    )
    texts = _legend_texts(fig)
    assert "the claim's plateau: test <= 0.2 there" in texts
    for ax in fig.axes:  # each seed's memorisation and grokking epochs, on every panel
        xs = {float(line.get_xdata()[0]) for line in ax.get_lines() if len(line.get_xdata())}
        assert {80.0, 90.0, 205.0, 215.0} <= xs
    assert "memorisation step epoch" in texts and "test at the memorisation step" in texts
    peaks = [norm_peak(t.eval_epoch, t.weight_norm) for t in traces]
    fig = dynamics.weight_norm(
        traces, ["seed 0", "seed 1"], peaks, [205, 215], [40.0, 39.5], bar=0.9
    )
    texts = _legend_texts(fig)
    assert {"norm peak", "grok epoch, norm there", "0.9 x peak (the claim's bar)"} <= set(texts)


def test_fourier_figure_labels_each_seed_with_its_decided_share():
    p, rng = 11, np.random.default_rng(0)
    share = [rng.dirichlet(np.ones(p // 2)) for _ in range(2)]
    fig = dynamics.fourier_spectra(
        share, [share[0], None], ["seed 0", "seed 1"], p, notes=["top-5 0.73 (null 0.31)", ""]
    )
    right = fig.axes[1].get_legend()
    assert [t.get_text() for t in right.get_texts()] == ["seed 0: top-5 0.73 (null 0.31)"]
