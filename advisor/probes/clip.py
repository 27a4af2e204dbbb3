"""The open_clip backend's heavy half (called by kinds/open_clip.py): a CLIP model and its ImageNet head.

The head is open_clip's own zero-shot classifier (its IMAGENET_CLASSNAMES, its templates and its
`build_zero_shot_classifier`), built once per (model, weights, template set) and kept on disk, because
building it runs the text tower over every class x template (minutes on a laptop CPU).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable

import open_clip
import torch

from advisor.errors import WeightsUnavailableError
from advisor.probes.transforms import ViewConfig
from advisor.probes.weights import ModelSpec, WeightsSource, cache_dir, load_error, unavailable

# "simple" is open_clip's 7-prompt subset of OpenAI's 80 ImageNet prompts: ~11x cheaper to build.
TEMPLATE_SETS = {"openai": open_clip.OPENAI_IMAGENET_TEMPLATES, "simple": open_clip.SIMPLE_IMAGENET_TEMPLATES}
DEFAULT_TEMPLATES = os.environ.get("VISION_ADVISOR_CLIP_TEMPLATES", "simple")
_CLASSES_PER_STEP = 50


def build_open_clip(spec: ModelSpec, src: WeightsSource) -> tuple[torch.nn.Module, ViewConfig]:
    """The CLIP model with real (or explicitly random) weights, and its eval view config."""
    pcfg = open_clip.get_pretrained_cfg(spec.arch, spec.tag) if spec.tag else {}
    kwargs: dict = {"force_quick_gelu": bool(pcfg.get("quick_gelu", False))}
    pp = {k: pcfg[k] for k in ("mean", "std", "interpolation", "resize_mode") if k in pcfg}
    if pp:
        kwargs["force_preprocess_cfg"] = pp
    if src.kind == "download":
        pretrained = spec.tag
    elif src.kind == "random":
        pretrained = None
    else:
        pretrained = src.path
    try:
        model = open_clip.create_model(spec.arch, pretrained=pretrained, **kwargs)
    except Exception as e:  # open_clip wraps download and load errors in RuntimeError / others
        if src.kind == "download":
            raise unavailable(spec, f"download failed: {e}") from None
        raise load_error(spec, src, e, "could not be loaded") from None
    model.eval().requires_grad_(False)
    cfg = open_clip.get_model_preprocess_cfg(model)
    size = cfg.get("size", 224)
    h, w = (size, size) if isinstance(size, int) else tuple(size)
    view = ViewConfig(input_size=(int(h), int(w)), crop_pct=1.0,
                      crop_mode="squash" if cfg.get("resize_mode") == "squash" else "center",
                      interpolation=str(cfg.get("interpolation", "bicubic")),
                      mean=tuple(float(v) for v in cfg.get("mean", open_clip.OPENAI_DATASET_MEAN)),
                      std=tuple(float(v) for v in cfg.get("std", open_clip.OPENAI_DATASET_STD)))
    return model, view


def _weights_key(model: torch.nn.Module, src: WeightsSource) -> str:
    """Identify the exact weights: file identity for real ones, a content hash for random test ones."""
    h = hashlib.sha256(src.label.encode())
    if src.path and os.path.isfile(src.path):
        st = os.stat(src.path)
        h.update(f"{os.path.abspath(src.path)}|{st.st_size}|{st.st_mtime_ns}".encode())
    else:
        for t in model.state_dict().values():
            h.update(t.detach().float().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def head_path(spec: ModelSpec, model: torch.nn.Module, src: WeightsSource, templates: str):
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", spec.model_id)
    return cache_dir() / "zeroshot" / f"{safe}-{templates}-{_weights_key(model, src)}.pt"


def zero_shot_head(spec: ModelSpec, model: torch.nn.Module, src: WeightsSource, templates: str = "",
                   progress: Callable[[float, str], None] | None = None) -> torch.Tensor:
    """(embed_dim, 1000) ImageNet classifier from text prompts; cached on disk after the first build."""
    templates = templates or DEFAULT_TEMPLATES
    if templates not in TEMPLATE_SETS:
        raise ValueError(f"unknown template set {templates!r}; choose from {sorted(TEMPLATE_SETS)}")
    path = head_path(spec, model, src, templates)
    if path.is_file():
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # a corrupt cache file is rebuilt, never trusted
            path.unlink(missing_ok=True)
    try:
        tokenizer = open_clip.get_tokenizer(spec.arch)
    except Exception as e:
        raise WeightsUnavailableError(f"{spec.model_id}: its text tokenizer is not available offline ({e})") from None
    names = open_clip.IMAGENET_CLASSNAMES
    parts = []
    for start in range(0, len(names), _CLASSES_PER_STEP):
        if progress:
            progress(start / len(names), f"{spec.model_id}: building the zero-shot ImageNet head "
                                         f"({start}/{len(names)} classes, once per model)")
        parts.append(open_clip.build_zero_shot_classifier(
            model, tokenizer=tokenizer, classnames=names[start:start + _CLASSES_PER_STEP],
            templates=TEMPLATE_SETS[templates], num_classes_per_batch=10, device="cpu"))
    head = torch.cat(parts, dim=1).float().contiguous()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(head, tmp)
    os.replace(tmp, path)
    return head
