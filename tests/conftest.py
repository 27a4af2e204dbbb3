"""Shared test setup: never touch the network."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")


from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def store_path(tmp_path_factory):
    """A store built once per test session from the shipped sources."""
    from advisor.store.build import build_store

    path = tmp_path_factory.mktemp("store") / "advisor.duckdb"
    build_store(path)
    return path


@pytest.fixture(scope="session")
def store(store_path):
    from advisor.store.store import PropertyStore

    s = PropertyStore(store_path)
    yield s
    s.close()


@pytest.fixture(scope="session")
def imagenet_samples() -> Path:
    """../shared/data/imagenet_samples (800 labelled photos; never shipped); skips when it is not beside the repo."""
    for base in (ROOT.parent, ROOT.parent.parent, Path(os.environ.get("VISION_ADVISOR_SHARED", "/nonexistent"))):
        d = base / "shared" / "data" / "imagenet_samples" if base.name != "shared" else base
        if (d / "labels.csv").is_file():
            return d
    pytest.skip("the shared ImageNet sample photos (../shared/data/imagenet_samples) are not here")
