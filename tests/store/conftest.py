"""Fixtures for the ingester tests: one build context and each ingester run once per session."""

from __future__ import annotations

import pytest

from advisor.store.build import make_context
from advisor.store.sources import get_ingester
from advisor.store.sources.base import Collector


@pytest.fixture(scope="session")
def ctx():
    return make_context()


@pytest.fixture(scope="session")
def ingest(ctx):
    """ingest('quba') -> the Collector that ingester filled (cached)."""
    done: dict[str, Collector] = {}

    def run(name: str) -> Collector:
        if name not in done:
            out = Collector()
            out.current = name
            get_ingester(name)(ctx, out)
            done[name] = out
        return done[name]

    return run
