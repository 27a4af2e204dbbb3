"""The open_clip backend: `open_clip:Arch.pretrained` ids, classified through a zero-shot ImageNet head.

The heavy part (building the model and its text-prompt head) is in `advisor.probes.clip`, imported only
when a model is built; open_clip itself is imported inside the methods.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.errors import UnknownNameError, WeightsUnavailableError
from advisor.ids import split_load_name, suggest
from advisor.probes.kinds.base import (
    Built,
    HubFiles,
    ModelSpec,
    Progress,
    WeightsSource,
    hf_cached,
    hub_cache_hint,
    is_test_arch,
    safe_alternatives,
    spec_id,
)

if TYPE_CHECKING:
    from advisor.probes.backends import LoadedModel

DEFAULT_HUB_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")


def _pretrained_cfg(spec: ModelSpec) -> dict:
    import open_clip

    return open_clip.get_pretrained_cfg(spec.arch, spec.tag) if spec.tag else {}


def _split_hub(hub: str) -> tuple[str, str]:
    """open_clip's `hf_hub` value (`org/repo/` or `org/repo/file`) -> (repo, file or '')."""
    if hub.endswith("/"):
        return hub.rstrip("/"), ""
    repo, _, filename = hub.rpartition("/")
    return repo, filename


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
        from advisor.probes import clip

        module, view = clip.build_open_clip(spec, src)
        head = clip.zero_shot_head(spec, module, src, templates, progress)
        return Built(module, view, tuple(clip.open_clip.IMAGENET_CLASSNAMES), head)

    def outputs(self, model: LoadedModel, x: Any) -> tuple[Any, Any]:
        """Unit image embedding; logits = CLIP's logit scale x cosine with each class's text embedding."""
        emb = model.module.encode_image(x, normalize=True)
        return model.module.logit_scale.exp() * emb @ model.head.to(emb.dtype), emb

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
