"""Safe image intake: untrusted bytes -> an RGB PIL image, or an error naming the file.

The UI, the CLI and `run_probe` all go through `load_image`, so every caller gets the same checks
(size limits, decompression bombs, truncation) and the same conversions (EXIF orientation, alpha,
palette, CMYK, 16-bit, animation), each conversion said in `IntakeResult.warnings`.
No torch here: intake must stay cheap to import.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from advisor.errors import ImageIntakeError

MAX_BYTES = 50 * 1024 * 1024  # a larger upload is refused before decoding
MAX_PIXELS = 64_000_000  # above this a real image is "too large" (a 48 MP phone photo still fits)
WORK_SHORT_SIDE = 1024  # the kept copy; probes never need more (3x zoom of a 256-px view = 768 px)
MAX_ASPECT = 8.0  # a longer strip is centre-cropped to 8:1: the probes resize the short side, so the
#                   long side (and memory per image) would otherwise grow without bound (a 30000×2 PNG)
ASSETS = Path(__file__).with_name("assets")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")


@dataclass(frozen=True)
class IntakeResult:
    """One accepted image: the RGB working copy plus what was done to get it."""

    name: str
    image: Image.Image = field(repr=False, compare=False)
    sha256: str  # of the uploaded bytes: the cache key for probe results
    original_size: tuple[int, int]  # (width, height) as decoded, after EXIF rotation
    format: str
    original_mode: str
    warnings: tuple[str, ...] = ()


def _fail(name: str, message: str) -> ImageIntakeError:
    return ImageIntakeError(f"{name}: {message}")


def _open(data: bytes, name: str, max_pixels: int) -> Image.Image:
    """Open and fully decode, turning every PIL failure mode into one clear message."""
    bomb_limit = max(Image.MAX_IMAGE_PIXELS or 0, max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limits below
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > 2 * bomb_limit:
                raise _fail(name, f"refused: claims {w}×{h} pixels, a likely decompression bomb")
            if w * h > max_pixels:
                raise _fail(name, f"too large: {w}×{h} = {w * h / 1e6:.0f} MP exceeds the "
                                  f"{max_pixels / 1e6:.0f} MP limit; downscale it first")
            if ImageFile.LOAD_TRUNCATED_IMAGES:  # someone flipped the global: refuse to hide truncation
                raise _fail(name, "cannot check for truncation (PIL LOAD_TRUNCATED_IMAGES is set)")
            img.load()
    except ImageIntakeError:
        raise
    except Image.DecompressionBombError as e:
        raise _fail(name, f"refused as a likely decompression bomb ({e})") from None
    except UnidentifiedImageError:
        raise _fail(name, "not an image, or a format PIL cannot read") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as e:
        raise _fail(name, f"truncated or corrupt image data ({e})") from None
    return img


def _to_8bit(img: Image.Image) -> Image.Image:
    """16/32-bit integer or float images -> 8-bit 'L' (PIL's own convert would clip, not scale)."""
    arr = np.asarray(img, dtype=np.float64)
    if img.mode == "F":
        hi = 1.0 if arr.size and float(np.nanmax(arr)) <= 1.0 else 255.0
    else:
        hi = 65535.0 if arr.size and float(arr.max()) > 255 else 255.0
    return Image.fromarray(np.clip(np.nan_to_num(arr) / hi * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")


def _to_rgb(img: Image.Image, notes: list[str]) -> Image.Image:
    mode = img.mode
    if mode in ("I", "F") or mode.startswith("I;16"):
        notes.append(f"high bit depth ({mode}) reduced to 8 bits")
        return _to_8bit(img).convert("RGB")
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("PA", "La", "RGBa"):
        img = img.convert("RGBA")
    elif mode == "CMYK":
        notes.append("CMYK converted to RGB without colour management")
        return img.convert("RGB")
    if img.mode in ("RGBA", "LA"):
        rgba = img.convert("RGBA")
        if rgba.getchannel("A").getextrema()[0] < 255:
            notes.append("transparent areas filled with white")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def _bounded_canvas(rgb: Image.Image, notes: list[str], max_aspect: float) -> Image.Image:
    """Centre-crop extreme strips, so the work per image is bounded whatever the file."""
    w, h = rgb.size
    if max_aspect and max(w, h) > max_aspect * min(w, h):
        long = int(max_aspect * min(w, h))
        box = ((w - long) // 2, 0, (w - long) // 2 + long, h) if w > h else (0, (h - long) // 2, w,
                                                                              (h - long) // 2 + long)
        rgb = rgb.crop(box)
        notes.append(f"aspect ratio {max(w, h) / min(w, h):.1f}:1 centre-cropped to {max_aspect:g}:1 "
                     f"({rgb.width}×{rgb.height})")
    return rgb


def load_image(data: bytes, name: str, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS,
               work_short_side: int = WORK_SHORT_SIDE, max_aspect: float = MAX_ASPECT) -> IntakeResult:
    """Decode untrusted bytes into an RGB working copy; raises ImageIntakeError naming the file."""
    name = Path(name).name or "image"
    if not data:
        raise _fail(name, "empty file (0 bytes)")
    if len(data) > max_bytes:
        raise _fail(name, f"file too large: {len(data) / 2**20:.1f} MiB exceeds the "
                          f"{max_bytes / 2**20:.0f} MiB limit")
    img = _open(data, name, max_pixels)
    fmt, original_mode = img.format or "unknown", img.mode
    notes: list[str] = []
    n_frames = getattr(img, "n_frames", 1)
    if getattr(img, "is_animated", False) and n_frames > 1:
        img.seek(0)
        kind = "multi-picture file" if fmt == "MPO" else "animated"
        notes.append(f"{kind} ({n_frames} frames): only the first frame is used")
    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block must not cost the user their image
        orientation = 1
        notes.append("unreadable EXIF metadata ignored (orientation not applied)")
    try:
        if orientation not in (None, 1):
            img = ImageOps.exif_transpose(img)
            notes.append(f"rotated upright using its EXIF orientation ({orientation})")
        rgb = _to_rgb(img, notes)
    except (OSError, ValueError, SyntaxError) as e:
        raise _fail(name, f"could not convert to RGB ({e})") from None
    original_size = rgb.size
    rgb = _bounded_canvas(rgb, notes, max_aspect)
    short = min(rgb.size)
    if work_short_side and short > work_short_side:
        scale = work_short_side / short
        rgb = rgb.resize((max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))),
                         Image.Resampling.BICUBIC, reducing_gap=3.0)
    return IntakeResult(name=name, image=rgb, sha256=hashlib.sha256(data).hexdigest(),
                        original_size=original_size, format=fmt, original_mode=original_mode,
                        warnings=tuple(notes))


def load_image_file(path: str | Path, **limits: float) -> IntakeResult:
    """`load_image` for a path; a missing or unreadable file is an ImageIntakeError too."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise _fail(p.name, f"cannot read file ({e.strerror or e})") from None
    return load_image(data, p.name, **limits)


def read_image_bytes(path: str | Path, max_bytes: int = MAX_BYTES) -> tuple[str, bytes]:
    """(file name, bytes) of a user-named image file, read with a size cap; a missing file, a folder or a
    device is an InvalidRequestError naming it (for `advisor report --image`)."""
    from advisor.jsonio import read_capped

    return Path(path).name, read_capped(path, max_bytes, "image")


def load_images(items: Iterable[IntakeResult | str | Path | tuple[str, bytes]],
                ) -> tuple[list[IntakeResult], list[str]]:
    """Intake many images; one bad file becomes a message and never stops the others."""
    ok: list[IntakeResult] = []
    errors: list[str] = []
    for item in items:
        try:
            if isinstance(item, IntakeResult):
                ok.append(item)
            elif isinstance(item, tuple):
                ok.append(load_image(item[1], item[0]))
            else:
                ok.append(load_image_file(item))
        except ImageIntakeError as e:
            errors.append(str(e))
    return ok, errors


def bundled_images() -> list[Path]:
    """The CC0 / public-domain sample photos shipped with the package (see assets/SOURCE.md)."""
    return sorted(p for p in ASSETS.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)


def bundled_image(name: str) -> Path:
    """One sample photo by file name or stem (e.g. 'chelsea')."""
    for p in bundled_images():
        if name in (p.name, p.stem):
            return p
    from advisor.errors import UnknownNameError
    from advisor.ids import suggest

    raise UnknownNameError("sample image", name, suggest(name, [p.name for p in bundled_images()]))
