"""The scenarios that measure the error rates of Song & Ye's capacity rules
(``claimrules.song_ye_capacity``): each claim true at the source's effect (``holds``) and false
just past its tolerance (``fails``), on the smoke memory grid's widths, sizes and 4,000-epoch
budget (a time past it is censored: NaN). Bootstraps run with ``SIM_RESAMPLES`` resamples here
(the claim tests use the full default).
"""

from __future__ import annotations

import math

import numpy as np

from grokclaims.claimrules.errors import ClaimRule, Scenario
from grokclaims.claimrules.song_ye_capacity import (
    BUDGET,
    C_SOURCE,
    SIM_RESAMPLES,
    SPREAD_BITS,
    SPREAD_MEM,
    sy1,
    sy2,
)
from grokclaims.claimrules.song_ye_speed import sy8


def _sy1_draw(c_race: float, c_probe: float = C_SOURCE):
    P = np.array([732.0, 1482, 2488, 5268])  # smoke dims 4, 6, 8, 12

    def setting(rng, n, C):
        pts_P = np.repeat(P, 2)
        sizes = np.tile([960.0, 1920.0], P.size)
        bits = C * pts_P[:, None] * (1 + SPREAD_BITS * rng.standard_normal((pts_P.size, n)))
        ones = np.ones_like(bits, dtype=bool)
        return {"P": pts_P, "n": sizes, "bits": bits, "saturated": ones, "over_capacity": ones}

    def draw(rng, n):
        return {
            "settings": {"probe": setting(rng, n, c_probe), "race": setting(rng, n, c_race)},
            "rng": rng,
            "n_resamples": SIM_RESAMPLES,
            "max_exact": SIM_RESAMPLES,
        }

    return draw


SY2_RATIOS = np.array([0.25, 0.4, 0.6, 0.9, 1.4, 2.0, 3.0, 4.5])  # the smoke grid's span


def _sy2_draw(x50: float, steep: float = 6.0):
    """P(memorised) logistic in log10(C·P/K) with its 50 % point at ratio ``x50`` and slope
    ``steep`` per decade (a factor 2 in ratio moves P from 15 % to 85 %)."""
    P = np.full(SY2_RATIOS.size, 5000.0)
    K = C_SOURCE * P / SY2_RATIOS

    def draw(rng, n):
        pr = 1 / (1 + np.exp(-steep * np.log(10) * (np.log10(SY2_RATIOS) - np.log10(x50))))
        mem = rng.random((P.size, n)) < pr[:, None]
        return {
            "P": P,
            "K": K,
            "memorised": mem,
            "C": C_SOURCE,
            "rng": rng,
            "n_resamples": SIM_RESAMPLES,
            "max_exact": SIM_RESAMPLES,
        }

    return draw


SY8_P = np.array([2488.0, 5268, 9072, 19752])  # smoke dims 8, 12, 16, 24
SY8_K = np.array([160, 320, 476]) * math.log2(25)  # the smoke sizes n at p = 23


def _sy8_draw(k_exponent: float, slope: float = -1.3):
    """T_mem = 300 (C·P / 4K)^slope · (K / K_320)^k_exponent: with ``k_exponent`` = 0 the
    capacity model holds (T depends on C·P/K alone); with ``k_exponent`` = slope K has no
    effect (the baseline's world). Censored past ``BUDGET``."""

    def draw(rng, n):
        cells = []
        for K in SY8_K:
            ratio = C_SOURCE * SY8_P / K
            med = 300.0 * (ratio / 4.0) ** slope * (K / SY8_K[1]) ** k_exponent
            t = med[:, None] * np.exp(SPREAD_MEM * rng.standard_normal((SY8_P.size, n)))
            cells.append((SY8_P, K, np.where(t > BUDGET, np.nan, np.ceil(t))))
        return {
            "cells": cells,
            "C": C_SOURCE,
            "budget": BUDGET,
            "rng": rng,
            "n_resamples": SIM_RESAMPLES,
            "max_exact": SIM_RESAMPLES,
        }

    return draw


RULES = {
    "SY1": ClaimRule(
        "SY1",
        sy1,
        holds=Scenario(
            _sy1_draw(C_SOURCE),
            f"bits = {C_SOURCE}·P (the source's C) at both settings, 4 widths × 2 sizes, relative "
            f"seed spread {SPREAD_BITS}, every run saturated",
        ),
        fails=Scenario(_sy1_draw(0.95), "the race setting's C = 0.95 (just below 1)"),
    ),
    "SY2": ClaimRule(
        "SY2",
        sy2,
        holds=Scenario(
            _sy2_draw(1.0),
            "P(memorised) logistic in log10(C·P/K), 50 % at C·P/K = 1 (the source's reading), "
            f"6 per decade, at C·P/K = {', '.join(f'{r:g}' for r in SY2_RATIOS)}",
        ),
        fails=Scenario(_sy2_draw(2.3), "the same with its 50 % point at C·P/K = 2.3"),
    ),
    "SY8": ClaimRule(
        "SY8",
        sy8,
        holds=Scenario(
            _sy8_draw(0.0),
            "T_mem ∝ (C·P/K)^-1.3 (300 epochs at C·P/K = 4), 3 cells n = 160/320/476 at p = 23, "
            f"4 widths, log-sd {SPREAD_MEM}, censored at {BUDGET}",
        ),
        fails=Scenario(_sy8_draw(-1.3), "T_mem ∝ P^-1.3 with no effect of K"),
    ),
}
