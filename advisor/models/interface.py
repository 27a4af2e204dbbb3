"""What every probe backend provides, and the pieces they share (ids, the Hugging Face cache).

A backend is one object (see `Backend`) in its own module under `advisor/probes/kinds/`, listed once in
`advisor.probes.kinds.BACKENDS`; the rest of the probes code only ever asks the registry. This module
stays light: no torch, timm or open_clip (the app imports it on start).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from advisor.probes.backends import LoadedModel
    from advisor.probes.transforms import ViewConfig

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ModelSpec:
    """A parsed, canonical model id (`timm:arch.tag` or `open_clip:Arch.tag`)."""

    model_id: str
    kind: str  # the backend's name, a key of advisor.probes.kinds.BACKENDS
    arch: str
    tag: str  # "" when the architecture has no pretrained tag (test configs)
    test_arch: bool  # a tests-only architecture: random weights allowed


@dataclass(frozen=True)
class WeightsSource:
    """Where the weights come from; `label` is the provenance shown with every result."""

    kind: str  # "file", "pip", "hf-cache", "url-cache", "download", "random"
    label: str
    path: str | None = None


@dataclass(frozen=True)
class HubFiles:
    """Where a model's weights live on the Hugging Face hub: what `download.py` asks for, in order."""

    repo: str
    filenames: tuple[str, ...]
    licence: str


@dataclass(frozen=True)
class Built:
    """A freshly built model: the module, the view it expects, its class names, any backend extra (CLIP head)."""

    module: Any  # torch.nn.Module (torch is not imported here)
    view: ViewConfig
    class_names: tuple[str, ...]
    head: Any = None  # torch.Tensor | None


@runtime_checkable
class Backend(Protocol):
    """One model library the probes can load from. Every method may raise an AdvisorError, never a traceback."""

    name: str  # the id namespace and the store's `loader` value

    def parse(self, name: str) -> ModelSpec:
        """The name after `namespace:` -> a canonical spec; UnknownNameError with suggestions if unknown."""
        ...

    def find(self, spec: ModelSpec) -> WeightsSource | None:
        """Real weights already on this machine (pip package, HF cache, URL cache), or None. Never loads."""
        ...

    def build(self, spec: ModelSpec, src: WeightsSource, templates: str = "",
              progress: Progress | None = None) -> Built:
        """The model in eval mode with the weights from `src`, and its preprocessing view."""
        ...

    def outputs(self, model: LoadedModel, x: Any) -> tuple[Any, Any]:
        """Normalised input batch -> (logits, embedding), inside the caller's inference/autocast context."""
        ...

    def how_to_get(self, spec: ModelSpec) -> str:
        """The 'how to get the weights' sentence for this model."""
        ...

    def hub_files(self, spec: ModelSpec) -> HubFiles:
        """The hub repository and file names to download; WeightsUnavailableError if the library names none."""
        ...


def is_test_arch(arch: str) -> bool:
    """A tests-only architecture (`test_*` / `test-*`): random weights are allowed for it."""
    return arch.lower().startswith(("test_", "test-"))


def spec_id(namespace: str, arch: str, tag: str) -> str:
    """The canonical id of a parsed (arch, tag)."""
    return f"{namespace}:{arch}.{tag}" if tag else f"{namespace}:{arch}"


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, read from the environment at call time (tests move it)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface")
    return Path(home) / "hub"


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
