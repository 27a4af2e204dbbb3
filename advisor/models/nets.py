"""Helpers the torch-built backends share: a classifier's logits and pre-logits features in one pass, the
torch-hub file cache, ImageNet class names, strict tensor-only state loading and RobustBench-style key fixes.

A pure helper below the backends (they may not import each other). torch is imported inside the functions,
so importing this module is cheap.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from advisor.models.checkpoints import read_state
from advisor.models.interface import UrlFile, ViewConfig

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# "Resize(256) + CenterCrop(224)": the classic ImageNet evaluation of torchvision, antialiased-cnns,
# RobustBench's `Res256Crop224` and DINO / DINOv2's linear evaluation.
RES256_CROP224 = 224 / 256


def torch_hub_dir() -> Path:
    """Where torch.hub (and torchvision, antialiased-cnns, timm's URL weights) keep downloaded files:
    $TORCH_HOME/hub/checkpoints, read at call time (tests move it)."""
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "torch")
    return Path(home) / "hub" / "checkpoints"


def cached_url_file(f: UrlFile) -> str | None:
    """The file in the torch-hub cache, if it is there (no network, nothing loaded)."""
    p = torch_hub_dir() / f.filename
    return str(p) if p.is_file() else None


def imagenet_class_names(n: int = 1000) -> tuple[str, ...]:
    """Readable ImageNet-1k names (timm's copy of the label set); indices where timm is not there."""
    try:
        from timm.data import ImageNetInfo

        info = ImageNetInfo("imagenet-1k")
        return tuple(info.index_to_description(i) for i in range(n))
    except Exception:  # names are cosmetic: indices still identify the classes
        return tuple(f"class {i}" for i in range(n))


def view(size: int = 224, crop_pct: float = RES256_CROP224, interpolation: str = "bilinear",
         mean: tuple[float, ...] = IMAGENET_MEAN, std: tuple[float, ...] = IMAGENET_STD,
         crop_mode: str = "center") -> ViewConfig:
    """A square eval view (resize the shorter side to size / crop_pct, centre-crop `size`)."""
    return ViewConfig(input_size=(size, size), crop_pct=crop_pct, crop_mode=crop_mode,
                      interpolation=interpolation, mean=tuple(mean), std=tuple(std))


def unwrap(state: Any, *keys: str) -> dict:
    """The tensor dict inside a training checkpoint ({'state_dict': ...}, {'model': ...})."""
    for k in keys:
        if isinstance(state, dict) and k in state and isinstance(state[k], dict):
            return state[k]
    return state


def strip_prefixes(state: dict, *prefixes: str) -> dict:
    """Keys without DataParallel / wrapper prefixes ('module.', 'model.'), applied in order."""
    for prefix in prefixes:
        state = {k.removeprefix(prefix): v for k, v in state.items()}
    return state


def load_file_into(model: Any, path: str, *keys: str, prefixes: tuple[str, ...] = ()) -> None:
    """Read a weights file as tensors only and load it strictly (every key, every shape)."""
    state = strip_prefixes(unwrap(read_state(path), *keys), *prefixes)
    model.load_state_dict(state, strict=True)


def final_classifier(module: Any) -> Any:
    """The layer that produces the logits: the last Linear (or, as in SqueezeNet, the last 1x1 Conv2d)."""
    import torch

    last = None
    for m in module.modules():
        if isinstance(m, torch.nn.Linear):
            last = m
    if last is None:
        for m in module.modules():
            if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (1, 1):
                last = m
    if last is None:
        raise ValueError(f"{type(module).__name__} has no final Linear or 1x1 Conv2d classifier")
    return last


class FeatureTap:
    """Captures the input of a model's final classifier during a forward pass (per thread, so one loaded
    model can serve several threads): the pre-logits embedding, pooled to a vector."""

    def __init__(self, module: Any) -> None:
        self._local = threading.local()
        final_classifier(module).register_forward_pre_hook(self._hook)

    def _hook(self, _layer: Any, args: tuple) -> None:
        self._local.features = args[0]

    def run(self, module: Any, x: Any) -> tuple[Any, Any]:
        """(logits, embedding) from one forward pass."""
        self._local.features = None
        logits = module(x)
        feats = self._local.features
        if feats is None:
            raise RuntimeError("the classifier layer did not run")
        if feats.ndim == 4:  # a convolutional classifier: its input pooled over space
            feats = feats.mean(dim=(2, 3))
        return logits, feats.flatten(1)
