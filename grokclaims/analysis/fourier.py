"""Fourier features of a token embedding over Z_p (BR4): the power per frequency and the share
of it in the strongest frequencies."""

from __future__ import annotations

import math

import numpy as np

# BR4: "the top 10 % of Fourier frequencies".
FOURIER_TOP_FRACTION = 0.1


def _spectrum(embedding, p: int) -> np.ndarray:
    """|F_k|² of the number rows 0..p-1, summed over dimensions, for k = 0 .. p // 2."""
    e = np.asarray(embedding, dtype=float)[:p]
    return (np.abs(np.fft.rfft(e, axis=0)) ** 2).sum(axis=1)


def _paired(spectrum: np.ndarray, p: int) -> np.ndarray:
    """The non-constant power per frequency k = 1 .. p // 2, k and p - k counted together
    (their powers are equal for a real signal; the Nyquist frequency p / 2 is its own)."""
    pair = np.full(spectrum.size - 1, 2.0)
    if p % 2 == 0:
        pair[-1] = 1.0
    return spectrum[1:] * pair


def fourier_power(embedding, p: int) -> np.ndarray:
    """Non-constant Fourier power of the number rows of an embedding over Z_p, per frequency
    k = 1 .. p // 2 (k and p - k counted together)."""
    return _paired(_spectrum(embedding, p), p)


def fourier_power_share(embedding, p: int) -> np.ndarray:
    """``fourier_power`` as shares of its total (the power itself when the total is 0)."""
    power = fourier_power(embedding, p)
    return power / power.sum() if power.sum() > 0 else power


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
    spectrum = _spectrum(e, p)
    power = _paired(spectrum, p)
    total = power.sum()
    if not total > 1e-20 * spectrum[0]:  # below this it is FFT rounding of a constant
        return math.nan
    k = max(1, math.floor(top_fraction * power.size + 1e-9))
    return float(np.sort(power)[::-1][:k].sum() / total)
