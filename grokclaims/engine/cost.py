"""What a run costs: FLOPs per epoch, and a time estimate for the plan mode.

FLOPs count the matrix products of training (forward + backward = 3 forwards per example) and
of the evaluation passes; norms, activations and attention softmax are left out. Time =
FLOPs / an effective throughput per device kind. The throughputs are what the ensemble engine
reached on small models (``python -m grokclaims.bench``): on the 2-core CI CPU about 25 GFLOP/s
with two threads; on a GPU an assumption, not a measurement (no GPU was available when this was
written): 2 TFLOP/s, a few per cent of an H100's dense peak, since these models are small.
"""

from __future__ import annotations

from grokclaims.families import family_of
from grokclaims.spec.run import RunSpec

EFFECTIVE_FLOPS = {"cpu": 25e9, "cuda": 2e12}


def forward_flops_per_example(spec: RunSpec) -> float:
    """Multiply-adds x 2 of one forward pass (matmuls only)."""
    return family_of(spec.model).flops(spec.model, spec.task)


def epoch_flops(spec: RunSpec) -> float:
    """Training plus the evaluation passes, per epoch."""
    t = spec.task
    evals = (t.n_train + t.n_val) / spec.schedule.eval_every
    return forward_flops_per_example(spec) * (3.0 * t.n_train + evals)


def estimate_seconds(spec: RunSpec | dict, device: str | None = "cpu") -> float:
    """Upper-bound time of a run at its whole epoch budget on a device kind."""
    if isinstance(spec, dict):
        spec = RunSpec.from_canonical(spec)
    kind = "cuda" if device and str(device).startswith("cuda") else "cpu"
    return epoch_flops(spec) * spec.schedule.max_epochs / EFFECTIVE_FLOPS[kind]
