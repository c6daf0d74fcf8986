"""The grokking tutorial's transformer (source 004) as experiments: claims BR1-BR5 of CLAIMS.md.

The setup is the tutorial's (``grokclaims.setups.sources.TutorialSetup``: tokens [a, b, =],
2 post-norm encoder layers, mini-batches of 512, AdamW 1e-3), evaluated every epoch; a scale
may shrink it
(smoke: p = 47, d_model 64, weight decay 2; see ``docs/calibration_ch_br.md``). Milestones are
the tutorial's: memorisation step = first epoch with train > 99 %, grokking step = first epoch
with test > 90 % (its code uses strict >). The tutorial's baseline weight decay is 1; the
scale's setup says which weight decay is "the baseline" here (``scale.br.setup``). BR1's budget
is the tutorial's in optimiser steps (1,500: 150 epochs of 10 steps at p = 97), so an epoch
budget where p differs (500 epochs at p = 47, 3 steps an epoch). Every decision is its claim's
rule in ``grokclaims.claimrules.tutorial`` (CLAIMS.md revision 2).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from grokclaims.analysis.censoring import median_of_observed, observed_median
from grokclaims.analysis.fourier import fourier_power_share
from grokclaims.analysis.milestones import TUTORIAL_TEST_ACC, Milestones, tutorial_milestones
from grokclaims.analysis.traces import (
    best_up_to,
    first_epoch_reaching,
    rate_of_change,
    value_at,
)
from grokclaims.analysis.transition import transition
from grokclaims.claimrules import RULES
from grokclaims.claimrules import tutorial as rules
from grokclaims.figures import dynamics
from grokclaims.plugin import session_scale
from grokclaims.verdicts import parts_of, with_headline

pytestmark = pytest.mark.xdist_group("br")

SOURCE = "Brenndoerfer, grokking tutorial (004)"
# The tutorial's test accuracy after 150 epochs at each weight decay.
SRC_WD_ACC = rules.SRC_WD_ACC


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


def _setup_title(br) -> str:
    """The setup in a figure's title: (a op b) mod p, d_model, alpha."""
    s = br.setup
    return f"(a {s.op} b) mod {s.p}, d_model {s.dim}, alpha {s.alpha}"


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
    setup trained for exactly the budget and evaluated only there (BR1 reads nothing else; the
    engine always evaluates the last epoch, and evaluation does not change training)."""
    if wd == br.setup.weight_decay:
        return br.setup.spec(seed)
    return br.setup.spec(seed, weight_decay=wd, max_epochs=br.budget, eval_every=br.budget)


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
    best, reach = [], []
    for r in nowd:
        ok = r.status == "completed"
        tr = r.trace
        reach.append(
            first_epoch_reaching(tr.eval_epoch, tr.val_acc, TUTORIAL_TEST_ACC, strict=True)
            if ok
            else None
        )
        best.append(best_up_to(tr.eval_epoch, tr.val_acc, budget) if ok and budget else None)
    mem = [None if m is None else m.memorised_epoch for m in map(_milestones, nowd)]
    result = rules.br5(base_grok, reach)
    result.details.update({"best_test_within_budget": best, "wd0_memorised": mem})
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
    grok.record_error_rates(RULES["BR5"])
    grok.figure(
        dynamics.training_curves(
            [r.trace for r in base + nowd],
            [f"wd {br.setup.weight_decay} {lab}" for lab in labels]
            + [f"wd 0 {lab}" for lab in labels],
            [None if m is None else m.memorised_epoch for m in map(_milestones, base + nowd)],
            [None if m is None else m.generalised_epoch for m in map(_milestones, base + nowd)],
            memorised_label="memorisation step",
            generalised_label="grokking step",
            bars=[
                (
                    rules.GEN,
                    f"test {rules.GEN:.0%}: no wd-0 seed may pass it before the last grokking step",
                )
            ],
            title=f"BR5: weight decay {br.setup.weight_decay} against 0, {_setup_title(br)}",
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
    result = rules.br1(acc, source=SRC_WD_ACC if br.source_numbers else None)
    parts = parts_of(result)
    trend = parts["test accuracy rises with weight decay"]
    grok.record(
        "BR1 budget",
        br.budget,
        unit="epochs",
        note=f"the tutorial's {br.budget_steps:,} optimiser steps at {br.steps_per_epoch} steps "
        f"an epoch (p = {br.setup.p}, batches of {br.setup.batch_size})",
    )
    grok.record(
        f"Spearman rho(wd, test accuracy at epoch {br.budget})",
        trend.estimate,
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
            threshold=rules.REACH,
            title=f"BR1: (a + b) mod {br.setup.p}, d_model {br.setup.dim}, alpha "
            f"{br.setup.alpha}; budget {br.budget_steps:,} steps = {br.budget} epochs",
        ),
        "sweep",
    )
    grok.record_parts(parts)
    grok.record_error_rates(RULES["BR1"])
    grok.conclude(result)


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
    result = rules.br1_value(
        acc, wd, top=wd == max(br.weight_decays), source=_source_value(grok, wd)
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
    at_mem = [
        None
        if m is None or m.memorised_epoch is None
        else value_at(r.trace.eval_epoch, r.trace.val_acc, m.memorised_epoch)
        for r, m in zip(runs, ms)
    ]
    delays = [None if m is None else m.delay for m in ms]
    result = rules.br2(
        [None if m is None else m.memorised_epoch for m in ms],
        [None if m is None else m.generalised_epoch for m in ms],
        at_mem,
    )
    result.details["budget"] = br.setup.max_epochs
    grok.record(
        "test accuracy at the memorisation step (median)",
        observed_median(at_mem),
        note=f"per seed {[None if a is None else round(a, 3) for a in at_mem]}; the claim "
        f"needs <= {rules.PLATEAU} in every seed; chance is 1/p = {1 / br.setup.p:.3f}",
    )
    for lab, m in zip(labels, ms):
        if m is not None:
            grok.record(
                f"delay ({lab})",
                m.delay,
                unit="epochs",
                note=f"memorised {m.memorised_epoch}, grokked {m.generalised_epoch}; the claim "
                f"needs >= {rules.LONG} x the memorisation step",
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
            bars=[(rules.PLATEAU, f"the claim's plateau: test <= {rules.PLATEAU} there")],
            title=f"BR2: (a + b) mod {br.setup.p}, d_model {br.setup.dim}, alpha "
            f"{br.setup.alpha}, wd {br.setup.weight_decay}",
        ),
        "curves",
    )
    grok.record_error_rates(RULES["BR2"])
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
    windows, rises, delays = [], [], []
    for lab, r in zip(labels, runs):
        m = _milestones(r)
        t = None if m is None else transition(r.trace.eval_epoch, r.trace.val_acc)
        windows.append(None if t is None else (t.start_epoch, t.end_epoch))
        rises.append(None if t is None else t.width)
        delays.append(None if m is None else m.delay)
        if t is None or m is None or m.delay is None:
            note = "undefined: no grokking, or the rise's start was not observed"
            grok.record(f"10 % → 90 % rise ({lab})", None, note=note)
            continue
        grok.record(
            f"rise / delay ({lab})",
            t.width / m.delay if m.delay > 0 else math.inf,
            note=f"rise {t.start_epoch} → {t.end_epoch} ({t.width} epochs), delay {m.delay} epochs",
        )
    result = rules.br3(rises, delays)
    result.details["windows"] = windows
    grok.figure(
        dynamics.accuracy_derivative(
            [r.trace for r in runs],
            labels,
            [rate_of_change(r.trace.eval_epoch, r.trace.val_acc) for r in runs],
            windows,
            title=f"BR3: test accuracy and its derivative (shaded: 10 % → 90 %)\n"
            f"{_setup_title(br)}, wd {br.setup.weight_decay}",
        ),
        "derivative",
    )
    grok.record_error_rates(RULES["BR3"])
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
    init, final, after, null95, before, grokked = [], [], [], [], [], []
    for seed, lab, r in zip(grok.seeds, labels, runs):
        m = _milestones(r)
        e0, e1 = r.result.extras.get("embedding_init"), r.result.extras.get("embedding_final")
        init.append(e0)
        final.append(e1)
        grokked.append(m is not None and m.grokked)
        why = _unsettled(r, m, e0, e1, br.setup.patience)
        if why:
            grok.record(f"top-{rules.TOP_K} Fourier share ({lab})", None, note=why)
            if grokked[-1] and e0 is not None and e1 is not None:  # reported, not decided
                grok.record(
                    f"top-{rules.TOP_K} Fourier share at the end of training ({lab})",
                    rules.fourier_top_share(e1, p),
                    note="reported, not decided (not a settled reading): permutation null 95th "
                    f"percentile {rules.fourier_null(e1, p, rng=np.random.default_rng(seed)):.3f}"
                    f", at initialisation {rules.fourier_top_share(e0, p):.3f}",
                )
            after.append(None)
            null95.append(None)
            before.append(None)
            continue
        a, b = rules.fourier_top_share(e1, p), rules.fourier_top_share(e0, p)
        n95 = rules.fourier_null(e1, p, rng=np.random.default_rng(seed))
        after.append(a)
        null95.append(n95)
        before.append(b)
        grok.record(
            f"top-{rules.TOP_K} Fourier share, settled ({lab})",
            a,
            note=f"permutation null 95th percentile {n95:.3f}; at initialisation {b:.3f}; read "
            f"at epoch {r.result.epochs}, train and test >= 99 % at every epoch of the last "
            f"{br.setup.patience} (grokking step {m.generalised_epoch})",
        )
    result = rules.br4(after, null95, before, grokked)
    grok.figure(
        dynamics.fourier_spectra(
            [None if e is None else fourier_power_share(e, p) for e in init],
            [None if e is None else fourier_power_share(e, p) for e in final],
            labels,
            p,
            final_name=f"settled (test >= 99 % for {br.setup.patience} epochs)",
            notes=[
                "no reading"
                if a is None
                else f"top-{rules.TOP_K} {a:.2f} (null 95 % {n:.2f}, init {b:.2f})"
                for a, n, b in zip(after, null95, before)
            ],
            title=f"BR4: Fourier power of the token embedding over Z_{p} ((a + b) mod {p}, "
            f"d_model {br.setup.dim}, wd {br.setup.weight_decay})\nthe claim: top-{rules.TOP_K} "
            f"share > null and >= {rules.GAIN} above init",
        ),
        "fourier",
    )
    grok.record_error_rates(RULES["BR4"])
    shares = [c for c in after if c is not None]
    grok.conclude(
        with_headline(
            result,
            f"median top-{rules.TOP_K} Fourier share, settled",
            observed_median(shares),
        )
    )


def _unsettled(run, m, e0, e1, settled: int) -> str:
    """Why a seed has no reading "once test accuracy has stayed >= 99 % for 20 epochs" ('' when
    it has one). The setup's stop rule is sustained: a run stops at the first epoch where train
    and test have been >= 99 % at every epoch of the last ``settled``, and its final embedding
    is recorded there; a run that reaches its budget instead never settled."""
    if m is None or not m.grokked:
        return "no grokking within the budget (outside the claim)"
    if e0 is None or e1 is None:
        return "no embedding recorded"
    tr = run.trace
    last = np.asarray(tr.val_acc)[np.asarray(tr.eval_epoch) >= run.result.epochs - settled]
    if not run.result.stopped or not (last >= 0.99).all():
        return (
            f"never settled: grokked at epoch {m.generalised_epoch}, but test did not stay >= "
            f"99 % for {settled} epochs within the {run.result.epochs}-epoch budget (lowest "
            f"{last.min():.3f} over its last {settled} epochs); unusable, so 'every grokked "
            "seed' cannot be supported"
        )
    return ""
