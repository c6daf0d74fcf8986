"""The state of an ensemble: M members of one architecture trained as one batched computation.

:class:`Ensemble` holds the members' flat ``(M, P)`` parameters, their AdamW moments, data and
per-member settings. Members may differ in seed (data split, init, mini-batch order, dropout
masks), data kind, dropout, init scale, learning rate and weight decay. AdamW is computed on the
flat parameter tensor exactly as ``torch.optim.AdamW`` computes it, with per-member learning rate
and weight decay. The batched forward is the family's (:func:`grokclaims.families.family_of`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from grokclaims.data.tasks import derive_seed, generator, make_dataset
from grokclaims.engine.runtime import default_device, keep_freed_memory
from grokclaims.families import build_member, family_of, shape_of
from grokclaims.families.batched import Layout
from grokclaims.families.dropout import MemberDropout
from grokclaims.spec.run import RunSpec, ensemble_key

EVAL_CHUNK = 8192  # examples per member per evaluation forward (bounds memory)


def _predicted(logits: torch.Tensor) -> torch.Tensor:
    """The predicted class (M, B) of logits (M, B, C): ``argmax``'s (the first of equal
    largest, NaN counting as largest), from ``max``'s kernel, which finds it faster here."""
    return logits.max(-1).indices


class Ensemble:
    """The state of M members: flat parameters, AdamW moments, data, per-member settings."""

    def __init__(
        self,
        specs: Sequence[RunSpec],
        device: torch.device | str | None = None,
        compile: bool = False,
    ):
        if len(specs) < 1:
            raise ValueError("ensemble size M must be >= 1 (no run specs given)")
        keys = {ensemble_key(s) for s in specs}
        if len(keys) > 1:
            raise ValueError(
                "run specs of one ensemble must share ensemble_key (architecture, "
                "data shapes, schedule); group them first"
            )
        self.device = torch.device(device) if device is not None else default_device()
        if self.device.type == "cpu":
            keep_freed_memory()
        first = specs[0]
        self.specs = list(specs)
        self.schedule = first.schedule
        task = first.task
        modules = [build_member(s.model, s.task, derive_seed(s.seed, "init")) for s in specs]
        self.layout = Layout(modules[0])
        self.reference = build_member(shape_of(first.model), task, 0)  # to export members
        self.family = family_of(first.model)
        self.compiled = compile and self.family.compiles and self.device.type == "cpu"
        if self.compiled:
            self.forward = self.family.forward(first.model, task, compile=True)
        else:
            self.forward = self.family.forward(first.model, task)
        dev = self.device
        self.flat = torch.stack([self.layout.flatten(m) for m in modules]).to(dev).requires_grad_()
        self.exp_avg = torch.zeros_like(self.flat, requires_grad=False)
        self.exp_avg_sq = torch.zeros_like(self.flat, requires_grad=False)
        self.n_steps = 0
        self.betas, self.eps = first.optim.betas, first.optim.eps
        self.lr = torch.tensor([s.optim.lr for s in specs], device=dev).unsqueeze(1)
        self.wd = torch.tensor([s.optim.weight_decay for s in specs], device=dev).unsqueeze(1)
        data = [make_dataset(s.task, s.seed) for s in specs]
        self.x_train = torch.stack([d.x_train for d in data]).to(dev)  # (M, n, S)
        self.y_train = torch.stack([d.y_train for d in data]).to(dev)  # (M, n)
        # Validation sets may differ in size (random-target members have none): padded, with
        # label -1 marking the padding, so such members still share one ensemble.
        n_val = max(len(d.y_val) for d in data)
        self.x_val = torch.zeros(len(data), n_val, task.seq_len, dtype=torch.long, device=dev)
        self.y_val = torch.full((len(data), n_val), -1, dtype=torch.long, device=dev)
        for i, d in enumerate(data):
            self.x_val[i, : len(d.y_val)] = d.x_val.to(dev)
            self.y_val[i, : len(d.y_val)] = d.y_val.to(dev)
        self.order = [generator(s.seed, "order") for s in specs]
        rates = torch.tensor([s.model.dropout for s in specs], device=dev)
        self.dropout = MemberDropout(rates, [generator(s.seed, "dropout", dev) for s in specs])

    @property
    def size(self) -> int:
        return self.flat.shape[0]

    def params(self, flat: torch.Tensor | None = None):
        return self.layout.views(self.flat if flat is None else flat)

    def step(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One AdamW step on a batch xb (M, B, S), yb (M, B); returns loss (M,), correct (M,)."""
        self.dropout.training = True
        logits = self.forward(self.params(), xb, self.dropout)  # (M, B, C)
        m, b, c = logits.shape
        losses = (
            F.cross_entropy(logits.reshape(m * b, c), yb.reshape(-1), reduction="none")
            .view(m, b)
            .mean(1)
        )
        # Each member's gradient is that of its own mean loss: the sum does not mix members.
        (grad,) = torch.autograd.grad(losses.sum(), self.flat)
        self._adamw(grad)
        correct = (_predicted(logits.detach()) == yb).sum(1)
        return losses.detach(), correct

    @torch.no_grad()
    def _adamw(self, grad: torch.Tensor) -> None:
        """torch.optim.AdamW's update (decoupled decay, bias correction) for every member;
        overwrites ``grad``."""
        beta1, beta2 = self.betas
        self.n_steps += 1
        self.flat.mul_(1 - self.lr * self.wd)
        self.exp_avg.lerp_(grad, 1 - beta1)
        self.exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias1 = 1 - beta1**self.n_steps
        bias2_sqrt = math.sqrt(1 - beta2**self.n_steps)
        # The same operations in place, in the gradient's memory (not needed any more).
        denom = torch.sqrt(self.exp_avg_sq, out=grad).div_(bias2_sqrt).add_(self.eps)
        self.flat.sub_(torch.div(self.exp_avg, denom, out=denom).mul_(self.lr / bias1))

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Accuracy and mean loss (M,) of an evaluation pass (dropout off) on x (M, n, S);
        labels -1 are padding (a member without examples gets NaN)."""
        m, n = y.shape
        self.dropout.training = False
        params = self.params()
        correct = torch.zeros(m, device=self.device)
        loss = torch.zeros(m, device=self.device)
        for start in range(0, n, EVAL_CHUNK):
            xb, yb = x[:, start : start + EVAL_CHUNK], y[:, start : start + EVAL_CHUNK]
            logits = self.forward(params, xb, self.dropout)
            c = logits.shape[-1]
            loss += (
                F.cross_entropy(
                    logits.reshape(-1, c), yb.reshape(-1), reduction="none", ignore_index=-1
                )
                .view(m, -1)
                .sum(1)
            )
            correct += (_predicted(logits) == yb).sum(1)
        count = (y >= 0).sum(1)
        return correct / count, loss / count

    @torch.no_grad()
    def weight_norm(self) -> torch.Tensor:
        return self.flat.norm(dim=1)

    def batches(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch's mini-batches, each member shuffled by its own generator."""
        n = self.y_train.shape[1]
        bs = self.schedule.batch_size
        if bs is None or bs >= n:
            return [(self.x_train, self.y_train)]
        perm = torch.stack([torch.randperm(n, generator=g) for g in self.order]).to(self.device)
        out = []
        for start in range(0, n, bs):
            idx = perm[:, start : start + bs]  # (M, B)
            xb = torch.gather(
                self.x_train, 1, idx.unsqueeze(-1).expand(-1, -1, self.x_train.shape[2])
            )
            out.append((xb, torch.gather(self.y_train, 1, idx)))
        return out

    def select(self, keep: torch.Tensor) -> None:
        """Keep only the members at row indices ``keep`` (others are finished)."""
        keep = keep.to(self.device)
        self.flat = self.flat.detach()[keep].requires_grad_()
        self.exp_avg, self.exp_avg_sq = self.exp_avg[keep], self.exp_avg_sq[keep]
        self.lr, self.wd = self.lr[keep], self.wd[keep]
        self.x_train, self.y_train = self.x_train[keep], self.y_train[keep]
        self.x_val, self.y_val = self.x_val[keep], self.y_val[keep]
        rows = keep.tolist()
        self.order = [self.order[i] for i in rows]
        self.specs = [self.specs[i] for i in rows]
        self.dropout = self.dropout.select(keep)

    def member_module(self, row: int):
        """Row ``row``'s parameters in a plain module of the architecture."""
        return self.layout.load_into(self.reference, self.flat[row].detach().cpu())

    def embedding(self, row: int) -> np.ndarray:
        """The token embedding of a member: rows are tokens (for the MLP: the first layer's
        columns, i.e. the one-hot inputs)."""
        table = self.family.embedding(self.params(self.flat.detach()[row : row + 1]))
        return table[0].cpu().numpy().copy()
