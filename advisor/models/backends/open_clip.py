"""The open_clip backend: `open_clip:Arch.pretrained` ids, classified by zero-shot heads made from text prompts.

Its models classify ImageNet through open_clip's own zero-shot classifier (its IMAGENET_CLASSNAMES, its
templates and its `build_zero_shot_classifier`); the same capability (`zero_shot_head`) classifies any
other class names. A head is built once per (weights, class names, templates) and kept on disk, because
building it runs the text tower over every class x template (minutes on a laptop CPU). open_clip and
torch are imported inside the functions, so listing the backend costs nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from advisor.errors import UnknownNameError, WeightsUnavailableError
from advisor.ids import split_load_name, suggest
from advisor.models.checkpoints import load_error
from advisor.models.interface import (
    Built,
    HubFiles,
    ModelSpec,
    Progress,
    ViewConfig,
    WeightsSource,
    ZeroShotHead,
    is_test_arch,
    spec_id,
)
from advisor.models.locations import cache_dir, hf_cached, hub_cache_hint, safe_alternatives

DEFAULT_HUB_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
# "simple" is open_clip's 7-prompt subset of OpenAI's 80 ImageNet prompts: ~11x cheaper to build.
TEMPLATE_SET_NAMES = ("openai", "simple")
DEFAULT_TEMPLATES = os.environ.get("VISION_ADVISOR_CLIP_TEMPLATES", "simple")
_CLASSES_PER_STEP = 50


def template_set(name: str) -> tuple[str, ...]:
    """open_clip's named prompt templates ('openai': 80, 'simple': 7); ValueError for another name."""
    import open_clip

    sets = {"openai": open_clip.OPENAI_IMAGENET_TEMPLATES, "simple": open_clip.SIMPLE_IMAGENET_TEMPLATES}
    if name not in sets:
        raise ValueError(f"unknown template set {name!r}; choose from {sorted(sets)}")
    return tuple(sets[name])


def _pretrained_cfg(spec: ModelSpec) -> dict:
    import open_clip

    return open_clip.get_pretrained_cfg(spec.arch, spec.tag) if spec.tag else {}


def _split_hub(hub: str) -> tuple[str, str]:
    """open_clip's `hf_hub` value (`org/repo/` or `org/repo/file`) -> (repo, file or '')."""
    if hub.endswith("/"):
        return hub.rstrip("/"), ""
    repo, _, filename = hub.rpartition("/")
    return repo, filename


def _build_module(spec: ModelSpec, src: WeightsSource) -> tuple[Any, ViewConfig]:
    """The CLIP model with real (or explicitly random) weights, and its eval view config."""
    import open_clip

    pcfg = _pretrained_cfg(spec)
    kwargs: dict = {"force_quick_gelu": bool(pcfg.get("quick_gelu", False))}
    pp = {k: pcfg[k] for k in ("mean", "std", "interpolation", "resize_mode") if k in pcfg}
    if pp:
        kwargs["force_preprocess_cfg"] = pp
    try:
        model = open_clip.create_model(spec.arch, pretrained=None if src.origin == "random" else src.path,
                                       **kwargs)
    except Exception as e:  # open_clip wraps load errors in RuntimeError / others
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


def _weights_key(model: Any, src: WeightsSource) -> str:
    """Identify the exact weights: file identity for real ones, a content hash for random test ones."""
    h = hashlib.sha256(src.label.encode())
    if src.path and os.path.isfile(src.path):
        st = os.stat(src.path)
        h.update(f"{os.path.abspath(src.path)}|{st.st_size}|{st.st_mtime_ns}".encode())
    else:
        for t in model.state_dict().values():
            h.update(t.detach().float().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def template_text(template: Any) -> str:
    """A prompt template as text with `{}` for the class name (open_clip's own sets are functions)."""
    return template if isinstance(template, str) else template("{}")


def head_path(spec: ModelSpec, model: Any, src: WeightsSource, classnames: Sequence[str],
              templates: Sequence[str], set_name: str) -> Path:
    """The disk cache file of one head: model, weights, class names and templates all in the key."""
    h = hashlib.sha256(_weights_key(model, src).encode())
    h.update("\x00".join(classnames).encode() + b"\x01" + "\x00".join(templates).encode())
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", spec.model_id)
    return cache_dir() / "zeroshot" / f"{safe}-{set_name}-{h.hexdigest()[:16]}.pt"


def build_head(spec: ModelSpec, model: Any, src: WeightsSource, classnames: Sequence[str],
               templates: str | Sequence[str] = "", progress: Progress | None = None) -> ZeroShotHead:
    """open_clip's zero-shot classifier over `classnames`; read from the disk cache when built before."""
    import open_clip
    import torch

    if isinstance(templates, str):
        set_name = templates or DEFAULT_TEMPLATES
        prompts: tuple = template_set(set_name)
    else:  # the caller's own templates: text with `{}` for the class name
        set_name, prompts = "custom", tuple(templates)
    if not prompts or not classnames:
        raise ValueError("a zero-shot head needs at least one class name and one template")
    names = tuple(classnames)
    texts = tuple(template_text(t) for t in prompts)
    scale = float(model.logit_scale.exp())
    path = head_path(spec, model, src, names, texts, set_name)
    if path.is_file():
        try:
            return ZeroShotHead(torch.load(path, map_location="cpu", weights_only=True), scale, names, texts)
        except Exception:  # a corrupt cache file is rebuilt, never trusted
            path.unlink(missing_ok=True)
    try:
        tokenizer = open_clip.get_tokenizer(spec.arch)
    except Exception as e:
        raise WeightsUnavailableError(f"{spec.model_id}: its text tokenizer is not available offline ({e})") from None
    parts = []
    for start in range(0, len(names), _CLASSES_PER_STEP):
        if progress:
            progress(start / len(names), f"{spec.model_id}: building the zero-shot head "
                                         f"({start}/{len(names)} classes, once per model and class set)")
        parts.append(open_clip.build_zero_shot_classifier(
            model, tokenizer=tokenizer, classnames=names[start:start + _CLASSES_PER_STEP],
            templates=prompts, num_classes_per_batch=10, device="cpu"))
    weights = torch.cat(parts, dim=1).float().contiguous()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    torch.save(weights, tmp)
    os.replace(tmp, path)
    return ZeroShotHead(weights, scale, names, texts)


class OpenClipBackend:
    """open_clip CLIP models: image tower + a zero-shot ImageNet head built from text prompts."""

    name = "open_clip"

    def parse(self, name: str) -> ModelSpec:
        """Validate against open_clip's registry; a real model needs its pretrained tag."""
        import open_clip

        arch, tag = split_load_name(name)
        if arch not in open_clip.list_models():
            pool = [f"open_clip:{a}.{t}" for a, t in open_clip.list_pretrained()]
            raise UnknownNameError("open_clip model", f"open_clip:{name}", suggest(f"open_clip:{name}", pool))
        tags = open_clip.list_pretrained_tags_by_model(arch)
        if tag and tag not in tags:
            raise UnknownNameError("open_clip pretrained tag", f"open_clip:{name}",
                                   [f"open_clip:{arch}.{t}" for t in tags][:8])
        if not tag and not is_test_arch(arch):
            raise UnknownNameError("open_clip model (it needs a pretrained tag)", f"open_clip:{name}",
                                   [f"open_clip:{arch}.{t}" for t in tags][:8])
        return ModelSpec(spec_id(self.name, arch, tag), self.name, arch, tag, is_test_arch(arch))

    def find(self, spec: ModelSpec) -> WeightsSource | None:
        """The HF cache, then OpenAI's ~/.cache/clip URL cache."""
        if not spec.tag:
            return None
        cfg = _pretrained_cfg(spec)
        hub = cfg.get("hf_hub", "")
        if hub:
            repo, filename = _split_hub(hub)
            path = hf_cached(repo, safe_alternatives(filename) if filename else DEFAULT_HUB_FILES)
            if path:
                return WeightsSource("hf-cache", f"hf-cache:{repo}", path)
        url = cfg.get("url", "")
        if url:
            p = Path(os.path.expanduser("~/.cache/clip")) / os.path.basename(url)
            if p.is_file():
                return WeightsSource("url-cache", f"clip-cache:{p.name}", str(p))
        return None

    def build(self, spec: ModelSpec, src: WeightsSource, templates: str = "",
              progress: Progress | None = None) -> Built:
        """The CLIP model, its preprocessing, and the zero-shot head over open_clip's ImageNet class names."""
        import open_clip

        module, view = _build_module(spec, src)
        head = build_head(spec, module, src, open_clip.IMAGENET_CLASSNAMES, templates, progress)
        return Built(module, view, head.classnames, head.weights)

    def outputs(self, built: Built, x: Any) -> tuple[Any, Any]:
        """Unit image embedding; logits = CLIP's logit scale x cosine with each class's text embedding."""
        emb = built.module.encode_image(x, normalize=True)
        return built.module.logit_scale.exp() * emb @ built.head.to(emb.dtype), emb

    def zero_shot_head(self, spec: ModelSpec, built: Built, src: WeightsSource, classnames: Sequence[str],
                       templates: str | Sequence[str] = "", progress: Progress | None = None) -> ZeroShotHead:
        """open_clip's own zero-shot classifier over the caller's class names (cached on disk)."""
        return build_head(spec, built.module, src, classnames, templates, progress)

    def how_to_get(self, spec: ModelSpec) -> str:
        """open_clip's own download into the HF cache."""
        fetch = (f"python -c \"import open_clip; open_clip.create_model('{spec.arch}', "
                 f"pretrained='{spec.tag}')\"")
        return hub_cache_hint(spec, fetch)

    def hub_files(self, spec: ModelSpec) -> HubFiles:
        """open_clip's pretrained config names the repo (and sometimes the file)."""
        hub = _pretrained_cfg(spec).get("hf_hub", "")
        if not hub:
            raise WeightsUnavailableError(f"{spec.model_id}: open_clip names no Hugging Face repository for "
                                          "these weights, so they cannot be downloaded from the hub.")
        repo, filename = _split_hub(hub)
        return HubFiles(repo, (filename,) if filename else DEFAULT_HUB_FILES, "see the model card")


BACKEND = OpenClipBackend()
