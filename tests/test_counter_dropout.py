"""The compiled engine's dropout masks (:class:`~grokclaims.families.dropout.CounterDropout`):
each member's from its own keys, at its own rate, independent between members, masks, steps
and neighbouring units, and the same bits eagerly and compiled."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from grokclaims.data.tasks import generator
from grokclaims.families.dropout import LEVELS, MemberDropout, counter_keep

N = 200_000  # units per mask: a rate's standard error is at most 0.5 / sqrt(N) = 0.0011
Z = 5  # tolerance in standard errors (a correct generator fails one check in ~3.5 million)


def dropout(rates: list[float], seeds: list[int]) -> MemberDropout:
    return MemberDropout(torch.tensor(rates), [generator(s, "dropout") for s in seeds])


def dropped(keep: torch.Tensor) -> torch.Tensor:
    return (keep == 0).double()


def within(observed: float, p: float, n: int = N) -> bool:
    return abs(observed - p) <= Z * math.sqrt(p * (1 - p) / n)


def test_members_drop_at_their_own_rates():
    """P(drop) = round(rate · 2^16) / 2^16, per member; a member without dropout keeps all."""
    drop = dropout([0.1, 0.2, 0.5, 0.9, 0.0], seeds=[0, 1, 2, 3, 4])
    keep = counter_keep(drop.keys(1, torch.device("cpu"))[:, 0], drop.level, (5, N))
    assert set(keep.unique().tolist()) <= {0, 1}
    for i, rate in enumerate([0.1, 0.2, 0.5, 0.9]):
        p = round(rate * LEVELS) / LEVELS
        assert within(dropped(keep[i]).mean().item(), p), (rate, dropped(keep[i]).mean())
    assert bool((keep[4] == 1).all())


def test_masks_are_independent_between_members_masks_steps_and_neighbours():
    """Joint drops happen at the product of the rates (0.2 x 0.2 = 0.04): two members, two
    masks of one forward, one mask at two steps, and neighbouring units of one mask."""
    drop = dropout([0.2, 0.2], seeds=[0, 1])
    cpu = torch.device("cpu")
    step1, step2 = drop.keys(2, cpu), drop.keys(2, cpu)
    p = round(0.2 * LEVELS) / LEVELS

    def mask(keys: torch.Tensor, j: int) -> torch.Tensor:
        return dropped(counter_keep(keys[:, j], drop.level, (2, N)))

    a = mask(step1, 0)
    pairs = {
        "two members": (a[0], a[1]),
        "two masks of a forward": (a[0], mask(step1, 1)[0]),
        "one mask at two steps": (a[0], mask(step2, 0)[0]),
        "neighbouring units": (a[0, :-1], a[0, 1:]),
    }
    for what, (x, y) in pairs.items():
        assert within((x * y).mean().item(), p * p, len(x)), what
    assert not torch.equal(step1, step2)


def test_a_members_keys_and_mask_do_not_depend_on_its_ensemble():
    crowd, alone = dropout([0.3, 0.2, 0.1], [5, 6, 7]), dropout([0.2], [6])
    cpu = torch.device("cpu")
    keys_crowd, keys_alone = crowd.keys(3, cpu), alone.keys(3, cpu)
    assert torch.equal(keys_crowd[1], keys_alone[0])
    shape = (4, 9, 10)
    mask_crowd = counter_keep(keys_crowd[:, 2], crowd.level, (3, *shape[1:]))
    assert torch.equal(mask_crowd[1], counter_keep(keys_alone[:, 2], alone.level, (1, 9, 10))[0])


def reference(key: torch.Tensor, level: torch.Tensor, shape: tuple[int, ...]) -> np.ndarray:
    """The generator as documented, in numpy's unsigned 32-bit arithmetic."""

    def mix(x):
        x = (x ^ (x >> np.uint32(16))) * np.uint32(0x7FEB352D)
        x = (x ^ (x >> np.uint32(15))) * np.uint32(0x846CA68B)
        return x ^ (x >> np.uint32(16))

    units = np.arange(math.prod(shape[1:]), dtype=np.uint32)
    k = key.numpy().view(np.uint32)
    with np.errstate(over="ignore"):
        bits = mix(mix(units + k[:, :1]) ^ k[:, 1:]) >> np.uint32(16)
    return (bits >= level.numpy()[:, None]).reshape(shape)


@pytest.mark.parametrize("shape", [(3, 5, 7), (2, 4, 33, 24), (5, 1, 13, 40)])
def test_masks_are_the_documented_bits_eagerly_and_compiled(shape):
    """Integer arithmetic only (wrapping 32-bit products): eagerly, and in compiled kernels
    applying the mask (vectorised, and on the scalar tails of 35 and 520 units per member, no
    multiples of a vector), the bits of the generator as documented."""
    drop = dropout([0.2] * shape[0], seeds=list(range(shape[0])))
    key = drop.keys(1, torch.device("cpu"))[:, 0]
    expected = torch.from_numpy(reference(key, drop.level, shape))
    assert torch.equal(counter_keep(key, drop.level, shape).bool(), expected)
    h = torch.randn(shape)
    fused = torch.compile(lambda k, level, h: h * counter_keep(k, level, h.shape).to(h.dtype))
    assert torch.equal(fused(key, drop.level, h), h * expected)
