"""Source ingesters, one module per published data set (see base.py for the contract)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

# Build order: ingesters are independent; aliases resolve through the shared Resolver.
INGESTERS = (
    "timm",
    "open_clip",
    "clip_benchmark",
    "robustbench",
    "imagenet_testbed",
    "quba",
    "study",
    "shape_bias",
    "imagenetx",
)


def get_ingester(name: str) -> Callable:
    """The `ingest(ctx, out)` function of one source module."""
    return importlib.import_module(f"advisor.store.sources.{name}").ingest
