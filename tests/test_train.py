"""The ensemble trainer against the plain loop; member independence; stopping; divergence."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grokclaims.data.tasks import TaskSpec, derive_seed
from grokclaims.engine.ensemble import Ensemble
from grokclaims.engine.plain import train_plain
from grokclaims.engine.runtime import ensemble_threads
from grokclaims.engine.train import train_ensemble
from grokclaims.families import ChopraMLP, SongYe, Tutorial, build_member
from grokclaims.families.batched import Layout
from grokclaims.spec.run import OptimSpec, RunSpec, Schedule, StopRule

NEVER = StopRule(train_acc=None, val_acc=None)


def sy_spec(seed=0, **kw) -> RunSpec:
    model = kw.pop("model", SongYe(dim=8, dropout=0.0))
    sched = kw.pop("schedule", Schedule(max_epochs=12, batch_size=64, eval_every=4))
    return RunSpec(
        task=kw.pop("task", TaskSpec(p=11)),
        model=model,
        schedule=sched,
        stop=kw.pop("stop", NEVER),
        seed=seed,
        **kw,
    )


@pytest.mark.parametrize("family", ["song_ye", "chopra_mlp", "tutorial"])
def test_one_member_ensemble_matches_module_and_torch_adamw_step_for_step(family):
    model, task = {
        "song_ye": (SongYe(dim=8, dropout=0.0), TaskSpec(p=11)),
        "chopra_mlp": (ChopraMLP(width=16), TaskSpec(p=11, op="+", encoding="one_hot")),
        "tutorial": (
            Tutorial(dim=16, heads=2, ff=32),
            TaskSpec(p=11, op="+", encoding="pair_tokens"),
        ),
    }[family]
    optim = OptimSpec(lr=3e-3, weight_decay=0.5)
    spec = RunSpec(task, model, optim=optim, schedule=Schedule(batch_size=32), seed=4)
    ens = Ensemble([spec], device="cpu")
    ref = build_member(model, task, derive_seed(4, "init"))
    opt = torch.optim.AdamW(
        ref.parameters(),
        lr=optim.lr,
        betas=optim.betas,
        eps=optim.eps,
        weight_decay=optim.weight_decay,
    )
    layout = Layout(ref)
    compared = torch.ones(layout.n_params, dtype=torch.bool)
    if family == "tutorial":
        # The attention's key bias cannot change any output (softmax ignores a constant added to
        # every score), so its gradient is 0 up to rounding noise that AdamW normalises into
        # lr-sized steps of random sign: no two implementations agree on it. Checked to be
        # zero below, and left out of the comparison.
        d = model.dim
        views = layout.views(compared[None].clone())
        for i in range(model.depth):
            views[f"transformer.layers.{i}.self_attn.in_proj_bias"][0, d : 2 * d] = False
        compared = torch.cat([v.reshape(-1) for v in views.values()])
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        idx = torch.randint(0, ens.x_train.shape[1], (32,), generator=g)
        xb, yb = ens.x_train[:, idx], ens.y_train[:, idx]
        ens.step(xb, yb)
        loss = torch.nn.functional.cross_entropy(ref(xb[0]), yb[0])
        opt.zero_grad()
        loss.backward()
        opt.step()
        mine, theirs = ens.flat[0].detach(), layout.flatten(ref)
        assert torch.allclose(mine[compared], theirs[compared], atol=1e-5)
        if family == "tutorial":
            grads = torch.cat([p.grad.reshape(-1) for p in ref.parameters()])
            assert grads[~compared].abs().max() < 1e-7


def test_ensemble_reproduces_the_plain_loop_run():
    spec = sy_spec(seed=2)
    ens = train_ensemble([spec], device="cpu")[0]
    plain = train_plain(spec, device="cpu")
    np.testing.assert_allclose(ens.trace.batch_loss, plain.trace.batch_loss, atol=1e-5)
    np.testing.assert_array_equal(ens.trace.eval_epoch, plain.trace.eval_epoch)
    np.testing.assert_allclose(ens.trace.val_acc, plain.trace.val_acc, atol=1e-6)
    np.testing.assert_allclose(ens.trace.weight_norm, plain.trace.weight_norm, atol=1e-4)


def test_member_trajectory_does_not_depend_on_the_ensemble():
    """A member with dropout trains the same inside an ensemble of 8 with other settings."""
    target = sy_spec(seed=5, model=SongYe(dim=8, dropout=0.2), task=TaskSpec(p=11, op="+"))
    others = [
        sy_spec(
            seed=s,
            model=SongYe(dim=8, dropout=d, init_scale=i),
            optim=OptimSpec(lr=lr, weight_decay=wd),
            task=TaskSpec(p=11, op=op),
        )
        for s, d, i, lr, wd, op in [
            (1, 0.0, 1.0, 1e-3, 1.0, "+"),
            (2, 0.4, 2.0, 3e-3, 0.1, "-"),
            (3, 0.1, 0.5, 1e-2, 0.0, "*"),
            (4, 0.2, 1.0, 1e-3, 3.0, "-"),
            (6, 0.3, 1.0, 3e-4, 1.0, "+"),
            (7, 0.0, 1.5, 1e-3, 1.0, "+"),
            (8, 0.2, 1.0, 2e-3, 0.3, "*"),
        ]
    ]
    alone = train_ensemble([target], device="cpu")[0]
    crowd = train_ensemble([*others[:3], target, *others[3:]], device="cpu")
    inside = crowd[3]
    # Bit-identical, not merely close: its dropout masks come from its own generator in its
    # own shape, and every batched operation computes each member's numbers on their own.
    for field in ("batch_loss", "batch_acc", "val_loss", "train_loss", "weight_norm"):
        np.testing.assert_array_equal(getattr(inside.trace, field), getattr(alone.trace, field))
    assert inside.ensemble_size == 8 and alone.ensemble_size == 1


def test_early_stopping_freezes_exactly_the_stopped_members():
    sched = Schedule(max_epochs=20, batch_size=64, eval_every=4)
    stops_now = StopRule(train_acc=0.01, val_acc=None)  # met at the first evaluation
    specs = [
        sy_spec(seed=s, schedule=sched, stop=stops_now if s in (1, 3) else NEVER) for s in range(4)
    ]
    res = train_ensemble(specs, device="cpu")
    assert [r.epochs for r in res] == [20, 4, 20, 4]
    assert [r.stopped for r in res] == [False, True, False, True]
    assert len(res[1].trace.batch_acc) == 4 and res[1].trace.eval_epoch.tolist() == [0, 4]
    # the members that kept going are unaffected by the others stopping
    solo = train_ensemble([specs[0]], device="cpu")[0]
    np.testing.assert_allclose(res[0].trace.batch_loss, solo.trace.batch_loss, atol=1e-5)
    # and a stopped member is the same as one trained alone to the same epoch
    short = sy_spec(seed=1, schedule=Schedule(max_epochs=4, batch_size=64, eval_every=4))
    np.testing.assert_allclose(
        res[1].trace.val_loss, train_ensemble([short])[0].trace.val_loss, atol=1e-5
    )


def test_patience_keeps_training_after_the_rule_is_met():
    sched = Schedule(max_epochs=20, batch_size=64, eval_every=4)
    spec = sy_spec(schedule=sched, stop=StopRule(train_acc=0.01, val_acc=None, patience=8))
    assert train_ensemble([spec])[0].epochs == 12


def test_a_diverging_member_does_not_disturb_the_others():
    specs = [sy_spec(seed=s) for s in range(3)]
    specs[1] = specs[1].replace(optim=OptimSpec(lr=1e30))
    res = train_ensemble(specs, device="cpu")
    assert [r.status for r in res] == ["completed", "diverged", "completed"]
    assert res[1].epochs < 12
    for i in (0, 2):
        solo = train_ensemble([specs[i]], device="cpu")[0]
        np.testing.assert_allclose(res[i].trace.batch_loss, solo.trace.batch_loss, atol=1e-5)


def test_training_is_deterministic_and_records_what_was_asked():
    spec = sy_spec(
        schedule=Schedule(max_epochs=8, batch_size=64, eval_every=3, record_embedding=True)
    )
    a, b = train_ensemble([spec])[0], train_ensemble([spec])[0]
    np.testing.assert_array_equal(a.trace.batch_loss, b.trace.batch_loss)
    assert a.trace.eval_epoch.tolist() == [0, 3, 6, 8]  # cadence, and always the last epoch
    assert len(a.trace.batch_acc) == 8
    assert a.extras["embedding_init"].shape == (13, 8)
    assert not np.allclose(a.extras["embedding_init"], a.extras["embedding_final"])


def test_random_target_runs_stop_at_memorisation():
    task = TaskSpec(p=11, data="random")
    spec = RunSpec(
        task,
        SongYe(dim=32, dropout=0.0),
        optim=OptimSpec(lr=1e-2, weight_decay=0.0),
        schedule=Schedule(max_epochs=300, batch_size=64, eval_every=5),
        stop=StopRule(train_acc=0.99, val_acc=None),
    )
    res = train_ensemble([spec])[0]
    assert res.stopped and res.epochs < 300
    assert res.trace.batch_acc[: res.epochs].max() >= 0.99
    assert np.isnan(res.trace.val_acc).all()


def test_ensemble_rejects_mixed_shapes_and_empty_input():
    with pytest.raises(ValueError, match="M must be >= 1"):
        train_ensemble([])
    with pytest.raises(ValueError, match="ensemble_key"):
        train_ensemble([sy_spec(), sy_spec(model=SongYe(dim=12, dropout=0.0))])


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda: Schedule(max_epochs=0), "epochs"),
        (lambda: Schedule(eval_every=0), "eval_every"),
        (lambda: Schedule(batch_size=0), "batch_size"),
        (lambda: OptimSpec(lr=0.0), "lr"),
        (lambda: OptimSpec(weight_decay=-1.0), "weight_decay"),
        (lambda: StopRule(train_acc=1.5), "train_acc"),
        (lambda: RunSpec(TaskSpec(encoding="one_hot", op="+"), SongYe()), "encoding"),
        (lambda: RunSpec(TaskSpec(data="random"), SongYe()), "val_acc"),
        (lambda: RunSpec(TaskSpec(), SongYe(), seed=-1), "seed"),
    ],
)
def test_bad_run_input_raises_with_its_message(factory, field):
    with pytest.raises(ValueError, match=field):
        factory()


def test_task_and_random_target_members_share_an_ensemble():
    """Random targets of equivalent complexity have no validation set; they still batch with
    the task's runs (same training-set size), and neither disturbs the other."""
    task = sy_spec(seed=1, task=TaskSpec(p=11, op="+"))
    random = sy_spec(seed=2, task=TaskSpec(p=11, op="+", data="random"))
    shuffled = sy_spec(seed=3, task=TaskSpec(p=11, op="+", data="shuffled"))
    together = train_ensemble([random, task, shuffled], device="cpu")
    alone = train_ensemble([task], device="cpu")[0]
    np.testing.assert_allclose(together[1].trace.val_loss, alone.trace.val_loss, atol=1e-5)
    assert np.isnan(together[0].trace.val_acc).all() and np.isnan(together[2].trace.val_acc).all()
    assert np.isfinite(together[1].trace.val_acc).all()


def _stop_epoch(epochs, met, patience: int, sustained: bool) -> int | None:
    """By hand: the first evaluation where the rule has been met since ``patience`` epochs
    (without a break, when ``sustained``)."""
    since = None
    for e, m in zip(epochs, met):
        if m and since is None:
            since = e
        elif not m and sustained:
            since = None
        if since is not None and e - since >= patience:
            return int(e)
    return None


def test_sustained_stop_rule_restarts_its_count_at_a_lapse_and_keeps_traces_bit_identical():
    """A sustained rule stops at the first evaluation where its threshold has held without a
    break for ``patience`` epochs; its trace is the never-stopping run's up to there, alone or
    inside an ensemble with other stop rules, and in the plain loop."""
    sched = Schedule(max_epochs=40, batch_size=32, eval_every=1)  # train_acc: the batches'
    fast = OptimSpec(lr=1e-2)  # a running train accuracy that rises with dips
    full = train_ensemble([sy_spec(seed=3, schedule=sched, optim=fast)], device="cpu")[0].trace
    epochs, acc = full.epochs, full.batch_acc
    patience, chosen = 3, None
    for t in np.unique(acc):  # a threshold the trace meets, loses and meets again
        a = _stop_epoch(epochs, acc >= t, patience, sustained=True)
        b = _stop_epoch(epochs, acc >= t, patience, sustained=False)
        if a is not None and b is not None and a > b:
            chosen, stop_at = float(t), a
            break
    assert chosen is not None, "no threshold with a lapse: the test lost its power"
    held = StopRule(train_acc=chosen, val_acc=None, patience=patience, sustained=True)
    first = StopRule(train_acc=chosen, val_acc=None, patience=patience)
    spec = sy_spec(seed=3, schedule=sched, optim=fast, stop=held)
    alone = train_ensemble([spec], device="cpu")[0]
    crowd = train_ensemble(
        [sy_spec(seed=1, schedule=sched), spec, spec.replace(stop=first)], device="cpu"
    )
    assert alone.stopped and alone.epochs == stop_at
    assert crowd[1].epochs == stop_at and crowd[2].epochs < stop_at  # the lapse restarted it
    np.testing.assert_array_equal(alone.trace.eval_epoch, full.eval_epoch[: stop_at + 1])
    np.testing.assert_allclose(alone.trace.val_loss, full.val_loss[: stop_at + 1], atol=1e-5)
    np.testing.assert_allclose(crowd[1].trace.val_loss, alone.trace.val_loss, atol=1e-5)
    np.testing.assert_allclose(crowd[1].trace.batch_loss, alone.trace.batch_loss, atol=1e-5)
    plain = train_plain(spec, device="cpu")
    assert plain.stopped and plain.epochs == stop_at


def test_stop_rule_advance_by_hand():
    """met at 2, 3, lapse at 4, met from 5: patience 2 stops at 4 without ``sustained`` and
    at 7 with it."""
    met = {1: False, 2: True, 3: True, 4: False, 5: True, 6: True, 7: True, 8: True}
    for sustained, expected in ((False, 4), (True, 7)):
        rule, since = StopRule(train_acc=0.5, patience=2, sustained=sustained), None
        for e, m in met.items():
            since, stop = rule.advance(since, e, m)
            if stop:
                break
        assert e == expected


def test_a_stop_rule_without_sustained_keeps_the_run_ids_of_stored_runs(monkeypatch):
    """The smoke Chopra baseline's id as stored before ``sustained`` existed (science version
    1); the option renames only the runs that use it."""
    import grokclaims
    from grokclaims.setups.sources import ChopraSetup

    monkeypatch.setattr(grokclaims, "SCIENCE_VERSION", 1)
    spec = ChopraSetup(p=31, alpha=0.9, max_epochs=4_000).spec(0)
    assert spec.run_id == "07273bffb654cf637548"
    assert "sustained" not in spec.canonical()["stop"]
    held = spec.replace(stop=StopRule(train_acc=0.99, val_acc=0.99, patience=500, sustained=True))
    assert held.run_id != spec.run_id
    assert RunSpec.from_canonical(held.canonical()) == held
    assert RunSpec.from_canonical(spec.canonical()) == spec


def test_evaluating_less_often_does_not_change_training():
    """BR1's sweep runs are evaluated only at the budget: their training and the value read there
    must be those of the same run evaluated every epoch (evaluation draws no random numbers and
    changes no weights)."""
    task = TaskSpec(p=11, op="+", alpha=0.5, encoding="pair_tokens")
    model = Tutorial(dim=16, heads=2, ff=32, depth=1)

    def spec(every):
        return RunSpec(
            task=task,
            model=model,
            schedule=Schedule(max_epochs=9, batch_size=16, eval_every=every),
            stop=NEVER,
            seed=3,
        )

    (often,) = train_ensemble([spec(1)], device="cpu")
    (once,) = train_ensemble([spec(9)], device="cpu")
    assert list(once.trace.eval_epoch)[-1] == 9 and len(once.trace.eval_epoch) < 3
    np.testing.assert_array_equal(often.trace.batch_loss, once.trace.batch_loss)
    assert often.trace.val_acc[-1] == once.trace.val_acc[-1]
    assert often.trace.val_loss[-1] == once.trace.val_loss[-1]


def test_member_trajectory_does_not_depend_on_the_ensemble_at_the_benchmarks_size():
    """The same at case (a)'s size (issue 17): a member alone holds over 32,768 elements per
    activation, so PyTorch splits its element-wise work and reductions across threads in other
    places than it does for the member inside an ensemble of 6."""
    schedule = Schedule(max_epochs=4, batch_size=512, eval_every=2)
    specs = [
        sy_spec(
            seed=s,
            model=SongYe(dim=16, dropout=0.2),
            task=TaskSpec(p=31, op="/"),
            schedule=schedule,
            optim=OptimSpec(lr=1e-3 * (1 + s), weight_decay=1.0),
        )
        for s in range(6)
    ]
    crowd = train_ensemble(specs, device="cpu")
    alone = train_ensemble([specs[4]], device="cpu")[0]
    for field in ("batch_loss", "batch_acc", "val_loss", "train_loss", "weight_norm"):
        np.testing.assert_array_equal(getattr(crowd[4].trace, field), getattr(alone.trace, field))


@pytest.mark.parametrize("dim", [6, 10])
def test_member_trajectory_does_not_depend_on_the_ensemble_at_odd_widths(dim):
    """Song & Ye at p = 23 (25 classes) and widths 6 and 10, on 2 threads: MKL rounded some of
    these products by a member's place in the batch and its address, and torch's silu by where
    a unit fell in the tensor (issue 17). Each member alone, and the ensemble rotated by one
    place, train bit for bit as in the ensemble."""
    schedule = Schedule(max_epochs=12, batch_size=512, eval_every=4)
    specs = [
        sy_spec(
            seed=s,
            model=SongYe(dim=dim, dropout=0.2),
            task=TaskSpec(p=23, op="+", alpha=0.8),
            schedule=schedule,
        )
        for s in range(5)
    ]
    fields = ("batch_loss", "batch_acc", "val_loss", "train_loss", "weight_norm")
    _assert_alike_alone_and_rotated(specs, fields)


def _assert_alike_alone_and_rotated(specs: list[RunSpec], fields: tuple[str, ...]) -> None:
    """On 2 threads, each member alone and the ensemble rotated by one place train bit for bit
    as the ensemble does, in ``fields`` of their traces."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        crowd = [r.trace for r in train_ensemble(specs, device="cpu")]
        rotated = [r.trace for r in train_ensemble(specs[1:] + specs[:1], device="cpu")]
        rotated = rotated[-1:] + rotated[:-1]  # back in the order of specs
        alone = [train_ensemble([s], device="cpu")[0].trace for s in specs]
        assert torch.get_num_threads() == 2  # a lone member's one thread is given back
    finally:
        torch.set_num_threads(before)
    for i, trace in enumerate(crowd):
        for other in (rotated[i], alone[i]):
            for field in fields:
                np.testing.assert_array_equal(getattr(trace, field), getattr(other, field))


# Odd sizes of every family: widths and class counts that are not multiples of 8.
ODD_SIZES = [
    (SongYe(dim=6, dropout=0.1), TaskSpec(p=13, op="+", alpha=0.8)),
    (ChopraMLP(width=20, depth=2, dropout=0.1), TaskSpec(p=29, op="+", encoding="one_hot")),
    (Tutorial(dim=12, heads=2, ff=20), TaskSpec(p=13, op="+", encoding="pair_tokens")),
]


@pytest.mark.parametrize(("model", "task"), ODD_SIZES, ids=lambda c: getattr(c, "family", ""))
def test_every_family_trains_a_member_alike_alone_and_at_any_place(model, task):
    """The property a new family inherits from ``batched.py``'s primitives (issue 17), checked
    at odd sizes on 2 threads: each member alone and the ensemble rotated by one place."""
    schedule = Schedule(max_epochs=6, batch_size=64, eval_every=3)
    specs = [sy_spec(seed=s, model=model, task=task, schedule=schedule) for s in range(3)]
    _assert_alike_alone_and_rotated(specs, ("batch_loss", "val_loss", "weight_norm"))


def test_an_ensemble_trains_with_at_most_one_cpu_thread_per_member():
    assert [ensemble_threads(m, 2) for m in (1, 2, 5)] == [1, 2, 2]
    assert [ensemble_threads(m, 8) for m in (1, 3, 16)] == [1, 3, 8]
    assert ensemble_threads(4, 1) == 1
