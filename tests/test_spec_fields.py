"""Spec fields are checked against their types when a spec is made: integers are integers (not
bools or floats), rates are finite; an unknown family in a stored spec is a ValueError."""

from __future__ import annotations

import math

import pytest

from grokclaims.data.tasks import TaskSpec
from grokclaims.families import ChopraMLP, SongYe, Tutorial
from grokclaims.spec.run import OptimSpec, RunSpec, Schedule, StopRule

TASK = TaskSpec(p=5, encoding="one_hot")


def spec(**kw) -> RunSpec:
    return RunSpec(**{"task": TASK, "model": ChopraMLP(width=8), **kw})


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: spec(model=ChopraMLP(width=2.5)),
            "RunSpec.model.width must be an integer, got 2.5",
        ),
        (
            lambda: spec(model=ChopraMLP(width=8.0)),
            "RunSpec.model.width must be an integer, got 8.0",
        ),
        (lambda: spec(model=ChopraMLP(depth=True)), "RunSpec.model.depth must be an integer"),
        (
            lambda: RunSpec(TaskSpec(p=5), SongYe(dim=8.0)),
            "RunSpec.model.dim must be an integer, got 8.0",
        ),
        (
            lambda: RunSpec(TaskSpec(p=5, encoding="pair_tokens"), Tutorial(heads=2.0)),
            "RunSpec.model.heads must be an integer",
        ),
        (lambda: spec(model=ChopraMLP(init_scale=math.inf)), "RunSpec.model.init_scale must be a"),
        (lambda: spec(seed=True), "RunSpec.seed must be a non-negative integer, got True"),
        (lambda: spec(seed=1.0), "RunSpec.seed must be a non-negative integer"),
        (lambda: OptimSpec(lr=math.inf), "OptimSpec.lr must be a finite number, got inf"),
        (lambda: OptimSpec(weight_decay=math.nan), "OptimSpec.weight_decay must be a finite"),
        (lambda: OptimSpec(lr=True), "OptimSpec.lr must be a finite number, got True"),
        (lambda: OptimSpec(betas=(0.9, True)), "OptimSpec.betas must be two numbers"),
        (lambda: Schedule(max_epochs=True), "Schedule.max_epochs (epochs) must be an integer"),
        (lambda: Schedule(eval_every=2.0), "Schedule.eval_every must be an integer, got 2.0"),
        (lambda: Schedule(batch_size=64.0), "Schedule.batch_size must be an integer"),
        (lambda: StopRule(patience=1.5), "StopRule.patience must be an integer"),
        (lambda: StopRule(val_acc=math.inf), "StopRule.val_acc must be a finite number"),
        (lambda: StopRule(sustained=1), "StopRule.sustained must be True or False, got 1"),
    ],
)
def test_bad_field_values_are_clear_errors(make, message):
    with pytest.raises(ValueError) as err:
        make()
    assert message in str(err.value)


def test_good_values_still_pass_and_keep_their_identity():
    a = spec(optim=OptimSpec(lr=1e-3, weight_decay=1), schedule=Schedule(batch_size=None))
    assert RunSpec.from_canonical(a.canonical()) == a
    assert spec(stop=StopRule(train_acc=None, val_acc=1)).stop.val_acc == 1


def test_an_unknown_family_in_a_stored_spec_is_a_value_error():
    d = spec().canonical()
    d["model"] = {**d["model"], "family": "no_such_family"}
    with pytest.raises(ValueError, match="unknown model family 'no_such_family'"):
        RunSpec.from_canonical(d)
