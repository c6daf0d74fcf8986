"""Song & Ye's transformer (adapted from Tveit's torch_grokking): spec, module, batched forward.

Pre-norm blocks of RMSNorm -> causal self-attention with rotary embeddings (base 1e6,
interleaved pairs) on bias-free q/k/v/o -> residual; RMSNorm -> gated SiLU feed-forward
``w2(silu(w1 x) * w3 x)`` (hidden 4·dim) -> residual; final RMSNorm; bias-free read-out of the
last position. With more than one head, a biased ``dim -> dim`` linear layer (with dropout)
follows the output projection, as in the authors' code. No positional table: position enters
through the rotary embeddings.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from grokclaims.data.tasks import TaskSpec
from grokclaims.families.batched import (
    Params,
    embed,
    gated_silu,
    linear,
    rms_norm,
    rotary_rows,
    swap_pairs,
)
from grokclaims.families.compiled import compiled
from grokclaims.families.dropout import CounterDropout, DrawnDropout, MemberDropout
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


def song_ye_forward(
    spec: SongYe, task: TaskSpec, compile: bool = False, counter: bool | None = None
) -> Callable:
    """The batched forward ``f(params, x (M, B, S), dropout) -> logits (M, B, n_out)``; with
    ``compile``, its blocks compiled (:mod:`grokclaims.families.compiled`), with the compiled
    engine's dropout masks (:class:`~grokclaims.families.dropout.CounterDropout`; ``counter``
    chooses them apart from compiling, to check the compiled maths eagerly). One per shape and
    sequence length, shared by every ensemble of that shape (a compiled one keeps its kernels)."""
    shape = SongYe(dim=spec.dim, depth=spec.depth, heads=spec.heads, rope_base=spec.rope_base)
    return _forward(shape, task.seq_len, compile, compile if counter is None else counter)


@functools.cache
def _forward(spec: SongYe, seq_len: int, compile: bool, counter: bool) -> Callable:
    # The same maths as the plain module, laid out for small models, which are bound by
    # element-wise passes over activations and per-operation overhead rather than by FLOPs:
    # - activations are (M, S, B, d): position before example, so the last position is a
    #   contiguous slice and each position is one matrix of every member;
    # - rotary embeddings are folded into the weights: rotating q_t = W_q h_t by position t's
    #   rotation R_t is multiplying h_t by R_t W_q, so each member gets one (3d, d) q/k/v weight
    #   per position (S small matrices, built once per step) and q, k, v come out of one batched
    #   product per position with no pass over the activations to rotate them;
    # - attention runs position pair by position pair (sequences are 3-4 tokens long): each
    #   (query, key) pair is one element-wise product over every member's examples, where a
    #   fused attention kernel works through M·B tiny per-example matrices (a training epoch
    #   of the benchmark's case (a) went from 37 to 27 ms); in the last block only the
    #   read-out position is computed past k, v.
    d, hd, heads = spec.dim, spec.dim // spec.heads, spec.heads
    c, s = rotary_rows(seq_len, hd, spec.rope_base)  # (S, hd)
    # Output row j of W_q / W_k is feature j % hd of its head: (1, S, 2, d, 1) tables, the q row
    # also scaled by 1/sqrt(hd) (the attention's scaling, folded into the weight).
    qk_scale = torch.tensor([1 / math.sqrt(hd), 1.0]).view(1, 1, 2, 1, 1)
    cpu_tables = (c.repeat(1, heads).view(1, seq_len, 1, d, 1) * qk_scale,)
    cpu_tables += (s.repeat(1, heads).view(1, seq_len, 1, d, 1) * qk_scale,)
    # causal mask of the scores (T, S, B, heads): -inf where the key comes after the query
    cpu_tables += (torch.full((seq_len, seq_len), float("-inf")).triu(1).view(seq_len, -1, 1, 1),)
    tables: dict[torch.device, tuple[torch.Tensor, ...]] = {}  # copied once per device

    def on(device: torch.device) -> tuple[torch.Tensor, ...]:
        if device not in tables:
            tables[device] = tuple(t.to(device) for t in cpu_tables)
        return tables[device]

    def causal(device: torch.device) -> torch.Tensor:
        return on(device)[2]

    def qkv_weights(p: Params, a: str) -> torch.Tensor:
        """(M·S, 3d, d): per position, [R_t W_q; R_t W_k; W_v]."""
        wqk = torch.stack([p[a + "wq.weight"], p[a + "wk.weight"]], 1).unsqueeze(1)
        c, s, _ = on(wqk.device)
        rotated = wqk * c + swap_pairs(wqk.mT).mT * s
        wv = p[a + "wv.weight"][:, None, None].expand(-1, seq_len, -1, -1, -1)
        return torch.cat([rotated, wv], 2).view(-1, 3 * d, d)  # (M, S, 3, d, d) -> (M·S, 3d, d)

    def attend(n: torch.Tensor, p: Params, a: str, last_only: bool) -> torch.Tensor:
        m, _, b, _ = n.shape  # n: (M, S, B, d) -> (M, S or 1, B, d)
        qkv = linear(n.view(m * seq_len, b, d), qkv_weights(p, a))  # (M·S, B, 3d)
        q, k, v = qkv.view(m, seq_len, b, 3, heads, hd).unbind(3)  # (M, S, B, heads, hd)
        if last_only:  # in the last block only the read-out position is needed
            q = q[:, -1:]
        # Few positions, many examples: each (query, key) pair of positions is an element-wise
        # product over (M, B, heads, hd), with no per-example small matrices.
        scores = (q.unsqueeze(2) * k.unsqueeze(1)).sum(-1)  # (M, T, S, B, heads); q pre-scaled
        if not last_only:
            scores = scores + causal(scores.device)
        probs = softmax_keys(scores)
        out = (probs.unsqueeze(-1) * v.unsqueeze(1)).sum(2)  # (M, T, B, heads, hd)
        return out.view(m, out.shape[1], b, d)

    def mask_shapes(m: int, b: int) -> list[tuple[int, ...]]:
        """The dropout masks of one forward, in the order the blocks use them."""
        shapes = []
        for i in range(spec.depth):
            t = 1 if i == spec.depth - 1 else seq_len
            shapes += [(m, t, b, d)] * (heads > 1) + [(m, t, b, 4 * d)]
        return shapes

    def body(p: Params, h: torch.Tensor, drawn, level: torch.Tensor, scale: torch.Tensor):
        # drawn: the masks (eager engine) or the keys of the masks (counter-based)
        drop = CounterDropout(drawn, level, scale) if counter else DrawnDropout(drawn, scale)
        for i in range(spec.depth):
            last = i == spec.depth - 1
            a = f"layers.{i}.attn."
            out = attend(rms_norm(h, p[a + "norm.weight"]), p, a, last)
            out = linear(out, p[a + "wo.weight"])
            if heads > 1:
                out = drop(linear(out, p[a + "to_out.0.weight"], p[a + "to_out.0.bias"]))
            h = (h[:, -1:] if last else h) + out
            f = f"layers.{i}.ff."
            n = rms_norm(h, p[f + "norm.weight"])
            gated = gated_silu(linear(n, p[f + "w1.weight"]), linear(n, p[f + "w3.weight"]))
            h = h + linear(*drop.before(gated, p[f + "w2.weight"]))
        h = rms_norm(h[:, -1], p["norm.weight"])  # (M, B, d)
        return linear(h, p["out.weight"])

    fused = compiled(body) if compile else body

    def forward(p: Params, x: torch.Tensor, drop: MemberDropout) -> torch.Tensor:
        h = embed(x.transpose(1, 2).contiguous(), p["embedding.weight"])  # (M, S, B, d)
        m, _, b, _ = h.shape
        shapes = mask_shapes(m, b)
        if counter:
            drawn = drop.keys(len(shapes), h.device) if drop.active else None
        else:
            drawn = drop.draw(shapes, h) if drop.active else ()
        return fused(p, h, drawn, drop.level, drop.scale)

    return forward


def softmax_keys(scores: torch.Tensor) -> torch.Tensor:
    """Softmax of scores (M, T, S, B, heads) over the keys S, written out: PyTorch's softmax
    along an inner dimension vectorises across its neighbours and rounds a member's numbers
    differently depending on how many members the tensor holds; these steps do not."""
    e = (scores - scores.amax(2, keepdim=True).detach()).exp()  # any shift: no gradient
    return e / e.sum(2, keepdim=True)


def song_ye_flops(spec: SongYe, task: TaskSpec) -> float:
    """Multiply-adds x 2 of one forward pass (matmuls only)."""
    d, s = spec.dim, task.seq_len
    per_token = 16 * d * d + 2 * s * d + (d * d if spec.heads > 1 else 0)
    return 2.0 * (spec.depth * s * per_token + d * task.n_classes)


SONG_YE = Family(
    spec=SongYe,
    module=SongYeTransformer,
    forward=song_ye_forward,
    flops=song_ye_flops,
    compiles=True,
)
