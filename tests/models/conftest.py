"""Model-backend fixtures: offline, empty HF / torch-hub caches, a private artefact cache, no loaded models."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _offline_isolated(tmp_path_factory, monkeypatch):
    from advisor.models.loaded import clear_model_cache

    root = tmp_path_factory.mktemp("caches")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(root / "hf"))
    monkeypatch.setenv("TORCH_HOME", str(root / "torch"))
    monkeypatch.setenv("VISION_ADVISOR_CACHE", str(root / "advisor"))
    clear_model_cache()
    yield
    clear_model_cache()


@pytest.fixture
def images01():
    """A known input: seeded random [0, 1] images."""
    import torch

    g = torch.Generator().manual_seed(7)
    return lambda size=224, n=2: torch.rand(n, 3, size, size, generator=g)
