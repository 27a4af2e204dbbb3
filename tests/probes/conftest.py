"""Probe fixtures: an empty Hugging Face cache, a private artefact cache, a tiny CLIP config."""

from __future__ import annotations

import json

import pytest

TINY_CLIP = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 1, "width": 64, "patch_size": 16},
    "text_cfg": {"context_length": 24, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}
TINY_CLIP_ID = "open_clip:test-tiny-clip"


@pytest.fixture(autouse=True)
def _offline_isolated(tmp_path_factory, monkeypatch):
    """Every probe test: offline, an empty HF cache, its own artefact cache, no cached results."""
    from advisor.probes.invariance import clear_result_cache

    root = tmp_path_factory.mktemp("caches")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(root / "hf"))
    monkeypatch.setenv("TORCH_HOME", str(root / "torch"))
    monkeypatch.setenv("VISION_ADVISOR_CACHE", str(root / "advisor"))
    clear_result_cache()
    yield
    clear_result_cache()


@pytest.fixture(scope="session")
def tiny_clip_config(tmp_path_factory) -> str:
    """Register a tiny CLIP architecture with open_clip (random weights, tests only)."""
    import open_clip

    path = tmp_path_factory.mktemp("clipcfg") / "test-tiny-clip.json"
    path.write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(path)
    return TINY_CLIP_ID


@pytest.fixture(scope="session")
def lite0():
    """The real EfficientNet-Lite0 (pip-shipped weights), loaded once; skipped without the [lite] extra."""
    from advisor.models.loaded import load_model
    from advisor.models.weights import probe_readiness

    ready, message = probe_readiness("timm:tf_efficientnet_lite0.in1k")
    if not ready:
        pytest.skip(message)
    return load_model("timm:tf_efficientnet_lite0.in1k")


@pytest.fixture(scope="session")
def cat():
    from advisor.probes.images import bundled_image, load_image_file

    return load_image_file(bundled_image("chelsea"))


@pytest.fixture(scope="session")
def coffee():
    from advisor.probes.images import bundled_image, load_image_file

    return load_image_file(bundled_image("coffee"))

