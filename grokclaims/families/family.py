"""What a model family is: the record the registry holds, and what every model spec offers.

A family has one file (``song_ye.py``, ``chopra_mlp.py``, ``tutorial.py``) holding its spec
dataclass, its reference ``nn.Module``, its batched forward and its FLOP count, and ending in a
:class:`Family` record that :mod:`grokclaims.families` registers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import torch
from torch import nn

from grokclaims.data.tasks import TaskSpec
from grokclaims.families.batched import Params


class ModelSpec(Protocol):
    """A frozen dataclass describing one architecture (and its per-member fields).

    ``family`` names the family in the spec's canonical JSON, hence in every run id: it never
    changes. ``member_fields`` may differ between the members of one ensemble; the other fields
    are the shape that members share.
    """

    family: ClassVar[str]
    encodings: ClassVar[tuple[str, ...]]  # the task encodings the model takes
    member_fields: ClassVar[tuple[str, ...]]
    depth: int
    dropout: float
    init_scale: float

    def n_params(self, task: TaskSpec) -> int: ...

    @property
    def label(self) -> str: ...


def check_common(spec: ModelSpec, name: str) -> None:
    """The checks every family's spec makes of the fields every family has."""
    if spec.depth < 1:
        raise ValueError(f"{name}.depth must be >= 1, got {spec.depth}")
    if not 0.0 <= spec.dropout < 1.0:
        raise ValueError(f"{name}.dropout must lie in [0, 1), got {spec.dropout}")
    if not spec.init_scale > 0:
        raise ValueError(f"{name}.init_scale must be > 0, got {spec.init_scale}")


def token_embedding(p: Params) -> torch.Tensor:
    """The members' token embeddings (M, vocabulary, d): rows are input tokens."""
    return p["embedding.weight"]


@dataclass(frozen=True)
class Family:
    """One model family, as the registry knows it.

    - ``spec``: the spec dataclass (its ``family`` class attribute is the family's name);
    - ``module``: the reference ``nn.Module`` class, built as ``module(spec, task)``;
    - ``forward``: ``forward(spec, task)`` -> the batched forward
      ``f(params, x (M, B, S), dropout) -> logits (M, B, n_out)`` of
      :mod:`grokclaims.families.batched`, which must equal ``module`` member by member;
    - ``flops``: ``flops(spec, task)`` -> multiply-adds x 2 of one forward pass per example
      (matrix products only), for the cost estimates;
    - ``embedding``: the members' token embeddings ``(M, vocabulary, d)`` from their
      parameter views (recorded by runs that ask for it);
    - ``compiles``: whether ``forward(spec, task, compile=True)`` gives a compiled forward
      (:mod:`grokclaims.families.compiled`).
    """

    spec: type
    module: type[nn.Module]
    forward: Callable[[Any, TaskSpec], Callable]
    flops: Callable[[Any, TaskSpec], float]
    embedding: Callable[[Params], torch.Tensor] = token_embedding
    compiles: bool = False

    @property
    def name(self) -> str:
        return self.spec.family
