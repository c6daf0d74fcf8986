"""The nightly grid against its prediction from the medium run (docs/nightly_design.md)."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from grokclaims.setups.nightly_design import MEDIUM, WINDOW, predict, summarise, table
from grokclaims.setups.race import RaceCell
from grokclaims.setups.scales import NIGHTLY


@pytest.mark.parametrize("cell", NIGHTLY.sy.central, ids=lambda c: f"p={c.p}")
def test_each_nightly_prime_meets_the_design_criteria_of_issue_16(cell):
    """Predicted from medium: the crossing inside the grid with >= 3 widths within ±0.3 decades,
    T_mem observed at >= 4 widths, a width observed on each side of P× and one predicted to
    generalise first (delay 0)."""
    s = summarise(cell, MEDIUM)
    assert (
        min(cell.n_params(d) for d in cell.dims)
        < s.p_cross
        < max(cell.n_params(d) for d in cell.dims)
    )
    assert s.near_cross >= 3 and s.mem_observed >= 4
    assert s.observed_below >= 1 and s.observed_above >= 1 and s.delay_zero


def test_the_first_nightly_grid_fails_the_criteria_the_issue_feared():
    """Dims 24-96 at p = 97, the grid before any crossing was measured: T_mem observed at too few
    widths near the crossing (the criteria can fail)."""
    first = RaceCell(p=97, dims=(24, 32, 48, 64, 96), max_epochs=4_000)
    s = summarise(first, MEDIUM)
    assert s.near_cross < 3 or s.mem_observed < 4


def test_the_prediction_follows_its_inputs():
    cell = NIGHTLY.sy.central[0]
    rows = predict(cell, MEDIUM)
    assert [r.P for r in rows] == sorted(r.P for r in rows)
    assert all(
        a.t_mem > b.t_mem for a, b in itertools.pairwise(rows)
    )  # bigger models memorise faster
    # Memorisation predicted only at or above medium's smallest memorised C·P/K.
    assert all(r.mem_observed == (r.ratio >= MEDIUM.memorised_ratio) for r in rows)
    # A larger C puts the crossing at a smaller P (P× = ratio · K / C).
    doubled = dataclasses.replace(MEDIUM, C=2 * MEDIUM.C)
    assert summarise(cell, doubled).p_cross == pytest.approx(summarise(cell, MEDIUM).p_cross / 2)
    # Steps reading: p = 97 has ceil(4,656 / 512) = 10 optimiser steps an epoch.
    assert rows[0].steps_per_epoch == 10 and rows[0].epochs(100.0) == (10.0, 100.0)
    assert all(abs(r.decades_from_cross) <= WINDOW for r in rows[1:])
    assert "| p = 97 central | P× |" in table([cell], MEDIUM)
