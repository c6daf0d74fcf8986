"""Modular-arithmetic tasks, their splits and encodings, and random-target data.

Every dataset is a pure function of its :class:`TaskSpec` and a seed, drawn from its own
``torch.Generator``. The three encodings are those of the sources:

- ``op_tokens``: ``[a, op, b, =]``, vocabulary ``p + 2`` (Song & Ye; op token ``p``, ``=``
  is ``p + 1``);
- ``pair_tokens``: ``[a, b, =]``, vocabulary ``p + 1`` (the tutorial; ``=`` is ``p``);
- ``one_hot``: the concatenated one-hot pair, ``2p`` wide (Chopra). It is stored as the indices of
  its two hot entries ``[a, p + b]`` (the MLP's first layer then gathers two columns, which is the
  same product as multiplying by the one-hot vector, at a fraction of the cost); :func:`one_hot`
  expands it.

Data kinds: ``task`` (the operation's table, split into train/validation), ``random`` (Song & Ye's
random targets: n examples whose input tokens and target are uniform over the vocabulary;
``n`` defaults to ``floor(alpha · n_pairs)``, the "equivalent complexity" of the task), and
``shuffled`` (the task's own training inputs with their labels permuted among them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass

import torch

OPS = ("+", "-", "*", "/")
SPLITS = ("random", "sequential", "alternating")
ENCODINGS = ("op_tokens", "pair_tokens", "one_hot")
DATA_KINDS = ("task", "random", "shuffled")


def is_prime(n: int) -> bool:
    if n < 2:
        return False
    return all(n % d for d in range(2, math.isqrt(n) + 1))


def derive_seed(seed: int, stream: str) -> int:
    """An independent 63-bit seed for one random stream ("data", "init", "order", ...) of a run."""
    digest = hashlib.sha256(f"{seed}:{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def generator(seed: int, stream: str, device: str | torch.device = "cpu") -> torch.Generator:
    g = torch.Generator(device=device)
    g.manual_seed(derive_seed(seed, stream))
    return g


@dataclass(frozen=True)
class TaskSpec:
    """A modular-arithmetic dataset: what is computed, how it is split and encoded."""

    p: int = 97
    op: str = "/"
    alpha: float = 0.5  # train fraction
    split: str = "random"
    encoding: str = "op_tokens"
    data: str = "task"
    n: int | None = None  # random targets only: number of examples (default: equivalent complexity)

    def __post_init__(self) -> None:
        if not isinstance(self.p, int) or self.p < 3:
            raise ValueError(f"TaskSpec.p must be an integer prime >= 3, got {self.p!r}")
        if not is_prime(self.p):
            raise ValueError(f"TaskSpec.p must be prime, got {self.p}")
        if self.op not in OPS:
            raise ValueError(f"TaskSpec.op must be one of {OPS}, got {self.op!r}")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(
                f"TaskSpec.alpha (train fraction) must lie in (0, 1), got {self.alpha}"
            )
        if self.split not in SPLITS:
            raise ValueError(f"TaskSpec.split must be one of {SPLITS}, got {self.split!r}")
        if self.encoding not in ENCODINGS:
            raise ValueError(f"TaskSpec.encoding must be one of {ENCODINGS}, got {self.encoding!r}")
        if self.data not in DATA_KINDS:
            raise ValueError(f"TaskSpec.data must be one of {DATA_KINDS}, got {self.data!r}")
        if self.n is not None and (self.data != "random" or self.n < 1):
            raise ValueError(
                "TaskSpec.n is the size of random-target data: set it only with "
                f"data='random', and >= 1 (got n={self.n!r}, data={self.data!r})"
            )
        if self.data == "random" and self.encoding == "one_hot":
            raise ValueError("TaskSpec.encoding: random targets are token sequences, not one_hot")
        if self.n_train < 1 or (self.data == "task" and self.n_val < 1):
            raise ValueError(f"TaskSpec.alpha={self.alpha} leaves an empty train or validation set")

    # Derived values are properties, so overriding p reaches every one of them.
    @property
    def n_pairs(self) -> int:
        return self.p * (self.p - 1) if self.op == "/" else self.p * self.p

    @property
    def n_train(self) -> int:
        if self.data == "random" and self.n is not None:
            return self.n
        return int(self.alpha * self.n_pairs)

    @property
    def n_val(self) -> int:
        return self.n_pairs - self.n_train if self.data == "task" else 0

    @property
    def vocab_size(self) -> int:
        """Input vocabulary (for one_hot: the input width 2p)."""
        return {"op_tokens": self.p + 2, "pair_tokens": self.p + 1, "one_hot": 2 * self.p}[
            self.encoding
        ]

    @property
    def seq_len(self) -> int:
        return {"op_tokens": 4, "pair_tokens": 3, "one_hot": 2}[self.encoding]

    @property
    def n_classes(self) -> int:
        """Output classes: the whole vocabulary for Song & Ye, the p residues otherwise."""
        return self.p + 2 if self.encoding == "op_tokens" else self.p

    def replace(self, **changes) -> TaskSpec:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Dataset:
    """Encoded examples; x is (n, seq_len) long, y is (n,) long."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor


def operands(p: int, op: str) -> tuple[torch.Tensor, torch.Tensor]:
    """All pairs (a, b) of the table, a-major; division skips b = 0."""
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    a, b = a.reshape(-1), b.reshape(-1)
    if op == "/":
        keep = b != 0
        a, b = a[keep], b[keep]
    return a, b


def modular_inverse(b: torch.Tensor, p: int) -> torch.Tensor:
    """b^(p-2) mod p (Fermat), by square-and-multiply on int64 tensors (no overflow: p < 2^31)."""
    result = torch.ones_like(b)
    base, e = b % p, p - 2
    while e:
        if e & 1:
            result = result * base % p
        base = base * base % p
        e >>= 1
    return result


def apply_op(a: torch.Tensor, b: torch.Tensor, p: int, op: str) -> torch.Tensor:
    if op == "+":
        return (a + b) % p
    if op == "-":
        return (a - b) % p
    if op == "*":
        return a * b % p
    if op == "/":
        return a * modular_inverse(b, p) % p
    raise ValueError(f"unknown op {op!r}")


def encode(a: torch.Tensor, b: torch.Tensor, task: TaskSpec) -> torch.Tensor:
    """(n,) operands -> (n, seq_len) long inputs in the task's encoding."""
    p = task.p
    if task.encoding == "op_tokens":
        return torch.stack([a, torch.full_like(a, p), b, torch.full_like(a, p + 1)], dim=1)
    if task.encoding == "pair_tokens":
        return torch.stack([a, b, torch.full_like(a, p)], dim=1)
    return torch.stack([a, p + b], dim=1)


def decode(x: torch.Tensor, task: TaskSpec) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of :func:`encode`: (n, seq_len) -> operands (a, b)."""
    if task.encoding == "op_tokens":
        return x[:, 0], x[:, 2]
    if task.encoding == "pair_tokens":
        return x[:, 0], x[:, 1]
    return x[:, 0], x[:, 1] - task.p


def one_hot(x: torch.Tensor, p: int) -> torch.Tensor:
    """(n, 2) hot indices of the one_hot encoding -> (n, 2p) float one-hot pair."""
    out = torch.zeros(x.shape[0], 2 * p, device=x.device)
    out.scatter_(1, x, 1.0)
    return out


def split_order(
    a: torch.Tensor, b: torch.Tensor, task: TaskSpec, g: torch.Generator
) -> torch.Tensor:
    """A permutation of the pairs; the first n_train are the training set.

    random: uniform; sequential: by b, then a (later residues of b are held out);
    alternating: even residues of b first, then odd ones (alpha = 0.5 holds out every other b).
    """
    if task.split == "random":
        return torch.randperm(a.numel(), generator=g)
    key = b * task.p + a
    if task.split == "alternating":
        key = key + (b % 2) * task.p * task.p
    return torch.argsort(key)


def make_dataset(task: TaskSpec, seed: int) -> Dataset:
    """The dataset of a task for one seed: a pure function of (task, seed)."""
    g = generator(seed, "data")
    empty_x = torch.zeros(0, task.seq_len, dtype=torch.long)
    empty_y = torch.zeros(0, dtype=torch.long)
    if task.data == "random":
        x = torch.randint(0, task.vocab_size, (task.n_train, task.seq_len), generator=g)
        y = torch.randint(0, task.n_classes, (task.n_train,), generator=g)
        return Dataset(x, y, empty_x, empty_y)
    a, b = operands(task.p, task.op)
    y = apply_op(a, b, task.p, task.op)
    x = encode(a, b, task)
    order = split_order(a, b, task, g)
    tr, va = order[: task.n_train], order[task.n_train :]
    if task.data == "shuffled":
        labels = y[tr][torch.randperm(tr.numel(), generator=g)]
        return Dataset(x[tr], labels, empty_x, empty_y)
    return Dataset(x[tr], y[tr], x[va], y[va])
