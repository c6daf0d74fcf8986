"""Batched forward passes: M models of one architecture computed as one.

Parameters of the M members live in one flat ``(M, P)`` tensor (rows = members, columns = the
parameters of :mod:`~grokclaims.families.models` in registration order). Each forward splits it
into named
views ``(M, *shape)``, so autograd returns the whole ``(M, P)`` gradient with one concatenation and
the optimiser updates every parameter of every member in a handful of whole-tensor operations.

Layers use ``bmm`` with the member as batch dimension, so a member's numbers never mix with
another's. Dropout masks are drawn from each member's own generator, so a member's trajectory does
not depend on which other members share its ensemble. Shapes in comments: M members, B examples,
S positions, d width.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from grokclaims.families.models import ChopraMLP, ModelSpec, SongYe, Tutorial, rotary_tables

Params = dict[str, torch.Tensor]


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


class MemberDropout:
    """Dropout with a per-member rate and a per-member generator; identity when not training."""

    def __init__(self, rates: torch.Tensor, generators: Sequence[torch.Generator]):
        self.rates = rates  # (M,)
        self.generators = list(generators)
        self.training = True

    @property
    def active(self) -> bool:
        return self.training and bool((self.rates > 0).any())

    def keep_mask(self, h: torch.Tensor) -> torch.Tensor:
        """A boolean (M, ...) mask of kept units, each member's drawn from its own generator."""
        u = torch.empty_like(h)
        for m, (rate, g) in enumerate(zip(self.rates.tolist(), self.generators)):
            if rate > 0:
                u[m].uniform_(generator=g)
            else:
                u[m].fill_(1.0)
        return u >= self.rates.view(-1, *([1] * (h.dim() - 1)))

    def __call__(self, h: torch.Tensor) -> torch.Tensor:  # h: (M, ...)
        """Inverted dropout: kept units are scaled by 1 / (1 - rate)."""
        if not self.active:
            return h
        scale = (1.0 / (1.0 - self.rates)).view(-1, *([1] * (h.dim() - 1)))
        return h * self.keep_mask(h) * scale

    def before(self, h: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Dropout on h whose 1 / (1 - rate) scaling is folded into w (M, out, in), the weight
        that consumes h: the same product, one pass fewer over the large activation."""
        if not self.active:
            return h, w
        return h * self.keep_mask(h), w * (1.0 / (1.0 - self.rates)).view(-1, 1, 1)

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
    x2 = x.reshape(m, -1, x.shape[-1])
    if b is None:
        y = torch.bmm(x2, w.transpose(1, 2))
    else:
        y = torch.baddbmm(b.unsqueeze(1), x2, w.transpose(1, 2))
    return y.view(m, *shape, w.shape[1])


def embed(tokens: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """tokens (M, ...) into table (M, V, d) -> (M, ..., d), each member with its own table."""
    m, v, d = table.shape
    offsets = (torch.arange(m, device=tokens.device) * v).view(-1, *([1] * (tokens.dim() - 1)))
    return F.embedding(tokens + offsets, table.reshape(m * v, d))


def rms_norm(x: torch.Tensor, w: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """x (M, ..., d), w (M, d)."""
    scale = w.view(w.shape[0], *([1] * (x.dim() - 2)), w.shape[1])
    return F.rms_norm(x, x.shape[-1:], eps=eps) * scale


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


# --- the three families --------------------------------------------------------------------


def rotary_rows(seq_len: int, head_dim: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Tables (S, hd) such that rotating interleaved pairs is ``x * c + swap_pairs(x) * s``."""
    cos, sin = rotary_tables(seq_len, head_dim, base)
    return cos.repeat_interleave(2, -1), torch.stack((-sin, sin), -1).flatten(-2)


def swap_pairs(x: torch.Tensor) -> torch.Tensor:
    """(..., 2i, 2i+1, ...) -> (..., 2i+1, 2i, ...) on the last dimension."""
    return x.unflatten(-1, (-1, 2)).flip(-1).flatten(-2)


def song_ye_forward(spec: SongYe, seq_len: int) -> Callable:
    # The same maths as the plain module, in fewer and smaller operations: q, k, v in one
    # matmul; q and k rotated together; scale and causal mask inside one baddbmm; and in the
    # last block only the read-out position is computed past k and v (the other positions'
    # outputs are never used). Small models are bound by elementwise work and per-operation
    # overhead, so both counts matter.
    hd, heads = spec.dim // spec.heads, spec.heads
    c, s = rotary_rows(seq_len, hd, spec.rope_base)
    c, s = c.unsqueeze(1), s.unsqueeze(1)  # (S, 1, hd): broadcast over q/k and heads
    mask = torch.full((seq_len, seq_len), float("-inf")).triu(1)

    def attend(n: torch.Tensor, p: Params, a: str, last_only: bool) -> torch.Tensor:
        m, b, _, d = n.shape  # n: (M, B, S, d) -> (M, B, S or 1, d)
        w = torch.cat([p[a + "wq.weight"], p[a + "wk.weight"], p[a + "wv.weight"]], 1)
        qkv = linear(n, w).unflatten(-1, (3 * heads, hd))  # (M, B, S, 3h, hd)
        qk = qkv[..., : 2 * heads, :]
        qk = qk * c.to(n.device) + swap_pairs(qk) * s.to(n.device)

        def per_head(x):  # (M, B, S', h, hd) -> (M·B·h, S', hd)
            return x.transpose(2, 3).reshape(-1, x.shape[2], hd)

        q = qk[:, :, -1:, :heads] if last_only else qk[..., :heads, :]
        q, k, v = per_head(q), per_head(qk[..., heads:, :]), per_head(qkv[..., 2 * heads :, :])
        bias = mask[-1:] if last_only else mask  # the last position sees every position
        scores = torch.baddbmm(bias.to(n.device), q, k.transpose(1, 2), alpha=hd**-0.5)
        out = torch.bmm(scores.softmax(-1), v)  # (M·B·h, S', hd)
        tq = out.shape[1]
        return out.view(m, b, heads, tq, hd).transpose(2, 3).reshape(m, b, tq, d)

    def forward(p: Params, x: torch.Tensor, drop: MemberDropout) -> torch.Tensor:
        h = embed(x, p["embedding.weight"])  # (M, B, S, d)
        for i in range(spec.depth):
            last = i == spec.depth - 1
            a = f"layers.{i}.attn."
            out = attend(rms_norm(h, p[a + "norm.weight"]), p, a, last)
            out = linear(out, p[a + "wo.weight"])
            if heads > 1:
                out = drop(linear(out, p[a + "to_out.0.weight"], p[a + "to_out.0.bias"]))
            h = (h[:, :, -1:] if last else h) + out
            f = f"layers.{i}.ff."
            n = rms_norm(h, p[f + "norm.weight"])
            gated = F.silu(linear(n, p[f + "w1.weight"])) * linear(n, p[f + "w3.weight"])
            h = h + linear(*drop.before(gated, p[f + "w2.weight"]))
        h = rms_norm(h[:, :, -1], p["norm.weight"])  # (M, B, d)
        return linear(h, p["out.weight"])

    return forward


def mlp_forward(spec: ChopraMLP, n_in: int) -> Callable:
    def forward(p: Params, x: torch.Tensor, drop: MemberDropout) -> torch.Tensor:
        # The one-hot pair times W1^T is the sum of W1's two hot columns: gather them.
        table = p["layers.0.weight"].transpose(1, 2)  # (M, 2p, width)
        h = embed(x[..., 0], table) + embed(x[..., 1], table) + p["layers.0.bias"].unsqueeze(1)
        h = F.relu(h)  # (M, B, width)
        for i in range(1, spec.depth + 1):
            h, w = drop.before(h, p[f"layers.{i}.weight"])
            h = linear(h, w, p[f"layers.{i}.bias"])
            h = F.relu(h) if i < spec.depth else h
        return h

    return forward


def tutorial_forward(spec: Tutorial, seq_len: int) -> Callable:
    def forward(p: Params, x: torch.Tensor, drop: MemberDropout) -> torch.Tensor:
        pos = p["pos_embedding.weight"][:, :seq_len].unsqueeze(1)  # (M, 1, S, d)
        h = embed(x, p["embedding.weight"]) + pos
        for i in range(spec.depth):
            a = f"transformer.layers.{i}."
            q, k, v = linear(
                h, p[a + "self_attn.in_proj_weight"], p[a + "self_attn.in_proj_bias"]
            ).chunk(3, dim=-1)
            out = attention(q, k, v, spec.heads, None, drop)
            out = linear(out, p[a + "self_attn.out_proj.weight"], p[a + "self_attn.out_proj.bias"])
            h = layer_norm(h + drop(out), p[a + "norm1.weight"], p[a + "norm1.bias"])
            ff = drop(F.relu(linear(h, p[a + "linear1.weight"], p[a + "linear1.bias"])))
            ff = linear(ff, p[a + "linear2.weight"], p[a + "linear2.bias"])
            h = layer_norm(h + drop(ff), p[a + "norm2.weight"], p[a + "norm2.bias"])
        return linear(h[:, :, -1], p["output.weight"], p["output.bias"])

    return forward


def batched_forward(model: ModelSpec, seq_len: int, n_in: int) -> Callable:
    """forward(params, x (M, B, S) long, dropout) -> logits (M, B, n_out) for a model spec."""
    if isinstance(model, SongYe):
        return song_ye_forward(model, seq_len)
    if isinstance(model, ChopraMLP):
        return mlp_forward(model, n_in)
    if isinstance(model, Tutorial):
        return tutorial_forward(model, seq_len)
    raise TypeError(f"unknown model spec {model!r}")
