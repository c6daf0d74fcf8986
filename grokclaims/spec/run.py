"""What a run is: task, model, optimiser, schedule, stop rule and seed, and its identity.

A :class:`RunSpec` is a frozen dataclass. Its identity (:attr:`RunSpec.run_id`) is a hash of its
canonical JSON form together with :data:`grokclaims.SCIENCE_VERSION`, so an equal spec reuses a
stored run and any change (of a field, or of the training semantics) means a new run.
Runs whose specs share an :func:`ensemble_key` can be trained as one batched computation.

Every field is checked against its annotation when a spec is made (:func:`check_fields`): an
``int`` field takes an integer (not a bool, not 8.0), a ``float`` field a finite number, so a
bad value is a clear ``ValueError`` here, not an error inside torch or a run trained on NaN.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

from grokclaims.data.tasks import TaskSpec
from grokclaims.families import FAMILIES, ModelSpec, family_of, get, shape_of

TRAIN_ACC_SOURCES = ("batches", "eval")


def check_fields(obj: Any, where: str) -> None:
    """Each ``int`` / ``float`` field (or ``... | None``) of the dataclass ``obj`` holds an
    integer (bools and floats refused) / a finite real number; ``ValueError`` otherwise."""
    for f in dataclasses.fields(obj):
        kind = str(f.type).replace(" ", "")
        optional = kind.endswith("|None")
        kind = kind.removesuffix("|None")
        value = getattr(obj, f.name)
        if value is None and optional:
            continue
        is_bool = isinstance(value, bool) or type(value).__name__ == "bool_"
        if kind == "int" and (is_bool or not isinstance(value, numbers.Integral)):
            raise ValueError(f"{where}.{f.name} must be an integer, got {value!r}")
        if kind == "float" and (
            is_bool or not isinstance(value, numbers.Real) or not math.isfinite(value)
        ):
            raise ValueError(f"{where}.{f.name} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class OptimSpec:
    """AdamW. ``lr`` and ``weight_decay`` may differ between members of one ensemble."""

    lr: float = 1e-3
    weight_decay: float = 1.0
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-8

    member_fields = ("lr", "weight_decay")

    def __post_init__(self) -> None:
        check_fields(self, "OptimSpec")
        betas = tuple(self.betas)
        if not all(isinstance(b, numbers.Real) and not isinstance(b, bool) for b in betas):
            raise ValueError(f"OptimSpec.betas must be two numbers in [0, 1), got {self.betas}")
        object.__setattr__(self, "betas", tuple(float(b) for b in betas))
        if not self.lr > 0:
            raise ValueError(f"OptimSpec.lr must be > 0, got {self.lr}")
        if self.weight_decay < 0:
            raise ValueError(f"OptimSpec.weight_decay must be >= 0, got {self.weight_decay}")
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"OptimSpec.betas must be two numbers in [0, 1), got {self.betas}")
        if not self.eps > 0:
            raise ValueError(f"OptimSpec.eps must be > 0, got {self.eps}")


@dataclass(frozen=True)
class Schedule:
    """How long and how a run trains, and how often it is measured.

    ``train_acc`` names the train accuracy that the stop rule (and train milestones) use:
    ``"batches"`` is the running mean over the epoch's mini-batches while training (dropout
    active, parameters changing: how Song & Ye measure it, recorded every epoch at no cost);
    ``"eval"`` is a separate evaluation pass (dropout off) every ``eval_every`` epochs.
    """

    max_epochs: int = 5000
    batch_size: int | None = 512  # None: full batch
    eval_every: int = 10
    train_acc: str = "batches"
    record_embedding: bool = False  # keep the token embedding at initialisation and at the end

    def __post_init__(self) -> None:
        if isinstance(self.max_epochs, bool) or not isinstance(self.max_epochs, int):
            raise ValueError(
                f"Schedule.max_epochs (epochs) must be an integer >= 1, got {self.max_epochs!r}"
            )
        check_fields(self, "Schedule")
        if self.max_epochs < 1:
            raise ValueError(
                f"Schedule.max_epochs (epochs) must be an integer >= 1, got {self.max_epochs!r}"
            )
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"Schedule.batch_size must be >= 1 or None, got {self.batch_size}")
        if self.eval_every < 1:
            raise ValueError(f"Schedule.eval_every must be >= 1, got {self.eval_every}")
        if self.train_acc not in TRAIN_ACC_SOURCES:
            raise ValueError(
                f"Schedule.train_acc must be one of {TRAIN_ACC_SOURCES}, got {self.train_acc!r}"
            )


@dataclass(frozen=True)
class StopRule:
    """Stop a member at the first evaluation where every given threshold is met.

    ``None`` disables a threshold; with both disabled the member trains its whole budget.
    ``patience`` keeps training that many epochs after the rule is first met (so that what
    happens after a milestone, e.g. the weight norm settling, is observed). With ``sustained``
    the thresholds must also hold at every evaluation of those ``patience`` epochs: a lapse
    restarts the count, so a member stops at the first evaluation where the rule has held
    without a break for ``patience`` epochs (its final state is read in a settled period, not
    inside a loss spike). ``sustained`` is left out of the canonical form when False, so the
    runs of every spec without it keep their ids.
    """

    train_acc: float | None = 0.99
    val_acc: float | None = 0.99
    patience: int = 0
    sustained: bool = False

    def __post_init__(self) -> None:
        check_fields(self, "StopRule")
        for name in ("train_acc", "val_acc"):
            v = getattr(self, name)
            if v is not None and not 0.0 < v <= 1.0:
                raise ValueError(f"StopRule.{name} must lie in (0, 1] or be None, got {v}")
        if self.patience < 0:
            raise ValueError(f"StopRule.patience must be >= 0, got {self.patience}")
        if not isinstance(self.sustained, bool):
            raise ValueError(f"StopRule.sustained must be True or False, got {self.sustained!r}")

    @property
    def enabled(self) -> bool:
        return self.train_acc is not None or self.val_acc is not None

    def advance(self, since: int | None, epoch: int, met: bool) -> tuple[int | None, bool]:
        """One evaluation at ``epoch`` where the thresholds are ``met`` (or not): returns the
        epoch the rule counts its patience from (None: not counting) and whether the member
        stops now. ``since`` is the value returned at the previous evaluation."""
        if met and since is None:
            since = epoch
        elif not met and self.sustained:
            since = None
        return since, since is not None and epoch - since >= self.patience


@dataclass(frozen=True)
class RunSpec:
    task: TaskSpec
    model: ModelSpec
    optim: OptimSpec = field(default_factory=OptimSpec)
    schedule: Schedule = field(default_factory=Schedule)
    stop: StopRule = field(default_factory=StopRule)
    seed: int = 0

    def __post_init__(self) -> None:
        for part, where in ((self.task, "RunSpec.task"), (self.model, "RunSpec.model")):
            if dataclasses.is_dataclass(part):
                check_fields(part, where)
        for part, kind in (
            (self.optim, OptimSpec),
            (self.schedule, Schedule),
            (self.stop, StopRule),
        ):
            if not isinstance(part, kind):
                raise ValueError(f"RunSpec: expected a {kind.__name__}, got {part!r}")
        try:
            family_of(self.model)
        except ValueError:
            raise ValueError(
                f"RunSpec.model must be one of {list(FAMILIES)}, got {self.model!r}"
            ) from None
        if self.task.encoding not in self.model.encodings:
            raise ValueError(
                f"RunSpec.task.encoding {self.task.encoding!r} does not fit the "
                f"{self.model.family} model (takes {self.model.encodings})"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"RunSpec.seed must be a non-negative integer, got {self.seed!r}")
        if self.stop.val_acc is not None and self.task.n_val == 0:
            raise ValueError(
                "RunSpec.stop.val_acc is set but the task has no validation set "
                f"(data={self.task.data!r})"
            )

    def canonical(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["model"] = {"family": self.model.family, **d["model"]}
        if not self.stop.sustained:  # added after runs were stored: absent at its default
            del d["stop"]["sustained"]
        return d

    @property
    def run_id(self) -> str:
        # Read at call time, not import time: a bump (or a test's monkeypatch) renames runs.
        from grokclaims import SCIENCE_VERSION

        text = json.dumps(
            {"science_version": SCIENCE_VERSION, **self.canonical()},
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    @property
    def n_params(self) -> int:
        return self.model.n_params(self.task)

    def replace(self, **changes) -> RunSpec:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_canonical(cls, d: dict[str, Any]) -> RunSpec:
        model = dict(d["model"])
        family = get(model.pop("family")).spec
        optim = dict(d["optim"])
        optim["betas"] = tuple(optim["betas"])
        return cls(
            task=TaskSpec(**d["task"]),
            model=family(**model),
            optim=OptimSpec(**optim),
            schedule=Schedule(**d["schedule"]),
            stop=StopRule(**d["stop"]),
            seed=d["seed"],
        )


def ensemble_key(spec: RunSpec) -> tuple:
    """Specs with equal keys have the same shapes and can be trained as one ensemble.

    Members may differ in seed, data (op, split, data kind, validation size; not the training
    set size), dropout, init scale, learning rate, weight decay and stop rule.
    """
    t = spec.task
    optim = dataclasses.replace(spec.optim, lr=1e-3, weight_decay=0.0)
    return (shape_of(spec.model), t.p, t.encoding, t.n_train, spec.schedule, optim)
