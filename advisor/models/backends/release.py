"""The release-file backend: `release:<file stem>` ids, a timm architecture with a weights file of a GitHub
release (URL + sha256), here timm's `v0.1-rsb-weights` release ("ResNet strikes back": QUBA's A1/A2/A3 runs).

Every file of that release is named `<arch>_<recipe>_0-<sha256 prefix>.pth`; the stem names the file, the
architecture (timm's current name for it: `gluon_senet154` is `senet154`) and its checksum, so the id alone
says what is loaded. The network is `timm.create_model(arch, pretrained=False)`, the file is read as tensors
only and loaded strictly; the eval view is timm's data config of the architecture, which is what the stored
load call (`timm.create_model(arch, pretrained=True, pretrained_cfg_overlay=dict(url=...))`) gives.
"""

from __future__ import annotations

import re
from typing import Any

from advisor.errors import AdvisorError, UnknownNameError, WeightsUnavailableError
from advisor.models.checkpoints import load_error
from advisor.models.interface import Built, HubFiles, ModelSpec, Progress, UrlFile, ViewConfig, WeightsSource
from advisor.models.locations import file_cache_hint
from advisor.models.nets import cached_url_file, imagenet_class_names, load_file_into, torch_hub_dir

RSB_RELEASE = "https://github.com/huggingface/pytorch-image-models/releases/download/v0.1-rsb-weights/"
LICENCE = "apache-2.0"  # what timm states for the files of this release it serves (e.g. resnet50.a1_in1k)
_STEM = re.compile(r"(\w+?)_(a[123])_0-([0-9a-f]{8})")


def timm_arch(file_arch: str) -> str:
    """timm's current architecture name for a release file's (deprecated names are mapped)."""
    from timm.models import get_deprecated_models

    return get_deprecated_models().get(file_arch, file_arch).split(".")[0]


def url_file(stem: str) -> UrlFile:
    m = _STEM.fullmatch(stem)
    return UrlFile(f"{RSB_RELEASE}{stem}.pth", f"{stem}.pth", m.group(3) if m else "", LICENCE)


class ReleaseBackend:
    """timm architectures with a weights file from a GitHub release (URL + sha256 prefix)."""

    name = "release"

    def parse(self, name: str) -> ModelSpec:
        """`<arch>_<a1|a2|a3>_0-<sha256 prefix>`: a file of timm's RSB release for a timm architecture."""
        import timm

        m = _STEM.fullmatch(name.removesuffix(".pth"))
        if m is None:
            raise UnknownNameError("release file", f"release:{name}",
                                   ["release:resnet50_a1_0-14fe96d1 (a file of timm's v0.1-rsb-weights release: "
                                    "<arch>_<a1|a2|a3>_0-<sha256 prefix>)"])
        arch = timm_arch(m.group(1))
        if not timm.is_model(arch):
            raise UnknownNameError("timm architecture of a release file", f"release:{name}", [])
        stem = m.group(0)
        return ModelSpec(f"release:{stem}", self.name, arch, stem, False)

    def url_files(self, spec: ModelSpec) -> tuple[UrlFile, ...]:
        """The weights files at URLs, with their published checksum and licence."""
        return (url_file(spec.tag),)

    def find(self, spec: ModelSpec) -> WeightsSource | None:
        """The torch-hub cache, where timm's own URL download puts the file."""
        f = url_file(spec.tag)
        path = cached_url_file(f)
        return WeightsSource("url-cache", f"torch-hub-cache:{f.filename}", path) if path else None

    def build(self, spec: ModelSpec, src: WeightsSource, templates: str = "",
              progress: Progress | None = None) -> Built:
        """The network with the weights from `src` (tensors only, strict), its eval view and class names."""
        import timm
        from timm.data import resolve_model_data_config

        try:
            model = timm.create_model(spec.arch, pretrained=False)
            if src.origin != "random":
                load_file_into(model, src.path or "", "state_dict", "model", prefixes=("module.",))
        except AdvisorError:
            raise
        except Exception as e:
            raise load_error(spec, src, e) from None
        model.eval().requires_grad_(False)
        cfg = resolve_model_data_config(model)
        view = ViewConfig(input_size=(int(cfg["input_size"][1]), int(cfg["input_size"][2])),
                          crop_pct=float(cfg.get("crop_pct") or 0.875), crop_mode=cfg.get("crop_mode") or "center",
                          interpolation=cfg.get("interpolation") or "bicubic",
                          mean=tuple(cfg["mean"]), std=tuple(cfg["std"]))
        return Built(model, view, imagenet_class_names(model.num_classes))

    def outputs(self, built: Built, x: Any) -> tuple[Any, Any]:
        """One trunk pass, then timm's head twice: logits and the pre-logits embedding."""
        feats = built.module.forward_features(x)
        return built.module.forward_head(feats), built.module.forward_head(feats, pre_logits=True)

    def how_to_get(self, spec: ModelSpec) -> str:
        """Where the weights come from and how to fetch them (with consent, or by hand)."""
        f = url_file(spec.tag)
        fetch = (f"python -c \"import timm; timm.create_model('{spec.arch}', pretrained=True, "
                 f"pretrained_cfg_overlay=dict(url='{f.url}', hf_hub_id=None))\"")
        return file_cache_hint(spec, fetch, torch_hub_dir())

    def hub_files(self, spec: ModelSpec) -> HubFiles:
        """Not on the Hugging Face hub: WeightsUnavailableError (the files are at URLs)."""
        raise WeightsUnavailableError(f"{spec.model_id}: a release file ({url_file(spec.tag).url}), not on the "
                                      "Hugging Face hub.")


BACKEND = ReleaseBackend()
