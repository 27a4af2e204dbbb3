"""Shared test setup: never touch the network."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")


import pytest


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
