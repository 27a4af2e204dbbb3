"""The backend interface and the records that pass through it: the bottom layer of `advisor.models`.

A backend is one object (see `Backend`) in its own module under `advisor/models/backends/`, listed once in
`advisor.models.registry.BACKENDS`; everything above the registry only ever asks the registry. Optional
capabilities are further protocols a backend may also satisfy (`ZeroShotBackend`). This module imports
nothing from the project and no torch, timm or open_clip (the app imports it on start).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ModelSpec:
    """A parsed, canonical model id (`timm:arch.tag` or `open_clip:Arch.tag`)."""

    model_id: str
    backend: str  # the backend's name, a key of advisor.models.registry.BACKENDS
    arch: str
    tag: str  # "" when the architecture has no pretrained tag (test configs)
    test_arch: bool  # a tests-only architecture: random weights allowed


@dataclass(frozen=True)
class WeightsSource:
    """Where the weights come from; `label` is the provenance shown with every result."""

    origin: str  # "file", "pip", "hf-cache", "url-cache", "random"
    label: str
    path: str | None = None


@dataclass(frozen=True)
class HubFiles:
    """Where a model's weights live on the Hugging Face hub: what `download.py` asks for, in order."""

    repo: str
    filenames: tuple[str, ...]
    licence: str


@dataclass(frozen=True)
class UrlFile:
    """A weights file published at a URL (not on the hub): where it goes in torch's hub cache, how to check it."""

    url: str
    filename: str  # its name in the torch-hub cache ($TORCH_HOME/hub/checkpoints)
    sha256: str = ""  # the published sha256 or its first hex digits (torch.hub's `name-<sha>.pth`); "" if none
    licence: str = "see the publisher's page"


@dataclass(frozen=True)
class ViewConfig:
    """How a model wants its input: timm's data config / open_clip's preprocess config."""

    input_size: tuple[int, int] = (224, 224)  # (height, width)
    crop_pct: float = 0.875
    crop_mode: str = "center"  # "center" or "squash"; others are treated as "center"
    interpolation: str = "bicubic"
    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Built:
    """A freshly built model: the module, the view it expects, its class names, any backend extra (CLIP head)."""

    module: Any  # torch.nn.Module (torch is not imported here)
    view: ViewConfig
    class_names: tuple[str, ...]
    head: Any = None  # torch.Tensor | None


@dataclass(frozen=True, eq=False)
class ZeroShotHead:
    """A classifier over any class names, made from text prompts: logits = scale x embedding @ weights."""

    weights: Any  # torch.Tensor (embed_dim, classes), unit columns
    scale: float
    classnames: tuple[str, ...]
    templates: tuple[str, ...]

    def logits(self, embeddings: Any) -> Any:
        """Float64 logits (numpy) for image embeddings as the backend's `outputs` returns them (numpy)."""
        return self.scale * embeddings @ self.weights.double().numpy()


@runtime_checkable
class Backend(Protocol):
    """One model library the models can load from. Every method may raise an AdvisorError, never a traceback."""

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

    def outputs(self, built: Built, x: Any) -> tuple[Any, Any]:
        """Normalised input batch -> (logits, embedding), inside the caller's inference/autocast context."""
        ...

    def how_to_get(self, spec: ModelSpec) -> str:
        """The 'how to get the weights' sentence for this model."""
        ...

    def hub_files(self, spec: ModelSpec) -> HubFiles:
        """The hub repository and file names to download; WeightsUnavailableError if the library names none."""
        ...


@runtime_checkable
class ZeroShotBackend(Protocol):
    """Capability: the backend's models classify images by class *names* (image-text models such as CLIP)."""

    def zero_shot_head(self, spec: ModelSpec, built: Built, src: WeightsSource, classnames: Sequence[str],
                       templates: str | Sequence[str] = "", progress: Progress | None = None) -> ZeroShotHead:
        """A head over `classnames` from prompt `templates` (a named set, or the templates themselves)."""
        ...


@runtime_checkable
class UrlFilesBackend(Protocol):
    """Capability: (some of) the model's weights are files at URLs; `download.py` fetches them with consent."""

    def url_files(self, spec: ModelSpec) -> tuple[UrlFile, ...]:
        """Every URL file the model needs, in order."""
        ...


def is_test_arch(arch: str) -> bool:
    """A tests-only architecture (`test_*` / `test-*`): random weights are allowed for it."""
    return arch.lower().startswith(("test_", "test-"))


def spec_id(namespace: str, arch: str, tag: str) -> str:
    """The canonical id of a parsed (arch, tag)."""
    return f"{namespace}:{arch}.{tag}" if tag else f"{namespace}:{arch}"
