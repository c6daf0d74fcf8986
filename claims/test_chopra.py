"""Chopra's MLP sensitivity study (source 003) as experiments: claims CH1-CH6 of CLAIMS.md.

The setup is the source's (``grokclaims.setups.sources.ChopraSetup``); a scale may shrink it (smoke:
p = 31, see ``grokclaims/scales.py`` and ``docs/calibration_ch_br.md``). Milestones are the
source's: overfit epoch = first logged epoch with train >= 99 %, grok epoch = first logged epoch
with test >= 95 %, logged every 50 epochs, so every milestone has a resolution of 50 epochs.
The source ran one seed (42); we run ``grok.seeds``. Where the setup is the source's
(``scale.ch.source_numbers``) its numbers are recorded beside ours; otherwise as a note.

A run that never groks within the budget is *censored*: its grok epoch is "later than the
budget". Rank tests place censored runs above every observed grok epoch (all runs of a sweep
share one budget, so that order is certain); ratios of medians then have only a bound.

Sweeps have one test per swept value (that value's own part of the claim) and one test over
the whole sweep (``[sweep]``): the registry trains each run once and both read it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from grokclaims.analysis.censoring import (
    censored_median,
    median_of_observed,
    median_ratio,
    rank_censored,
)
from grokclaims.analysis.milestones import Milestones, chopra_milestones
from grokclaims.analysis.norms import norm_decay, norm_peak
from grokclaims.analysis.ranks import decreasing_trend, increasing_trend, kruskal_p
from grokclaims.analysis.traces import value_at
from grokclaims.claimrules import chopra as rules
from grokclaims.figures import dynamics
from grokclaims.plugin import session_scale
from grokclaims.verdicts import (
    ClaimResult,
    decide_all,
    decide_conjunction,
    decide_fraction,
    decide_median_ratio,
    decide_point,
    decide_test,
    parts_of,
    with_headline,
)

pytestmark = pytest.mark.xdist_group("ch")

SOURCE = "Chopra, MLP sensitivity study (003)"
RESOLUTION = (
    "milestones are first logged epochs on the 50-epoch evaluation grid (the "
    "source's logging), i.e. resolved to 50 epochs"
)
CENSORING = (
    "runs that never grok within the budget rank above every observed grok epoch "
    "(one shared budget)"
)

# The source's own numbers (seed 42, p = 97).
SRC_BASELINE = {"overfit": 350, "grok": 2300, "delay": 1900}
SRC_WD = {0.0: None, 0.1: None, 0.5: 4000, 1.0: 2650, 2.0: 1250, 5.0: 800}  # None: not by 5,000
SRC_WIDTH_GROK = {32: 1750, 64: 2200, 128: 2300, 256: 2150, 512: 1950}
SRC_WIDTH_OVERFIT = {32: 1150, 512: 150}
SRC_OP = {"+": 2300, "-": 2250, "*": 2000}
SRC_ALPHA = {0.3: None, 0.5: 2200, 0.7: 950, 0.9: 450}

# CLAIMS.md tolerances.
FACTOR = 2  # CH1: median overfit and grok epochs within a factor 2 of the source's
CHANCE_BAR = 0.10  # CH1: test accuracy at the overfit epoch < 10 %
FINAL_TEST = 0.99  # CH1: final test >= 99 %
NORM_DROP = 0.9  # CH2: norm at grok < 0.9 x peak ...
NORM_SEEDS = 0.8  # CH2: ... in >= 80 % of seeds
NO_GROK_WD = 0.1  # CH3: no seed groks at wd <= 0.1
WD_SPEEDUP = 3  # CH3: >= 3x faster at wd 5 than at wd 0.5
WIDTH_OVERFIT_RATIO = 3  # CH4: overfit(32) / overfit(512) >= 3
WIDTH_GROK_RATIO = 2  # CH4: max / min median grok epoch <= 2
OP_GROK_RATIO = 1.5  # CH5: max / min median grok epoch <= 1.5
NO_GROK_ALPHA = 0.3  # CH6: no seed groks at 30 % data
ALPHA_SPEEDUP = 3  # CH6: >= 3x faster at 0.9 than at 0.5


# --------------------------------------------------------------------------- parametrisation


def pytest_generate_tests(metafunc):
    """The swept values come from the session's scale (``--grok-scale``)."""
    ch = session_scale(metafunc.config).ch
    sweeps = {"wd": ch.weight_decays, "width": ch.widths, "op": ch.ops, "alpha": ch.alphas}
    for name, values in sweeps.items():
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, values, ids=[f"{name}={v}" for v in values])
    if "over" in metafunc.fixturenames:  # the whole-sweep test: its own id, "CHn[sweep]"
        metafunc.parametrize("over", ["sweep"])


# --------------------------------------------------------------------------- helpers


def _milestones(run) -> Milestones | None:
    """Overfit and grok epochs of a run; None for an unusable (diverged) run."""
    if run.status != "completed":
        return None
    tr = run.trace
    return chopra_milestones(tr.eval_epoch, tr.train_acc, tr.val_acc)


def _epochs(runs, which: str) -> list[int | None]:
    ms = [_milestones(r) for r in runs]
    return [None if m is None else getattr(m, which) for m in ms]


def _sweep_runs(grok, field: str, values) -> tuple[list, dict]:
    """The runs of the baseline setup with ``field`` set to each of ``values``, every seed:
    all of them (one registry call) and grouped by value."""
    values, n = list(values), len(grok.seeds)
    runs = grok.runs(
        [grok.scale.ch.setup.spec(seed, **{field: v}) for v in values for seed in grok.seeds]
    )
    return runs, {v: runs[i * n : (i + 1) * n] for i, v in enumerate(values)}


def _one_value(grok, field: str, value, where: str, *, groks: bool, source: dict):
    """A value case of a sweep (CH3-CH6): every seed groks at ``field`` = ``value`` (none
    does, with ``groks`` False); the median grok epoch is recorded beside the source's.
    Returns the runs and the verdict."""
    runs, _ = _sweep_runs(grok, field, [value])
    result = _every_seed(
        runs,
        _labels(grok.seeds),
        groks=groks,
        what=f"share {'grokked' if groks else 'not grokked'} {where}",
    )
    _record_source(
        grok,
        f"median grok epoch {where}",
        censored_median(_epochs(runs, "generalised_epoch")),
        source.get(value, _ABSENT),
    )
    return runs, result


def _sweep_figure(
    grok,
    title: str,
    values,
    groked: dict,
    overfit: dict,
    budget: int,
    *,
    xlabel: str,
    source: dict,
    **axis,
) -> None:
    """A sweep's figure: grok and overfit epochs per seed against the swept value, with the
    source's grok epochs overlaid where the setup is the source's."""
    ch = grok.scale.ch
    grok.figure(
        dynamics.sweep(
            values,
            [groked[v] for v in values],
            [censored_median(groked[v]) for v in values],
            xlabel=xlabel,
            budget=budget,
            second=[overfit[v] for v in values],
            second_medians=[censored_median(overfit[v]) for v in values],
            second_label="overfit epoch",
            source=source if ch.source_numbers else None,
            title=f"{title}, p = {ch.setup.p}",
            **axis,
        ),
        "sweep",
    )


def _budget(runs) -> int:
    return max(int(r.spec.schedule.max_epochs) for r in runs)


def _every_seed(runs, labels, *, groks: bool, what: str) -> ClaimResult:
    """Every usable seed groks (``groks``) or none does; diverged runs are unusable."""
    flags = []
    for m in (_milestones(r) for r in runs):
        flags.append(None if m is None else (m.grokked if groks else not m.grokked))
    tol = f"{'every' if groks else 'no'} seed groks (test >= 95 %) within the budget"
    return decide_all(
        what,
        flags,
        tolerance=tol,
        labels=labels,
        details={
            "grok_epochs": _epochs(runs, "generalised_epoch"),
            "overfit_epochs": _epochs(runs, "memorised_epoch"),
            "budget": _budget(runs),
            "resolution": RESOLUTION,
        },
    )


_ABSENT = object()  # the source gives no number for this value


def _source_note(value) -> str:
    return "never by 5,000" if value is None else f"{value:,}"


def _record_source(
    grok, name: str, value: float, source=_ABSENT, unit: str = "epochs", note: str = ""
) -> None:
    """Our number with the source's beside it (nightly/paper) or as a note (smoke: p differs).
    ``source`` None means the source saw no grokking by its 5,000-epoch budget."""
    if value is not None and math.isinf(value):  # a censored median
        value = None
        note = "not reached: more than half the seeds never grokked within the budget" + (
            f"; {note}" if note else ""
        )
    if source is _ABSENT:
        grok.record(name, value, unit=unit, note=note)
    elif grok.scale.ch.source_numbers:
        src = _source_note(source) if source is None else source
        grok.record(name, value, unit=unit, source_value=src, note=note)
    else:
        extra = (
            f"source at p = 97: {_source_note(source)}; not comparable (p = "
            f"{grok.scale.ch.setup.p})"
        )
        grok.record(name, value, unit=unit, note=f"{note}; {extra}" if note else extra)


def _labels(seeds, prefix: str = "") -> list[str]:
    return [f"{prefix}seed {s}" for s in seeds]


def _last(parts) -> str:
    """The sweep's key part: its speed-up ratio, decided last."""
    return list(parts)[-1]


def _no_grok_then_faster(
    grok,
    claim: str,
    *,
    field: str,
    short: str,
    values,
    no_grok_upto: float,
    speedup: float,
    source: dict,
    xlabel: str,
) -> None:
    """The shape CH3 (weight decay) and CH6 (data fraction) share: no seed groks at values
    <= ``no_grok_upto``; above it the grok epoch decreases with the value (Spearman, runs that
    never grok ranked last) and is >= ``speedup`` times faster at the largest value than at the
    smallest (ratio of medians). Records the measurements and the sweep figure, and concludes."""
    values = list(values)
    runs, by = _sweep_runs(grok, field, values)
    budget = _budget(runs)
    groked = {v: _epochs(rs, "generalised_epoch") for v, rs in by.items()}
    low = [v for v in values if v <= no_grok_upto]
    high = [v for v in values if v > no_grok_upto]
    parts = {}
    if low:
        parts[f"no seed groks at {short} <= {no_grok_upto}"] = _every_seed(
            [r for v in low for r in by[v]],
            [f"{short} {v} seed {s}" for v in low for s in grok.seeds],
            groks=False,
            what=f"share not grokked at {short} <= {no_grok_upto}",
        )
    x = [v for v in high for _ in grok.seeds]
    y = rank_censored([e for v in high for e in groked[v]], budget)
    trend = decreasing_trend(x, y, rng=np.random.default_rng(0))
    parts[f"grok epoch decreases with {short}"] = decide_test(
        f"Spearman rho({short}, grok epoch)",
        trend,
        tolerance=f"Spearman rho < 0, one-sided p < 0.05, over {short} {high} ({CENSORING})",
    )
    if high:
        slow, fast = min(high), max(high)
        parts[f">= {speedup}x faster at {fast} than {slow}"] = decide_median_ratio(
            f"median grok epoch at {short} {slow} / at {short} {fast}",
            median_ratio(groked[slow], groked[fast], budget),
            speedup,
            math.inf,
            f">= {speedup} ({RESOLUTION})",
        )
    grok.record(
        f"Spearman rho({short}, grok epoch)",
        trend.statistic,
        note=f"one-sided p = {trend.p_value:.3g}",
    )
    for v in values:
        _record_source(
            grok,
            f"median grok epoch, {short} {v}",
            censored_median(groked[v]),
            source.get(v, _ABSENT),
        )
    _sweep_figure(
        grok,
        f"{claim}: {xlabel}",
        values,
        groked,
        {v: _epochs(by[v], "memorised_epoch") for v in values},
        budget,
        xlabel=xlabel,
        source=source,
        categorical=True,
    )
    grok.record_parts(parts)
    grok.conclude(decide_conjunction(claim, parts, headline=_last(parts)))


# --------------------------------------------------------------------------- CH1


@pytest.mark.claim(
    id="CH1",
    source=SOURCE,
    statement="the baseline groks: overfit ≈ 350, grok ≈ 2,300, delay ≈ 1,900 "
    "epochs; test at chance when train saturates; 100 % at the end",
)
def test_ch1_baseline_groks(grok):
    """ "In the baseline configuration, the overfitting epoch occurs at approximately epoch 350,
    while the grokking epoch occurs at approximately epoch 2,300, yielding a grokking delay of
    roughly 1,900 epochs. [...] At this point, test accuracy remains near chance level [...] By
    the end of training, the model achieves 100% training accuracy and 100% test accuracy." """
    ch = grok.scale.ch
    runs = grok.runs([ch.setup.spec(seed) for seed in grok.seeds])
    labels = _labels(grok.seeds)
    ms = [_milestones(r) for r in runs]
    overfit = [None if m is None else m.memorised_epoch for m in ms]
    groked = [None if m is None else m.generalised_epoch for m in ms]
    delays = [None if m is None else m.delay for m in ms]

    parts = {"every seed groks": _every_seed(runs, labels, groks=True, what="share grokked")}
    at_overfit, final = [], []
    for r, m in zip(runs, ms):
        tr = r.trace
        if m is None or m.memorised_epoch is None:
            at_overfit.append(None)
        else:
            at_overfit.append(value_at(tr.eval_epoch, tr.val_acc, m.memorised_epoch))
        final.append(None if m is None else float(tr.val_acc[-1]))
    parts["test at chance when train saturates"] = decide_all(
        "share with test < 10 % at the overfit epoch",
        [None if a is None else a < CHANCE_BAR for a in at_overfit],
        tolerance=f"test accuracy at the overfit epoch < {CHANCE_BAR:.0%}",
        labels=labels,
        details={"test_at_overfit": at_overfit},
    )
    parts["final test >= 99 %"] = decide_all(
        "share with final test >= 99 %",
        [None if f is None else f >= FINAL_TEST for f in final],
        tolerance=f"final test accuracy >= {FINAL_TEST:.0%}",
        labels=labels,
        details={"final_test": final},
    )
    med_overfit, med_grok = censored_median(overfit), censored_median(groked)
    if ch.source_numbers:
        for key, med in (("overfit", med_overfit), ("grok", med_grok)):
            src = SRC_BASELINE[key]
            parts[f"median {key} epoch within x{FACTOR} of {src:,}"] = decide_point(
                f"median {key} epoch / source's",
                med / src,
                1 / FACTOR,
                FACTOR,
                f"within a factor {FACTOR} of the source's {src:,} ({RESOLUTION})",
                details={"median": med, "source": src},
            )

    _record_source(
        grok, "median overfit epoch", med_overfit, SRC_BASELINE["overfit"], note=RESOLUTION
    )
    _record_source(grok, "median grok epoch", med_grok, SRC_BASELINE["grok"])
    _record_source(
        grok, "median delay (grokked seeds)", median_of_observed(delays), SRC_BASELINE["delay"]
    )
    grok.record(
        "median test accuracy at the overfit epoch",
        median_of_observed(at_overfit),
        note=f"chance is 1/p = {1 / ch.setup.p:.3f}",
    )
    grok.record("median final test accuracy", median_of_observed(final))
    if not ch.source_numbers:
        grok.record(
            "factor-2 check against the source",
            None,
            note=f"not applied: this scale's setup (p = {ch.setup.p}, alpha = "
            f"{ch.setup.alpha}) is not the source's (p = 97, alpha = 0.5)",
        )
    grok.figure(
        dynamics.training_curves(
            [r.trace for r in runs],
            labels,
            overfit,
            groked,
            title=f"CH1 baseline: p = {ch.setup.p}, width "
            f"{ch.setup.width}, alpha {ch.setup.alpha}, "
            f"wd {ch.setup.weight_decay}",
        ),
        "curves",
    )
    grok.record_parts(parts)
    result = decide_conjunction(
        "CH1",
        parts,
        tolerance="every seed groks; test < 10 % at the overfit epoch; "
        "final test >= 99 %"
        + (f"; medians within x{FACTOR} of the source's" if ch.source_numbers else ""),
    )
    grok.conclude(with_headline(result, "median grok epoch", med_grok))


# --------------------------------------------------------------------------- CH2


@pytest.mark.claim(
    id="CH2",
    source=SOURCE,
    statement="the weight norm rises during memorisation, decays during the "
    "plateau and settles lower after grokking",
)
def test_ch2_weight_norm_decays(grok):
    """ "During the early phase of training, the global L2 norm of the model parameters increases
    rapidly as the network constructs a high-capacity solution sufficient to memorize the
    training data. During the prolonged delay between overfitting and grokking, the weight norm
    gradually decreases under the influence of weight decay [...] Once grokking occurs, the
    weight norm stabilizes at a lower value" """
    ch = grok.scale.ch
    runs = grok.runs([ch.setup.spec(seed) for seed in grok.seeds])
    labels = _labels(grok.seeds)
    decays, peaks, norm_peaks, at_grok, groked, ok = [], [], [], [], [], []
    for r in runs:
        m = _milestones(r)
        g = None if m is None else m.generalised_epoch
        groked.append(g)
        peak = norm_peak(r.trace.eval_epoch, r.trace.weight_norm)
        norm_peaks.append(peak)
        peaks.append(None if peak is None else peak.epoch)
        at_grok.append(None if g is None else value_at(r.trace.eval_epoch, r.trace.weight_norm, g))
        d = None if g is None else norm_decay(r.trace.eval_epoch, r.trace.weight_norm, g)
        decays.append(d)
        if d is not None:
            ok.append(bool(d.peak_precedes and d.ratio < NORM_DROP))
    ratios = [None if d is None else d.ratio for d in decays]
    for lab, d in zip(labels, decays):
        if d is not None:
            grok.record(
                f"norm at grok / peak ({lab})",
                d.ratio,
                note=f"peak {d.peak_value:.1f} at epoch {d.peak_epoch}, grok epoch {d.epoch}",
            )
    grok.record(
        "median norm ratio (grokked seeds)",
        median_of_observed(ratios),
        note=f"the claim needs < {NORM_DROP}",
    )
    grok.figure(
        dynamics.weight_norm(
            [r.trace for r in runs],
            labels,
            norm_peaks,
            groked,
            at_grok,
            title=f"CH2: weight norm, p = {ch.setup.p}",
        ),
        "norm",
    )
    result = decide_fraction(
        "share of grokked seeds with peak before grok and norm < 0.9 x peak",
        sum(ok),
        len(ok),
        NORM_SEEDS,
        tolerance=f"norm peak precedes the grok epoch and norm at grok < {NORM_DROP} x peak, in "
        f">= {NORM_SEEDS:.0%} of seeds (seeds that never grok have no grok epoch and "
        f"are left out; {RESOLUTION})",
        details={
            "ratios": ratios,
            "peak_epochs": peaks,
            "grok_epochs": groked,
            "n_not_grokked": sum(g is None for g in groked),
        },
    )
    grok.conclude(result)


# --------------------------------------------------------------------------- CH3


@pytest.mark.claim(
    id="CH3",
    source=SOURCE,
    statement="weight decay: no grokking by 5,000 epochs at 0 or 0.1; then "
    "faster with more decay (0.5 → ~4,000 … 5 → ~800)",
)
def test_ch3_weight_decay_value(grok, wd):
    """ "For weak or absent regularization (weight decay = 0.0 or 0.1), the model reliably
    achieves perfect training accuracy by approximately epoch 300 but fails to generalize [...]
    A qualitative change emerges at weight decay = 0.5, where grokking first appears [...] With
    weight decay = 1.0, grokking occurs around epoch 2,650; at 2.0, around epoch 1,250; and at
    5.0, as early as epoch 800." """
    runs, result = _one_value(
        grok, "weight_decay", wd, f"at wd {wd}", groks=wd > NO_GROK_WD, source=SRC_WD
    )
    grok.record(
        f"median overfit epoch at wd {wd}",
        median_of_observed(_epochs(runs, "memorised_epoch")),
        unit="epochs",
    )
    grok.conclude(result)


@pytest.mark.claim(
    id="CH3",
    source=SOURCE,
    statement="weight decay: no grokking at wd <= 0.1; grok epoch decreases "
    "with wd over {0.5, 1, 2, 5}; >= 3x faster at 5 than at 0.5",
)
def test_ch3_weight_decay_sweep(grok, over):
    """ "Across this range, increasing weight decay produces an approximately monotonic reduction
    in grokking time, corresponding to a more than five-fold decrease from the weakest
    regularization level at which grokking is observed." """
    _no_grok_then_faster(
        grok,
        "CH3",
        field="weight_decay",
        short="wd",
        values=grok.scale.ch.weight_decays,
        no_grok_upto=NO_GROK_WD,
        speedup=WD_SPEEDUP,
        source=SRC_WD,
        xlabel="weight decay",
    )


# --------------------------------------------------------------------------- CH4


@pytest.mark.claim(
    id="CH4",
    source=SOURCE,
    statement="every width 32 → 512 groks; overfitting gets much faster with "
    "width while the grok epoch stays within 1,750–2,300",
)
def test_ch4_width_value(grok, width):
    """ "All model sizes eventually achieved perfect generalization within the training horizon,
    indicating that grokking is robust across a wide range of network capacities in this
    setting." """
    runs, result = _one_value(
        grok, "width", width, f"at width {width}", groks=True, source=SRC_WIDTH_GROK
    )
    _record_source(
        grok,
        f"median overfit epoch at width {width}",
        median_of_observed(_epochs(runs, "memorised_epoch")),
        SRC_WIDTH_OVERFIT.get(width, _ABSENT),
    )
    grok.conclude(result)


@pytest.mark.claim(
    id="CH4",
    source=SOURCE,
    statement="width: all grok; overfit epoch falls with width (>= 3x); grok "
    "epoch within x2 across widths; the delay grows with width",
)
def test_ch4_width_sweep(grok, over):
    """ "Larger models reach perfect training accuracy much earlier: the 512-unit model overfits
    by approximately epoch 150, whereas the 32-unit model overfits only around epoch 1,150. As a
    result, the delay between memorization and generalization increases substantially with model
    size, even though the absolute time to grokking remains on a similar scale." """
    ch = grok.scale.ch
    widths = list(ch.widths)
    runs, by = _sweep_runs(grok, "width", widths)
    budget = _budget(runs)
    overfit = {w: _epochs(rs, "memorised_epoch") for w, rs in by.items()}
    groked = {w: _epochs(rs, "generalised_epoch") for w, rs in by.items()}
    parts = {
        "all grok": _every_seed(
            runs,
            [f"width {w} seed {s}" for w in widths for s in grok.seeds],
            groks=True,
            what="share grokked",
        )
    }
    x = [w for w in widths for _ in grok.seeds]
    of = rank_censored([e for w in widths for e in overfit[w]], budget)
    t_over = decreasing_trend(x, of, rng=np.random.default_rng(0))
    parts["overfit epoch falls with width"] = decide_test(
        "Spearman rho(width, overfit epoch)",
        t_over,
        tolerance="Spearman rho < 0, one-sided p < 0.05",
    )
    parts["overfit(smallest) / overfit(largest) >= 3"] = decide_median_ratio(
        f"median overfit epoch at width {widths[0]} / at {widths[-1]}",
        median_ratio(overfit[widths[0]], overfit[widths[-1]], budget),
        WIDTH_OVERFIT_RATIO,
        math.inf,
        f">= {WIDTH_OVERFIT_RATIO} ({RESOLUTION})",
    )
    meds = {w: censored_median(groked[w]) for w in widths}
    slow = max(widths, key=lambda w: meds[w])
    fast = min(widths, key=lambda w: meds[w])
    parts["max / min median grok epoch <= 2"] = decide_median_ratio(
        f"median grok epoch, slowest (width {slow}) / fastest (width {fast})",
        median_ratio(groked[slow], groked[fast], budget),
        0.0,
        WIDTH_GROK_RATIO,
        f"<= {WIDTH_GROK_RATIO} ({RESOLUTION})",
    )
    delay = [
        np.nan if m is None or m.delay is None else float(m.delay)
        for w in widths
        for m in map(_milestones, by[w])
    ]
    t_delay = increasing_trend(x, delay, rng=np.random.default_rng(1))
    parts["delay increases with width"] = decide_test(
        "Spearman rho(width, delay)",
        t_delay,
        tolerance="Spearman rho > 0, one-sided p < 0.05, over the seeds that grokked",
    )
    # Reported, not asserted: is the grok epoch different across widths at all (the source's
    # non-monotonic trend needs more seeds, it says)? Kruskal-Wallis over grokked seeds.
    kw_p = kruskal_p([[e for e in groked[w] if e is not None] for w in widths])
    grok.record(
        "Kruskal-Wallis p, grok epoch across widths",
        kw_p,
        note="reported only: is the source's non-monotonic grok-epoch trend "
        "significant? (grokked seeds; p < 0.05 would say the widths differ)",
    )
    grok.record(
        "Spearman rho(width, overfit epoch)",
        t_over.statistic,
        note=f"one-sided p = {t_over.p_value:.3g}",
    )
    grok.record(
        "Spearman rho(width, delay)", t_delay.statistic, note=f"one-sided p = {t_delay.p_value:.3g}"
    )
    for w in widths:
        _record_source(
            grok,
            f"median overfit epoch, width {w}",
            median_of_observed(overfit[w]),
            SRC_WIDTH_OVERFIT.get(w, _ABSENT),
        )
        _record_source(
            grok, f"median grok epoch, width {w}", meds[w], SRC_WIDTH_GROK.get(w, _ABSENT)
        )
    _sweep_figure(
        grok,
        "CH4: width",
        widths,
        groked,
        overfit,
        budget,
        xlabel="hidden width",
        source=SRC_WIDTH_GROK,
        log_x=True,
    )
    grok.record_parts(parts)
    grok.conclude(decide_conjunction("CH4", parts, headline="delay increases with width"))


# --------------------------------------------------------------------------- CH5


@pytest.mark.claim(
    id="CH5",
    source=SOURCE,
    statement="addition, subtraction and multiplication all grok, on similar "
    "timescales (2,000–2,300 epochs)",
)
def test_ch5_operation_value(grok, op):
    """ "All three operations exhibit clear grokking behavior. In each case, the model first
    achieves perfect training accuracy while test accuracy remains near chance, followed by a
    delayed and rapid transition to near-perfect test accuracy." """
    _, result = _one_value(grok, "op", op, f"on a {op} b", groks=True, source=SRC_OP)
    grok.conclude(result)


@pytest.mark.claim(
    id="CH5",
    source=SOURCE,
    statement="every operation groks in every seed; max/min median grok epoch <= 1.5",
)
def test_ch5_operation_sweep(grok, over):
    """ "The timing of this transition is broadly similar across operations. Addition and
    subtraction grok at approximately epochs 2,250–2,300, while multiplication groks slightly
    earlier at approximately epoch 2,000." """
    ch = grok.scale.ch
    ops = list(ch.ops)
    runs, by = _sweep_runs(grok, "op", ops)
    budget = _budget(runs)
    groked = {op: _epochs(rs, "generalised_epoch") for op, rs in by.items()}
    result = rules.ch5(groked, budget)
    for op in ops:
        m = rules.km_grok_median(groked[op], budget)
        _record_source(
            grok,
            f"median grok epoch, a {op} b (Kaplan–Meier)",
            m.value if m.observed else math.inf,
            SRC_OP.get(op, _ABSENT),
        )
    _sweep_figure(
        grok,
        "CH5: operations",
        ops,
        groked,
        {o: _epochs(by[o], "memorised_epoch") for o in ops},
        budget,
        xlabel="operation",
        source=SRC_OP,
        categorical=True,
    )
    grok.record_parts(parts_of(result))
    grok.record_error_rates(rules.RULES["CH5"])
    grok.conclude(result)


# --------------------------------------------------------------------------- CH6


@pytest.mark.claim(
    id="CH6",
    source=SOURCE,
    statement="data fraction: 30 % never groks by 5,000; 50 % → ~2,200, 70 % → ~950, 90 % → ~450",
)
def test_ch6_data_fraction_value(grok, alpha):
    """ "With only 30% of the data (2,822 training examples), the model achieves perfect training
    accuracy but fails to generalize [...] At 50% data coverage (4,704 training examples),
    grokking first emerges, with the grokking epoch occurring at approximately epoch 2,200. [...]
    at 70% data, grokking occurs around epoch 950, and at 90% data, around epoch 450." """
    _, result = _one_value(
        grok, "alpha", alpha, f"at alpha {alpha}", groks=alpha > NO_GROK_ALPHA, source=SRC_ALPHA
    )
    grok.conclude(result)


@pytest.mark.claim(
    id="CH6",
    source=SOURCE,
    statement="data fraction: none groks at 0.3; grok epoch decreases over "
    "{0.5, 0.7, 0.9}; >= 3x faster at 0.9 than at 0.5",
)
def test_ch6_data_fraction_sweep(grok, over):
    """ "This corresponds to nearly a five-fold reduction in grokking time between the smallest
    data fraction at which grokking is observed and near-complete data coverage." """
    _no_grok_then_faster(
        grok,
        "CH6",
        field="alpha",
        short="alpha",
        values=grok.scale.ch.alphas,
        no_grok_upto=NO_GROK_ALPHA,
        speedup=ALPHA_SPEEDUP,
        source=SRC_ALPHA,
        xlabel="training fraction alpha",
    )
