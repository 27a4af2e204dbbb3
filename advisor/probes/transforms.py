"""Transform families: a registry of named perturbations, each with a magnitude grid (first = identity).

Two kinds. "view" families re-crop the photo the way the study did (scale = zoom-in factor, shift of
the crop window, test resolution), through the model's own resize/crop so that the identity point is
exactly the model's standard view. "pixel" families edit that standard view (kornia rotation,
perspective, blur; brightness, contrast, noise; JPEG via libjpeg). Every function returns
unnormalised float tensors in [0, 1], shape (3, H, W); `LoadedModel.forward` normalises.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import kornia
import torch
import torchvision.transforms.functional as TF
from PIL import Image
from torchvision.transforms import InterpolationMode

from advisor.errors import UnknownNameError
from advisor.ids import suggest
from advisor.models.interface import ViewConfig

_INTERP = {"bicubic": InterpolationMode.BICUBIC, "bilinear": InterpolationMode.BILINEAR,
           "nearest": InterpolationMode.NEAREST, "lanczos": InterpolationMode.LANCZOS,
           "box": InterpolationMode.BOX, "hamming": InterpolationMode.HAMMING}
REFERENCE_SIZE = 224  # the study's resolution grid is in pixels of a 224-px model


MakeFn = Callable[[Image.Image, torch.Tensor, Sequence[float], ViewConfig, int], list[torch.Tensor]]


@dataclass(frozen=True)
class Family:
    """A named perturbation with its magnitude grid; `magnitudes[0]` leaves the image unchanged."""

    name: str
    label: str
    unit: str
    magnitudes: tuple[float, ...]
    description: str
    kind: str  # "view" or "pixel"
    make: MakeFn

    @property
    def identity(self) -> float:
        return self.magnitudes[0]


_FAMILIES: dict[str, Family] = {}


def register_family(family: Family) -> Family:
    """Add a family; its grid must start with the identity and hold no duplicates."""
    if len(set(family.magnitudes)) != len(family.magnitudes) or len(family.magnitudes) < 2:
        raise ValueError(f"family {family.name!r}: need >= 2 distinct magnitudes")
    _FAMILIES[family.name] = family
    return family


def list_families() -> list[Family]:
    """All registered families, in registration order."""
    return list(_FAMILIES.values())


def get_family(name: str) -> Family:
    """A family by name; raises UnknownNameError with suggestions."""
    try:
        return _FAMILIES[name]
    except KeyError:
        raise UnknownNameError("transform family", name, suggest(name, list(_FAMILIES))) from None


# ---- view families (PIL + torchvision, mirroring timm's eval transform exactly) ----------------------

def to_tensor(img: Image.Image) -> torch.Tensor:
    return TF.pil_to_tensor(img).float().div_(255.0)


def to_pil(x: torch.Tensor) -> Image.Image:
    return TF.to_pil_image(x.clamp(0, 1).mul(255).round().to(torch.uint8))


def render_view(img: Image.Image, cfg: ViewConfig, *, zoom: float = 1.0, shift: int = 0,
                size: tuple[int, int] | None = None) -> Image.Image:
    """The model's eval resize + crop, optionally zoomed in or with the crop window shifted.

    zoom=1, shift=0 and the native size reproduce timm's `transforms_imagenet_eval` (and open_clip's
    `shortest` mode with crop_pct 1) pixel for pixel. The shift moves the window along the long side,
    in pixels of the resized image; beyond the border it is filled with black, as in the study.
    """
    h, w = size or cfg.input_size
    interp = _INTERP.get(cfg.interpolation, InterpolationMode.BICUBIC)
    scale = (math.floor(h / cfg.crop_pct * zoom), math.floor(w / cfg.crop_pct * zoom))
    if cfg.crop_mode == "squash":
        resized = TF.resize(img, list(scale), interpolation=interp)
    elif scale[0] == scale[1]:
        resized = TF.resize(img, scale[0], interpolation=interp)
    else:  # non-square input: cover both target dimensions, keep the aspect ratio
        f = max(scale[0] / img.height, scale[1] / img.width)
        resized = TF.resize(img, [round(img.height * f), round(img.width * f)], interpolation=interp)
    top = round((resized.height - h) / 2.0)
    left = round((resized.width - w) / 2.0)
    if shift:
        if resized.width >= resized.height:
            left += shift
        else:
            top += shift
    return TF.crop(resized, top, left, h, w)


def reference_view(img: Image.Image, cfg: ViewConfig) -> torch.Tensor:
    """The untransformed input every variant is compared with."""
    return to_tensor(render_view(img, cfg))


def _scale(img, ref, mags, cfg, seed):
    return [to_tensor(render_view(img, cfg, zoom=m)) for m in mags]


def _shift(img, ref, mags, cfg, seed):
    return [to_tensor(render_view(img, cfg, shift=int(m))) for m in mags]


def resolution_size(m: float, cfg: ViewConfig) -> tuple[int, int]:
    """Grid value (px for a 224-px model) -> this model's test size, same ratio to its native size."""
    h, w = cfg.input_size
    return max(8, round(m * h / REFERENCE_SIZE)), max(8, round(m * w / REFERENCE_SIZE))


def _resolution(img, ref, mags, cfg, seed):
    return [to_tensor(render_view(img, cfg, size=resolution_size(m, cfg))) for m in mags]


# ---- pixel families (kornia on the reference view, all magnitudes in one batched call) ------------

def _batched(ref: torch.Tensor, mags: Sequence[float], identity: float,
             fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> list[torch.Tensor]:
    todo = [i for i, m in enumerate(mags) if m != identity]
    out = [ref] * len(mags)
    if todo:
        x = ref.unsqueeze(0).expand(len(todo), -1, -1, -1).contiguous()
        y = fn(x, torch.tensor([float(mags[i]) for i in todo])).clamp_(0, 1)
        for j, i in enumerate(todo):
            out[i] = y[j]
    return out


def _rotation(img, ref, mags, cfg, seed):
    return _batched(ref, mags, 0.0, lambda x, m: kornia.geometry.transform.rotate(x, m))


def _perspective(img, ref, mags, cfg, seed):
    def warp(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        src = torch.tensor([[0.0, 0.0], [w - 1.0, 0.0], [w - 1.0, h - 1.0], [0.0, h - 1.0]])
        src = src.expand(len(m), 4, 2).clone()
        dst = src.clone()
        dst[:, 0, 0] += m * w  # the top edge shrinks: a camera tilted back (keystone)
        dst[:, 1, 0] -= m * w
        mat = kornia.geometry.transform.get_perspective_transform(src, dst)
        return kornia.geometry.transform.warp_perspective(x, mat, (h, w))
    return _batched(ref, mags, 0.0, warp)


def _blur(img, ref, mags, cfg, seed):
    def blur(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        k = 2 * math.ceil(3 * float(m.max())) + 1
        return kornia.filters.gaussian_blur2d(x, (k, k), torch.stack([m, m], dim=1))
    return _batched(ref, mags, 0.0, blur)


def _brightness(img, ref, mags, cfg, seed):
    return _batched(ref, mags, 1.0, lambda x, m: x * m.view(-1, 1, 1, 1))


def _contrast(img, ref, mags, cfg, seed):
    return _batched(ref, mags, 1.0, lambda x, m: kornia.enhance.adjust_contrast_with_mean_subtraction(x, m))


def _noise(img, ref, mags, cfg, seed):
    def noise(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)  # same noise for the same image: results are repeatable
        return x + m.view(-1, 1, 1, 1) * torch.randn(x.shape, generator=g)
    return _batched(ref, mags, 0.0, noise)


def _jpeg(img, ref, mags, cfg, seed):
    out = []
    base = to_pil(ref)
    for m in mags:
        if m == 0:
            out.append(ref)
            continue
        buf = io.BytesIO()
        base.save(buf, format="JPEG", quality=round(100 - m))
        out.append(to_tensor(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")))
    return out


for _f in (
    Family("scale", "Scale (zoom in)", "zoom factor", (1.0, 1.25, 1.5, 2.0, 3.0),
           "Zoom into the centre: resize to factor x the eval size, then the usual centre crop (study).",
           "view", _scale),
    Family("shift", "Shift", "px", (0.0, 5.0, 30.0, 75.0, 100.0),
           "Move the crop window along the long side by this many pixels of the resized image (study).",
           "view", _shift),
    Family("resolution", "Test resolution", "px at a 224-px model", (224.0, 112.0, 336.0, 512.0, 640.0),
           "Run the model at another input size (study grid; scaled to the model's native size).",
           "view", _resolution),
    Family("rotation", "Rotation", "degrees", (0.0, 5.0, 15.0, 30.0, 45.0, 90.0),
           "Rotate the model's view about its centre; corners fill with black.", "pixel", _rotation),
    Family("brightness", "Brightness", "factor", (1.0, 0.3, 0.6, 1.5, 2.0),
           "Multiply pixel values (under / over exposure), clipped to the valid range.", "pixel", _brightness),
    Family("contrast", "Contrast", "factor", (1.0, 0.25, 0.5, 1.5, 2.0),
           "Scale the distance of each pixel from the image mean.", "pixel", _contrast),
    Family("blur", "Gaussian blur", "sigma (px)", (0.0, 0.5, 1.0, 2.0, 4.0),
           "Gaussian blur of the model's view.", "pixel", _blur),
    Family("noise", "Gaussian noise", "std (0-1 scale)", (0.0, 0.02, 0.05, 0.1, 0.2),
           "Additive Gaussian pixel noise, seeded by the image so runs repeat.", "pixel", _noise),
    Family("jpeg", "JPEG compression", "100 - quality", (0.0, 25.0, 50.0, 75.0, 90.0),
           "Re-encode the view as JPEG at quality 100 - magnitude (0 = not re-encoded).", "pixel", _jpeg),
    Family("perspective", "Perspective", "corner shift (fraction of width)", (0.0, 0.05, 0.1, 0.2, 0.3),
           "Keystone warp: the top edge shrinks as if the camera tilted back.", "pixel", _perspective),
):
    register_family(_f)


def make_variants(img: Image.Image, family: Family | str, cfg: ViewConfig, *, seed: int = 0,
                  reference: torch.Tensor | None = None) -> list[torch.Tensor]:
    """All magnitudes of one family for one image, as [0, 1] tensors (sizes differ for resolution)."""
    fam = get_family(family) if isinstance(family, str) else family
    ref = reference_view(img, cfg) if reference is None else reference
    return fam.make(img, ref, fam.magnitudes, cfg, seed)


def transformed_strip(img: Image.Image, family: Family | str, cfg: ViewConfig | None = None,
                      *, seed: int = 0) -> list[tuple[float, Image.Image]]:
    """(magnitude, image) pairs showing exactly what a model with `cfg` (its `LoadedModel.view`) is
    given, for the UI; `img` may be a PIL image or an IntakeResult (whose sha256 then seeds the noise).
    """
    if hasattr(img, "sha256"):
        seed = seed or int(img.sha256[:8], 16)
    img = getattr(img, "image", img)
    fam = get_family(family) if isinstance(family, str) else family
    return list(zip(fam.magnitudes, [to_pil(t) for t in make_variants(img, fam, cfg or ViewConfig(),
                                                                     seed=seed)], strict=True))
