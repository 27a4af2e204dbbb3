"""Where a model's real weights are on this machine: names -> a weights source, without loading.

Order: a file the user gives; what the model's backend finds (weights shipped by a pip package, the
Hugging Face cache, the older torch-hub / open_clip URL caches). Nothing here touches the network: a model
whose weights are not present gets a WeightsUnavailableError saying how to get them. Random weights exist
only for test architectures (`test_*`) or an explicit `allow_random=True`, and say so.
"""

from __future__ import annotations

from pathlib import Path

from advisor.errors import AdvisorError, UnknownNameError, WeightsUnavailableError
from advisor.models.checkpoints import check_weights_file, unavailable
from advisor.models.interface import ModelSpec, WeightsSource
from advisor.models.registry import backend_for, parse_model_id


def how_to_get(spec: ModelSpec) -> str:
    """The 'how to get them' part of the message, specific to the model's source."""
    return backend_for(spec).how_to_get(spec)


def find_local(spec: ModelSpec) -> WeightsSource | None:
    """Real weights the backend finds on this machine (no user file, no random fallback), or None."""
    return backend_for(spec).find(spec)


def find_weights(spec: ModelSpec, weights_path: str | Path | None = None, *,
                 allow_random: bool = False, detail: str = "") -> WeightsSource:
    """The first source that has real weights; never loads them. Raises WeightsUnavailableError
    (with `detail` saying why, e.g. that the hub is switched off) when there are none."""
    if weights_path is not None:
        p = check_weights_file(spec, weights_path)
        return WeightsSource("file", f"file:{p.name}", str(p))
    found = find_local(spec)
    if found is not None:
        return found
    if allow_random or spec.test_arch:
        return WeightsSource("random", "random")
    raise unavailable(spec, how_to_get(spec), detail)


def ready_model_ids(model_ids: list[str] | tuple[str, ...]) -> frozenset[str]:
    """The ids whose real weights are present offline (looks for files; loads no weights)."""
    ready = set()
    for mid in model_ids:
        try:
            src = find_weights(parse_model_id(mid))
        except (UnknownNameError, WeightsUnavailableError, ValueError):
            continue
        if src.origin != "random":
            ready.add(mid)
    return frozenset(ready)


def probe_readiness(model_id: str, weights_path: str | Path | None = None) -> tuple[bool, str]:
    """Can this model be run here with real weights? Cheap: looks for the files, loads nothing."""
    try:
        spec = parse_model_id(model_id)
        src = find_weights(spec, weights_path)
    except AdvisorError as e:
        return False, str(e)
    if src.origin == "random":
        return True, f"{spec.model_id}: test architecture, random weights (not a real model)"
    return True, f"{spec.model_id}: real weights from {src.label}"
