"""Benchmark: the ensemble engine against a plain one-model-at-a-time loop, in one run.

``python -m grokclaims.bench`` times, each trained by
:func:`~grokclaims.engine.train.train_ensemble` and by :func:`~grokclaims.engine.plain.train_plain`
(the same members one at a time: ``nn.Module``, ``torch.optim.AdamW``, per-step ``.item()``):

- (a) 16 Song & Ye transformers (p = 31, dim 16, dropout 0.2, mini-batches of 512);
- (b) 32 Chopra MLPs (p = 31, width 64, full batch);

and, at the ensemble sizes the smoke scale trains (``--scales``, on by default):

- (c) a smoke race cell's ensemble: 9 Song & Ye (p = 23, dim 12; 3 seeds x task, random and
  shuffled labels);
- (d) the smoke tutorial's BR1 ensemble: 12 tutorial transformers (p = 47, dim 64; 3 seeds x 4
  weight decays; evaluated every epoch, as the setup is; a twentieth of the epochs);
- (e) a smoke Chopra sweep cell: 6 MLPs (p = 31, width 128, alpha 0.9).

Each side is warmed up once, then timed ``--repeats`` times (default 3), alternating, so both
see the same spells of a noisy machine. It prints the median model-epochs per second of both,
their ratio with the range of the single timings' ratios, and the FLOP/s reached against a
dense matmul peak measured in the same run, with the machine's load average (other processes
share the CPU; the ratio is measured within one run, which is what counts).
``--plain-members`` times the plain loop on a subset and extrapolates (its cost is linear in
members). Where a GPU is visible the same cases run there too (timed with synchronisation); on
a CPU-only machine that part is skipped. ``--profile N`` prints torch.profiler's top
operations of case (a)'s compiled ensemble over N epochs.

This is a benchmark, not a test: timings vary with the machine and its load.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable

import torch

from grokclaims.data.tasks import TaskSpec
from grokclaims.engine.cost import epoch_flops
from grokclaims.engine.plain import train_plain
from grokclaims.engine.train import train_ensemble
from grokclaims.families import ChopraMLP, SongYe, family_of
from grokclaims.setups.scales import SMOKE
from grokclaims.spec.run import RunSpec, Schedule, StopRule

NEVER = StopRule(train_acc=None, val_acc=None)  # time a fixed budget


def matmul_peak(device: str = "cpu", n: int = 1024, repeats: int = 20) -> float:
    """Dense float32 matmul FLOP/s of this device (n x n products)."""
    if device != "cpu":
        n, repeats = 8192, 20
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    for _ in range(3):
        a @ b
    sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync(device)
    return 2.0 * n**3 * repeats / (time.perf_counter() - start)


def sync(device: str) -> None:
    if device != "cpu":
        torch.cuda.synchronize()


def budget(specs: list[RunSpec], epochs: int) -> list[RunSpec]:
    """The same runs on a fixed budget of ``epochs`` (no stop rule), so both loops do equal work."""
    out = []
    for s in specs:
        sched = s.schedule
        schedule = Schedule(
            max_epochs=epochs,
            batch_size=sched.batch_size,
            eval_every=sched.eval_every,
            train_acc=sched.train_acc,
        )
        out.append(s.replace(schedule=schedule, stop=NEVER))
    return out


def cases(epochs: int, scales: bool = True) -> dict[str, list[RunSpec]]:
    sy = [
        RunSpec(
            TaskSpec(p=31, op="/"),
            SongYe(dim=16),
            schedule=Schedule(max_epochs=epochs, batch_size=512, eval_every=10),
            stop=NEVER,
            seed=s,
        )
        for s in range(16)
    ]
    mlp = [
        RunSpec(
            TaskSpec(p=31, op="+", encoding="one_hot"),
            ChopraMLP(width=64),
            schedule=Schedule(max_epochs=epochs, batch_size=None, eval_every=10),
            stop=NEVER,
            seed=s,
        )
        for s in range(32)
    ]
    out = {
        "(a) 16 Song & Ye transformers, p=31, dim 16, mini-batch": sy,
        "(b) 32 Chopra MLPs, p=31, width 64, full batch": mlp,
    }
    if not scales:
        return out
    seeds = SMOKE.seed_list()
    race = SMOKE.sy.central[0].replace(dims=(12,)).specs(seeds, shuffled=True)
    br = SMOKE.br
    tutorial = [br.setup.spec(s, weight_decay=wd) for wd in br.weight_decays for s in seeds]
    ch = SMOKE.ch.setup
    chopra = [ch.spec(s, width=128) for s in seeds] + [
        ch.spec(s, width=128, weight_decay=0.5) for s in seeds
    ]
    # A tutorial member costs ~50x a Song & Ye one per epoch (d 64, evaluated every epoch):
    # a twentieth of the budget.
    out |= {
        f"(c) smoke race cell: {len(race)} Song & Ye, p=23, dim 12": budget(race, epochs),
        f"(d) smoke tutorial BR1: {len(tutorial)} tutorial transformers, p=47, dim 64": budget(
            tutorial, max(1, epochs // 20)
        ),
        f"(e) smoke Chopra cell: {len(chopra)} MLPs, p=31, width 128": budget(chopra, epochs),
    }
    return out


def timed(device: str, fn: Callable[[], object]) -> float:
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:  # not available on this platform
        return "load n/a"
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def run_device(
    device: str,
    epochs: int,
    plain_members: int | None,
    scales: bool,
    plain_subset: int,
    repeats: int = 3,
) -> list[dict]:
    peak = matmul_peak(device)
    threads = f"{torch.get_num_threads()} thread(s)" if device == "cpu" else device
    print(
        f"[{device}] torch {torch.__version__}, {threads}, dense matmul peak "
        f"{peak / 1e9:.1f} GFLOP/s; {load()}",
        flush=True,
    )
    rows = []
    for name, specs in cases(epochs, scales).items():
        m, n_epochs = len(specs), specs[0].schedule.max_epochs
        k = plain_members or (m if name.startswith(("(a)", "(b)")) else plain_subset)
        subset = specs[: min(m, k)]
        train_ensemble(budget(specs[:1], 2), device=device)  # warm-up: first-call costs
        train_plain(budget(subset[:1], 2)[0], device=device)
        # The compiled engine (Song & Ye on a CPU): its warm-up is the whole ensemble, since
        # compiling is per shape; what that first call costs is reported, not hidden.
        compiles = device == "cpu" and family_of(specs[0].model).compiles
        if compiles:
            first = budget(specs, 2)
            t_first = timed(device, lambda s=first: train_ensemble(s, compile=True))
        t_ens, t_plain, t_comp = [], [], []
        for _ in range(repeats):  # alternating, so all sides see the same spells of the machine
            t_ens.append(timed(device, lambda specs=specs: train_ensemble(specs, device=device)))
            t_p = timed(device, lambda s=subset: [train_plain(x, device=device) for x in s])
            t_plain.append(t_p * m / len(subset))
            if compiles:
                t_comp.append(timed(device, lambda s=specs: train_ensemble(s, compile=True)))
        flops = sum(epoch_flops(s) for s in specs) * n_epochs
        tp = statistics.median(t_plain)
        row = {"case": name, "device": device, "members": m, "epochs": n_epochs}
        row |= {"repeats": repeats, "plain_model_epochs_per_s": m * n_epochs / tp}
        row |= {"plain_gflops": flops / tp / 1e9, "peak_gflops": peak / 1e9}
        row |= _side("", t_ens, t_plain, m * n_epochs, flops, peak)
        if compiles:
            row |= _side("compiled_", t_comp, t_plain, m * n_epochs, flops, peak)
            # the first call: two epochs plus compiling; compiling pays once per shape after
            # this many epochs of the eager engine
            row["compile_s"] = t_first - 2 * statistics.median(t_comp) / n_epochs
            saved = (statistics.median(t_ens) - statistics.median(t_comp)) / n_epochs
            row["break_even_epochs"] = row["compile_s"] / saved if saved > 0 else math.inf
        rows.append(row)
        print(_describe(row, len(subset)), flush=True)
    return rows


def _side(prefix: str, t_side: list, t_plain: list, model_epochs: int, flops: float, peak: float):
    """One engine's timings against the plain loop's (alternating pairs)."""
    ratios = sorted(p / e for e, p in zip(t_side, t_plain))
    te = statistics.median(t_side)
    return {
        f"{prefix}ensemble_model_epochs_per_s": model_epochs / te,
        f"{prefix}ratio": statistics.median(t_plain) / te,
        f"{prefix}ratio_min": ratios[0],
        f"{prefix}ratio_max": ratios[-1],
        f"{prefix}ensemble_gflops": flops / te / 1e9,
        f"{prefix}ensemble_share_of_peak": flops / te / peak,
    }


def _describe(row: dict, timed_members: int) -> str:
    n, m = row["repeats"], row["members"]

    def engine(label: str, prefix: str) -> str:
        low, high = row[prefix + "ratio_min"], row[prefix + "ratio_max"]
        spread = "" if n == 1 else f" (each timing: {low:.2f}-{high:.2f}x)"
        return (
            f"\n  {label:9s}{row[prefix + 'ensemble_model_epochs_per_s']:8.1f} model-epochs/s "
            f"({row[prefix + 'ensemble_gflops']:.1f} GFLOP/s, "
            f"{100 * row[prefix + 'ensemble_share_of_peak']:.0f}% of peak): "
            f"{row[prefix + 'ratio']:.2f}x the plain loop{spread}"
        )

    text = f"{row['case']} ({row['epochs']} epochs; median of {n} alternating timings)"
    text += engine("ensemble", "")
    if "compiled_ratio" in row:
        text += engine("compiled", "compiled_")
        text += (
            f"\n           compiling: {row['compile_s']:.1f} s once per shape, repaid after "
            f"{row['break_even_epochs']:.0f} epochs"
        )
    share = 100 * row["plain_gflops"] / row["peak_gflops"]
    text += (
        f"\n  plain    {row['plain_model_epochs_per_s']:8.1f} model-epochs/s "
        f"({row['plain_gflops']:.1f} GFLOP/s, {share:.0f}% of peak; {timed_members} of {m} "
        f"timed)   [{load()}]"
    )
    return text


def profile(epochs: int) -> None:
    """torch.profiler's top operations (self CPU time) of case (a)'s ensemble, compiled (after
    a warm-up that compiles its shape)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    specs = cases(epochs, scales=False)["(a) 16 Song & Ye transformers, p=31, dim 16, mini-batch"]
    train_ensemble(budget(specs, 2), device="cpu", compile=True)
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        train_ensemble(specs, device="cpu", compile=True)
    print(f"case (a), compiled, {epochs} epochs, {torch.get_num_threads()} thread(s); {load()}")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


def run(
    epochs: int,
    plain_members: int | None,
    threads: int | None,
    scales: bool = True,
    plain_subset: int = 3,
    repeats: int = 3,
) -> list[dict]:
    if repeats < 1:
        raise ValueError(f"--repeats must be >= 1, got {repeats}")
    if threads:
        torch.set_num_threads(threads)
    rows = run_device("cpu", epochs, plain_members, scales, plain_subset, repeats)
    if torch.cuda.is_available():
        rows += run_device("cuda", epochs, plain_members, scales, plain_subset, repeats)
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
        help="time the plain loop on this many members and extrapolate (default: all of "
        "(a) and (b), --plain-subset of the scale cases)",
    )
    ap.add_argument("--plain-subset", type=int, default=3, help=argparse.SUPPRESS)
    ap.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="time each side this many times, alternating, and report the medians (default 3)",
    )
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument(
        "--no-scales", action="store_true", help="only (a) and (b), not the smoke-scale cases"
    )
    ap.add_argument(
        "--profile", type=int, default=0, metavar="N", help="profile case (a) over N epochs"
    )
    args = ap.parse_args(argv)
    if args.profile:
        if args.threads:
            torch.set_num_threads(args.threads)
        profile(args.profile)
        return
    if args.repeats < 1:
        ap.error(f"--repeats must be >= 1, got {args.repeats}")
    run(
        args.epochs,
        args.plain_members,
        args.threads,
        not args.no_scales,
        args.plain_subset,
        args.repeats,
    )


if __name__ == "__main__":
    main()
