"""The tutorial's post-norm ``nn.TransformerEncoder`` with learned positions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from grokclaims.data.tasks import TaskSpec
from grokclaims.families.batched import (
    Params,
    attention,
    embed,
    layer_norm,
    linear,
)
from grokclaims.families.dropout import MemberDropout
from grokclaims.families.family import Family, check_common


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
        check_common(self, "Tutorial")
        if self.dim < 1 or self.ff < 1:
            raise ValueError(
                f"Tutorial.dim and Tutorial.ff must be >= 1, got {self.dim}, {self.ff}"
            )
        if self.heads < 1 or self.dim % self.heads:
            raise ValueError(
                f"Tutorial.dim (width) {self.dim} is not divisible by heads {self.heads}"
            )

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


class TutorialTransformer(nn.Module):
    def __init__(self, spec: Tutorial, task: TaskSpec):
        super().__init__()
        self.embedding = nn.Embedding(task.vocab_size, spec.dim)
        self.pos_embedding = nn.Embedding(task.seq_len, spec.dim)
        layer = nn.TransformerEncoderLayer(
            spec.dim, spec.heads, spec.ff, spec.dropout, batch_first=True
        )
        # As in the tutorial: the encoder deep-copies one layer, so all layers start equal.
        self.transformer = nn.TransformerEncoder(layer, spec.depth, enable_nested_tensor=False)
        self.output = nn.Linear(spec.dim, task.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, S) tokens -> (B, n_out)
        pos = torch.arange(x.shape[1], device=x.device)
        h = self.transformer(self.embedding(x) + self.pos_embedding(pos))
        return self.output(h[:, -1])


def tutorial_forward(spec: Tutorial, task: TaskSpec) -> Callable:
    seq_len = task.seq_len

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


def tutorial_flops(spec: Tutorial, task: TaskSpec) -> float:
    """Multiply-adds x 2 of one forward pass (matmuls only)."""
    d, s = spec.dim, task.seq_len
    per_token = 4 * d * d + 2 * d * spec.ff + 2 * s * d
    return 2.0 * (spec.depth * s * per_token + d * task.n_classes)


TUTORIAL = Family(
    spec=Tutorial, module=TutorialTransformer, forward=tutorial_forward, flops=tutorial_flops
)
