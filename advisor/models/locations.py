"""Where weights and derived artefacts live on this machine (read from the environment at call time).

Pure helpers below the backends: the Hugging Face hub cache (looked up without the network), this tool's
own cache folder, whether the hub is switched off, and the shared tail of every how-to-get message.
"""

from __future__ import annotations

import os
from pathlib import Path

from advisor.models.interface import ModelSpec


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, read from the environment at call time (tests move it)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface")
    return Path(home) / "hub"


def cache_dir() -> Path:
    """Where derived artefacts (CLIP zero-shot heads, evaluation outputs) are kept: $VISION_ADVISOR_CACHE or
    ~/.cache/vision-advisor."""
    env = os.environ.get("VISION_ADVISOR_CACHE")
    return Path(env) if env else Path(os.path.expanduser("~")) / ".cache" / "vision-advisor"


def hub_offline() -> bool:
    """HF_HUB_OFFLINE as huggingface_hub reads it, but at call time."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hf_cached(repo_id: str, filenames: list[str] | tuple[str, ...]) -> str | None:
    """The first of `filenames` present in the local Hugging Face cache for `repo_id` (no network)."""
    from huggingface_hub import try_to_load_from_cache

    for fn in filenames:
        hit = try_to_load_from_cache(repo_id, fn, cache_dir=hf_cache_dir())
        if isinstance(hit, str) and os.path.isfile(hit):
            return hit
    return None


def safe_alternatives(filename: str) -> list[str]:
    """A pickle checkpoint name preceded by its .safetensors twin (preferred: it cannot run code)."""
    names = []
    if filename.endswith((".bin", ".pth")):
        names.append(filename[:-4] + ".safetensors")
    return [*names, filename]


def hub_cache_hint(spec: ModelSpec, fetch: str) -> str:
    """The shared tail of every backend's how-to-get message: run `fetch` online, or pass a file."""
    return (f"on a machine with network access run {fetch} (it fills the Hugging Face cache, "
            f"{hf_cache_dir()}; copy that folder here if this machine is offline), or pass a local "
            f"weights file (--weights {spec.model_id}=PATH on the command line, weights_path=... in Python).")


def file_cache_hint(spec: ModelSpec, fetch: str, folder: Path) -> str:
    """The how-to-get tail for weights published as files at a URL (kept in `folder`, torch's hub cache)."""
    return (f"run `advisor probe --download -m {spec.model_id} ...` (size, source and licence are shown first), "
            f"or on a machine with network access run {fetch} and copy the file it saves in {folder} to the "
            f"same folder here, or pass a local weights file (--weights {spec.model_id}=PATH on the command line, "
            "weights_path=... in Python).")
