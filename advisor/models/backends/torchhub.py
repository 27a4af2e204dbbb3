"""The torch.hub linear-classifier backend: `torchhub:<entry>` ids, rebuilt without running the hub's code.

- `dinov2_vit{s,b,l,g}14[_reg]_lc`: facebookresearch/dinov2's hub classifiers (dinov2/hub/classifiers.py):
  the DINOv2 backbone (timm's port, `vit_*_patch14[_reg4]_dinov2.lvd142m`, from the Hugging Face hub) plus
  Meta's published linear head (`<base>/<name>_linear4_head.pth`). The head reads, as Meta's
  `_LinearClassifierWrapper` with its default `layers=4` does, the class tokens of the last 4 blocks and the
  mean of the last block's patch tokens (registers excluded), each after the final norm. The backbone runs at
  224 px with its 37x37 position grid resampled the way Meta's `interpolate_pos_encoding` does for these
  entries (bicubic; scale factor (16 + 0.1) / 37 without antialiasing, or size 16 with antialiasing for the
  register models); the view is Meta's linear evaluation (resize 256 bicubic, centre crop 224).
- `dino_resnet50_lc`: facebookresearch/dino's `dino_resnet50` (torchvision's ResNet-50, `fc` = Identity,
  `dino_resnet50_pretrain.pth`) with DINO's released linear classifier `dino_resnet50_linearweights.pth`
  (eval_linear's `LinearClassifier` on the pooled 2048-d features), i.e. a ResNet-50 whose `fc` is that head.

A local file for `--weights` holds both parts, as the hub model's own state dict does: `backbone.*` (DINOv2:
Meta's or timm's key names; DINO: torchvision's) and `linear_head.*` (`linear.*` for DINO). No checksum is
published for Meta's files: they are checked for size, tensors only and exact shapes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from advisor.errors import AdvisorError, UnknownNameError, WeightsUnavailableError
from advisor.models.checkpoints import load_error, read_state
from advisor.models.interface import Built, HubFiles, ModelSpec, Progress, UrlFile, WeightsSource
from advisor.models.locations import file_cache_hint, hf_cached
from advisor.models.nets import (
    RES256_CROP224,
    cached_url_file,
    imagenet_class_names,
    strip_prefixes,
    torch_hub_dir,
    unwrap,
    view,
)

DINOV2_URL = "https://dl.fbaipublicfiles.com/dinov2"
DINO_URL = "https://dl.fbaipublicfiles.com/dino/dino_resnet50_pretrain"
LICENCE = "apache-2.0"  # facebookresearch/dinov2 and /dino: code and weights
_DINOV2 = re.compile(r"dinov2_vit([sblg])14(_reg)?_lc")
_TIMM = {"s": "vit_small", "b": "vit_base", "l": "vit_large", "g": "vit_giant"}
GRID = 16  # 224 px / patch 14


@dataclass(frozen=True)
class Entry:
    """One hub classifier: its backbone (timm name or DINO's ResNet-50) and its files."""

    name: str
    timm_name: str  # "" for DINO's ResNet-50
    files: tuple[UrlFile, ...]  # files at URLs (the head; DINO's backbone too)
    registers: bool = False


def entry(name: str) -> Entry:
    """The hub entry's parts; UnknownNameError for an entry this backend does not rebuild."""
    if name == "dino_resnet50_lc":
        return Entry(name, "", (UrlFile(f"{DINO_URL}/dino_resnet50_pretrain.pth", "dino_resnet50_pretrain.pth",
                                        "", LICENCE),
                                UrlFile(f"{DINO_URL}/dino_resnet50_linearweights.pth",
                                        "dino_resnet50_linearweights.pth", "", LICENCE)))
    m = _DINOV2.fullmatch(name)
    if m is None:
        raise UnknownNameError("torch.hub classifier", f"torchhub:{name}", [f"torchhub:{n}" for n in ENTRIES])
    size, reg = m.group(1), bool(m.group(2))
    base = f"dinov2_vit{size}14"
    full = f"{base}_reg4" if reg else base
    timm_name = f"{_TIMM[size]}_patch14_{'reg4_' if reg else ''}dinov2.lvd142m"
    head = UrlFile(f"{DINOV2_URL}/{base}/{full}_linear4_head.pth", f"{full}_linear4_head.pth", "", LICENCE)
    return Entry(name, timm_name, (head,), reg)


ENTRIES = tuple([f"dinov2_vit{s}14{r}_lc" for s in "sblg" for r in ("", "_reg")] + ["dino_resnet50_lc"])


def resample_like_meta(pos: Any, registers: bool) -> Any:
    """A (1, [1 +] 37*37, D) position table at the 16x16 grid, as DINOv2's `interpolate_pos_encoding` makes it
    for 224-px input: bicubic, offset 0.1 without antialias (plain entries), size 16 with antialias (_reg)."""
    import torch.nn.functional as F

    prefix = pos.shape[1] - round(math.sqrt(pos.shape[1])) ** 2
    cls, patch = pos[:, :prefix], pos[:, prefix:]
    m = round(math.sqrt(patch.shape[1]))
    grid = patch.float().reshape(1, m, m, -1).permute(0, 3, 1, 2)
    if registers:
        out = F.interpolate(grid, size=(GRID, GRID), mode="bicubic", antialias=True)
    else:
        s = (GRID + 0.1) / m
        out = F.interpolate(grid, scale_factor=(s, s), mode="bicubic", antialias=False)
    out = out.permute(0, 2, 3, 1).reshape(1, GRID * GRID, -1).to(pos.dtype)
    return torch_cat(cls, out)


def torch_cat(a: Any, b: Any) -> Any:
    import torch

    return torch.cat((a, b), dim=1)


def dinov2_backbone(e: Entry, state: dict | None) -> Any:
    """timm's DINOv2 at 224 px; `state` (Meta's or timm's keys, native 518-px grid) loaded strictly."""
    import timm
    import torch
    from timm.models.vision_transformer import checkpoint_filter_fn

    arch = e.timm_name.split(".")[0]
    model = timm.create_model(arch, pretrained=False, img_size=224, num_classes=0)
    if state is not None:
        with torch.device("meta"):
            native = timm.create_model(arch, pretrained=False, num_classes=0)
        state = checkpoint_filter_fn(dict(state), native)  # Meta's names -> timm's; no resampling at 518
        state["pos_embed"] = resample_like_meta(state["pos_embed"], e.registers)
        model.load_state_dict(state, strict=True)
    return model


def head_input(backbone: Any, x: Any) -> Any:
    """Meta's `_LinearClassifierWrapper` input (layers=4): the last 4 class tokens and the last block's mean
    patch token, all after the final norm (registers are prefix tokens, so excluded)."""
    import torch

    outs = backbone.get_intermediate_layers(x, n=4, return_prefix_tokens=True, norm=True)
    return torch.cat([*(prefix[:, 0] for _, prefix in outs), outs[-1][0].mean(dim=1)], dim=1)


def _split(state: dict, head_prefixes: tuple[str, ...]) -> tuple[dict, dict]:
    """A combined file -> (backbone tensors, head tensors)."""
    state = strip_prefixes(unwrap(state, "state_dict", "model"), "module.")
    head = {k.split(".", 1)[1]: v for k, v in state.items() if k.startswith(head_prefixes)}
    body = {k.removeprefix("backbone."): v for k, v in state.items() if not k.startswith(head_prefixes)}
    return body, head


def build_dinov2(e: Entry, backbone_state: dict | None, head_state: dict | None) -> Any:
    import torch

    backbone = dinov2_backbone(e, backbone_state)
    head = torch.nn.Linear(5 * backbone.embed_dim, 1000)
    if head_state is not None:
        head.load_state_dict(head_state, strict=True)
    return torch.nn.ModuleDict({"backbone": backbone, "linear_head": head})


def build_dino_resnet50(backbone_state: dict | None, head_state: dict | None) -> Any:
    """DINO's hub backbone (torchvision's ResNet-50 with `fc` = Identity) and eval_linear's classifier."""
    import torch
    import torchvision

    backbone = torchvision.models.resnet50(weights=None)
    backbone.fc = torch.nn.Identity()
    if backbone_state is not None:  # the hub entry loads with strict=False only because the file has no fc
        backbone_state = {k: v for k, v in backbone_state.items() if not k.startswith("fc.")}
        backbone.load_state_dict(backbone_state, strict=True)
    head = torch.nn.Linear(2048, 1000)
    if head_state is not None:
        head.load_state_dict(head_state, strict=True)
    return torch.nn.ModuleDict({"backbone": backbone, "linear_head": head})


class TorchHubBackend:
    """Linear classifiers that torch.hub would build from a repository's code, rebuilt from timm/torchvision."""

    name = "torchhub"

    def parse(self, name: str) -> ModelSpec:
        """Validate the name against the library's own list and make it canonical."""
        e = entry(name)
        return ModelSpec(f"torchhub:{e.name}", self.name, e.name, "", False)

    def url_files(self, spec: ModelSpec) -> tuple[UrlFile, ...]:
        """The weights files at URLs, with their published checksum and licence."""
        return entry(spec.arch).files

    def _backbone_file(self, e: Entry) -> str | None:
        return hf_cached(f"timm/{e.timm_name}", ["model.safetensors", "pytorch_model.bin"]) if e.timm_name else None

    def find(self, spec: ModelSpec) -> WeightsSource | None:
        """Every part present: the HF cache (DINOv2 backbone) and the torch-hub cache (Meta's files)."""
        e = entry(spec.arch)
        paths = [cached_url_file(f) for f in e.files]
        labels = [f"torch-hub-cache:{f.filename}" for f in e.files]
        if e.timm_name:
            paths.insert(0, self._backbone_file(e))
            labels.insert(0, f"hf-cache:timm/{e.timm_name}")
        if not all(paths):
            return None
        label = " + ".join(labels)
        return WeightsSource("url-cache", label, paths[-1])

    def _states(self, e: Entry, src: WeightsSource) -> tuple[dict | None, dict | None]:
        if src.origin == "random":
            return None, None
        if src.origin == "file":
            body, head = _split(read_state(src.path or ""), ("linear_head.", "linear."))
            return body, head
        files = [cached_url_file(f) for f in e.files]
        if e.timm_name:
            return read_state(self._backbone_file(e) or ""), read_state(files[0] or "")
        body = strip_prefixes(unwrap(read_state(files[0] or ""), "state_dict"), "module.")
        head = strip_prefixes(unwrap(read_state(files[1] or ""), "state_dict"), "module.", "linear.")
        return body, head

    def build(self, spec: ModelSpec, src: WeightsSource, templates: str = "",
              progress: Progress | None = None) -> Built:
        """The network with the weights from `src` (tensors only, strict), its eval view and class names."""
        e = entry(spec.arch)
        try:
            body, head = self._states(e, src)
            model = build_dinov2(e, body, head) if e.timm_name else build_dino_resnet50(body, head)
        except AdvisorError:
            raise
        except Exception as exc:
            raise load_error(spec, src, exc) from None
        model.eval().requires_grad_(False)
        return Built(model, view(224, RES256_CROP224, "bicubic"), imagenet_class_names())

    def outputs(self, built: Built, x: Any) -> tuple[Any, Any]:
        """Logits, and the features the linear head reads as the embedding."""
        backbone = built.module["backbone"]
        feats = head_input(backbone, x) if hasattr(backbone, "get_intermediate_layers") else backbone(x)
        return built.module["linear_head"](feats), feats

    def how_to_get(self, spec: ModelSpec) -> str:
        """Where the weights come from and how to fetch them (with consent, or by hand)."""
        e = entry(spec.arch)
        fetch = "python -c \"import torch; " + "; ".join(
            f"torch.hub.load_state_dict_from_url('{f.url}')" for f in e.files) + "\""
        if e.timm_name:
            fetch += f" and python -c \"import timm; timm.create_model('{e.timm_name}', pretrained=True)\""
        return file_cache_hint(spec, fetch, torch_hub_dir())

    def hub_files(self, spec: ModelSpec) -> HubFiles:
        """The DINOv2 backbone: timm's copy on the Hugging Face hub (the head is a URL file)."""
        e = entry(spec.arch)
        if not e.timm_name:
            raise WeightsUnavailableError(f"{spec.model_id}: DINO publishes these files at URLs, not on the "
                                          "Hugging Face hub.")
        return HubFiles(f"timm/{e.timm_name}", ("model.safetensors",), LICENCE)


BACKEND = TorchHubBackend()
