"""Dropout of an ensemble: each member's masks from its own generator, at its own rate.

A member's masks are drawn in its own shape from its own generator, whatever the other members,
so its trajectory does not depend on which other members share its ensemble.
"""

from __future__ import annotations

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

    def select(self, keep: torch.Tensor) -> MemberDropout:
        """The dropout of the members at indices ``keep`` (after others stopped)."""
        idx = keep.tolist()
        out = MemberDropout(self.rates[keep], [self.generators[i] for i in idx])
        out.training = self.training
        return out


class DrawnDropout:
    """Dropout from masks drawn beforehand (:meth:`MemberDropout.draw`), used in their order,
    with no generator inside the forward (so a compiled forward can take the masks as inputs);
    :class:`MemberDropout` applies its masks through it. No masks: the identity."""

    def __init__(self, masks: Sequence[torch.Tensor], scale: torch.Tensor):
        self.masks, self.scale, self.used = masks, scale, 0

    def _next(self) -> torch.Tensor:
        self.used += 1
        return self.masks[self.used - 1]

    def __call__(self, h: torch.Tensor) -> torch.Tensor:
        if not self.masks:
            return h
        return h * (self._next() * self.scale.view(-1, *([1] * (h.dim() - 1))))

    def before(self, h: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.masks:
            return h, w
        return h * self._next(), w * self.scale.view(-1, 1, 1)
