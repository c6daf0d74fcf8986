"""Chopra's MLP: ``2p -> width -> ... -> p`` with ReLU, on the concatenated one-hot pair."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from grokclaims.data.tasks import TaskSpec, one_hot
from grokclaims.families.batched import Params, embed_sum, linear
from grokclaims.families.dropout import MemberDropout
from grokclaims.families.family import Family, check_common


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
        check_common(self, "ChopraMLP")
        if self.width < 1:
            raise ValueError(f"ChopraMLP.width must be >= 1, got {self.width}")

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


class MLP(nn.Module):
    def __init__(self, spec: ChopraMLP, task: TaskSpec):
        super().__init__()
        widths = [task.vocab_size] + [spec.width] * spec.depth + [task.n_classes]
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in itertools.pairwise(widths))
        self.drop = nn.Dropout(spec.dropout)
        self.p = task.n_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 2) hot indices -> (B, p)
        h = one_hot(x, self.p) if x.dtype == torch.long else x
        for layer in self.layers[:-1]:
            h = self.drop(F.relu(layer(h)))
        return self.layers[-1](h)


def mlp_forward(spec: ChopraMLP, task: TaskSpec) -> Callable:
    def forward(p: Params, x: torch.Tensor, drop: MemberDropout) -> torch.Tensor:
        # The one-hot pair times W1^T is the sum of W1's two hot columns: gather them.
        table = p["layers.0.weight"].transpose(1, 2)  # (M, 2p, width)
        h = embed_sum(x, table) + p["layers.0.bias"].unsqueeze(1)  # x (M, B, 2) -> (M, B, width)
        h = F.relu(h)  # (M, B, width)
        for i in range(1, spec.depth + 1):
            h, w = drop.before(h, p[f"layers.{i}.weight"])
            h = linear(h, w, p[f"layers.{i}.bias"])
            h = F.relu(h) if i < spec.depth else h
        return h

    return forward


def mlp_flops(spec: ChopraMLP, task: TaskSpec) -> float:
    """Multiply-adds x 2 of one forward pass (matmuls only); the first layer gathers two
    columns: no multiply."""
    return 2.0 * ((spec.depth - 1) * spec.width**2 + spec.width * task.n_classes)


def mlp_embedding(p: Params) -> torch.Tensor:
    """The first layer's columns (M, 2p, width): one row per one-hot input."""
    return p["layers.0.weight"].mT


CHOPRA_MLP = Family(
    spec=ChopraMLP, module=MLP, forward=mlp_forward, flops=mlp_flops, embedding=mlp_embedding
)
