"""The model families, and the registry that finds a spec's family.

Owns the architectures: one file per family (``song_ye``, ``chopra_mlp``, ``tutorial``) with its
spec dataclass, reference ``nn.Module``, batched forward and FLOP count, registered below;
``family`` (the :class:`~grokclaims.families.family.Family` record), ``layers`` (``nn`` building
blocks), ``batched`` (the flat parameter layout and the batched primitives), ``dropout``
(per-member dropout) and ``compiled`` (compiled forwards) are shared by the families. Imports
``grokclaims.data`` only.

The reference modules are the definition: the ensemble engine initialises every member by
building its family's module under the member's seed (:func:`build_member`), and the tests
check that each batched forward equals its module. Initialisation is PyTorch's default;
``init_scale`` multiplies every parameter afterwards.

A new family is a new file ending in its ``Family`` record, that record added to
:data:`FAMILIES` here, and its cases in ``tests/test_families.py`` (``EXAMPLES``) and
``tests/test_models.py`` (``CASES``: the batched forward against the module).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from grokclaims.data.tasks import TaskSpec
from grokclaims.families.chopra_mlp import CHOPRA_MLP, ChopraMLP
from grokclaims.families.family import Family, ModelSpec
from grokclaims.families.song_ye import SONG_YE, SongYe
from grokclaims.families.tutorial import TUTORIAL, Tutorial

__all__ = [
    "FAMILIES",
    "ChopraMLP",
    "Family",
    "ModelSpec",
    "SongYe",
    "Tutorial",
    "build_member",
    "family_of",
    "get",
    "shape_of",
]

FAMILIES: dict[str, Family] = {f.name: f for f in (SONG_YE, CHOPRA_MLP, TUTORIAL)}


def get(name: str) -> Family:
    """The family of that name (the ``family`` of a stored spec)."""
    if name not in FAMILIES:
        raise ValueError(f"unknown model family {name!r}; the families are {list(FAMILIES)}")
    return FAMILIES[name]


def family_of(model: ModelSpec) -> Family:
    """The family of a model spec."""
    family = FAMILIES.get(getattr(model, "family", None))
    if family is None or type(model) is not family.spec:
        raise ValueError(
            f"{model!r} is not the spec of a model family; the families are {list(FAMILIES)}"
        )
    return family


def shape_of(model: ModelSpec) -> ModelSpec:
    """The architecture without its per-member fields: members of one ensemble share it."""
    defaults = {f: type(model).__dataclass_fields__[f].default for f in model.member_fields}
    return dataclasses.replace(model, **defaults)


def build_member(model: ModelSpec, task: TaskSpec, init_seed: int) -> nn.Module:
    """PyTorch's default initialisation drawn from a private RNG stream, then ``init_scale``."""
    module_class = family_of(model).module
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init_seed)
        module = module_class(model, task)
    if model.init_scale != 1.0:
        with torch.no_grad():
            for prm in module.parameters():
                prm.mul_(model.init_scale)
    return module
