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
from grokclaims.families.batched import (
    Params,
    add_rows,
    embed_sum,
    gather_rows,
    input_grad,
    linear,
    product,
    stacked_rows,
    sum_examples,
    weight_grad,
)
from grokclaims.families.dropout import DrawnDropout, MemberDropout
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
        if x.device.type == "cpu":
            return network(p, x, drop, spec.depth)
        return layers(p, x, drop, spec.depth)

    return forward


def layers(p: Params, x: torch.Tensor, drop: MemberDropout, depth: int) -> torch.Tensor:
    """The batched MLP layer by layer, x (M, B, 2) hot indices -> logits (M, B, p), its
    gradient from autograd: the forward on a GPU, and on a CPU the reference that
    :func:`network` computes bit for bit."""
    # The one-hot pair times W1^T is the sum of W1's two hot columns: gather them.
    table = p["layers.0.weight"].transpose(1, 2)  # (M, 2p, width)
    h = embed_sum(x, table) + p["layers.0.bias"].unsqueeze(1)  # (M, B, width)
    h = F.relu(h)
    for i in range(1, depth + 1):
        h, w = drop.before(h, p[f"layers.{i}.weight"])
        h = linear(h, w, p[f"layers.{i}.bias"])
        h = F.relu(h) if i < depth else h
    return h


def network(p: Params, x: torch.Tensor, drop: MemberDropout, depth: int) -> torch.Tensor:
    """The batched MLP on a CPU as one autograd node (:class:`_Network`): the numbers of
    :func:`layers`, faster (with the engine's other changes of the same commit, 1.13x on the
    benchmark's case (b), 1.09x on (e))."""
    params = [p[f"layers.{i}.{kind}"] for i in range(depth + 1) for kind in ("weight", "bias")]
    m, b, width = x.shape[0], x.shape[1], params[1].shape[1]
    # the masks :meth:`MemberDropout.before` would draw, drawn in the same order
    masks = drop.draw([(m, b, width)] * depth, params[0]) if drop.active else ()
    return _Network.apply(x, masks, drop.scale, *params)


class _Network(torch.autograd.Function):
    """The MLP's forward and backward written out: one autograd node for the network instead
    of about twenty, units rectified and gradients masked in place (an element-wise pass over
    these activations into a fresh tensor cost two to four times as much here).

    Each number is computed by the functions, kernels and order that :func:`layers` and
    autograd use: the first layer's lookups and their gradient by :func:`embed_sum`'s
    (:func:`gather_rows`, :func:`add_rows`), ``relu`` as ``clamp_min``, its gradient by
    ``threshold_backward``, dropout by :meth:`DrawnDropout.before` (mask on the units, scale on
    the weight, their gradients by the same products), the products and their gradients by
    :func:`product`, :func:`input_grad` and :func:`weight_grad`. So the bits are the same
    (tests/test_models.py)."""

    @staticmethod
    def forward(ctx, x, masks, scale, *params):
        w0, b0 = params[0], params[1]
        index, table = stacked_rows(x, w0.transpose(1, 2))  # a member's rows: its 2p hot inputs
        h = gather_rows(index, table, summed=True)  # (M, B, width)
        h += b0.unsqueeze(1)
        rectified = [h.clamp_min_(0)]  # each hidden layer's units (M, B, width)
        inputs, weights = [], []  # each product's operands, after dropout
        drop = DrawnDropout(masks, scale)
        n_layers = len(params) // 2
        for i in range(1, n_layers):
            h, w = drop.before(h, params[2 * i])
            inputs.append(h)
            weights.append(w)
            h = product(h, w, params[2 * i + 1])
            if i < n_layers - 1:
                rectified.append(h.clamp_min_(0))
        ctx.save_for_backward(scale, index, *rectified, *inputs, *weights, *masks)
        ctx.counts = (len(rectified), len(masks), table.shape[0])
        return h

    @staticmethod
    def backward(ctx, g):
        n_hidden, n_masks, n_table_rows = ctx.counts
        saved = iter(ctx.saved_tensors)
        scale, index = next(saved), next(saved)
        rectified, inputs, weights, masks = (
            [next(saved) for _ in range(n)] for n in (n_hidden, n_hidden, n_hidden, n_masks)
        )
        grads = []  # bias, weight, bias, weight, ... from the last layer down
        for i in reversed(range(n_hidden)):
            grads.append(sum_examples(g))
            dw = weight_grad(g, inputs[i], weights[i])
            grads.append(dw * scale.view(-1, 1, 1) if masks else dw)
            dh = input_grad(g, weights[i])
            if masks:
                dh = dh * masks[i]
            g = torch.ops.aten.threshold_backward.grad_input(dh, rectified[i], 0, grad_input=dh)
        m, d = g.shape[0], g.shape[-1]
        grads.append(g.sum(1, keepdim=True).view(m, d))  # the first bias, broadcast over B
        table = add_rows(index, g, n_table_rows, summed=True)  # (M 2p, width)
        grads.append(table.view(m, -1, d).transpose(1, 2))
        return None, None, None, *reversed(grads)


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
