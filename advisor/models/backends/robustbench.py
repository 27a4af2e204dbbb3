"""The RobustBench backend: `robustbench:<name>` ids (RobustBench 1.1.1's ImageNet model zoo).

RobustBench cannot be installed next to this timm (it pins timm==1.0.9), and no code of it runs here: where
its model is a standard architecture (torchvision's ResNets, timm's ConvNeXt / Swin / ViT / DeiT / XCiT) the
network is built from torchvision or timm as `robustbench/model_zoo/imagenet.py` builds it, and its published
checkpoint (the Google Drive id or release URL of that file) is loaded the way `robustbench.utils.load_model`
does: `state_dict` unwrapped, its `module.` / `model.` prefix rules, timm's Swin key update. RobustBench's
`normalize_model` wrapper (ImageNet mean/std inside the model; models without it take [0, 1] pixels) becomes
the view's mean/std, the same arithmetic; its preprocessing names become the view. Models that need
RobustBench's own architecture code are listed in NEEDS_CODE with the reason. No checksum is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.errors import AdvisorError, UnknownNameError, WeightsUnavailableError
from advisor.ids import suggest
from advisor.models.checkpoints import load_error, read_state
from advisor.models.interface import Built, HubFiles, ModelSpec, Progress, UrlFile, ViewConfig, WeightsSource
from advisor.models.locations import cache_dir, file_cache_hint
from advisor.models.nets import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    FeatureTap,
    cached_url_file,
    imagenet_class_names,
    torch_hub_dir,
    unwrap,
    view,
)

GDRIVE = "https://drive.usercontent.google.com/download?id={}&export=download&confirm=t"
RELEASE = "https://github.com/RobustBench/robustbench/releases/download/"
PREPROCESSING = {  # robustbench/data.py PREPROCESSINGS -> the view (pixels in [0, 1])
    "Res256Crop224": dict(size=224, crop_pct=224 / 256, interpolation="bilinear"),
    "BicubicRes256Crop224": dict(size=224, crop_pct=224 / 256, interpolation="bicubic"),
    # CenterCrop(288) of the unresized image; here the shorter side is resized to 288 first (a view is a
    # resize + crop), which is the same for 288-px photos and close for ImageNet-sized ones.
    "Crop288": dict(size=288, crop_pct=1.0, interpolation="bilinear"),
    "Res224": dict(size=224, crop_pct=1.0, interpolation="bilinear", crop_mode="squash"),
    "timm-xcit": dict(size=224, crop_pct=1.0, interpolation="bicubic"),  # get_timm_model_preprocessing
}


@dataclass(frozen=True)
class Entry:
    """One zoo model as RobustBench builds and loads it."""

    threat: str
    library: str  # "torchvision", "timm" or "xcit" (timm's Xcit class with RobustBench's kwargs)
    arch: str
    file: str  # a Google Drive id, or a release path under RELEASE
    preprocessing: str
    normalize: bool = True  # RobustBench wraps it in normalize_model(model, ImageNet mean, std)
    kwargs: tuple = ()

    def url_file(self, name: str) -> UrlFile:
        if "/" in self.file:
            return UrlFile(RELEASE + self.file, self.file.rsplit("/", 1)[1], "", "see RobustBench's model card")
        return UrlFile(GDRIVE.format(self.file), f"robustbench_imagenet_{self.threat}_{name}.pt", "",
                       "see RobustBench's model card")


def _tv(threat: str, arch: str, gdrive: str, prep: str = "Res256Crop224", normalize: bool = True) -> Entry:
    return Entry(threat, "torchvision", arch, gdrive, prep, normalize)


def _timm(threat: str, arch: str, gdrive: str, prep: str = "BicubicRes256Crop224") -> Entry:
    return Entry(threat, "timm", arch, gdrive, prep)


def _xcit(size: str, dim: int, heads: int) -> Entry:
    return Entry("Linf", "xcit", f"xcit_{size}12", f"v1.1/debenedetti2022light-xcit-{size}-imagenet-linf.pth.tar",
                 "timm-xcit", False,
                 (("patch_size", 16), ("embed_dim", dim), ("depth", 12), ("num_heads", heads), ("eta", 1.0),
                  ("tokens_norm", True)))


ENTRIES: dict[str, Entry] = {
    "Wong2020Fast": _tv("Linf", "resnet50", "1deM2ZNS5tf3S_-eRURJi-IlvUL8WJQ_w", "Crop288"),
    "Engstrom2019Robustness": _tv("Linf", "resnet50", "1T2Fvi1eCJTeAOEzrH_4TAIwO8HTOYVyn"),
    "Salman2020Do_R50": _tv("Linf", "resnet50", "1TmT5oGa1UvVjM3d-XeSj_XmKqBNRUg8r"),
    "Salman2020Do_R18": _tv("Linf", "resnet18", "1OThCOQCOxY6lAgxZxgiK3YuZDD7PPfPx"),
    "Salman2020Do_50_2": _tv("Linf", "wide_resnet50_2", "1OT7xaQYljrTr3vGbM37xK9SPoPJvbSKB"),
    "Debenedetti2022Light_XCiT-S12": _xcit("s", 384, 8),
    "Debenedetti2022Light_XCiT-M12": _xcit("m", 512, 8),
    "Debenedetti2022Light_XCiT-L12": _xcit("l", 768, 16),
    "Liu2023Comprehensive_ConvNeXt-B": _timm("Linf", "convnext_base", "10-nSm-qUftvfKXHeOAakBQl8rxm-jCbk"),
    "Liu2023Comprehensive_ConvNeXt-L": _timm("Linf", "convnext_large", "1dIPLNfdQtAnqZrKPyuy3_zDI-FVgJ2FH"),
    "Liu2023Comprehensive_Swin-B": _timm("Linf", "swin_base_patch4_window7_224", "1-4mtxQCkThJUVdS3wvQ6NnmMZuySqR3c"),
    "Liu2023Comprehensive_Swin-L": _timm("Linf", "swin_large_patch4_window7_224", "1-57sQfcrsDsslfDR18nRD7FnpQmsSBk7"),
    # torchvision's resnet50(width_per_group=128) = wide_resnet50_2, without RobustBench's normalisation
    "Chen2024Data_WRN_50_2": _tv("Linf", "wide_resnet50_2", "1-PBlZVILAKFQ7mF8srKjdkTKJZAr61Uf", normalize=False),
    "Mo2022When_Swin-B": _timm("Linf", "swin_base_patch4_window7_224", "1-SXi4Z2X6Zo_j8EO4slJcBMXNej8fKUd", "Res224"),
    "Mo2022When_ViT-B": _timm("Linf", "vit_base_patch16_224", "1-dUFdvDBflqMsMLjZv3wlPJTm-Jm7net", "Res224"),
    "RodriguezMunoz2024Characterizing_Swin-B": _timm("Linf", "swin_base_patch4_window7_224",
                                                     "1-BSUjoFXx3PP-TfeE5fjbofO2lLyUf56"),
    "RodriguezMunoz2024Characterizing_Swin-L": _timm("Linf", "swin_large_patch4_window7_224",
                                                     "1-Dc9WhPU2wv4OMskLo1U57n5O8VbpNXv"),
    "Erichson2022NoisyMix": _tv("corruptions", "resnet50", "1wFsiB5h4Fgv6HqOkI_1jR1SZOB_eNK9r"),
    "Erichson2022NoisyMix_new": _tv("corruptions", "resnet50", "1Na79fzPZ0Azg01h6kGn1Xu5NoWOElSuG"),
    "Geirhos2018_SIN": _tv("corruptions", "resnet50", "1hLgeY_rQIaOT4R-t_KyOqPNkczfaedgs"),
    "Geirhos2018_SIN_IN": _tv("corruptions", "resnet50", "139pWopDnNERObZeLsXUysRcLg6N1iZHK"),
    "Geirhos2018_SIN_IN_IN": _tv("corruptions", "resnet50", "1xOvyuxpOZ8I5CZOi0EGYG_R6tu3ZaJdO"),
    "Hendrycks2020Many": _tv("corruptions", "resnet50", "1kylueoLtYtxkpVzoOA1B6tqdbRl2xt9X"),
    "Hendrycks2020AugMix": _tv("corruptions", "resnet50", "1xRMj1GlO93tLoCMm0e5wEvZwqhIjxhoJ"),
    "Salman2020Do_50_2_Linf": _tv("corruptions", "wide_resnet50_2", "1OT7xaQYljrTr3vGbM37xK9SPoPJvbSKB"),
    "Tian2022Deeper_DeiT-S": Entry("corruptions", "timm", "deit_small_patch16_224",
                                   "v1.1.1-test/tian2022deeper-deit-s.pth", "Res256Crop224"),
    "Tian2022Deeper_DeiT-B": Entry("corruptions", "timm", "deit_base_patch16_224",
                                   "v1.1.1-test/tian2022deeper-deit-b.pth", "Res256Crop224"),
}
_CODE = "its architecture is RobustBench's own code ({}), not a standard torchvision / timm network"
NEEDS_CODE: dict[str, str] = {
    **{f"Singh2023Revisiting_{a}-ConvStem": _CODE.format("convstem_models.py: a convolutional stem in place "
                                                           "of the patch embedding")
       for a in ("ViT-S", "ViT-B", "ConvNeXt-T", "ConvNeXt-S", "ConvNeXt-B", "ConvNeXt-L")},
    "Peng2023Robust": _CODE.format("robustarch_wide_resnet.py: RaWideResNet-101-2"),
    "Bai2024MixedNUTS": _CODE.format("comp_model.py: a nonlinear mix of a standard and a robust model"),
    "Amini2024MeanSparse_ConvNeXt-L": _CODE.format("sparsified_model.py: MeanSparse layers"),
    "Amini2024MeanSparse_Swin-L": _CODE.format("sparsified_model.py: MeanSparse layers"),
    "Xu2024MIMIR_Swin-B": _CODE.format("MIMIR_swin_transformer.py: SimMIM's Swin, LayerNorm eps 1e-6"),
    "Xu2024MIMIR_Swin-L": _CODE.format("MIMIR_swin_transformer.py: SimMIM's Swin, window 14, LayerNorm eps 1e-6"),
}


def rb_strip(state: dict, substr: str) -> dict:
    """robustbench.utils.rm_substr_from_state_dict, exactly: a key containing `substr` loses its first
    len(substr) characters."""
    return {(k[len(substr):] if substr in k else k): v for k, v in state.items()}


def build_network(e: Entry) -> Any:
    """The bare network (no weights), as RobustBench's zoo entry builds it."""
    if e.library == "torchvision":
        import torchvision

        return torchvision.models.get_model(e.arch, weights=None)
    import timm

    if e.library == "xcit":
        from timm.models.xcit import Xcit

        return Xcit(**dict(e.kwargs))
    return timm.create_model(e.arch, pretrained=False)


def zoo_state(e: Entry, checkpoint: Any, model: Any) -> dict:
    """A checkpoint's tensors as `robustbench.utils.load_model` (or timm, for the release files) prepares them."""
    if "/" in e.file:  # a timm-registered RobustBench model: timm's own filter for the architecture
        if e.library == "xcit":
            from timm.models.xcit import checkpoint_filter_fn
        else:
            from timm.models.vision_transformer import checkpoint_filter_fn
        return checkpoint_filter_fn(unwrap(checkpoint, "model", "state_dict"), model)
    state = checkpoint["state_dict"] if isinstance(checkpoint, dict) and "state_dict" in checkpoint else checkpoint
    state = rb_strip(rb_strip(state, "module."), "model.")
    if e.arch.startswith("swin_"):  # "Adapt checkpoint to the model definition in newer versions of timm"
        try:
            from timm.models.swin_transformer import checkpoint_filter_fn

            state = checkpoint_filter_fn(state, model)
        except Exception:  # as RobustBench: the checkpoint is then used as it is
            pass
    return state


def _entry(spec: ModelSpec) -> Entry:
    return ENTRIES[spec.arch]


class RobustBenchBackend:
    """RobustBench's ImageNet models with a standard architecture."""

    name = "robustbench"

    def parse(self, name: str) -> ModelSpec:
        """Validate the name against the library's own list and make it canonical."""
        if name in NEEDS_CODE:
            raise WeightsUnavailableError(f"robustbench:{name} cannot be built here: {NEEDS_CODE[name]}; use "
                                          "RobustBench itself (robustbench.utils.load_model).")
        if name not in ENTRIES:
            raise UnknownNameError("RobustBench ImageNet model", f"robustbench:{name}",
                                   suggest(f"robustbench:{name}", [f"robustbench:{n}" for n in ENTRIES]))
        return ModelSpec(f"robustbench:{name}", self.name, name, "", False)

    def url_files(self, spec: ModelSpec) -> tuple[UrlFile, ...]:
        """The weights files at URLs, with their published checksum and licence."""
        return (_entry(spec).url_file(spec.arch),)

    def find(self, spec: ModelSpec) -> WeightsSource | None:
        """The torch-hub cache (timm's and this tool's downloads), RobustBench's own `./models` folder."""
        e = _entry(spec)
        f = e.url_file(spec.arch)
        path = cached_url_file(f)
        if path:
            return WeightsSource("url-cache", f"torch-hub-cache:{f.filename}", path)
        own = Path("models") / "imagenet" / e.threat / f"{spec.arch}.pt"  # robustbench's default model_dir
        for p in (cache_dir() / "robustbench" / "imagenet" / e.threat / f"{spec.arch}.pt", own):
            if p.is_file():
                return WeightsSource("url-cache", f"robustbench-cache:{p}", str(p))
        return None

    def build(self, spec: ModelSpec, src: WeightsSource, templates: str = "",
              progress: Progress | None = None) -> Built:
        """The network with the weights from `src` (tensors only, strict), its eval view and class names."""
        e = _entry(spec)
        try:
            model = build_network(e)
            if src.origin != "random":
                model.load_state_dict(zoo_state(e, read_state(src.path or ""), model), strict=True)
        except AdvisorError:
            raise
        except Exception as exc:
            raise load_error(spec, src, exc) from None
        model.eval().requires_grad_(False)
        mean, std = (IMAGENET_MEAN, IMAGENET_STD) if e.normalize else ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
        v: ViewConfig = view(**PREPROCESSING[e.preprocessing], mean=mean, std=std)
        return Built(model, v, imagenet_class_names(), FeatureTap(model))

    def outputs(self, built: Built, x: Any) -> tuple[Any, Any]:
        """Logits, and the input of the final classifier layer as the embedding (one pass)."""
        return built.head.run(built.module, x)

    def how_to_get(self, spec: ModelSpec) -> str:
        """Where the weights come from and how to fetch them (with consent, or by hand)."""
        e = _entry(spec)
        fetch = (f"python -c \"from robustbench.utils import load_model; load_model('{spec.arch}', "
                 f"dataset='imagenet', threat_model='{e.threat}')\" (RobustBench keeps the file in "
                 f"./models/imagenet/{e.threat}/{spec.arch}.pt)")
        return file_cache_hint(spec, fetch, torch_hub_dir())

    def hub_files(self, spec: ModelSpec) -> HubFiles:
        """Not on the Hugging Face hub: WeightsUnavailableError (the files are at URLs)."""
        raise WeightsUnavailableError(f"{spec.model_id}: RobustBench publishes this file on Google Drive or "
                                      "GitHub, not on the Hugging Face hub.")


BACKEND = RobustBenchBackend()
