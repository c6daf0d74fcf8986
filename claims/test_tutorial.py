"""The grokking tutorial's transformer (source 004) as experiments: claims BR1-BR5 of CLAIMS.md.

The setup is the tutorial's (``grokclaims.setups.sources.TutorialSetup``: tokens [a, b, =],
2 post-norm encoder layers, mini-batches of 512, AdamW 1e-3), evaluated every epoch; a scale
may shrink it
(smoke: p = 47, d_model 64, weight decay 2; see ``docs/calibration_ch_br.md``). Milestones are
the tutorial's: memorisation step = first epoch with train > 99 %, grokking step = first epoch
with test > 90 % (its code uses strict >). The tutorial's baseline weight decay is 1; the
scale's setup says which weight decay is "the baseline" here (``scale.br.setup``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from grokclaims.analysis.censoring import median_of_observed, observed_median
from grokclaims.analysis.fourier import fourier_concentration, fourier_power_share
from grokclaims.analysis.milestones import TUTORIAL_TEST_ACC, Milestones, tutorial_milestones
from grokclaims.analysis.ranks import increasing_trend
from grokclaims.analysis.traces import best_up_to, rate_of_change, value_at
from grokclaims.analysis.transition import transition
from grokclaims.figures import dynamics
from grokclaims.plugin import session_scale
from grokclaims.verdicts import (
    decide_all,
    decide_conjunction,
    decide_fraction,
    decide_test,
    with_headline,
)

pytestmark = pytest.mark.xdist_group("br")

SOURCE = "Brenndoerfer, grokking tutorial (004)"
# The tutorial's test accuracy after 150 epochs at each weight decay.
SRC_WD_ACC = {0.01: 0.131, 0.1: 0.141, 1.0: 0.480, 2.0: 1.000}

# CLAIMS.md tolerances.
REACH = 0.95  # BR1: the largest weight decay reaches >= 95 % test at the budget ...
REACH_SEEDS = 0.8  # BR1: ... in >= 80 % of seeds
SHARP = 0.25  # BR3: the 10 % -> 90 % rise takes <= 25 % of the delay ...
SHARP_SEEDS = 0.8  # BR3: ... in >= 80 % of seeds
FOURIER_AFTER = 0.5  # BR4: top 10 % of frequencies carry >= 50 % of the power after grokking
FOURIER_INIT = 0.25  # BR4: ... against <= 25 % at initialisation


def pytest_generate_tests(metafunc):
    """BR1's weight decays come from the session's scale (``--grok-scale``)."""
    br = session_scale(metafunc.config).br
    if "wd" in metafunc.fixturenames:
        metafunc.parametrize("wd", br.weight_decays, ids=[f"wd={v}" for v in br.weight_decays])
    if "over" in metafunc.fixturenames:  # the whole-sweep test: its own id, "BR1[sweep]"
        metafunc.parametrize("over", ["sweep"])


# --------------------------------------------------------------------------- helpers


def _milestones(run) -> Milestones | None:
    if run.status != "completed":
        return None
    tr = run.trace
    return tutorial_milestones(tr.eval_epoch, tr.train_acc, tr.val_acc)


def _labels(seeds) -> list[str]:
    return [f"seed {s}" for s in seeds]


def _baseline(grok):
    return [grok.scale.br.setup.spec(seed) for seed in grok.seeds]


def _baseline_note(br) -> str:
    return (
        f"baseline: p = {br.setup.p}, d_model {br.setup.dim}, ff {br.setup.ff}, weight "
        f"decay {br.setup.weight_decay} (the tutorial: p = 97, d_model 128, weight decay 1)"
    )


def _wd_spec(br, seed: int, wd: float):
    """BR1's run at one weight decay: the baseline run itself when it has that weight decay
    (its trace covers the budget, or it stopped earlier, generalised), otherwise a run of the
    setup trained for exactly the budget."""
    if wd == br.setup.weight_decay:
        return br.setup.spec(seed)
    return br.setup.spec(seed, weight_decay=wd, max_epochs=br.budget)


def _acc_at(run, epoch: int) -> float | None:
    """Test accuracy at ``epoch``: the last evaluation at or before it (a run that met its stop
    rule before ``epoch`` had generalised and keeps its last value)."""
    if run.status != "completed":
        return None
    return value_at(run.trace.eval_epoch, run.trace.val_acc, epoch)


def _source_value(grok, wd):
    return SRC_WD_ACC.get(wd) if grok.scale.br.source_numbers else None


def _source_note(grok, wd) -> str:
    if grok.scale.br.source_numbers or wd not in SRC_WD_ACC:
        return ""
    return f"tutorial at p = 97: {SRC_WD_ACC[wd]:.3g}; not comparable"


# Test order is chosen for training cost only (the report sorts by test id): BR5 asks for
# the baseline and the weight-decay-0 runs in one call, so they train as one ensemble;
# BR1[sweep] trains all of BR1's short runs together before the per-value tests read them.


# --------------------------------------------------------------------------- BR5


@pytest.mark.claim(
    id="BR5",
    source=SOURCE,
    statement="grokking needs weight decay: without it the model memorises and never generalises",
)
def test_br5_needs_weight_decay(grok):
    """ "The key to observing grokking is weight decay (L2 regularization). Without it, the model
    memorizes the training data and never generalizes." """
    br = grok.scale.br
    n = len(grok.seeds)
    runs = grok.runs(
        _baseline(grok) + [br.setup.spec(seed, weight_decay=0.0) for seed in grok.seeds]
    )
    base, nowd = runs[:n], runs[n:]
    labels = _labels(grok.seeds)
    base_grok = [None if m is None else m.generalised_epoch for m in map(_milestones, base)]
    grokked = [g for g in base_grok if g is not None]
    if grokked:
        budget = max(grokked)  # the budget in which the baseline (weight decay on) groks
        budget_note = (
            f"the latest grokking step of the baseline (wd {br.setup.weight_decay}) seeds: {budget}"
        )
    else:
        budget = None
        budget_note = "the baseline never grokked, so no budget is defined"
    flags, best = [], []
    for r in nowd:
        if r.status != "completed" or budget is None:
            flags.append(None)
            best.append(None)
            continue
        peak = best_up_to(r.trace.eval_epoch, r.trace.val_acc, budget)
        best.append(peak)
        flags.append(not peak > TUTORIAL_TEST_ACC)
    mem = [None if m is None else m.memorised_epoch for m in map(_milestones, nowd)]
    result = decide_all(
        "share of wd-0 seeds that stay <= 90 % test",
        flags,
        tolerance=f"no seed at weight decay 0 reaches test > 90 % within {budget_note}",
        labels=labels,
        details={
            "best_test_within_budget": best,
            "budget": budget,
            "baseline_grok": base_grok,
            "wd0_memorised": mem,
        },
    )
    grok.record("grokking budget", budget, unit="epochs", note=budget_note)
    grok.record(
        "best test accuracy at wd 0 within the budget",
        max((b for b in best if b is not None), default=None),
        note=f"over seeds; memorisation steps at wd 0: {mem}",
    )
    grok.record(
        "final test accuracy at wd 0 (median)",
        observed_median([r.trace.val_acc[-1] for r in nowd]),
        note=f"after {nowd[0].result.epochs} epochs",
    )
    grok.figure(
        dynamics.training_curves(
            [r.trace for r in base + nowd],
            [f"wd {br.setup.weight_decay} {lab}" for lab in labels]
            + [f"wd 0 {lab}" for lab in labels],
            [None if m is None else m.memorised_epoch for m in map(_milestones, base + nowd)],
            [None if m is None else m.generalised_epoch for m in map(_milestones, base + nowd)],
            memorised_label="memorisation step",
            generalised_label="grokking step",
            title=f"BR5: weight decay {br.setup.weight_decay} against 0, p = {br.setup.p}",
        ),
        "curves",
    )
    grok.conclude(result)


# --------------------------------------------------------------------------- BR1


@pytest.mark.claim(
    id="BR1",
    source=SOURCE,
    statement="test accuracy at the budget rises with weight decay (Spearman "
    "> 0, p < 0.05); wd 2.0 reaches >= 95 % in >= 80 % of seeds",
)
def test_br1_weight_decay_sweep(grok, over):
    """ "The relationship between weight decay and grokking speed illustrates the phase
    transition nature of the phenomenon. At low weight decay, the model memorizes and stays
    memorized. As weight decay increases, grokking appears and happens progressively
    faster." """
    br = grok.scale.br
    wds = list(br.weight_decays)
    n = len(grok.seeds)
    runs = grok.runs([_wd_spec(br, seed, wd) for wd in wds for seed in grok.seeds])
    acc = {
        wd: [_acc_at(r, br.budget) for r in runs[i * n : (i + 1) * n]] for i, wd in enumerate(wds)
    }
    x = [wd for wd in wds for _ in grok.seeds]
    y = [np.nan if a is None else a for wd in wds for a in acc[wd]]
    trend = increasing_trend(x, y, rng=np.random.default_rng(0))
    top = max(wds)
    ok = [a for a in acc[top] if a is not None]
    parts = {
        "test accuracy rises with weight decay": decide_test(
            f"Spearman rho(wd, test accuracy at epoch {br.budget})",
            trend,
            tolerance="Spearman rho > 0, one-sided p < 0.05 (pooled seeds)",
        ),
        f"wd {top} reaches >= 95 % in >= 80 % of seeds": decide_fraction(
            f"share of seeds with test >= 95 % at wd {top}",
            sum(a >= REACH for a in ok),
            len(ok),
            REACH_SEEDS,
            details={"test_acc": acc[top]},
        ),
    }
    grok.record(
        f"Spearman rho(wd, test accuracy at epoch {br.budget})",
        trend.statistic,
        note=f"one-sided p = {trend.p_value:.3g}",
    )
    for wd in wds:
        vals = [a for a in acc[wd] if a is not None]
        grok.record(
            f"median test accuracy at epoch {br.budget}, wd {wd}",
            observed_median(vals),
            interval=(min(vals), max(vals)) if vals else None,
            source_value=_source_value(grok, wd),
            note="interval: min-max over seeds; " + _source_note(grok, wd),
        )
    grok.figure(
        dynamics.values_at_budget(
            wds,
            [[a for a in acc[wd] if a is not None] for wd in wds],
            [median_of_observed(acc[wd]) for wd in wds],
            xlabel="weight decay",
            ylabel=f"test accuracy at epoch {br.budget}",
            source=SRC_WD_ACC if br.source_numbers else None,
            threshold=REACH,
            title=f"BR1: p = {br.setup.p}, d_model {br.setup.dim}, budget {br.budget} epochs",
        ),
        "sweep",
    )
    grok.record_parts(parts)
    grok.conclude(
        decide_conjunction("BR1", parts, headline="test accuracy rises with weight decay")
    )


@pytest.mark.claim(
    id="BR1",
    source=SOURCE,
    statement="at a fixed budget of 150 epochs, test accuracy rises with weight "
    "decay (0.01: 0.13, 0.1: 0.14, 1.0: 0.48, 2.0: 1.0)",
)
def test_br1_weight_decay_value(grok, wd):
    """ "WD=0.01: Train Acc=1.000, Test Acc=0.131 / WD=0.1: Train Acc=1.000, Test Acc=0.141 /
    WD=1.0: Train Acc=1.000, Test Acc=0.480 / WD=2.0: Train Acc=1.000, Test Acc=1.000" """
    br = grok.scale.br
    runs = grok.runs([_wd_spec(br, seed, wd) for seed in grok.seeds])
    acc = [_acc_at(r, br.budget) for r in runs]
    top = wd == max(br.weight_decays)
    if top:
        ok = [a for a in acc if a is not None]
        result = decide_fraction(
            f"share of seeds with test >= 95 % at epoch {br.budget}, wd {wd}",
            sum(a >= REACH for a in ok),
            len(ok),
            REACH_SEEDS,
            tolerance=f"test >= {REACH:.0%} at epoch {br.budget} in >= {REACH_SEEDS:.0%} of "
            "seeds (the tutorial: 1.000)",
            details={"test_acc": acc},
        )
    else:
        # The source's contrast: below the largest weight decay the model has not generalised
        # at the budget (0.131, 0.141, 0.480); its own part of "accuracy rises with wd".
        result = decide_all(
            f"share of seeds below 95 % test at epoch {br.budget}, wd {wd}",
            [None if a is None else a < REACH for a in acc],
            tolerance=f"test < {REACH:.0%} at epoch {br.budget} in every seed (the tutorial: "
            f"{SRC_WD_ACC.get(wd, math.nan):.3g})",
            labels=_labels(grok.seeds),
            details={"test_acc": acc},
        )
    grok.record(
        f"median test accuracy at epoch {br.budget}, wd {wd}",
        observed_median(acc),
        interval=(min(a for a in acc if a is not None), max(a for a in acc if a is not None))
        if any(a is not None for a in acc)
        else None,
        source_value=_source_value(grok, wd),
        note="interval: min-max over seeds; " + _source_note(grok, wd),
    )
    grok.conclude(result)


# --------------------------------------------------------------------------- BR2


@pytest.mark.claim(
    id="BR2",
    source=SOURCE,
    statement="memorisation precedes generalisation by a long plateau: train "
    "> 99 % first, test > 90 % much later",
)
def test_br2_memorisation_precedes_generalisation(grok):
    """ "Training accuracy reaches 100% within the first few hundred steps as the model
    memorizes, while test accuracy remains near chance during an extended plateau phase. The
    sudden jump in test accuracy marks the transition from memorization to generalization." """
    br = grok.scale.br
    runs = grok.runs(_baseline(grok))
    labels = _labels(grok.seeds)
    ms = [_milestones(r) for r in runs]
    flags = []
    for m in ms:
        if m is None or not m.grokked:
            flags.append(None)  # never generalised within the budget: no delay to measure
        elif m.memorised_epoch is None:
            flags.append(False)  # generalised without memorising first
        else:
            flags.append(m.delay > 0)
    delays = [None if m is None else m.delay for m in ms]
    result = decide_all(
        "share of seeds with delay > 0",
        flags,
        tolerance="delay = grokking step - memorisation step > 0 in every seed "
        "(a seed that never groks within the budget is unusable)",
        labels=labels,
        details={
            "memorised": [None if m is None else m.memorised_epoch for m in ms],
            "generalised": [None if m is None else m.generalised_epoch for m in ms],
            "budget": br.setup.max_epochs,
        },
    )
    for lab, m in zip(labels, ms):
        if m is not None:
            grok.record(
                f"delay ({lab})",
                m.delay,
                unit="epochs",
                note=f"memorised {m.memorised_epoch}, grokked {m.generalised_epoch}",
            )
    valid = [d for d in delays if d is not None]
    grok.record(
        "median delay",
        observed_median(valid),
        unit="epochs",
        note=_baseline_note(br),
    )
    grok.figure(
        dynamics.training_curves(
            [r.trace for r in runs],
            labels,
            [None if m is None else m.memorised_epoch for m in ms],
            [None if m is None else m.generalised_epoch for m in ms],
            memorised_label="memorisation step",
            generalised_label="grokking step",
            title=f"BR2: p = {br.setup.p}, d_model {br.setup.dim}, wd {br.setup.weight_decay}",
        ),
        "curves",
    )
    grok.conclude(result)


# --------------------------------------------------------------------------- BR3


@pytest.mark.claim(
    id="BR3",
    source=SOURCE,
    statement="the transition is sharp: test accuracy rises from 10 % to 90 % "
    "in <= 25 % of the delay",
)
def test_br3_sharp_transition(grok):
    """ "The transition from non-generalization to generalization is not gradual: it happens
    suddenly over a relatively small number of training steps compared to the total training
    time." """
    br = grok.scale.br
    runs = grok.runs(_baseline(grok))
    labels = _labels(grok.seeds)
    windows, ok, shares = [], [], []
    for lab, r in zip(labels, runs):
        m = _milestones(r)
        t = None if m is None else transition(r.trace.eval_epoch, r.trace.val_acc)
        windows.append(None if t is None else (t.start_epoch, t.end_epoch))
        if m is None or t is None or m.delay is None:
            grok.record(
                f"10 % → 90 % rise ({lab})",
                None,
                note="undefined: no grokking, or the rise's start was not observed",
            )
            continue
        share = t.width / m.delay if m.delay > 0 else math.inf
        shares.append(share)
        ok.append(share <= SHARP)
        grok.record(
            f"rise / delay ({lab})",
            share,
            note=f"rise {t.start_epoch} → {t.end_epoch} ({t.width} epochs), delay {m.delay} epochs",
        )
    result = decide_fraction(
        "share of seeds whose 10 % → 90 % rise takes <= 25 % of the delay",
        sum(ok),
        len(ok),
        SHARP_SEEDS,
        tolerance=f"rise (last epoch <= 10 % test to first >= 90 %) <= {SHARP:.0%} of the delay, "
        f"in >= {SHARP_SEEDS:.0%} of seeds (evaluated every {br.setup.eval_every} "
        "epoch(s); seeds with no rise are left out)",
        details={"shares": shares, "windows": windows},
    )
    grok.figure(
        dynamics.accuracy_derivative(
            [r.trace for r in runs],
            labels,
            [rate_of_change(r.trace.eval_epoch, r.trace.val_acc) for r in runs],
            windows,
            title=f"BR3: test accuracy and its derivative, p = {br.setup.p} (shaded: 10 % → 90 %)",
        ),
        "derivative",
    )
    grok.conclude(result)


# --------------------------------------------------------------------------- BR4


@pytest.mark.claim(
    id="BR4",
    source=SOURCE,
    statement="the generalising solution represents numbers on a circle: "
    "Fourier features in the token embedding",
)
def test_br4_fourier_embedding(grok):
    """ "For modular addition, the algorithmic solution represents numbers as points on a circle.
    [...] The model can learn embeddings where each number k maps to a point on the unit
    circle." """
    br = grok.scale.br
    p = br.setup.p
    runs = grok.runs(_baseline(grok))
    labels = _labels(grok.seeds)
    init, final, after, before, used = [], [], [], [], []
    for lab, r in zip(labels, runs):
        m = _milestones(r)
        e0, e1 = r.result.extras.get("embedding_init"), r.result.extras.get("embedding_final")
        init.append(e0)
        final.append(e1)
        if m is None or not m.grokked or e0 is None or e1 is None:
            grok.record(
                f"Fourier concentration ({lab})",
                None,
                note="unusable: no grokking within the budget or no embedding recorded",
            )
            after.append(None)
            before.append(None)
            continue
        c0, c1 = fourier_concentration(e0, p), fourier_concentration(e1, p)
        before.append(c0)
        after.append(c1)
        used.append(lab)
        grok.record(
            f"top-10 % Fourier power share after grokking ({lab})",
            c1,
            note=f"at initialisation {c0:.3f}; end of training, epoch {r.result.epochs}",
        )
    parts = {
        "after grokking >= 50 %": decide_all(
            "share of grokked seeds with top-10 % share >= 50 % after grokking",
            [None if c is None else c >= FOURIER_AFTER for c in after],
            tolerance=f">= {FOURIER_AFTER:.0%} of the non-constant power in the top 10 % of "
            f"frequencies ({max(1, math.floor(0.1 * (p // 2)))} of {p // 2})",
            labels=labels,
            details={"shares": after},
        ),
        "at initialisation <= 25 %": decide_all(
            "share of grokked seeds with top-10 % share <= 25 % at initialisation",
            [None if c is None else c <= FOURIER_INIT for c in before],
            tolerance=f"<= {FOURIER_INIT:.0%} at initialisation",
            labels=labels,
            details={"shares": before},
        ),
    }
    grok.figure(
        dynamics.fourier_spectra(
            [None if e is None else fourier_power_share(e, p) for e in init],
            [None if e is None else fourier_power_share(e, p) for e in final],
            labels,
            p,
            title=f"BR4: Fourier power of the token embedding over Z_{p}",
        ),
        "fourier",
    )
    grok.record_parts(parts)
    result = decide_conjunction(
        "BR4",
        parts,
        tolerance="in every grokked seed: >= 50 % after grokking, <= 25 % at initialisation",
    )
    shares = [c for c in after if c is not None]
    grok.conclude(
        with_headline(
            result,
            "median top-10 % Fourier power share after grokking",
            observed_median(shares),
        )
    )
