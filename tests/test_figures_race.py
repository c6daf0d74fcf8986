"""The race figures' axes (grokclaims/figures/race.py)."""

from __future__ import annotations

import numpy as np

from grokclaims.figures import race


def test_censored_markers_leave_the_log_axis_spanning_every_point():
    """Times from 340 to 5,000 epochs and one run censored at 8,000: the log axis must show all
    of them, with room above the budget for the arrows. (Freezing the limits while the axis was
    still linear gave a lower limit <= 0 and a collapsed log axis: the SY10[op=*] figure of the
    medium reports 20261130T221306Z and 20261201T004449Z.)"""
    P = [5_000, 9_000, 20_000]
    t = np.array([[4_200.0, np.nan], [1_000.0, 980.0], [340.0, 390.0]])
    fig = race.times({"T_mem": (P, t)}, ylabel="epochs", budget=8_000)
    fig.canvas.draw()
    lo, hi = fig.axes[0].get_ylim()
    assert 0 < lo <= 340 and hi >= 8_000 * 1.5
