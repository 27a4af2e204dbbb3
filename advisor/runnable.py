"""Which models can run on this machine: one rule for the Probe and Evaluate pages (and `--probe-ready`).

A model can run here when a backend builds it (an obtainable store model of a backend namespace or route) and
its real weights are on this machine; the pip-bundled models are always offered when present. Everything else
the user may ask for is either obtainable (offered for download) or not (said why).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from advisor.models import registry
from advisor.models.registry import loadable_model_ids
from advisor.models.weights import probe_readiness, ready_model_ids

TOP_N = 10  # the top of the ranking whose missing weights are offered for download
N_DEFAULT = 2  # models preselected


def ready_here(models: pd.DataFrame) -> frozenset[str]:
    """Store models a backend builds whose real weights are here (the `advisor rank --probe-ready` set)."""
    return ready_model_ids(loadable_model_ids(models))


@dataclass(frozen=True)
class RunnableModels:
    options: tuple[str, ...]  # models that can run here: ranking order first, then the bundled ones, then A-Z
    default: tuple[str, ...]  # preselected: the best-ranked ones that can run, else a bundled one
    missing: tuple[str, ...]  # obtainable top-ranked models whose weights are not here (offer a download)


def runnable_models(ranked: Sequence[str], loadable: Iterable[str], ready: Iterable[str],
                    bundled_ready: Iterable[str] = (), top_n: int = TOP_N, n_default: int = N_DEFAULT
                    ) -> RunnableModels:
    """The model choices of a page that runs models, from the current ranking and what is here.

    `loadable`: `loadable_model_ids(store models)`; `ready`: `ready_here(store models)`; `bundled_ready`: the
    bundled models that can run (`bundled_ready()`)."""
    ready_set = set(ready) | set(bundled_ready)
    loadable_set = set(loadable)
    bundled = [m for m in registry.DEFAULT_MODELS if m in ready_set]
    options = tuple(dict.fromkeys([*(m for m in ranked if m in ready_set), *bundled, *sorted(ready_set)]))
    top = [m for m in ranked if m in loadable_set][:top_n]
    default = tuple([m for m in top if m in ready_set][:n_default] or bundled[:1])
    return RunnableModels(options, default, tuple(m for m in top if m not in ready_set))


def bundled_ready() -> frozenset[str]:
    """The bundled out-of-the-box models that can run (their pip-installed weights; a test architecture
    swapped in for them runs with random weights and says so)."""
    return frozenset(m for m in registry.DEFAULT_MODELS if probe_readiness(m)[0])
