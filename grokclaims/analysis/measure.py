"""Measurements from training traces: milestones, delays, onsets, crossings, capacity, Fourier.

Pure functions: numpy arrays in, small frozen dataclasses (or plain numbers) out; no I/O, no
torch. Definitions follow ``CLAIMS.md`` (the claims catalogue) to the letter:

- an evaluation trace is ``(epochs, values)``: ``epochs`` an increasing integer array of the
  epochs at which a metric was measured (counted from 1; an entry at 0 means "before
  training"), ``values`` the metric there. A milestone is always one of the given epochs, never
  interpolated, so a trace logged every 50 epochs (Chopra) has milestones on that grid.
  Thresholds are inclusive (>=) unless the source says "exceeds" (the tutorial: strict >).
  "Never reached" is ``None``; a NaN value never reaches anything.
- T_mem, T_gen, the delay and its clamp, the empirical onset and the predicted onset P× are
  those of Song & Ye (CLAIMS.md, SY); overfit / grok epochs those of Chopra (CH); memorisation
  / grokking steps those of the tutorial (BR).
- memorised bits follow Morris et al. (2025, "How much do language models memorize?"): an
  example with target probability q under a model carries log2 V + log2 q bits beyond the
  uniform guess over the V-token vocabulary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Song & Ye: T_mem and the delay's train milestone are "train accuracy >= 99 %".
MEMORISED_TRAIN_ACC = 0.99
# Song & Ye: T_gen is "validation accuracy >= 99 %".
GENERALISED_VAL_ACC = 0.99
# Song & Ye: the delay's validation milestone is the looser "val >= 98 %".
DELAY_VAL_ACC = 0.98
# Chopra (003): overfit = train >= 99 %, grok = test >= 95 %, on the 50-epoch logging grid.
CHOPRA_TRAIN_ACC = 0.99
CHOPRA_TEST_ACC = 0.95
# Tutorial (004): memorisation = train > 99 %, grokking = test > 90 % (its code uses strict >).
TUTORIAL_TRAIN_ACC = 0.99
TUTORIAL_TEST_ACC = 0.90
# BR3: the width of the rise of test accuracy is measured from 10 % to 90 %.
TRANSITION_LO = 0.1
TRANSITION_HI = 0.9
# BR4: "the top 10 % of Fourier frequencies".
FOURIER_TOP_FRACTION = 0.1
# Two-sided confidence of every bootstrap interval here (the claims' 95 % CIs).
CONFIDENCE = 0.95
# Bootstrap replicates: percentile endpoints then move by well under 1 % of the CI width.
N_BOOT = 2000


# --------------------------------------------------------------------------- traces


def _trace(epochs, values, name: str = "values") -> tuple[np.ndarray, np.ndarray]:
    """Validate an evaluation trace; return (int epochs, float values)."""
    e = np.asarray(epochs)
    v = np.asarray(values, dtype=float)
    if e.ndim != 1:
        raise ValueError(f"epochs must be 1-D, got shape {e.shape}")
    if v.shape != e.shape:
        raise ValueError(f"{name} must have the shape of epochs {e.shape}, got {v.shape}")
    if e.size and not np.all(np.isfinite(e.astype(float))):
        raise ValueError("epochs must be finite")
    ei = e.astype(np.int64)
    if not np.array_equal(ei, e):
        raise ValueError("epochs must be whole numbers")
    if np.any(np.diff(ei) <= 0):
        raise ValueError("epochs must be strictly increasing")
    return ei, v


def first_epoch_reaching(epochs, values, threshold: float, *, strict: bool = False) -> int | None:
    """First logged epoch whose value is >= ``threshold`` (> when ``strict``); None if never."""
    e, v = _trace(epochs, values)
    hits = v > threshold if strict else v >= threshold  # NaN compares False: never a hit
    return int(e[np.argmax(hits)]) if hits.any() else None


def t_mem(epochs, train_acc, threshold: float = MEMORISED_TRAIN_ACC) -> int | None:
    """T_mem: first epoch with train accuracy >= 99 % (on random-target data)."""
    return first_epoch_reaching(epochs, train_acc, threshold)


def t_gen(epochs, val_acc, threshold: float = GENERALISED_VAL_ACC) -> int | None:
    """T_gen: first epoch with validation accuracy >= 99 % (on the modular task)."""
    return first_epoch_reaching(epochs, val_acc, threshold)


@dataclass(frozen=True)
class Delay:
    """Song & Ye's grokking delay of one run, in epochs.

    ``value`` is NaN when the run neither memorised nor generalised (no delay is defined);
    when it memorised but never generalised, ``value`` is a lower bound (``censored``).
    """

    value: float
    train_epoch: int | None
    val_epoch: int | None
    generalised: bool

    @property
    def censored(self) -> bool:
        """True when the run stopped before generalising, so the true delay is larger."""
        return self.train_epoch is not None and self.val_epoch is None


def grokking_delay(
    train_epochs,
    train_acc,
    val_epochs,
    val_acc,
    epochs_trained: int,
    *,
    train_threshold: float = MEMORISED_TRAIN_ACC,
    val_threshold: float = DELAY_VAL_ACC,
) -> Delay:
    """(first epoch val >= 98 %) - (first epoch train >= 99 %), clamped at 0 (CLAIMS.md).

    The four cases:
    - both reached: ``max(0, val - train)``;
    - train reached, val not: ``epochs_trained - train`` (the rule's "never gets there" case);
    - val reached, train not: 0. The unseen train epoch lies after the end of training and so
      after the val epoch; the difference is negative and the clamp makes it 0 (the model
      generalised without a memorisation phase);
    - neither: NaN, since a model that never memorised has no delay (an underfitting run).
    """
    te, ta = _trace(train_epochs, train_acc, "train_acc")
    ve, va = _trace(val_epochs, val_acc, "val_acc")
    last = max([int(x[-1]) for x in (te, ve) if x.size], default=0)
    if epochs_trained < last:
        raise ValueError(
            f"epochs_trained ({epochs_trained}) is before the last logged epoch {last}"
        )
    train = first_epoch_reaching(te, ta, train_threshold)
    val = first_epoch_reaching(ve, va, val_threshold)
    if train is not None and val is not None:
        value = float(max(0, val - train))
    elif train is not None:
        value = float(epochs_trained - train)
    elif val is not None:
        value = 0.0
    else:
        value = math.nan
    return Delay(value=value, train_epoch=train, val_epoch=val, generalised=val is not None)


@dataclass(frozen=True)
class Milestones:
    """Memorisation and generalisation epochs of one run (None = never reached)."""

    memorised_epoch: int | None  # Chopra's overfit epoch / the tutorial's memorisation step
    generalised_epoch: int | None  # Chopra's grok epoch / the tutorial's grokking step

    @property
    def grokked(self) -> bool:
        return self.generalised_epoch is not None

    @property
    def delay(self) -> int | None:
        """generalised - memorised, unclamped (a negative value is a finding, not noise)."""
        if self.memorised_epoch is None or self.generalised_epoch is None:
            return None
        return self.generalised_epoch - self.memorised_epoch


def chopra_milestones(epochs, train_acc, test_acc) -> Milestones:
    """Chopra's overfit epoch (train >= 99 %) and grok epoch (test >= 95 %), first logged."""
    return Milestones(
        first_epoch_reaching(epochs, train_acc, CHOPRA_TRAIN_ACC),
        first_epoch_reaching(epochs, test_acc, CHOPRA_TEST_ACC),
    )


def tutorial_milestones(epochs, train_acc, test_acc) -> Milestones:
    """The tutorial's memorisation step (train > 99 %) and grokking step (test > 90 %)."""
    return Milestones(
        first_epoch_reaching(epochs, train_acc, TUTORIAL_TRAIN_ACC, strict=True),
        first_epoch_reaching(epochs, test_acc, TUTORIAL_TEST_ACC, strict=True),
    )


# --------------------------------------------------------------------------- weight norm


@dataclass(frozen=True)
class NormPeak:
    epoch: int
    value: float


def norm_peak(epochs, norm) -> NormPeak | None:
    """Epoch and value of the largest logged weight norm (first one on ties); None if no data."""
    e, v = _trace(epochs, norm, "norm")
    if not np.isfinite(v).any():
        return None
    i = int(np.nanargmax(v))
    return NormPeak(int(e[i]), float(v[i]))


def norm_at(epochs, norm, epoch: int) -> float:
    """The norm at ``epoch``: the value at the last logged epoch <= ``epoch`` (NaN if none)."""
    e, v = _trace(epochs, norm, "norm")
    i = int(np.searchsorted(e, epoch, side="right")) - 1
    return float(v[i]) if i >= 0 else math.nan


@dataclass(frozen=True)
class NormDecay:
    """The weight norm at an epoch (e.g. the grok epoch) against the trace's peak (CH2)."""

    peak_epoch: int
    peak_value: float
    epoch: int
    value: float

    @property
    def ratio(self) -> float:
        """value / peak; CH2 asks for < 0.9."""
        return self.value / self.peak_value if self.peak_value != 0 else math.nan

    @property
    def peak_precedes(self) -> bool:
        """CH2: the peak comes strictly before ``epoch``."""
        return self.peak_epoch < self.epoch


def norm_decay(epochs, norm, epoch: int) -> NormDecay | None:
    """Peak of the whole norm trace and the norm at ``epoch``; None when the trace is empty.

    The peak is taken over the whole trace, not only before ``epoch``: a norm still rising
    after grokking is then visible as ``peak_precedes == False``.
    """
    peak = norm_peak(epochs, norm)
    if peak is None:
        return None
    return NormDecay(peak.epoch, peak.value, int(epoch), norm_at(epochs, norm, epoch))


# --------------------------------------------------------------------------- transition


@dataclass(frozen=True)
class Transition:
    """The final rise of test accuracy from <= lo to >= hi."""

    start_epoch: int  # last logged epoch with acc <= lo before end_epoch
    end_epoch: int  # first logged epoch with acc >= hi

    @property
    def width(self) -> int:
        return self.end_epoch - self.start_epoch


def transition(
    epochs, acc, lo: float = TRANSITION_LO, hi: float = TRANSITION_HI
) -> Transition | None:
    """The final lo -> hi rise: from the last epoch at or below ``lo`` before the first epoch
    at or above ``hi``, to that epoch.

    None when accuracy never reaches ``hi``, or when no logged epoch before that is at or below
    ``lo`` (the start of the rise was not observed, so its width is unknown).
    """
    if not lo < hi:
        raise ValueError(f"lo ({lo}) must be below hi ({hi})")
    e, v = _trace(epochs, acc, "acc")
    end = first_epoch_reaching(e, v, hi)
    if end is None:
        return None
    below = np.flatnonzero((v <= lo) & (e < end))
    if below.size == 0:
        return None
    return Transition(int(e[below[-1]]), end)


def transition_width(
    epochs, acc, lo: float = TRANSITION_LO, hi: float = TRANSITION_HI
) -> int | None:
    """Epochs taken by the final lo -> hi rise (see ``transition``); None if undefined."""
    t = transition(epochs, acc, lo, hi)
    return None if t is None else t.width


# --------------------------------------------------------------------------- onsets


def _grid(P, name: str, n: int | None = None) -> np.ndarray:
    p = np.asarray(P, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {p.shape}")
    if n is not None and p.size != n:
        raise ValueError(f"{name} must have {n} entries, got {p.size}")
    if not np.all(np.isfinite(p) & (p > 0)):
        raise ValueError(f"{name} must be finite and positive")
    if np.unique(p).size != p.size:
        raise ValueError(f"{name} must not repeat a value")
    return p


def _per_p(values, name: str, n_p: int) -> np.ndarray:
    """A (n_P, n_seeds) float array; a 1-D input is one seed per P."""
    a = np.asarray(values, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] != n_p:
        raise ValueError(f"{name} must have shape (n_P={n_p}, n_seeds), got {np.shape(values)}")
    return a


def empirical_onset(P, delays) -> float | None:
    """Song & Ye's empirical onset: the smallest P above the last P whose min delay is 0.

    ``delays`` is (n_P, n_seeds), NaN for unusable seeds; the minimum is over usable seeds, and
    a P with no usable seed is left out. None when no P has minimum delay 0 (grokking at every
    P, or no usable data) or when no usable P lies above the last such P (no grokking seen).
    """
    p = _grid(P, "P")
    d = _per_p(delays, "delays", p.size)
    usable = np.isfinite(d).any(axis=1)
    p = p[usable]
    min_delay = np.nanmin(d[usable], axis=1) if usable.any() else np.empty(0)
    order = np.argsort(p)
    p, min_delay = p[order], min_delay[order]
    zero = np.flatnonzero(min_delay <= 0)  # delays are clamped, so <= 0 means == 0
    if zero.size == 0 or zero[-1] + 1 >= p.size:
        return None
    return float(p[zero[-1] + 1])


def _crossings_log(x: np.ndarray, d: np.ndarray) -> list[tuple[float, int, int]]:
    """Zeros of the piecewise-linear d(x), x increasing: (log P, direction, segment start).

    Direction -1: d goes from > 0 to < 0 (T_mem drops below T_gen); +1 the reverse; 0 a touch,
    or a zero with no non-zero d on one side. A grid point where d == 0 is a zero itself (its
    segment start is that point); a sign change inside a segment is solved exactly on it.
    """
    out: list[tuple[float, int, int]] = []
    sign = np.sign(d)
    nz = np.flatnonzero(sign != 0)
    for i in range(x.size):
        if sign[i] == 0:
            before = sign[nz[nz < i][-1]] if (nz < i).any() else 0
            after = sign[nz[nz > i][0]] if (nz > i).any() else 0
            direction = -1 if before > 0 > after else 1 if before < 0 < after else 0
            out.append((float(x[i]), direction, i))
        if i + 1 < x.size and sign[i] * sign[i + 1] < 0:
            xs = x[i] - d[i] * (x[i + 1] - x[i]) / (d[i + 1] - d[i])
            out.append((float(min(max(xs, x[i]), x[i + 1])), int(sign[i + 1]), i))
    return out


def _to_p(x: float, i: int, p: np.ndarray, logp: np.ndarray) -> float:
    """P at log P = x found on segment i: a grid value exactly, otherwise exp(x) kept inside
    [p[i], p[i + 1]] despite the rounding of log and exp."""
    j = min(i + 1, p.size - 1)
    if x in (logp[i], logp[j]):
        return float(p[i] if x == logp[i] else p[j])
    return float(np.clip(math.exp(x), p[i], p[j]))


def _log_curves(P, t_mem_curve, t_gen_curve) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted P and both curves on the P where both are finite and positive."""
    p = _grid(P, "P")
    a = np.asarray(t_mem_curve, dtype=float)
    b = np.asarray(t_gen_curve, dtype=float)
    for name, arr in (("t_mem", a), ("t_gen", b)):
        if arr.shape != p.shape:
            raise ValueError(f"{name} must have the shape of P {p.shape}, got {arr.shape}")
    order = np.argsort(p)
    p, a, b = p[order], a[order], b[order]
    ok = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    return p[ok], a[ok], b[ok]


def crossings(P, t_mem, t_gen) -> list[float]:
    """Every P where the piecewise-linear interpolants of the two curves in (log P, log epochs)
    meet: a sign change of log t_mem - log t_gen between neighbouring grid points (solved
    exactly on that segment) or a grid point where they are equal. Ascending.

    Points where either curve is NaN or non-positive are left out before interpolating.
    """
    p, a, b = _log_curves(P, t_mem, t_gen)
    logp = np.log(p)
    return [_to_p(x, i, p, logp) for x, _, i in _crossings_log(logp, np.log(a) - np.log(b))]


def _onset_from_log(x: np.ndarray, d: np.ndarray) -> tuple[float, int] | None:
    """(log P×, its segment) by the rule of ``predicted_onset``; None when there is none."""
    down = [(c, i) for c, direction, i in _crossings_log(x, d) if direction < 0]
    return down[-1] if down else None


@dataclass(frozen=True)
class Crossing:
    """The predicted onset P× of Song & Ye and everything needed to judge it."""

    p_cross: float | None  # P× by ``rule``; None when the curves have no downward crossing
    crossings: tuple[float, ...]  # every crossing of the interpolants, ascending in P
    directions: tuple[int, ...]  # per crossing: -1 T_mem drops below T_gen, +1 rises, 0 touch
    interval: tuple[float, float] | None  # bootstrap-over-seeds CI of P×
    boot_fraction: float  # share of bootstrap samples that had a P× at all
    n_boot: int
    P: tuple[float, ...]  # grid of the mean curves (sorted; P with no data dropped)
    t_mem: tuple[float, ...]  # seed-mean (geometric) T_mem on that grid
    t_gen: tuple[float, ...]
    rule: str


ONSET_RULE = (
    "P× = the largest P at which the interpolated log T_mem - log T_gen changes from > 0 to < 0 "
    "(memorisation becomes faster than generalisation and stays so up to the next crossing); "
    "the analogue of the empirical onset's 'last zero-delay P'"
)


def _log_seed_means(t: np.ndarray) -> np.ndarray:
    """Mean of log T over finite seeds along the last axis; NaN where no seed is finite."""
    logs = np.log(np.where(np.isfinite(t) & (t > 0), t, np.nan))
    count = np.isfinite(logs).sum(axis=-1)
    total = np.nansum(logs, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def predicted_onset(
    P,
    t_mem_seeds,
    t_gen_seeds,
    *,
    rng: np.random.Generator,
    n_boot: int = N_BOOT,
    confidence: float = CONFIDENCE,
    not_reached: float | None = None,
) -> Crossing:
    """P× where the seed-mean T_mem(P) and T_gen(P) cross in (log P, log epochs).

    ``t_mem_seeds`` (n_P, n_mem_seeds) and ``t_gen_seeds`` (n_P, n_gen_seeds) hold each seed's
    epochs, NaN where the threshold was never reached. The seed mean is geometric (the mean of
    log epochs): the curves are compared in log space and span decades, so one slow seed must
    not dominate. Seeds that never reached are dropped from the mean, unless ``not_reached``
    is given (e.g. the epoch budget), which then stands in for them: a lower bound on their
    true time. A P where a curve has no value is dropped. The rule picking P× among the
    crossings is ``ONSET_RULE``.

    The interval resamples the seed columns of each array with replacement, independently
    (T_mem and T_gen come from different runs, so their seeds are not paired), recomputes P×
    and takes percentiles of the samples that had one; ``boot_fraction`` says how many did,
    and a low fraction means the interval understates the uncertainty.
    """
    p = _grid(P, "P")
    tm = _per_p(t_mem_seeds, "t_mem_seeds", p.size)
    tg = _per_p(t_gen_seeds, "t_gen_seeds", p.size)
    if not_reached is not None:
        tm = np.where(np.isnan(tm), not_reached, tm)
        tg = np.where(np.isnan(tg), not_reached, tg)
    order = np.argsort(p)
    p, tm, tg = p[order], tm[order], tg[order]
    lm, lg = _log_seed_means(tm), _log_seed_means(tg)
    ok = np.isfinite(lm) & np.isfinite(lg)
    x, d = np.log(p[ok]), lm[ok] - lg[ok]
    found = _crossings_log(x, d)
    onset = _onset_from_log(x, d)

    # Bootstrap: (n_P, n_boot, n_seeds) resamples of each array -> (n_boot, n_P) mean curves.
    im = rng.integers(0, tm.shape[1], size=(n_boot, tm.shape[1]))
    ig = rng.integers(0, tg.shape[1], size=(n_boot, tg.shape[1]))
    bm, bg = _log_seed_means(tm[:, im]).T, _log_seed_means(tg[:, ig]).T
    logp = np.log(p)
    boot = np.full(n_boot, math.nan)
    for k in range(n_boot):
        keep = np.isfinite(bm[k]) & np.isfinite(bg[k])
        b = _onset_from_log(logp[keep], bm[k, keep] - bg[k, keep])
        boot[k] = math.nan if b is None else b[0]
    finite = boot[np.isfinite(boot)]
    interval = None
    if finite.size >= 2:
        tail = 50 * (1 - confidence)
        lo, hi = np.percentile(finite, [tail, 100 - tail])
        interval = (math.exp(lo), math.exp(hi))
    return Crossing(
        p_cross=None if onset is None else _to_p(*onset, p[ok], x),
        crossings=tuple(_to_p(c, i, p[ok], x) for c, _, i in found),
        directions=tuple(direction for _, direction, _ in found),
        interval=interval,
        boot_fraction=finite.size / n_boot if n_boot else math.nan,
        n_boot=n_boot,
        P=tuple(p[ok].tolist()),
        t_mem=tuple(np.exp(lm[ok]).tolist()),
        t_gen=tuple(np.exp(lg[ok]).tolist()),
        rule=ONSET_RULE,
    )


# --------------------------------------------------------------------------- capacity


def memorised_bits(log_probs, vocab_size: int) -> float:
    """Σ over examples of log2 V + log2 q(target), from natural-log target probabilities.

    Terms are not clipped at 0: an example predicted worse than uniform costs bits, exactly as
    the definition says.
    """
    if vocab_size < 2:
        raise ValueError(f"vocab_size must be >= 2, got {vocab_size}")
    lp = np.asarray(log_probs, dtype=float).ravel()
    return float(lp.size * math.log2(vocab_size) + lp.sum() / math.log(2))


def memorised_bits_from_loss(mean_loss_nats: float, n_examples: int, vocab_size: int) -> float:
    """Memorised bits from an evaluation pass's mean cross-entropy (nats) over n examples."""
    if vocab_size < 2:
        raise ValueError(f"vocab_size must be >= 2, got {vocab_size}")
    if n_examples < 0:
        raise ValueError(f"n_examples must be >= 0, got {n_examples}")
    return n_examples * (math.log2(vocab_size) - mean_loss_nats / math.log(2))


@dataclass(frozen=True)
class CapacityFit:
    """Least-squares line bits = intercept + slope·P; the slope is the capacity C."""

    slope: float  # C, bits per parameter
    intercept: float
    r_squared: float
    interval: tuple[float, float] | None  # bootstrap CI of the slope
    n_points: int
    resampled: str  # "points" or "seeds": the unit the bootstrap resampled


def _ols(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slope and intercept of weighted (0/1 or counts) least squares along the last axis."""
    n = w.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = (w * x).sum(-1) / n, (w * y).sum(-1) / n
        sxx = (w * (x - mx[..., None]) ** 2).sum(-1)
        sxy = (w * (x - mx[..., None]) * (y - my[..., None])).sum(-1)
        slope = np.where(sxx > 0, sxy / np.where(sxx > 0, sxx, 1), np.nan)
    return slope, my - slope * mx


def fit_capacity(
    P,
    bits,
    *,
    rng: np.random.Generator,
    n_boot: int = N_BOOT,
    confidence: float = CONFIDENCE,
) -> CapacityFit:
    """C = slope of saturated memorised bits on P (least squares with intercept), with R².

    ``bits`` is (n_P,) or (n_P, n_seeds); NaN entries are dropped. With one column the
    bootstrap resamples (P, bits) points; with several it resamples whole seed columns, so
    points of one seed stay together. Fewer than 3 points or a single P give NaN.
    """
    p = np.asarray(P, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"P must be 1-D, got shape {p.shape}")
    b = _per_p(bits, "bits", p.size)
    x = np.broadcast_to(p[:, None], b.shape)
    w = np.isfinite(b) & np.isfinite(x)
    xs, ys = x[w], b[w]
    nan_fit = CapacityFit(math.nan, math.nan, math.nan, None, int(xs.size), "points")
    if xs.size < 3 or np.unique(xs).size < 2:
        return nan_fit
    slope, intercept = (float(v) for v in _ols(xs, ys, np.ones_like(xs)))
    tss = float(((ys - ys.mean()) ** 2).sum())
    rss = float(((ys - intercept - slope * xs) ** 2).sum())
    r2 = 1 - rss / tss if tss > 0 else math.nan

    y0, w0 = np.where(w, b, 0.0), w.astype(float)
    if b.shape[1] == 1:
        resampled = "points"
        idx = rng.integers(0, xs.size, size=(n_boot, xs.size))
        bx, by, bw = xs[idx], ys[idx], np.ones(idx.shape)
    else:
        resampled = "seeds"
        idx = rng.integers(0, b.shape[1], size=(n_boot, b.shape[1]))
        bx = np.broadcast_to(p[None, :, None], (n_boot, p.size, b.shape[1])).reshape(n_boot, -1)
        by = y0[:, idx].transpose(1, 0, 2).reshape(n_boot, -1)
        bw = w0[:, idx].transpose(1, 0, 2).reshape(n_boot, -1)
    slopes, _ = _ols(bx, by, bw)
    slopes = slopes[np.isfinite(slopes)]
    interval = None
    if slopes.size >= 2:
        tail = 50 * (1 - confidence)
        lo, hi = np.percentile(slopes, [tail, 100 - tail])
        interval = (float(lo), float(hi))
    return CapacityFit(slope, intercept, r2, interval, int(xs.size), resampled)


def dataset_complexity(n_train: int, p: int) -> float:
    """K = n_train · log2(p + 2): bits to store n_train targets over the p + 2 tokens."""
    if n_train < 0 or p < 1:
        raise ValueError(f"need n_train >= 0 and p >= 1, got n_train={n_train}, p={p}")
    return n_train * math.log2(p + 2)


def capacity_fraction(K, C, P):
    """K / (C·P): dataset complexity over model capacity (scalar or elementwise on arrays)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(K, dtype=float) / (np.asarray(C, dtype=float) * np.asarray(P, float))
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------- Fourier


def fourier_concentration(embedding, p: int, top_fraction: float = FOURIER_TOP_FRACTION) -> float:
    """Share of an embedding's non-constant Fourier power over Z_p in its top frequencies.

    ``embedding`` is (>= p, d); rows 0..p-1 embed the numbers, later rows (operator, equals)
    are ignored. Each dimension is transformed over the p number rows and the power |F_k|² is
    summed over dimensions; k = 0 (the mean) is dropped and k, p - k count as one frequency
    (their powers are equal for a real signal). The result is the share of the remaining power
    in the floor(top_fraction · n_freq) strongest frequencies (at least one), n_freq = p // 2.
    NaN for an embedding constant over the numbers. A random embedding gives about
    ``top_fraction``; one built from a single cos/sin frequency gives 1.
    """
    e = np.asarray(embedding, dtype=float)
    if e.ndim != 2 or e.shape[0] < p:
        raise ValueError(f"embedding must be (>= p={p}, d), got shape {e.shape}")
    if p < 3:
        raise ValueError(f"p must be >= 3, got {p}")
    if not 0 < top_fraction <= 1:
        raise ValueError(f"top_fraction must be in (0, 1], got {top_fraction}")
    spectrum = (np.abs(np.fft.rfft(e[:p], axis=0)) ** 2).sum(axis=1)  # k = 0 .. p // 2
    pair = np.full(spectrum.size - 1, 2.0)
    if p % 2 == 0:
        pair[-1] = 1.0  # the Nyquist frequency p / 2 is its own partner
    power = spectrum[1:] * pair
    total = power.sum()
    if not total > 1e-20 * spectrum[0]:  # below this it is FFT rounding of a constant
        return math.nan
    k = max(1, math.floor(top_fraction * power.size + 1e-9))
    return float(np.sort(power)[::-1][:k].sum() / total)
