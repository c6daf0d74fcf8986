"""The family registry: every family is registered with its whole record; unknown ones fail."""

from __future__ import annotations

import dataclasses
import pkgutil

import pytest
import torch
from torch import nn

import grokclaims.families as families
from grokclaims.data.tasks import TaskSpec
from grokclaims.families import FAMILIES, ChopraMLP, SongYe, Tutorial, family_of, get
from grokclaims.spec.run import RunSpec

# The family files of the package: everything except the shared modules.
SHARED = {"batched", "compiled", "dropout", "family", "layers"}
FAMILY_FILES = {m.name for m in pkgutil.iter_modules(families.__path__)} - SHARED

# One small spec and a task it takes, per family; a new family adds its line here.
EXAMPLES = {
    "song_ye": (SongYe(dim=8), TaskSpec(p=7)),
    "chopra_mlp": (ChopraMLP(width=8), TaskSpec(p=7, op="+", encoding="one_hot")),
    "tutorial": (Tutorial(dim=8, heads=2, ff=16), TaskSpec(p=7, op="+", encoding="pair_tokens")),
}


def test_every_family_file_is_registered_under_its_stored_name():
    # The names are in every stored spec's canonical JSON, hence in every run id.
    assert list(FAMILIES) == ["song_ye", "chopra_mlp", "tutorial"]
    assert set(FAMILIES) == FAMILY_FILES
    assert set(EXAMPLES) == set(FAMILIES)
    for name, family in FAMILIES.items():
        assert family.name == family.spec.family == name
        assert family.spec.__module__ == f"grokclaims.families.{name}"
        assert get(name) is family


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_each_family_has_spec_module_forward_flops_and_embedding(name):
    family, (model, task) = FAMILIES[name], EXAMPLES[name]
    assert dataclasses.is_dataclass(family.spec) and isinstance(model, family.spec)
    assert family_of(model) is family
    assert task.encoding in model.encodings
    assert set(model.member_fields) <= {f.name for f in dataclasses.fields(model)}
    module = family.module(model, task)
    assert isinstance(module, nn.Module)
    assert sum(p.numel() for p in module.parameters()) == model.n_params(task)
    assert callable(family.forward(model, task))
    flops = family.flops(model, task)
    assert isinstance(flops, float) and flops > 0
    params = {n: p.detach()[None] for n, p in module.named_parameters()}
    table = family.embedding(params)
    assert table.shape[:2] == (1, task.vocab_size)
    assert isinstance(table, torch.Tensor)
    assert RunSpec.from_canonical(RunSpec(task, model).canonical()).model == model


def test_an_unknown_family_gives_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown model family 'transformer'.*song_ye"):
        get("transformer")

    @dataclasses.dataclass(frozen=True)
    class Imposter(SongYe):  # the name of a family, but not its spec class
        pass

    for spec in (Imposter(dim=8), object()):
        with pytest.raises(ValueError, match="not the spec of a model family"):
            family_of(spec)
    with pytest.raises(ValueError, match=r"RunSpec\.model must be one of"):
        RunSpec(TaskSpec(p=7), Imposter(dim=8))
    stored = RunSpec(EXAMPLES["song_ye"][1], EXAMPLES["song_ye"][0]).canonical()
    stored["model"]["family"] = "transformer"
    with pytest.raises(ValueError, match="unknown model family 'transformer'"):
        RunSpec.from_canonical(stored)
