"""Exact values and properties of the measurements of ``grokclaims.analysis`` (traces,
milestones, norms, transition, crossing, capacity, Fourier) and of their bootstrap intervals.

Hand-computable inputs first (each expected number is worked out in a comment), then
Hypothesis properties of crossings and onsets, then a small coverage simulation of the
bootstrap interval of P×.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grokclaims.analysis import (
    capacity,
    crossing,
    fourier,
    milestones,
    norms,
    traces,
    transition,
)

PROPERTY = settings(max_examples=60, deadline=None)


# --------------------------------------------------------------------------- milestones


def test_first_epoch_reaching_honours_cadence_and_inclusive_threshold():
    epochs = np.array([0, 50, 100, 150, 200])
    acc = np.array([0.0, 0.5, 0.99, 1.0, 1.0])
    assert traces.first_epoch_reaching(epochs, acc, 0.99) == 100  # >= is inclusive
    assert traces.first_epoch_reaching(epochs, acc, 0.99, strict=True) == 150
    assert traces.first_epoch_reaching(epochs, acc, 0.0) == 0  # the before-training entry counts
    assert traces.first_epoch_reaching(epochs, acc, 1.01) is None
    assert traces.first_epoch_reaching(epochs, [np.nan, 1, np.nan, 0, 0], 0.5) == 50


def test_first_epoch_reaching_rejects_bad_traces():
    with pytest.raises(ValueError, match="shape of epochs"):
        traces.first_epoch_reaching([1, 2, 3], [0.1, 0.2], 0.5)
    with pytest.raises(ValueError, match="increasing"):
        traces.first_epoch_reaching([1, 3, 2], [0.1, 0.2, 0.3], 0.5)
    with pytest.raises(ValueError, match="whole"):
        traces.first_epoch_reaching([1.5, 2.0], [0.1, 0.2], 0.5)


def test_t_mem_and_t_gen_use_the_99_percent_bar():
    epochs = np.arange(1, 6)
    assert milestones.t_mem(epochs, [0.2, 0.98, 0.989, 0.99, 1.0]) == 4
    assert milestones.t_gen(epochs, [0.2, 0.98, 0.985, 0.991, 1.0]) == 4


def test_delay_when_both_thresholds_are_reached():
    epochs = np.arange(1, 11)
    train = np.r_[0.5, 0.9, 0.995, np.ones(7)]  # train >= 99 % first at epoch 3
    val = np.r_[np.full(6, 0.1), 0.98, 0.99, 1.0, 1.0]  # val >= 98 % first at epoch 7
    d = milestones.grokking_delay(epochs, train, epochs, val, epochs_trained=10)
    assert d == milestones.Delay(value=4.0, train_epoch=3, val_epoch=7, generalised=True)
    assert not d.censored


def test_delay_is_clamped_at_zero_when_validation_comes_first():
    epochs = np.arange(1, 6)
    d = milestones.grokking_delay(epochs, [0, 0, 0, 0.99, 1], epochs, [0, 0.98, 1, 1, 1], 5)
    assert d.value == 0.0 and d.train_epoch == 4 and d.val_epoch == 2


def test_delay_when_validation_never_gets_there():
    epochs = np.arange(1, 21)
    train = np.r_[0.5, 0.995, np.ones(18)]
    d = milestones.grokking_delay(epochs, train, epochs, np.full(20, 0.3), epochs_trained=500)
    assert d.value == 498.0  # epochs trained - train epoch = 500 - 2
    assert d.censored and not d.generalised and d.val_epoch is None


def test_delay_when_train_never_gets_there():
    epochs = np.arange(1, 6)
    low = np.full(5, 0.5)
    # val reached, train not: the unseen train epoch is after val, so the clamp gives 0
    d = milestones.grokking_delay(epochs, low, epochs, [0, 0, 0.99, 1, 1], 5)
    assert d.value == 0.0 and d.generalised and d.train_epoch is None
    # neither: no delay is defined
    d = milestones.grokking_delay(epochs, low, epochs, low, 5)
    assert math.isnan(d.value) and not d.generalised and not d.censored
    with pytest.raises(ValueError, match="epochs_trained"):
        milestones.grokking_delay(epochs, low, epochs, low, 4)


def test_chopra_milestones_on_the_50_epoch_grid():
    epochs = np.arange(0, 501, 50)
    train = np.r_[0.0, 0.5, 0.9, 0.98, 0.99, np.ones(6)]  # >= 99 % at index 4 -> epoch 200
    test = np.r_[np.full(8, 0.01), 0.95, 1.0, 1.0]  # >= 95 % at index 8 -> epoch 400
    ms = milestones.chopra_milestones(epochs, train, test)
    assert ms == milestones.Milestones(200, 400)
    assert ms.delay == 200 and ms.grokked


def test_tutorial_milestones_are_strict():
    epochs = np.arange(1, 7)
    train = [0.5, 0.99, 0.991, 1, 1, 1]  # exactly 0.99 does not exceed 99 %
    test = [0.1, 0.1, 0.9, 0.9, 0.95, 1]  # exactly 0.90 does not exceed 90 %
    ms = milestones.tutorial_milestones(epochs, train, test)
    assert (ms.memorised_epoch, ms.generalised_epoch, ms.delay) == (3, 5, 2)
    assert milestones.tutorial_milestones(epochs, train, np.zeros(6)).delay is None


def test_norm_peak_and_decay():
    epochs = np.arange(0, 401, 50)
    norm = np.array([10, 20, 40, 38, 30, 25, 20, 20, 20], dtype=float)
    assert norms.norm_peak(epochs, norm) == norms.NormPeak(100, 40.0)
    assert traces.value_at(epochs, norm, 250) == 25.0
    assert traces.value_at(epochs, norm, 260) == 25.0  # last logged value at or before 260
    decay = norms.norm_decay(epochs, norm, 300)
    assert decay.peak_precedes and decay.ratio == pytest.approx(0.5)
    assert not norms.norm_decay(epochs, norm, 100).peak_precedes
    assert norms.norm_peak(epochs, np.full(9, np.nan)) is None


def test_transition_width_uses_the_final_rise():
    epochs = np.arange(0, 100, 10)
    # a false start (0.3 at epoch 20) falls back to 0.05 at epoch 40; the final rise is 40 -> 70
    acc = np.array([0.01, 0.02, 0.3, 0.08, 0.05, 0.2, 0.6, 0.9, 1.0, 1.0])
    assert transition.transition(epochs, acc) == transition.Transition(40, 70)
    assert transition.transition_width(epochs, acc) == 30
    assert transition.transition_width(epochs, np.full(10, 0.5)) is None  # never reaches 90 %
    assert transition.transition_width(epochs, np.r_[0.5, 0.95, np.ones(8)]) is None  # start unseen


# --------------------------------------------------------------------------- onsets


def test_empirical_onset_by_hand():
    P = [400, 100, 200, 300, 500]  # unsorted on purpose
    delays = [
        [5, 7],  # 400
        [0, 3],  # 100: min 0
        [0, 0],  # 200: min 0
        [2, np.nan],  # 300: min 2 (NaN seed ignored)
        [np.nan, np.nan],  # 500: no usable seed, left out
    ]
    # last zero-delay P is 200; the smallest usable P above it is 300
    assert crossing.empirical_onset(P, delays) == 300.0


def test_empirical_onset_undefined_cases():
    assert crossing.empirical_onset([1, 2, 3], [[1], [2], [3]]) is None  # no zero-delay P
    assert (
        crossing.empirical_onset([1, 2, 3], [[1], [0], [0]]) is None
    )  # nothing above the last zero
    with pytest.raises(ValueError, match="delays"):
        crossing.empirical_onset([1, 2, 3], np.zeros((2, 4)))


@st.composite
def _onset_grid(draw):
    n = draw(st.integers(2, 8))
    P = draw(st.lists(st.integers(10, 10**6), min_size=n, max_size=n, unique=True))
    delays = draw(
        st.lists(
            st.lists(st.sampled_from([0.0, 0.0, 10.0, 250.0, np.nan]), min_size=3, max_size=3),
            min_size=n,
            max_size=n,
        )
    )
    return np.array(P, dtype=float), np.array(delays)


@PROPERTY
@given(grid=_onset_grid(), data=st.data())
def test_onset_does_not_move_when_zero_delay_points_are_added_below_it(grid, data):
    P, delays = grid
    onset = crossing.empirical_onset(P, delays)
    if onset is None:
        return
    free = sorted(set(range(1, int(onset))) - set(P.astype(int).tolist()))
    new = data.draw(st.lists(st.sampled_from(free), min_size=1, max_size=4, unique=True))
    rows = np.zeros((len(new), 3))
    rows[:, 1:] = data.draw(st.sampled_from([0.0, 50.0, np.nan]))  # min stays 0
    P2, d2 = np.r_[P, new], np.vstack([delays, rows])
    assert crossing.empirical_onset(P2, d2) == onset


def test_crossing_of_two_straight_lines_in_log_log_space():
    P = np.array([100.0, 1_000.0, 10_000.0, 100_000.0])
    t_mem = 1e6 / P  # slope -1 in log-log
    t_gen = 10 * np.sqrt(P)  # slope 1/2
    # 1e6 / P = 10 P^0.5  <=>  P^1.5 = 1e5  <=>  P = 10^(10/3)
    (cross,) = crossing.crossings(P, t_mem, t_gen)
    assert cross == pytest.approx(10 ** (10 / 3), rel=1e-12)
    assert 1_000 < cross < 10_000


def test_crossings_reports_every_crossing_and_grid_touches():
    P = np.array([1.0, 10.0, 100.0, 1000.0, 10_000.0])
    t_gen = np.ones(5)
    t_mem = np.array([10.0, 0.1, 1.0, 10.0, 0.1])  # log ratio: +1, -1, 0, +1, -1
    # zeros: halfway (in log P) between 1 and 10, at 100 exactly, halfway between 1e3 and 1e4
    assert crossing.crossings(P, t_mem, t_gen) == pytest.approx([10**0.5, 100.0, 10**3.5])
    v = t_mem[None]
    px, lo, hi = crossing.rule_crossing_rows(P, v, v, t_gen[None], t_gen[None])
    # the last downward crossing has one width above it: only a bracket (>= 2 a side needed)
    assert np.isnan(px[0]) and (lo[0], hi[0]) == (1000.0, 10_000.0)
    tie = np.array([[100.0, 10.0, 1.0, 0.1, 0.01]])  # T_gen = 1: +, +, equal, -, -
    px, lo, hi = crossing.rule_crossing_rows(P, tie, tie, t_gen[None], t_gen[None])
    assert px[0] == lo[0] == hi[0] == 100.0  # a tie with 2 widths on each side is the point
    nan_mem = np.array([10.0, np.nan, 1.0, 10.0, 0.1])  # a missing point is skipped
    assert crossing.crossings(P, nan_mem, t_gen) == pytest.approx([100.0, 10**3.5])


_EPOCHS = st.integers(1, 5_000)


@st.composite
def _curves(draw):
    n = draw(st.integers(2, 7))
    P = sorted(draw(st.lists(st.integers(10, 10**7), min_size=n, max_size=n, unique=True)))
    a = draw(st.lists(_EPOCHS, min_size=n, max_size=n))
    b = draw(st.lists(_EPOCHS, min_size=n, max_size=n))
    return np.array(P, float), np.array(a, float), np.array(b, float)


@PROPERTY
@given(curves=_curves())
def test_each_crossing_lies_between_its_bracketing_grid_points(curves):
    P, a, b = curves
    d = np.log(a) - np.log(b)
    for c in crossing.crossings(P, a, b):
        i = int(np.searchsorted(P, c))
        if P[min(i, P.size - 1)] == c:
            assert d[i] == 0  # a crossing on the grid is a point where the curves are equal
        else:
            assert 0 < i < P.size and P[i - 1] < c < P[i]
            assert d[i - 1] * d[i] < 0  # and the curves swap order across that segment


@PROPERTY
@given(curves=_curves(), factor=st.floats(1e-3, 1e3))
def test_crossings_are_invariant_when_both_curves_are_scaled(curves, factor):
    P, a, b = curves
    assert crossing.crossings(P, factor * a, factor * b) == pytest.approx(
        crossing.crossings(P, a, b), rel=1e-9
    )


def _uncensored(t):
    return np.asarray(t, float), np.zeros(np.shape(t), dtype=bool)


def test_onset_ratio_without_noise_is_the_exact_crossing():
    P = np.array([100.0, 200.0, 400.0, 800.0, 1_600.0, 3_200.0])
    t_mem, t_gen = 1e5 / P, 10 * np.sqrt(P)  # cross at P^1.5 = 1e4
    seeds = np.ones((1, 4))
    delays = np.where(P[:, None] >= 800, 50.0, 0.0) * seeds  # onset 800
    r = crossing.onset_ratio_interval(
        P, *_uncensored(t_mem[:, None] * seeds), *_uncensored(t_gen[:, None] * seeds), delays
    )
    assert r.p_cross == pytest.approx(1e4 ** (2 / 3), rel=1e-12) and r.onset == 800.0
    assert r.log_ratio == pytest.approx(math.log10(800 / 1e4 ** (2 / 3)))
    assert r.interval == pytest.approx((r.log_ratio, r.log_ratio))  # every resample the same
    assert r.open_share == 0.0


def test_a_censored_width_makes_p_cross_a_bracket_never_a_number():
    P = np.array([100.0, 200.0, 400.0, 800.0, 1_600.0, 3_200.0])
    t_mem, t_gen = (
        (1e5 / P)[:, None] * np.ones((1, 3)),
        (10 * np.sqrt(P))[:, None] * np.ones((1, 3)),
    )
    censored = t_mem > 300  # T_mem not reached below P = 400: only a lower bound there
    t_mem = np.where(censored, 300.0, t_mem)
    delays = np.where(P[:, None] >= 800, 50.0, 0.0) * np.ones((1, 3))
    r = crossing.onset_ratio_interval(P, t_mem, censored, *_uncensored(t_gen), delays)
    # the sign is + at 100 and 200 (T_mem's bound 300 exceeds T_gen), + at 400 and - at 800
    # (both observed), but only one observed width lies below the change: a bracket
    assert r.p_cross is None and r.log_ratio is None and r.bracket == (400.0, 800.0)
    assert r.interval == pytest.approx((0.0, math.log10(2.0)))  # the onset 800 over (400, 800)


def test_onset_rows_is_empirical_onset_per_row():
    P = np.array([1.0, 2.0, 3.0, 4.0])
    rng = np.random.default_rng(0)
    d = np.where(rng.random((50, 4, 3)) < 0.5, 0.0, 10.0)
    d[rng.random(d.shape) < 0.1] = np.nan
    got = crossing.onset_rows(P, d)
    for k in range(50):
        want = crossing.empirical_onset(P, d[k])
        assert (np.isnan(got[k]) and want is None) or got[k] == want


def test_bootstrap_interval_of_the_ratio_covers_the_truth():
    rng = np.random.default_rng(4)
    P = np.geomspace(100, 3_200, 6)
    truth = math.log10(P[3] / 1e4 ** (2 / 3))  # the onset is P[3] = 800
    delays = np.where(P[:, None] >= 700, 50.0, 0.0) * np.ones((1, 10))
    covered = 0
    for _ in range(100):
        t_mem = (1e5 / P)[:, None] * np.exp(rng.normal(0, 0.2, (6, 10)))
        t_gen = (10 * np.sqrt(P))[:, None] * np.exp(rng.normal(0, 0.2, (6, 10)))
        r = crossing.onset_ratio_interval(
            P, *_uncensored(t_mem), *_uncensored(t_gen), delays, rng=rng, n_resamples=300
        )
        covered += r.interval[0] <= truth <= r.interval[1]
    # nominal 95 %; percentile intervals over 10 seeds run a little narrow
    assert covered >= 85


# --------------------------------------------------------------------------- capacity


def test_memorised_bits_by_hand():
    # V = 4: log2 V = 2 bits per example; q = 1 adds 0, q = 1/2 adds -1 -> 2 + 1 = 3 bits
    assert capacity.memorised_bits(np.log([1.0, 0.5]), 4) == pytest.approx(3.0)
    assert capacity.memorised_bits(np.log(np.full(10, 0.25)), 4) == pytest.approx(
        0.0
    )  # uniform guess
    # mean loss of those two examples is ln 2 / 2 nats
    assert capacity.memorised_bits_from_loss(math.log(2) / 2, 2, 4) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="vocab_size"):
        capacity.memorised_bits([0.0], 1)


def test_fit_capacity_on_an_exact_line():
    P = np.array([1_000.0, 2_000.0, 4_000.0, 8_000.0])
    fit = capacity.fit_capacity(P, 2.16 * P + 50)
    assert fit.slope == pytest.approx(2.16) and fit.intercept == pytest.approx(50)
    assert fit.r_squared == pytest.approx(1.0)
    assert fit.n_points == 4


def test_fit_capacity_over_seeds_brackets_the_true_slope():
    rng = np.random.default_rng(5)
    P = np.geomspace(1_000, 64_000, 7)
    bits = 3.6 * P[:, None] + rng.normal(0, 2_000, (7, 6))
    bits[2, 3] = np.nan
    fit = capacity.fit_capacity(P, bits)
    assert fit.n_points == 41 and fit.r_squared > 0.99
    assert fit.slope == pytest.approx(3.6, rel=0.02)  # its interval: tests/test_bootstrap.py


def test_fit_capacity_degenerate_inputs_give_nan():
    fit = capacity.fit_capacity([5.0, 5.0, 5.0], [1.0, 2.0, 3.0])
    assert math.isnan(fit.slope)
    assert math.isnan(capacity.fit_capacity([1.0, 2.0], [1.0, 2.0]).slope)


def test_dataset_complexity_and_capacity_fraction():
    assert capacity.dataset_complexity(4_704, 97) == pytest.approx(4_704 * math.log2(99))
    assert capacity.capacity_fraction(1_000.0, 2.0, 250.0) == 2.0
    np.testing.assert_allclose(
        capacity.capacity_fraction(100.0, 2.0, np.array([10.0, 50.0])), [5, 1]
    )


# --------------------------------------------------------------------------- Fourier


def _wave(p: int, k: int, amplitude: float = 1.0) -> np.ndarray:
    n = np.arange(p)
    return amplitude * np.stack([np.cos(2 * np.pi * k * n / p), np.sin(2 * np.pi * k * n / p)], 1)


def test_fourier_concentration_of_pure_and_mixed_frequencies():
    assert fourier.fourier_concentration(_wave(97, 5), 97) == pytest.approx(1.0)
    # p = 23: 11 frequencies, top 10 % = 1 frequency. Amplitudes 2 and 1 -> power 4 : 1
    mixed = np.hstack([_wave(23, 3, 2.0), _wave(23, 7, 1.0)])
    assert fourier.fourier_concentration(mixed, 23) == pytest.approx(0.8)
    # a constant offset (k = 0) and extra token rows do not count
    shifted = np.vstack([mixed + 5.0, np.full((2, 4), 100.0)])
    assert fourier.fourier_concentration(shifted, 23) == pytest.approx(0.8)
    assert math.isnan(fourier.fourier_concentration(np.ones((23, 3)), 23))


def test_fourier_concentration_of_a_random_embedding_is_near_the_top_fraction():
    rng = np.random.default_rng(8)
    share = fourier.fourier_concentration(rng.normal(size=(99, 128)), 97)
    assert 4 / 48 <= share < 0.15  # 4 of 48 frequencies; order statistics add a little
    assert fourier.fourier_concentration(rng.normal(size=(25, 8)), 23) < 0.25
    with pytest.raises(ValueError, match="embedding"):
        fourier.fourier_concentration(np.zeros((10, 3)), 23)


def test_fourier_power_per_frequency_and_its_shares():
    mixed = np.hstack([_wave(23, 3, 2.0), _wave(23, 7, 1.0)])
    power = fourier.fourier_power(mixed, 23)
    assert power.shape == (11,) and np.argmax(power) == 2  # k = 3
    share = fourier.fourier_power_share(mixed, 23)
    assert share.sum() == pytest.approx(1.0) and share[2] == pytest.approx(0.8)
    np.testing.assert_array_equal(fourier.fourier_power_share(np.zeros((23, 2)), 23), 0.0)


# --------------------------------------------------------------------------- traces, regimes


def test_best_up_to_and_rate_of_change():
    epochs, acc = np.array([1, 2, 4, 8]), np.array([0.1, 0.5, 0.3, 0.9])
    assert traces.best_up_to(epochs, acc, 4) == 0.5 and traces.best_up_to(epochs, acc, 8) == 0.9
    assert math.isnan(traces.best_up_to(epochs, acc, 0))
    e, d = traces.rate_of_change(epochs, acc)
    np.testing.assert_array_equal(e, [2.0, 4.0, 8.0])
    np.testing.assert_allclose(d, [0.4, -0.1, 0.15])


def test_regimes_from_delays():
    out = milestones.regimes(np.array([[np.nan, 0.0], [30.0, 0.0]]))
    assert out.tolist() == [["underfit", "immediate"], ["grokking", "immediate"]]
    assert milestones.REGIMES == ("underfit", "immediate", "grokking")


def test_saturated_bits():
    epochs = np.arange(0, 101, 10)
    flat = np.r_[np.linspace(0, 1000, 7), [1000, 1010, 1020, 1030]]
    assert capacity.saturated(epochs, flat)  # +30 bits on 1030 over the last quarter
    assert not capacity.saturated(epochs, np.linspace(0, 1000, 11))
