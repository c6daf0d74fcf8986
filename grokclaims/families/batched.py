"""What the batched forwards of the families are made of: M models of one architecture as one.

Parameters of the M members live in one flat ``(M, P)`` tensor (rows = members, columns = the
parameters of the family's reference module in registration order; :class:`Layout`). Each
forward splits it into named views ``(M, *shape)``, so autograd returns the whole ``(M, P)``
gradient with one concatenation and the optimiser updates every parameter of every member in a
handful of whole-tensor operations.

Layers use ``bmm`` with the member as batch dimension, so a member's numbers never mix with
another's. Dropout masks are drawn from each member's own generator (:class:`MemberDropout`), so
a member's trajectory does not depend on which other members share its ensemble. Shapes in
comments: M members, B examples, S positions, d width.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from grokclaims.families.layers import rotary_tables

Params = dict[str, torch.Tensor]  # name -> (M, *shape) views of the members' flat parameters


class Layout:
    """Names and shapes of one architecture's parameters, and their place in the flat row."""

    def __init__(self, module: nn.Module):
        self.names = [n for n, _ in module.named_parameters()]
        self.shapes = [tuple(p.shape) for _, p in module.named_parameters()]
        self.sizes = [math.prod(s) for s in self.shapes]
        self.n_params = sum(self.sizes)

    def flatten(self, module: nn.Module) -> torch.Tensor:
        """One module's parameters -> a (P,) row."""
        return torch.cat([p.detach().reshape(-1) for p in module.parameters()])

    def views(self, flat: torch.Tensor) -> Params:
        """(M, P) -> {name: (M, *shape)} views (differentiable)."""
        m = flat.shape[0]
        pieces = flat.split(self.sizes, dim=1)
        return {n: t.view(m, *s) for n, t, s in zip(self.names, pieces, self.shapes)}

    def load_into(self, module: nn.Module, row: torch.Tensor) -> nn.Module:
        """Copy a (P,) row into a plain module (to evaluate or inspect one member)."""
        with torch.no_grad():
            for p, piece, s in zip(module.parameters(), row.split(self.sizes), self.shapes):
                p.copy_(piece.view(s))
        return module


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
        mask = self.keep_mask(h).mul_(self.scale.view(-1, *([1] * (h.dim() - 1))))
        return h * mask

    def before(self, h: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Dropout on h whose scaling is folded into w (M, out, in), the weight that consumes
        h: the same product, one pass fewer over the large activation."""
        if not self.active:
            return h, w
        return h * self.keep_mask(h), w * self.scale.view(-1, 1, 1)

    def select(self, keep: torch.Tensor) -> MemberDropout:
        """The dropout of the members at indices ``keep`` (after others stopped)."""
        idx = keep.tolist()
        out = MemberDropout(self.rates[keep], [self.generators[i] for i in idx])
        out.training = self.training
        return out


# --- batched building blocks ---------------------------------------------------------------


def linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """x (M, ..., in) @ w (M, out, in)^T + b (M, out) -> (M, ..., out)."""
    m, shape = x.shape[0], x.shape[1:-1]
    y = _Linear.apply(x.reshape(m, -1, x.shape[-1]), w, b)
    return y.view(m, *shape, w.shape[1])


# Batched products on a CPU write output rows whose width is not a multiple of 8 at about half
# speed (an MLP's read-out to p = 31 classes: 0.63 ms instead of 0.38); with at least this many
# input features the weight is padded with zero rows and the padding sliced off (the same bits).
PAD_FROM_IN_FEATURES = 32


class _Linear(torch.autograd.Function):
    """``x @ w^T (+ b)`` per member, x (M, N, in), w (M, out, in), b (M, out) or None.

    The same products as autograd's backward of ``bmm``, but the weight's gradient is computed
    as ``g^T x`` in the weight's own (out, in) layout, where autograd computes ``x^T g`` and
    copies its transpose into the flat gradient (twice the time for an odd ``out``)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        m, n_out, n_in = w.shape
        pad = -n_out % 8 if n_in >= PAD_FROM_IN_FEATURES and x.device.type == "cpu" else 0
        if pad:
            w = torch.cat([w, w.new_zeros(m, pad, n_in)], 1)
            b = None if b is None else torch.cat([b, b.new_zeros(m, pad)], 1)
        y = torch.bmm(x, w.mT) if b is None else torch.baddbmm(b.unsqueeze(1), x, w.mT)
        return y[..., :n_out].contiguous() if pad else y

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        x, w = ctx.saved_tensors
        dx = torch.bmm(g, w) if ctx.needs_input_grad[0] else None
        dw = torch.bmm(g.mT, x) if ctx.needs_input_grad[1] else None
        db = g.sum(1) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return dx, dw, db


def embed(tokens: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """tokens (M, ...) into table (M, V, d) -> (M, ..., d), each member with its own table."""
    return _lookup(tokens, table, summed=False)


def embed_sum(tokens: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """tokens (M, ..., k) -> the sum of their k rows of table (M, V, d): (M, ..., d)."""
    return _lookup(tokens, table, summed=True)


def _lookup(tokens: torch.Tensor, table: torch.Tensor, summed: bool) -> torch.Tensor:
    m, v, d = table.shape
    offsets = (torch.arange(m, device=tokens.device) * v).view(-1, *([1] * (tokens.dim() - 1)))
    rows, index = table.reshape(m * v, d), tokens + offsets
    if rows.device.type == "cpu":
        return _RowLookup.apply(index, rows, summed)
    if not summed:
        return F.embedding(index, rows)
    return sum(F.embedding(i, rows) for i in index.unbind(-1))


class _RowLookup(torch.autograd.Function):
    """``F.embedding`` (or, ``summed``, the sum of the lookups along the index's last
    dimension) whose backward adds the gradient rows into the table with ``index_add_``, on a
    CPU in index order as ``F.embedding``'s own backward does, at about a fifth of its cost
    here. Summed lookups add into the table one index column after the other: for columns
    that hit disjoint rows (the MLP's a and p + b) each row's sum is the one that separate
    lookups give. Not used on a GPU, where ``index_add_`` adds atomically, in an order that
    changes from run to run."""

    @staticmethod
    def forward(ctx, index: torch.Tensor, rows: torch.Tensor, summed: bool) -> torch.Tensor:
        ctx.save_for_backward(index)
        ctx.n_rows, ctx.summed = rows.shape[0], summed
        if not summed:
            return F.embedding(index, rows)
        columns = index.unbind(-1)
        out = F.embedding(columns[0], rows)
        for column in columns[1:]:
            out += F.embedding(column, rows)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (index,) = ctx.saved_tensors
        d = grad.shape[-1]
        out, grad = grad.new_zeros(ctx.n_rows, d), grad.reshape(-1, d)
        for column in index.unbind(-1) if ctx.summed else (index,):
            out.index_add_(0, column.reshape(-1), grad)
        return None, out, None


def rms_norm(x: torch.Tensor, w: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """x (M, ..., d), w (M, d): ``x / sqrt(mean(x^2) + eps) * w``."""
    return _RMSNorm.apply(x, w, eps)


class _RMSNorm(torch.autograd.Function):
    """RMSNorm with a per-member weight, backward written out: one autograd node instead of
    eight (pow, mean, add, rsqrt, two products, the weight's broadcast sum), saving the
    normalised activation so the backward recomputes nothing."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, eps: float) -> torch.Tensor:
        m, d = w.shape
        x2 = x.reshape(m, -1, d)
        rstd = torch.rsqrt(x2.pow(2).mean(-1, keepdim=True) + eps)  # (M, N, 1)
        xn = x2 * rstd
        ctx.save_for_backward(xn, rstd, w)
        return (xn * w.unsqueeze(1)).view(x.shape)

    @staticmethod
    def backward(ctx, dy: torch.Tensor):
        xn, rstd, w = ctx.saved_tensors
        shape = dy.shape
        dy = dy.reshape(xn.shape)
        dw = (dy * xn).sum(1)
        g = dy * w.unsqueeze(1)
        dx = g.sub_(xn * (g * xn).mean(-1, keepdim=True)).mul_(rstd)
        return dx.view(shape), dw, None


def layer_norm(
    x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    shape = (w.shape[0], *([1] * (x.dim() - 2)), w.shape[1])
    return F.layer_norm(x, x.shape[-1:], eps=eps) * w.view(shape) + b.view(shape)


def attention(
    q,
    k,
    v,
    heads: int,
    mask: torch.Tensor | None,
    drop: MemberDropout | None,
) -> torch.Tensor:
    """q, k, v (M, B, S, d) -> (M, B, S, d); softmax attention per head."""

    def split(t):  # (M, B, S, d) -> (M, B, heads, S, hd)
        return t.unflatten(-1, (heads, -1)).transpose(2, 3)

    q, k, v = split(q), split(k), split(v)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores + mask
    probs = scores.softmax(-1)
    if drop is not None:
        probs = drop(probs)
    return (probs @ v).transpose(2, 3).flatten(-2)


def rotary_rows(seq_len: int, head_dim: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Tables (S, hd) such that rotating interleaved pairs is ``x * c + swap_pairs(x) * s``."""
    cos, sin = rotary_tables(seq_len, head_dim, base)
    return cos.repeat_interleave(2, -1), torch.stack((-sin, sin), -1).flatten(-2)


def swap_pairs(x: torch.Tensor) -> torch.Tensor:
    """(..., 2i, 2i+1, ...) -> (..., 2i+1, 2i, ...) on the last dimension."""
    return x.unflatten(-1, (-1, 2)).flip(-1).flatten(-2)
