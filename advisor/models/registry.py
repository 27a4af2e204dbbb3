"""The probe backend table: id namespace -> the backend that parses, finds, builds and runs its models.

Every consumer (weights, download, model loading, the store's list of probe candidates) reads this
table; adding a model library is one module here and one entry below. Importing it is cheap: the
backends import their libraries only when asked to do something.
"""

from __future__ import annotations

from advisor.errors import UnknownNameError
from advisor.probes.kinds import open_clip, timm
from advisor.probes.kinds.base import Backend, ModelSpec

BACKENDS: dict[str, Backend] = {b.name: b for b in (timm.BACKEND, open_clip.BACKEND)}


def backend_named(namespace: str) -> Backend:
    """The backend for an id namespace; UnknownNameError naming the ones there are."""
    try:
        return BACKENDS[namespace]
    except KeyError:
        raise UnknownNameError("probe backend", namespace, list(BACKENDS)) from None


def backend_for(spec: ModelSpec) -> Backend:
    """The backend that parsed `spec`."""
    return backend_named(spec.kind)
