"""Source ingesters, one module per published data set (see base.py for the contract).

`INGESTERS` is the one registry of sources: each entry names its module, the folders under
precomputed/sources/ it reads, the id namespaces it creates for models no loader names, and its
metadata priority. Adding a source is one entry here plus its module, its SOURCE.md and its test
(tests/store/test_registry.py checks all three).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from advisor.store.sources import (
    antialiased_cnns,
    clip_benchmark,
    imagenet_testbed,
    imagenetx,
    libraries,
    open_clip,
    quba,
    robustbench,
    shape_bias,
    study,
    timm,
)

# The ingester modules by name, imported plainly so the import graph (lint-imports, grimp) sees them.
MODULES: dict[str, ModuleType] = {m.__name__.rsplit(".", 1)[-1]: m for m in (
    antialiased_cnns, clip_benchmark, imagenet_testbed, imagenetx, libraries, open_clip, quba, robustbench,
    shape_bias, study, timm)}


@dataclass(frozen=True)
class IngesterSpec:
    name: str  # module advisor.store.sources.<name>; also tests/store/test_source_<name>.py
    folders: tuple[str, ...]  # folders under precomputed/sources/ it reads (each has a SOURCE.md)
    namespaces: tuple[str, ...]  # id namespaces it creates for models without a loader id
    priority: int  # whose metadata wins when several sources describe one model: lower wins
    creates_models: bool = True  # False: it only describes models other sources score (library metadata)

    def ingest(self) -> Callable:
        """The module's `ingest(ctx, out)` function."""
        return MODULES[self.name].ingest


# Build order (ingesters are independent; aliases resolve through the shared Resolver).
INGESTERS: tuple[IngesterSpec, ...] = (
    IngesterSpec("timm", ("timm",), ("timm",), priority=1),
    IngesterSpec("open_clip", ("open_clip",), ("open_clip",), priority=2),
    IngesterSpec("clip_benchmark", ("clip_benchmark",), (), priority=5),
    IngesterSpec("robustbench", ("robustbench",), ("robustbench",), priority=6),
    IngesterSpec("imagenet_testbed", ("imagenet_testbed",), ("testbed",), priority=7),
    IngesterSpec("quba", ("quba",), ("quba", "torchvision", "hf"), priority=4),
    IngesterSpec("study", ("beyond_inet_paper",), ("study",), priority=0),
    IngesterSpec("shape_bias", ("beyond_inet", "model_vs_human", "vlm_shapebias", "biases_vs_generalization"),
                 ("mvh", "bvg", "vlm"), priority=8),
    IngesterSpec("imagenetx", ("imagenetx",), ("imagenetx",), priority=9),
    IngesterSpec("antialiased_cnns", ("antialiased_cnns",), ("antialiased",), priority=10),
    # The libraries' own metadata (licence, input size, data, weights file) beats every paper's table but the
    # study's and the libraries' results files; values it computed from the architecture lose to any published one.
    IngesterSpec("libraries", ("libraries",), (), priority=3, creates_models=False),
)
BY_NAME = {spec.name: spec for spec in INGESTERS}


def get_ingester(name: str) -> Callable:
    """The `ingest(ctx, out)` function of one source module (KeyError for an unregistered one)."""
    return BY_NAME[name].ingest()


def metadata_priority(name: str) -> int:
    """The registered priority of an ingester (lower wins the metadata merge)."""
    return BY_NAME[name].priority
