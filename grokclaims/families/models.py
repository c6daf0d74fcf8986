"""The three model families of the sources, as plain ``nn.Module``s, with their specs.

- :class:`SongYe`: the transformer of Song & Ye (adapted from Tveit's torch_grokking): pre-norm
  blocks of RMSNorm -> causal self-attention with rotary embeddings (base 1e6, interleaved pairs)
  on bias-free q/k/v/o -> residual; RMSNorm -> gated SiLU feed-forward ``w2(silu(w1 x) * w3 x)``
  (hidden 4·dim) -> residual; final RMSNorm; bias-free read-out of the last position. With more
  than one head, a biased ``dim -> dim`` linear layer (with dropout) follows the output projection,
  as in the authors' code. No positional table: position enters through the rotary embeddings.
- :class:`ChopraMLP`: ``2p -> width -> ... -> p`` with ReLU, on the concatenated one-hot pair.
- :class:`Tutorial`: the tutorial's post-norm ``nn.TransformerEncoder`` with learned positions.

These modules are the reference implementation: the ensemble engine
(:mod:`grokclaims.families.batched`) initialises every member by building one of them under the
member's seed, and its tests check that
the batched computation equals these modules. Initialisation is PyTorch's default; ``init_scale``
multiplies every parameter afterwards.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from grokclaims.data.tasks import TaskSpec, one_hot


def _check_common(spec, name: str) -> None:
    if spec.depth < 1:
        raise ValueError(f"{name}.depth must be >= 1, got {spec.depth}")
    if not 0.0 <= spec.dropout < 1.0:
        raise ValueError(f"{name}.dropout must lie in [0, 1), got {spec.dropout}")
    if not spec.init_scale > 0:
        raise ValueError(f"{name}.init_scale must be > 0, got {spec.init_scale}")


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
        _check_common(self, "SongYe")
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

    def build(self, task: TaskSpec) -> nn.Module:
        return SongYeTransformer(self, task.vocab_size, task.n_classes, task.seq_len)

    def n_params(self, task: TaskSpec) -> int:
        v, d = task.vocab_size, self.dim
        extra = (d * d + d) if self.heads > 1 else 0
        return v * d + task.n_classes * d + self.depth * (16 * d * d + 2 * d + extra) + d

    @property
    def label(self) -> str:
        return f"dim={self.dim}"


@dataclass(frozen=True)
class ChopraMLP:
    """Chopra's MLP: ``depth`` hidden ReLU layers of ``width`` units on the one-hot pair."""

    width: int = 128
    depth: int = 2
    dropout: float = 0.0
    init_scale: float = 1.0

    family: ClassVar[str] = "chopra_mlp"
    encodings: ClassVar[tuple[str, ...]] = ("one_hot",)
    member_fields: ClassVar[tuple[str, ...]] = ("dropout", "init_scale")

    def __post_init__(self) -> None:
        _check_common(self, "ChopraMLP")
        if self.width < 1:
            raise ValueError(f"ChopraMLP.width must be >= 1, got {self.width}")

    def build(self, task: TaskSpec) -> nn.Module:
        return MLP(self, task.vocab_size, task.n_classes)

    def n_params(self, task: TaskSpec) -> int:
        w = self.width
        return (
            (task.vocab_size * w + w)
            + (self.depth - 1) * (w * w + w)
            + (w * task.n_classes + task.n_classes)
        )

    @property
    def label(self) -> str:
        return f"width={self.width}"


@dataclass(frozen=True)
class Tutorial:
    """The tutorial's post-norm encoder (``nn.TransformerEncoderLayer``, ReLU, layer norm)."""

    dim: int = 128
    depth: int = 2
    heads: int = 4
    ff: int = 512
    dropout: float = 0.0
    init_scale: float = 1.0

    family: ClassVar[str] = "tutorial"
    encodings: ClassVar[tuple[str, ...]] = ("pair_tokens", "op_tokens")
    member_fields: ClassVar[tuple[str, ...]] = ("dropout", "init_scale")

    def __post_init__(self) -> None:
        _check_common(self, "Tutorial")
        if self.dim < 1 or self.ff < 1:
            raise ValueError(
                f"Tutorial.dim and Tutorial.ff must be >= 1, got {self.dim}, {self.ff}"
            )
        if self.heads < 1 or self.dim % self.heads:
            raise ValueError(
                f"Tutorial.dim (width) {self.dim} is not divisible by heads {self.heads}"
            )

    def build(self, task: TaskSpec) -> nn.Module:
        return TutorialTransformer(self, task.vocab_size, task.n_classes, task.seq_len)

    def n_params(self, task: TaskSpec) -> int:
        d, f = self.dim, self.ff
        layer = (3 * d * d + 3 * d) + (d * d + d) + (d * f + f) + (f * d + d) + 4 * d
        return (
            task.vocab_size * d
            + task.seq_len * d
            + self.depth * layer
            + d * task.n_classes
            + task.n_classes
        )

    @property
    def label(self) -> str:
        return f"dim={self.dim}"


ModelSpec = SongYe | ChopraMLP | Tutorial
MODEL_FAMILIES: dict[str, type] = {m.family: m for m in (SongYe, ChopraMLP, Tutorial)}


def shape_of(model: ModelSpec) -> ModelSpec:
    """The architecture without its per-member fields: members of one ensemble share it."""
    defaults = {f: type(model).__dataclass_fields__[f].default for f in model.member_fields}
    return dataclasses.replace(model, **defaults)


def build_member(model: ModelSpec, task: TaskSpec, init_seed: int) -> nn.Module:
    """PyTorch's default initialisation drawn from a private RNG stream, then ``init_scale``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init_seed)
        module = model.build(task)
    if model.init_scale != 1.0:
        with torch.no_grad():
            for prm in module.parameters():
                prm.mul_(model.init_scale)
    return module


# --- Song & Ye transformer -----------------------------------------------------------------


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotary_tables(seq_len: int, head_dim: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin of shape (seq_len, head_dim / 2): position t rotates pair i by t · base^(-2i/hd)."""
    theta = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    angle = torch.arange(seq_len, dtype=torch.float32)[:, None] * theta[None, :]
    return angle.cos(), angle.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate interleaved feature pairs (x[2i], x[2i+1]); x is (..., seq, head_dim)."""
    pairs = x.unflatten(-1, (-1, 2))  # (..., seq, hd/2, 2)
    x0, x1 = pairs[..., 0], pairs[..., 1]
    return torch.stack((x0 * cos - x1 * sin, x1 * cos + x0 * sin), dim=-1).flatten(-2)


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
    def __init__(self, spec: SongYe, vocab: int, n_out: int, seq_len: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab, spec.dim)
        self.layers = nn.ModuleList([Block(spec, seq_len) for _ in range(spec.depth)])
        self.norm = RMSNorm(spec.dim)
        self.out = nn.Linear(spec.dim, n_out, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, S) tokens -> (B, n_out)
        h = self.embedding(x)
        for layer in self.layers:
            h = layer(h)
        return self.out(self.norm(h)[:, -1])


# --- Chopra MLP ----------------------------------------------------------------------------


class MLP(nn.Module):
    def __init__(self, spec: ChopraMLP, n_in: int, n_out: int):
        super().__init__()
        widths = [n_in] + [spec.width] * spec.depth + [n_out]
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in itertools.pairwise(widths))
        self.drop = nn.Dropout(spec.dropout)
        self.p = n_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 2) hot indices -> (B, p)
        h = one_hot(x, self.p) if x.dtype == torch.long else x
        for layer in self.layers[:-1]:
            h = self.drop(F.relu(layer(h)))
        return self.layers[-1](h)


# --- Tutorial transformer ------------------------------------------------------------------


class TutorialTransformer(nn.Module):
    def __init__(self, spec: Tutorial, vocab: int, n_out: int, seq_len: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab, spec.dim)
        self.pos_embedding = nn.Embedding(seq_len, spec.dim)
        layer = nn.TransformerEncoderLayer(
            spec.dim, spec.heads, spec.ff, spec.dropout, batch_first=True
        )
        # As in the tutorial: the encoder deep-copies one layer, so all layers start equal.
        self.transformer = nn.TransformerEncoder(layer, spec.depth, enable_nested_tensor=False)
        self.output = nn.Linear(spec.dim, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, S) tokens -> (B, n_out)
        pos = torch.arange(x.shape[1], device=x.device)
        h = self.transformer(self.embedding(x) + self.pos_embedding(pos))
        return self.output(h[:, -1])
