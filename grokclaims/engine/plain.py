"""The plain reference loop: one model trained the usual way (``nn.Module`` +
``torch.optim.AdamW``), the reference for the ensemble engine in tests and in the benchmark."""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from grokclaims.data.tasks import derive_seed, generator, make_dataset
from grokclaims.engine.runtime import default_device, keep_freed_memory
from grokclaims.engine.trace import TRACE_FIELDS, RunResult, Trace
from grokclaims.families import build_member
from grokclaims.spec.run import RunSpec


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
    since, stopped, epoch = None, False, 0
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
        met = (
            rule.enabled
            and (rule.train_acc is None or train >= rule.train_acc)
            and (rule.val_acc is None or evals["val_acc"][-1] >= rule.val_acc)
        )
        since, stopped = rule.advance(since, epoch, bool(met))
        if stopped:
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
