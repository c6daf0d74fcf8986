"""Benchmark: the ensemble engine against a plain one-model-at-a-time loop, in one run.

``python -m grokclaims.bench`` times (a) 16 Song & Ye transformers (p = 31, dim 16, mini-batches
of 512) and (b) 32 Chopra MLPs (p = 31, width 64, full batch), 200 epochs each, trained by
:func:`~grokclaims.engine.train.train_ensemble` and by
:func:`~grokclaims.engine.plain.train_plain` (the same members one at a time: ``nn.Module``,
``torch.optim.AdamW``, per-step ``.item()``). It prints model-epochs per second for both, their
ratio, and the FLOP/s reached against a dense matmul peak measured in the same run.
``--plain-members`` times the plain loop on a subset and extrapolates (the plain loop's cost is
linear in members).

This is a benchmark, not a test: timings vary with the machine and its load.
"""

from __future__ import annotations

import argparse
import time

import torch

from grokclaims.data.tasks import TaskSpec
from grokclaims.engine.cost import epoch_flops
from grokclaims.engine.plain import train_plain
from grokclaims.engine.train import train_ensemble
from grokclaims.families import ChopraMLP, SongYe
from grokclaims.spec.run import RunSpec, Schedule, StopRule


def matmul_peak(n: int = 1024, repeats: int = 20) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2.0 * n**3 * repeats / (time.perf_counter() - start)


def cases(epochs: int) -> dict[str, list[RunSpec]]:
    never = StopRule(train_acc=None, val_acc=None)  # time a fixed budget
    sy = [
        RunSpec(
            TaskSpec(p=31, op="/"),
            SongYe(dim=16),
            schedule=Schedule(max_epochs=epochs, batch_size=512, eval_every=10),
            stop=never,
            seed=s,
        )
        for s in range(16)
    ]
    mlp = [
        RunSpec(
            TaskSpec(p=31, op="+", encoding="one_hot"),
            ChopraMLP(width=64),
            schedule=Schedule(max_epochs=epochs, batch_size=None, eval_every=10),
            stop=never,
            seed=s,
        )
        for s in range(32)
    ]
    return {
        "(a) 16 Song & Ye transformers, p=31, dim 16, mini-batch": sy,
        "(b) 32 Chopra MLPs, p=31, width 64, full batch": mlp,
    }


def run(epochs: int, plain_members: int | None, threads: int | None) -> list[dict]:
    if threads:
        torch.set_num_threads(threads)
    peak = matmul_peak()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), dense matmul peak "
        f"{peak / 1e9:.1f} GFLOP/s"
    )
    rows = []
    for name, specs in cases(epochs).items():
        m = len(specs)
        start = time.perf_counter()
        train_ensemble(specs, device="cpu")
        t_ens = time.perf_counter() - start
        subset = specs[: plain_members or m]
        start = time.perf_counter()
        for s in subset:
            train_plain(s, device="cpu")
        t_plain = (time.perf_counter() - start) * m / len(subset)
        flops = epoch_flops(specs[0]) * m * epochs
        row = {
            "case": name,
            "ensemble_model_epochs_per_s": m * epochs / t_ens,
            "plain_model_epochs_per_s": m * epochs / t_plain,
            "ratio": t_plain / t_ens,
            "ensemble_gflops": flops / t_ens / 1e9,
            "plain_gflops": flops / t_plain / 1e9,
            "peak_gflops": peak / 1e9,
        }
        rows.append(row)
        print(
            f"{name}\n  ensemble {row['ensemble_model_epochs_per_s']:8.1f} model-epochs/s "
            f"({row['ensemble_gflops']:.1f} GFLOP/s, {100 * flops / t_ens / peak:.0f}% of peak)"
            f"\n  plain    {row['plain_model_epochs_per_s']:8.1f} model-epochs/s "
            f"({row['plain_gflops']:.1f} GFLOP/s, {100 * flops / t_plain / peak:.0f}% of peak)"
            f"\n  ratio    {row['ratio']:8.2f}x"
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m grokclaims.bench", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument(
        "--plain-members",
        type=int,
        default=None,
        help="time the plain loop on this many members and extrapolate",
    )
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = ap.parse_args(argv)
    run(args.epochs, args.plain_members, args.threads)


if __name__ == "__main__":
    main()
