"""Song & Ye's transformer (adapted from Tveit's torch_grokking): spec, module, batched forward.

Pre-norm blocks of RMSNorm -> causal self-attention with rotary embeddings (base 1e6,
interleaved pairs) on bias-free q/k/v/o -> residual; RMSNorm -> gated SiLU feed-forward
``w2(silu(w1 x) * w3 x)`` (hidden 4·dim) -> residual; final RMSNorm; bias-free read-out of the
last position. With more than one head, a biased ``dim -> dim`` linear layer (with dropout)
follows the output projection, as in the authors' code. No positional table: position enters
through the rotary embeddings.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from grokclaims.data.tasks import TaskSpec
from grokclaims.families.batched import (
    MemberDropout,
    Params,
    embed,
    linear,
    rms_norm,
    rotary_rows,
    swap_pairs,
)
from grokclaims.families.family import Family, check_common
from grokclaims.families.layers import RMSNorm, apply_rotary, rotary_tables


@dataclass(frozen=True)
class SongYe:
    """Song & Ye's transformer; ``dropout`` and ``init_scale`` may differ between members."""

    dim: int = 128
    depth: int = 2
    heads: int = 1
    dropout: float = 0.2
    init_scale: float = 1.0
    rope_base: float = 1e6

    family: ClassVar[str] = "song_ye"
    encodings: ClassVar[tuple[str, ...]] = ("op_tokens", "pair_tokens")
    member_fields: ClassVar[tuple[str, ...]] = ("dropout", "init_scale")

    def __post_init__(self) -> None:
        check_common(self, "SongYe")
        if self.dim < 1:
            raise ValueError(f"SongYe.dim (width) must be >= 1, got {self.dim}")
        if self.heads < 1 or self.dim % self.heads:
            raise ValueError(
                f"SongYe.dim (width) {self.dim} is not divisible by heads {self.heads}"
            )
        if (self.dim // self.heads) % 2:
            raise ValueError(
                f"SongYe: head width dim/heads = {self.dim // self.heads} is odd; "
                "rotary embeddings rotate pairs of features and need it even"
            )

    def n_params(self, task: TaskSpec) -> int:
        v, d = task.vocab_size, self.dim
        extra = (d * d + d) if self.heads > 1 else 0
        return v * d + task.n_classes * d + self.depth * (16 * d * d + 2 * d + extra) + d

    @property
    def label(self) -> str:
        return f"dim={self.dim}"


# --- the reference module ------------------------------------------------------------------


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float, seq_len: int, rope_base: float):
        super().__init__()
        self.heads = heads
        self.norm = RMSNorm(dim)
        self.wq = nn.Linear(dim, dim, bias=False)
        self.wk = nn.Linear(dim, dim, bias=False)
        self.wv = nn.Linear(dim, dim, bias=False)
        self.wo = nn.Linear(dim, dim, bias=False)
        # The authors' extra projection (only when there is more than one head).
        self.to_out = nn.Sequential(nn.Linear(dim, dim), nn.Dropout(dropout)) if heads > 1 else None
        cos, sin = rotary_tables(seq_len, dim // heads, rope_base)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        mask = torch.full((seq_len, seq_len), float("-inf")).triu(1)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, S, dim)
        h = self.norm(x)
        q, k, v = (
            w(h).unflatten(-1, (self.heads, -1)).transpose(1, 2)  # (B, heads, S, hd)
            for w in (self.wq, self.wk, self.wv)
        )
        q, k = apply_rotary(q, self.cos, self.sin), apply_rotary(k, self.cos, self.sin)
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + self.mask
        out = (scores.softmax(-1) @ v).transpose(1, 2).flatten(-2)  # (B, S, dim)
        out = self.wo(out)
        return self.to_out(out) if self.to_out is not None else out


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int, dropout: float):
        super().__init__()
        self.norm = RMSNorm(dim)
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        return self.w2(self.drop(F.silu(self.w1(h)) * self.w3(h)))


class Block(nn.Module):
    def __init__(self, spec: SongYe, seq_len: int):
        super().__init__()
        self.attn = Attention(spec.dim, spec.heads, spec.dropout, seq_len, spec.rope_base)
        self.ff = FeedForward(spec.dim, 4 * spec.dim, spec.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(x)
        return x + self.ff(x)


class SongYeTransformer(nn.Module):
    def __init__(self, spec: SongYe, task: TaskSpec):
        super().__init__()
        self.embedding = nn.Embedding(task.vocab_size, spec.dim)
        self.layers = nn.ModuleList([Block(spec, task.seq_len) for _ in range(spec.depth)])
        self.norm = RMSNorm(spec.dim)
        self.out = nn.Linear(spec.dim, task.n_classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, S) tokens -> (B, n_out)
        h = self.embedding(x)
        for layer in self.layers:
            h = layer(h)
        return self.out(self.norm(h)[:, -1])


# --- the batched forward -------------------------------------------------------------------


def song_ye_forward(spec: SongYe, task: TaskSpec) -> Callable:
    # The same maths as the plain module, in fewer and smaller operations: q, k, v in one
    # matmul; q and k rotated together; scale and causal mask inside one baddbmm; and in the
    # last block only the read-out position is computed past k and v (the other positions'
    # outputs are never used). Small models are bound by elementwise work and per-operation
    # overhead, so both counts matter.
    seq_len = task.seq_len
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


def song_ye_flops(spec: SongYe, task: TaskSpec) -> float:
    """Multiply-adds x 2 of one forward pass (matmuls only)."""
    d, s = spec.dim, task.seq_len
    per_token = 16 * d * d + 2 * s * d + (d * d if spec.heads > 1 else 0)
    return 2.0 * (spec.depth * s * per_token + d * task.n_classes)


SONG_YE = Family(
    spec=SongYe, module=SongYeTransformer, forward=song_ye_forward, flops=song_ye_flops
)
