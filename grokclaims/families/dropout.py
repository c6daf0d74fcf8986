"""Dropout of an ensemble: each member's masks from its own generator, at its own rate.

A member's masks are drawn in its own shape from its own generator, whatever the other members,
so its trajectory does not depend on which other members share its ensemble.

- :class:`MemberDropout`: the eager engine's masks, 16 bits per unit from the member's own
  generator (Mersenne Twister), drawn where a layer uses them or beforehand
  (:meth:`MemberDropout.draw`, applied by :class:`DrawnDropout`);
- :class:`CounterDropout`: the compiled engine's masks, computed inside the fused kernels from
  one 64-bit key per member and mask (drawn from the member's generator,
  :meth:`MemberDropout.keys`) and each unit's place in the member's mask (a counter-based
  generator, :func:`counter_keep`). Same rate, same scaling, other random bits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

# Dropout decides on 16 random bits per unit: a unit is dropped when its bits, read as an
# unsigned integer u, are below k = round(rate · 2^16), so P(drop) = k / 2^16 (within 2^-17 of
# the rate; kept units are scaled by 2^16 / (2^16 - k), which keeps the layer unbiased).
# Sixteen bits per unit instead of one 32-bit float draw halves the generator's work, and the
# comparison writes the float mask directly (no boolean mask, no type promotion).
LEVELS = 1 << 16


class MemberDropout:
    """Dropout with a per-member rate and a per-member generator; identity when not training.

    Each member's mask is drawn from its own generator, in its own shape, whatever the other
    members: a member's trajectory does not depend on the ensemble it trains in.
    """

    def __init__(self, rates: torch.Tensor, generators: Sequence[torch.Generator]):
        self.rates = rates  # (M,)
        self.generators = list(generators)
        self.training = True
        k = torch.round(rates.double() * LEVELS).clamp(max=LEVELS - 1)
        # u >= k  <=>  the same 16 bits read as a signed int16 s = u - 2^15 are >= k - 2^15
        self.threshold = (k - LEVELS // 2).to(torch.int16)  # (M,)
        self.scale = (LEVELS / (LEVELS - k)).to(rates.dtype)  # (M,)
        self.level = k.int()  # (M,): the same test on the unsigned bits, for CounterDropout
        # a host-side list, so asking whether dropout is on never waits for a device
        self.drawing = [i for i, r in enumerate(rates.tolist()) if r > 0]

    @property
    def active(self) -> bool:
        return self.training and bool(self.drawing)

    def keep_mask(self, h: torch.Tensor) -> torch.Tensor:
        """A float (M, ...) mask of 1 (kept) and 0 (dropped), each member's drawn from its own
        generator: 16 bits per unit, four units per 64-bit draw."""
        m, n = h.shape[0], h[0].numel()
        words = -(-n // 4)
        bits = torch.empty(m, words, dtype=torch.int64, device=h.device)
        for i in self.drawing:
            bits[i].random_(-(2**63), None, generator=self.generators[i])  # all 64 bits
        # Rows of members without dropout stay unwritten: any int16 is >= their threshold -2^15.
        mask = torch.empty(m, 4 * words, dtype=h.dtype, device=h.device)
        torch.ge(bits.view(torch.int16), self.threshold.view(-1, 1), out=mask)
        return mask[:, :n].reshape(h.shape)

    def __call__(self, h: torch.Tensor) -> torch.Tensor:  # h: (M, ...)
        """Inverted dropout: kept units are scaled by 2^16 / (2^16 - k) (about 1 / (1 - rate))."""
        if not self.active:
            return h
        return DrawnDropout((self.keep_mask(h),), self.scale)(h)

    def before(self, h: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Dropout on h whose scaling is folded into w (M, out, in), the weight that consumes
        h: the same product, one pass fewer over the large activation."""
        if not self.active:
            return h, w
        return DrawnDropout((self.keep_mask(h),), self.scale).before(h, w)

    def draw(self, shapes: Sequence[tuple[int, ...]], like: torch.Tensor) -> tuple:
        """The keep masks of one forward, drawn now in the order the forward uses them (the
        same bits as drawing each where it is used), for a :class:`DrawnDropout`."""
        return tuple(self.keep_mask(like.new_empty(shape)) for shape in shapes)

    def keys(self, n: int, device: torch.device) -> torch.Tensor:
        """(M, n, 2) int32: one 64-bit key per member for each of a forward's n masks, each
        member's drawn from its own generator, for a :class:`CounterDropout`. Members without
        dropout draw nothing (their keys are zero; their level keeps every unit)."""
        keys = torch.zeros(len(self.rates), n, dtype=torch.int64, device=device)
        for i in self.drawing:
            keys[i].random_(-(2**63), None, generator=self.generators[i])
        return keys.view(torch.int32).view(-1, n, 2)

    def select(self, keep: torch.Tensor) -> MemberDropout:
        """The dropout of the members at indices ``keep`` (after others stopped)."""
        idx = keep.tolist()
        out = MemberDropout(self.rates[keep], [self.generators[i] for i in idx])
        out.training = self.training
        return out


class DrawnDropout:
    """Dropout from masks drawn beforehand (:meth:`MemberDropout.draw`), used in their order,
    with no generator inside the forward (Song & Ye's eager forward draws all of a step's
    masks first); :class:`MemberDropout` applies its masks through it. No masks: the
    identity."""

    def __init__(self, masks: Sequence[torch.Tensor], scale: torch.Tensor):
        self.masks, self.scale, self.used = masks, scale, 0

    def _drawn(self) -> bool:
        return bool(self.masks)

    def _next(self, h: torch.Tensor) -> torch.Tensor:
        """The next mask, for h: 1 (kept) and 0 (dropped) in h's type."""
        self.used += 1
        return self.masks[self.used - 1]

    def __call__(self, h: torch.Tensor) -> torch.Tensor:
        if not self._drawn():
            return h
        return h * (self._next(h) * self.scale.view(-1, *([1] * (h.dim() - 1))))

    def before(self, h: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not self._drawn():
            return h, w
        return h * self._next(h), w * self.scale.view(-1, 1, 1)


# The counter-based generator: unit u's 16 bits are the top half of mix(mix(u + k1) ^ k2), with
# mix Wellons' "lowbias32" integer hash (a bijection of 32-bit words with low bias) and (k1, k2)
# the two halves of a 64-bit key. 32-bit arithmetic, as signed int32 wrapping on overflow:
# PyTorch 2.13's compiled CPU kernels corrupted memory on 64-bit integer arithmetic where a
# member's units are no multiple of the vector width (a shape of 35 units per member).
def _signed(c: int) -> int:
    return c - (1 << 32) if c >= 1 << 31 else c


MIX1, MIX2 = _signed(0x7FEB352D), _signed(0x846CA68B)


def _shift_right(x: torch.Tensor, s: int) -> torch.Tensor:
    """Logical right shift of int32 (PyTorch's ``>>`` is arithmetic)."""
    return (x >> s) & ((1 << (32 - s)) - 1)


def _mix(x: torch.Tensor) -> torch.Tensor:
    x = (x ^ _shift_right(x, 16)) * MIX1
    x = (x ^ _shift_right(x, 15)) * MIX2
    return x ^ _shift_right(x, 16)


def counter_keep(key: torch.Tensor, level: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """An int32 (M, ...) ``shape`` of 1 (kept) and 0 (dropped): unit u (0, 1, ... in the
    member's own units) of member i is kept when the top 16 bits of
    ``mix(mix(u + key[i, 0]) ^ key[i, 1])``, read as an unsigned integer, are >= ``level[i]``.

    Integer arithmetic only, so eagerly and compiled it gives the same bits, and a member's mask
    depends on its key and its own units alone. No boolean on the way: a compiled forward that
    keeps a boolean mask for its backward stores it lane by lane (6 ms against 0.4 for the
    benchmark's case (a) mask)."""
    ones = (1,) * (len(shape) - 1)
    units = torch.arange(math.prod(shape[1:]), dtype=torch.int32, device=key.device)
    x = _mix(units.view(1, *shape[1:]) + key[:, 0].view(-1, *ones))
    x = _mix(x ^ key[:, 1].view(-1, *ones))
    return ((_shift_right(x, 16) - level.view(-1, *ones)) >> 31) + 1  # sign of bits - level


class CounterDropout(DrawnDropout):
    """Dropout whose masks are computed where they are used from keys drawn beforehand
    (:meth:`MemberDropout.keys`, one column per mask, used in order): no generator inside the
    forward and no mask in memory, so a compiled forward computes each mask inside the fused
    kernel that applies it. Rate and scaling are :class:`MemberDropout`'s, applied as
    :class:`DrawnDropout` applies drawn masks. No keys: the identity."""

    def __init__(self, keys: torch.Tensor | None, level: torch.Tensor, scale: torch.Tensor):
        super().__init__((), scale)
        self.keys, self.level = keys, level

    def _drawn(self) -> bool:
        return self.keys is not None

    def _next(self, h: torch.Tensor) -> torch.Tensor:
        self.used += 1
        return counter_keep(self.keys[:, self.used - 1], self.level, h.shape).to(h.dtype)
