"""Live invariance probes: how much a model's prediction moves when the user's images are transformed.

Importing this package is cheap (no torch): the public names below are loaded on first use.

    from advisor.probes import load_image, run_probe
    result = run_probe([load_image(data, "cat.jpg")], ["timm:tf_efficientnet_lite0.in1k"], ["scale"])
    result.rows, result.summary, result.to_json()
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    # images.py (PIL only)
    "IntakeResult": "images", "load_image": "images", "load_image_file": "images", "load_images": "images",
    "bundled_images": "images", "bundled_image": "images",
    # results.py (pandas only)
    "ProbeResult": "results", "ModelRun": "results", "ImageRun": "results", "summarise": "results",
    "per_magnitude": "results",
    # weights.py (no torch until a name is parsed)
    "DEFAULT_MODELS": "weights", "parse_model_id": "weights",
    # torch from here on
    "Family": "transforms", "ViewConfig": "transforms", "list_families": "transforms",
    "get_family": "transforms", "register_family": "transforms", "transformed_strip": "transforms",
    "make_variants": "transforms",
    "LoadedModel": "backends", "load_model": "backends", "probe_readiness": "backends",
    "clear_model_cache": "backends", "loaded_model_ids": "backends",
    "run_probe": "invariance", "clear_result_cache": "invariance",
    "probe_main": "cli",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
