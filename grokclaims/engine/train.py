"""Train an ensemble of M members of one architecture as one batched computation.

:func:`train_ensemble` takes run specs that share an :func:`~grokclaims.spec.run.ensemble_key` and
returns one :class:`RunResult` per spec, in order. Members may differ in seed (data split, init,
mini-batch order, dropout masks), data kind, dropout, init scale, learning rate, weight decay and
stop rule. AdamW is computed on the flat ``(M, P)`` parameter tensor exactly as
``torch.optim.AdamW`` computes it, with per-member learning rate and weight decay.

Measurements: every epoch, the running train accuracy and loss over the epoch's mini-batches
(no extra pass, no host sync); every ``eval_every`` epochs (and at the last), an evaluation pass
with dropout off on the train and validation sets and the global L2 weight norm. At evaluation
epochs members whose stop rule is met are frozen and removed from the batch (the computation
shrinks), and members whose loss is NaN/inf are marked diverged; the others continue.

The trainer knows nothing about claims. :func:`train_plain` is the one-model-at-a-time loop
(``nn.Module`` + ``torch.optim.AdamW``), used as the reference in tests and in the benchmark.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from grokclaims.data.tasks import derive_seed, generator, make_dataset
from grokclaims.engine.runtime import default_device, keep_freed_memory
from grokclaims.families.batched import Layout, MemberDropout, batched_forward
from grokclaims.families.models import build_member, shape_of
from grokclaims.spec.run import RunSpec, ensemble_key

EVAL_CHUNK = 8192  # examples per member per evaluation forward (bounds memory)
PROGRESS_SECONDS = 5.0  # how often the progress callback is called

TRACE_FIELDS = (
    "batch_acc",
    "batch_loss",
    "eval_epoch",
    "train_acc",
    "train_loss",
    "val_acc",
    "val_loss",
    "weight_norm",
)


@dataclass(frozen=True)
class Trace:
    """Per-member measurements. ``batch_*`` are per epoch (index e-1 = epoch e); the others are
    at ``eval_epoch`` (epoch 0 = before training)."""

    batch_acc: np.ndarray
    batch_loss: np.ndarray
    eval_epoch: np.ndarray
    train_acc: np.ndarray
    train_loss: np.ndarray
    val_acc: np.ndarray
    val_loss: np.ndarray
    weight_norm: np.ndarray

    @property
    def epochs(self) -> np.ndarray:
        return np.arange(1, len(self.batch_acc) + 1)

    def arrays(self) -> dict[str, np.ndarray]:
        return {f: getattr(self, f) for f in TRACE_FIELDS}


@dataclass(frozen=True)
class RunResult:
    status: str  # "completed" or "diverged"
    epochs: int  # epochs trained
    stopped: bool  # True: the stop rule ended it; False: the budget (or divergence) did
    trace: Trace
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    wall_time: float = 0.0  # seconds, of the ensemble, until this member finished
    ensemble_size: int = 1
    device: str = "cpu"


@dataclass(frozen=True)
class Progress:
    epoch: int
    max_epochs: int
    active: int
    total: int
    elapsed: float

    @property
    def eta(self) -> float:
        """Seconds left if every active member used its whole budget (an upper bound)."""
        return self.elapsed / max(self.epoch, 1) * (self.max_epochs - self.epoch)


class Ensemble:
    """The state of M members: flat parameters, AdamW moments, data, per-member settings."""

    def __init__(self, specs: Sequence[RunSpec], device: torch.device | str | None = None):
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
        self.forward = batched_forward(first.model, task.seq_len, task.vocab_size)
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
        correct = (logits.detach().argmax(-1) == yb).sum(1)
        return losses.detach(), correct

    @torch.no_grad()
    def _adamw(self, grad: torch.Tensor) -> None:
        """torch.optim.AdamW's update (decoupled decay, bias correction) for every member."""
        beta1, beta2 = self.betas
        self.n_steps += 1
        self.flat.mul_(1 - self.lr * self.wd)
        self.exp_avg.lerp_(grad, 1 - beta1)
        self.exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias1 = 1 - beta1**self.n_steps
        bias2_sqrt = math.sqrt(1 - beta2**self.n_steps)
        denom = (self.exp_avg_sq.sqrt() / bias2_sqrt).add_(self.eps)
        self.flat.sub_(self.exp_avg / denom * (self.lr / bias1))

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
            correct += (logits.argmax(-1) == yb).sum(1)
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
        p = self.params(self.flat.detach()[row : row + 1])
        table = p["embedding.weight"] if "embedding.weight" in p else p["layers.0.weight"].mT
        return table[0].cpu().numpy().copy()


class _Recorder:
    """Host-side traces of every member, indexed by the member's original position."""

    def __init__(self, m: int, max_epochs: int, device: torch.device):
        self.batch_acc = torch.full((m, max_epochs), float("nan"), device=device)
        self.batch_loss = torch.full((m, max_epochs), float("nan"), device=device)
        self.evals: list[dict[str, list]] = [{k: [] for k in TRACE_FIELDS[2:]} for _ in range(m)]

    def add_eval(self, member: int, epoch: int, values: dict[str, float]) -> None:
        self.evals[member]["eval_epoch"].append(epoch)
        for k, v in values.items():
            self.evals[member][k].append(v)

    def trace(self, member: int, epochs: int) -> Trace:
        ev = {
            k: np.asarray(v, dtype=np.int64 if k == "eval_epoch" else np.float64)
            for k, v in self.evals[member].items()
        }
        return Trace(
            batch_acc=self.batch_acc[member, :epochs].cpu().double().numpy(),
            batch_loss=self.batch_loss[member, :epochs].cpu().double().numpy(),
            **ev,
        )


def train_ensemble(
    specs: Sequence[RunSpec],
    *,
    device: torch.device | str | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> list[RunResult]:
    """Train the members as one ensemble; returns their results in the order of ``specs``."""
    start = time.perf_counter()
    ens = Ensemble(specs, device)
    sched = ens.schedule
    m_total = ens.size
    rec = _Recorder(m_total, sched.max_epochs, ens.device)
    alive = list(range(m_total))  # original index of each row
    met_at: dict[int, int] = {}  # member -> epoch its stop rule was first met
    results: dict[int, RunResult] = {}
    extras_init = {i: ens.embedding(i) for i in range(m_total)} if sched.record_embedding else {}
    last_eval, last_progress = 0, start

    def evaluate(epoch: int) -> dict[str, np.ndarray]:
        tr_acc, tr_loss = ens.evaluate(ens.x_train, ens.y_train)
        va_acc, va_loss = ens.evaluate(ens.x_val, ens.y_val)
        vals = torch.stack([tr_acc, tr_loss, va_acc, va_loss, ens.weight_norm()]).cpu().double()
        names = ("train_acc", "train_loss", "val_acc", "val_loss", "weight_norm")
        out = {k: vals[i].numpy() for i, k in enumerate(names)}
        for row, member in enumerate(alive):
            rec.add_eval(member, epoch, {k: float(v[row]) for k, v in out.items()})
        return out

    def finish(row: int, member: int, epoch: int, status: str, stopped: bool) -> None:
        extras = {}
        if sched.record_embedding:
            extras = {"embedding_init": extras_init[member], "embedding_final": ens.embedding(row)}
        results[member] = RunResult(
            status=status,
            epochs=epoch,
            stopped=stopped,
            trace=rec.trace(member, epoch),
            extras=extras,
            wall_time=time.perf_counter() - start,
            ensemble_size=m_total,
            device=str(ens.device),
        )

    evaluate(0)
    for epoch in range(1, sched.max_epochs + 1):
        n_seen = 0
        correct = torch.zeros(ens.size, device=ens.device)
        loss_sum = torch.zeros(ens.size, device=ens.device)
        for xb, yb in ens.batches():
            loss, hits = ens.step(xb, yb)
            loss_sum += loss * yb.shape[1]
            correct += hits
            n_seen += yb.shape[1]
        rows = torch.tensor(alive, device=ens.device)
        rec.batch_acc[rows, epoch - 1] = correct / n_seen
        rec.batch_loss[rows, epoch - 1] = loss_sum / n_seen

        last = epoch == sched.max_epochs
        if epoch % sched.eval_every and not last:
            continue
        ev = evaluate(epoch)
        window = slice(last_eval, epoch)
        batch_acc = rec.batch_acc[rows, window].max(1).values.cpu().numpy()
        batch_finite = torch.isfinite(rec.batch_loss[rows, window]).all(1).cpu().numpy()
        last_eval = epoch
        keep = []
        for row, member in enumerate(alive):
            rule = ens.specs[row].stop
            if not (batch_finite[row] and math.isfinite(ev["train_loss"][row])):
                finish(row, member, epoch, "diverged", stopped=False)
                continue
            train = batch_acc[row] if sched.train_acc == "batches" else ev["train_acc"][row]
            met = (
                rule.enabled
                and (rule.train_acc is None or train >= rule.train_acc)
                and (rule.val_acc is None or ev["val_acc"][row] >= rule.val_acc)
            )
            if met:
                met_at.setdefault(member, epoch)
            if member in met_at and epoch - met_at[member] >= rule.patience:
                finish(row, member, epoch, "completed", stopped=True)
            elif last:
                finish(row, member, epoch, "completed", stopped=False)
            else:
                keep.append(row)
        if len(keep) < len(alive):
            alive = [alive[r] for r in keep]
            if not alive:
                break
            ens.select(torch.tensor(keep))
        now = time.perf_counter()
        if progress is not None and now - last_progress >= PROGRESS_SECONDS:
            last_progress = now
            progress(Progress(epoch, sched.max_epochs, len(alive), m_total, now - start))
    return [results[i] for i in range(m_total)]


def train_plain(spec: RunSpec, *, device: torch.device | str | None = None) -> RunResult:
    """One model trained the usual way: nn.Module, torch.optim.AdamW, per-step ``.item()``.

    The reference for the ensemble engine (same data, init and batch order; dropout masks come
    from the global RNG here). Same measurements and stop rule as :func:`train_ensemble`.
    """
    start = time.perf_counter()
    dev = torch.device(device) if device is not None else default_device()
    if dev.type == "cpu":
        keep_freed_memory()
    data = make_dataset(spec.task, spec.seed)
    model = build_member(spec.model, spec.task, derive_seed(spec.seed, "init")).to(dev)
    opt = torch.optim.AdamW(
        model.parameters(),
        lr=spec.optim.lr,
        betas=spec.optim.betas,
        eps=spec.optim.eps,
        weight_decay=spec.optim.weight_decay,
    )
    x_tr, y_tr = data.x_train.to(dev), data.y_train.to(dev)
    x_va, y_va = data.x_val.to(dev), data.y_val.to(dev)
    order = generator(spec.seed, "order")
    sched, rule = spec.schedule, spec.stop
    n = len(y_tr)
    bs = sched.batch_size if sched.batch_size is not None else n
    batch_acc, batch_loss = [], []
    evals: dict[str, list] = {k: [] for k in TRACE_FIELDS[2:]}

    def evaluate(epoch: int) -> None:
        model.eval()
        evals["eval_epoch"].append(epoch)
        with torch.no_grad():
            for name, x, y in (("train", x_tr, y_tr), ("val", x_va, y_va)):
                if len(y) == 0:
                    evals[f"{name}_acc"].append(float("nan"))
                    evals[f"{name}_loss"].append(float("nan"))
                    continue
                logits = model(x)
                evals[f"{name}_acc"].append((logits.argmax(-1) == y).float().mean().item())
                evals[f"{name}_loss"].append(F.cross_entropy(logits, y).item())
            evals["weight_norm"].append(
                torch.cat([p.reshape(-1) for p in model.parameters()]).norm().item()
            )
        model.train()

    evaluate(0)
    model.train()
    met_at, stopped, epoch = None, False, 0
    for epoch in range(1, sched.max_epochs + 1):
        perm = torch.randperm(n, generator=order).to(dev) if bs < n else torch.arange(n, device=dev)
        correct, loss_sum = 0, 0.0
        for s in range(0, n, bs):
            idx = perm[s : s + bs]
            logits = model(x_tr[idx])
            loss = F.cross_entropy(logits, y_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(-1) == y_tr[idx]).sum().item()
        batch_acc.append(correct / n)
        batch_loss.append(loss_sum / n)
        if epoch % sched.eval_every and epoch != sched.max_epochs:
            continue
        evaluate(epoch)
        window = batch_acc[len(batch_acc) - (epoch - evals["eval_epoch"][-2]) :]
        train = max(window) if sched.train_acc == "batches" else evals["train_acc"][-1]
        if (
            rule.enabled
            and (rule.train_acc is None or train >= rule.train_acc)
            and (rule.val_acc is None or evals["val_acc"][-1] >= rule.val_acc)
        ):
            met_at = epoch if met_at is None else met_at
        if met_at is not None and epoch - met_at >= rule.patience:
            stopped = True
            break
    trace = Trace(
        batch_acc=np.asarray(batch_acc),
        batch_loss=np.asarray(batch_loss),
        **{k: np.asarray(v) for k, v in evals.items()},
    )
    return RunResult(
        status="completed",
        epochs=epoch,
        stopped=stopped,
        trace=trace,
        wall_time=time.perf_counter() - start,
        ensemble_size=1,
        device=str(dev),
    )
