"""The compiled engine (Song & Ye on a CPU): the eager engine's maths with its own dropout
masks, member by member independent of the ensemble, and only where it is asked for and can
be."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grokclaims.data.tasks import TaskSpec
from grokclaims.engine.ensemble import Ensemble
from grokclaims.engine.train import train_ensemble
from grokclaims.families import ChopraMLP, SongYe
from grokclaims.families.song_ye import song_ye_forward
from grokclaims.spec.run import RunSpec, Schedule, StopRule

NEVER = StopRule(train_acc=None, val_acc=None)
# An odd width, class count and number of examples (264), dropout on; full batch (each
# mini-batch size would be a shape of its own to compile).
ODD = dict(task=TaskSpec(p=23, op="+"), model=SongYe(dim=10, dropout=0.1))


def spec(seed: int, epochs: int = 6, stop: StopRule = NEVER, **kw) -> RunSpec:
    schedule = Schedule(max_epochs=epochs, batch_size=None, eval_every=3)
    return RunSpec(**(ODD | kw), schedule=schedule, stop=stop, seed=seed)


def traces(specs, compile: bool) -> list:
    return [r.trace for r in train_ensemble(specs, device="cpu", compile=compile)]


def test_a_compiled_member_trains_alike_alone_and_at_any_place():
    """Compiled kernels decide their threading by shape; a member's numbers must not follow.
    On 2 threads: each member alone (on one thread) and the ensemble rotated by one place."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        specs = [spec(s) for s in range(5)]
        crowd = traces(specs, compile=True)
        rotated = traces(specs[1:] + specs[:1], compile=True)
        rotated = rotated[-1:] + rotated[:-1]
        alone = [traces([s], compile=True)[0] for s in specs]
    finally:
        torch.set_num_threads(before)
    for i, trace in enumerate(crowd):
        for other in (rotated[i], alone[i]):
            for field in ("batch_loss", "val_loss", "weight_norm"):
                np.testing.assert_array_equal(getattr(trace, field), getattr(other, field))


def step_losses(specs: list[RunSpec], epochs: int, compile: bool) -> tuple[torch.Tensor, ...]:
    """Every step's losses (steps, M) and the final weight norms (M,): compiled, or eagerly
    with the compiled engine's dropout masks (drawn from the same keys)."""
    ens = Ensemble(specs, "cpu", compile=compile)
    if not compile:
        ens.forward = song_ye_forward(specs[0].model, specs[0].task, counter=True)
    losses = [ens.step(xb, yb)[0] for _ in range(epochs) for xb, yb in ens.batches()]
    return torch.stack(losses), ens.weight_norm()


@pytest.mark.parametrize("model", [ODD["model"], SongYe(dim=8, heads=2, dropout=0.1)])
def test_the_compiled_engine_computes_the_eager_engines_maths(model):
    """The same run, compiled and eager with the same (counter-based) dropout masks: equal up
    to rounding (fused element-wise chains round differently), and not bit for bit. Two heads
    add the authors' biased projection with its dropout."""
    specs = [spec(s, model=model) for s in range(2)]
    eager, eager_norm = step_losses(specs, 8, compile=False)
    fused, fused_norm = step_losses(specs, 8, compile=True)
    torch.testing.assert_close(fused, eager, rtol=2e-4, atol=0)
    torch.testing.assert_close(fused_norm, eager_norm, rtol=1e-5, atol=0)
    assert not torch.equal(fused, eager)


def test_the_compiled_engine_draws_its_own_dropout_masks():
    """Its masks come from a counter-based generator (tests/test_counter_dropout.py), not the
    eager engine's draws: with dropout, a compiled run is another sample than the eager run of
    its seed (its first loss differs beyond rounding); without, the same run up to rounding."""
    specs = [spec(0)]
    fused = step_losses(specs, 1, compile=True)[0][0, 0].item()
    eager = traces(specs, compile=False)[0].batch_loss[0]
    assert abs(fused - eager) > 2e-4 * eager
    plain = [spec(0, model=SongYe(dim=10, dropout=0.0))]
    fused_trace, eager_trace = traces(plain, compile=True)[0], traces(plain, compile=False)[0]
    np.testing.assert_allclose(fused_trace.batch_loss, eager_trace.batch_loss, rtol=2e-4)


def test_members_that_stop_leave_a_compiled_ensemble_that_goes_on():
    """Stopped members shrink the ensemble (a new shape: compiled again, never eager); the
    others' traces are those they have in an ensemble where nobody stops."""
    early = StopRule(train_acc=0.01, val_acc=None)  # met at the first evaluation
    specs = [spec(0, epochs=9), spec(1, epochs=9, stop=early), spec(2, epochs=9)]
    results = train_ensemble(specs, device="cpu", compile=True)
    assert [r.epochs for r in results] == [9, 3, 9]
    together = traces([specs[0], spec(1, epochs=9), specs[2]], compile=True)
    for i in (0, 2):
        np.testing.assert_array_equal(results[i].trace.batch_loss, together[i].batch_loss)


def test_compiling_is_asked_for_and_only_taken_where_a_family_and_device_can():
    sy = [spec(0)]
    mlp = RunSpec(
        TaskSpec(p=11, op="+", encoding="one_hot"),
        ChopraMLP(width=16),
        seed=0,
        schedule=Schedule(max_epochs=2, batch_size=None, eval_every=1),
    )
    assert not Ensemble(sy, "cpu").compiled  # eager unless asked
    assert Ensemble(sy, "cpu", compile=True).compiled
    assert not Ensemble([mlp], "cpu", compile=True).compiled  # the MLP has no compiled forward
    if not torch.cuda.is_available():
        pytest.skip("no GPU: compiling on a GPU is not offered (checked with one when lent)")
    assert not Ensemble(sy, "cuda", compile=True).compiled


def test_a_compiled_ensemble_computes_alike_on_any_number_of_threads():
    """A shape's kernels are compiled once, for the threads of that moment, and may run later
    on other threads: its reductions over examples must not be shared among threads (they are
    :func:`~grokclaims.families.batched.sum_examples`, computed as the eager engine does)."""
    before = torch.get_num_threads()
    specs = [spec(s) for s in range(5)]

    def gradient(threads: int) -> torch.Tensor:
        torch.set_num_threads(threads)
        ens = Ensemble(specs, "cpu", compile=True)
        ((xb, _),) = ens.batches()
        logits = ens.forward(ens.params(), xb, ens.dropout)
        return torch.autograd.grad(logits.sum(), ens.flat)[0]

    try:
        on_two, on_one = gradient(2), gradient(1)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(on_two, on_one)
