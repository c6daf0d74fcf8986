"""Argument types shared by the command lines (``grokclaims runs``, ``grokclaims fill`` and
pytest's ``--grok-seeds``): one definition of each check, so they reject the same input with
the same message."""

from __future__ import annotations

import argparse

from grokclaims.store.format import HEARTBEAT_SECONDS, MIN_STALE_AFTER


def positive(text: str) -> int:
    """An integer >= 1 (seeds, workers, members, a row limit)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def stale_after(text: str) -> float:
    """Seconds of heartbeat silence that make a held run stale: at least ``MIN_STALE_AFTER``.
    Below it a live process's runs (heartbeat every few seconds) would be taken over and trained
    twice."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not x >= MIN_STALE_AFTER:  # also NaN
        raise argparse.ArgumentTypeError(
            f"must be at least {MIN_STALE_AFTER:.0f} s, got {text}: live processes refresh "
            f"their heartbeat every {HEARTBEAT_SECONDS:.0f} s, and deleting their rows would "
            "train those runs twice"
        )
    return x
