"""The ``grok`` fixture: a claim test's :class:`~grokclaims.plugin.context.Claim`."""

from __future__ import annotations

import pytest

from grokclaims.plugin.state import claim_key, state_key


@pytest.fixture
def grok(request: pytest.FixtureRequest):
    """The claim's handle on runs, measurements, figures and its verdict."""
    # Imported here: the plugin loads in every session of the venv, torch only in claim tests.
    from grokclaims.plugin.activation import activate
    from grokclaims.plugin.context import Claim
    from grokclaims.plugin.registry import session_registry
    from grokclaims.setups.scales import get_scale, source_of

    marker = request.node.get_closest_marker("claim")
    if marker is None:
        raise pytest.UsageError(f"{request.node.nodeid}: the grok fixture needs a claim marker")
    config = request.config
    activate(config)  # no-op once active (a claim test was collected)
    state = config.stash[state_key]
    s = state["settings"]
    scale = get_scale(s["scale"])
    doc = (request.function.__doc__ or "").strip()
    claim = Claim(
        claim_id=marker.kwargs["id"],
        test_id=_test_id(marker.kwargs["id"], request.node),
        statement=marker.kwargs["statement"],
        source=marker.kwargs.get("source", ""),
        quote=doc,
        scale=scale,
        seeds=scale.seed_list(s["seeds"], source_of(marker.kwargs["id"])),
        device=s["device"] or ("cuda" if s["n_gpus"] and _has_cuda() else None),
        registry=session_registry(config),
        plan=s["plan"],
        progress_dir=s.get("progress_dir"),
    )
    request.node.stash[claim_key] = claim
    return claim


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _test_id(claim_id: str, item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    return f"{claim_id}[{callspec.id}]" if callspec is not None else claim_id
