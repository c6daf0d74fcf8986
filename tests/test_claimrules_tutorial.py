"""The tutorial's rules (BR1-BR5, ``grokclaims.claimrules.tutorial``) can fail: data that
contradict a claim are never "supported", data where it holds are never "refuted". Their
simulated false-support rates are tested with every rule's in ``tests/test_claimrules.py``."""

from __future__ import annotations

import numpy as np

from grokclaims.claimrules import tutorial as t
from grokclaims.setups.scales import SCALES
from grokclaims.verdicts import Verdict


def test_br1_budget_is_the_tutorials_in_optimiser_steps():
    assert SCALES["nightly"].br.budget == 150  # p = 97: 10 steps an epoch
    assert SCALES["smoke"].br.steps_per_epoch == 3  # p = 47: 1,104 pairs in batches of 512
    assert SCALES["smoke"].br.budget == 500


def test_br1_refutes_a_falling_accuracy_and_holds_at_the_source():
    falling = {0.01: [0.9] * 5, 0.1: [0.7] * 5, 1.0: [0.4] * 5, 2.0: [0.1] * 5}
    assert t.br1(falling, n_resamples=199).verdict is Verdict.REFUTED
    src = {w: [a - 0.01, a, a + 0.0, min(a + 0.01, 1.0)] * 4 for w, a in t.SRC_WD_ACC.items()}
    result = t.br1(src, source=t.SRC_WD_ACC, n_resamples=199)
    assert result.verdict is Verdict.SUPPORTED  # 16 seeds: the share's bound clears 0.8
    few = {w: v[:3] for w, v in src.items()}
    assert t.br1(few, n_resamples=199).verdict is Verdict.INCONCLUSIVE  # 3 seeds: by scale


def test_br1_value_band_refutes_a_median_far_from_the_source():
    far = t.br1_value([0.8, 0.82, 0.85, 0.81], 1.0, top=False, source=0.48, n_resamples=199)
    assert far.verdict is Verdict.REFUTED
    near = t.br1_value([0.47, 0.48, 0.5, 0.46], 1.0, top=False, source=0.48, n_resamples=199)
    assert near.verdict is Verdict.SUPPORTED


def test_br2_refutes_a_gradual_climb_and_a_short_delay():
    assert t.br2([200, 200], [400, 400], [0.05, 0.35]).verdict is Verdict.REFUTED
    assert t.br2([200, 200], [400, 250], [0.05, 0.05]).verdict is Verdict.REFUTED  # 50 < 100
    assert t.br2([200, 200], [400, 400], [0.05, 0.05]).verdict is Verdict.SUPPORTED
    assert t.br2([200, 200], [None, 400], [0.05, 0.05]).verdict is Verdict.INCONCLUSIVE


def test_br3_share_refutes_slow_rises_and_cannot_support_below_14_seeds():
    assert t.br3([150.0] * 3, [100.0] * 3).verdict is Verdict.REFUTED
    assert t.br3([10.0] * 3, [100.0] * 3).verdict is Verdict.INCONCLUSIVE
    assert t.br3([10.0] * 14, [100.0] * 14).verdict is Verdict.SUPPORTED


def test_br4_fourier_share_of_a_circle_beats_its_permutation_null():
    p, rng = 47, np.random.default_rng(0)
    k = np.arange(p)[:, None]
    circle = np.hstack([np.cos(2 * np.pi * f * k / p) for f in (1, 5, 9)])
    noise = rng.standard_normal((p, 6))
    a, n95 = t.fourier_top_share(circle, p), t.fourier_null(circle, p, rng=rng, n=199)
    assert a > 0.99 > n95
    b = t.fourier_top_share(noise, p)
    assert t.br4([a], [n95], [b]).verdict is Verdict.SUPPORTED
    assert t.br4([b], [t.fourier_null(noise, p, rng=rng, n=199)], [b]).verdict is Verdict.REFUTED
    assert t.br4([None], [None], [None]).verdict is Verdict.INCONCLUSIVE


def test_br4_a_grokked_seed_that_never_settles_is_unusable_not_left_out():
    """Seed 1 grokked but never held test >= 99 % for 20 epochs: no reading, so "every grokked
    seed" is not supported by seed 0 alone; a seed that never grokked is outside the claim."""
    good = ([0.9, None], [0.4, None], [0.3, None])
    unsettled = t.br4(*good, grokked=[True, True])
    assert unsettled.verdict is Verdict.INCONCLUSIVE
    assert unsettled.details["n_unusable"] == 1
    assert t.br4(*good, grokked=[True, False]).verdict is Verdict.SUPPORTED
    bad = ([0.5, None], [0.4, None], [0.3, None])  # gain 0.2 < 0.25 in the settled seed
    assert t.br4(*bad, grokked=[True, True]).verdict is Verdict.REFUTED


def test_br5_refutes_a_wd0_seed_that_generalises_within_the_budget():
    assert t.br5([300, 350], [None, 340]).verdict is Verdict.REFUTED
    assert t.br5([300, 350], [None, 900]).verdict is Verdict.SUPPORTED
    assert t.br5([None, None], [None, None]).verdict is Verdict.INCONCLUSIVE
