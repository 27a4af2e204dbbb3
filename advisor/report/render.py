"""Offline rendering: Vega-Lite specs -> SVG/PNG with vl-convert (network forbidden), images -> thumbnails."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

THUMB_PX = 160
# Text is measured by vl-convert and drawn by a browser or WeasyPrint: name one font both have (fonts-dejavu-core),
# or legend labels measured in one font are cut when drawn in a wider one.
CHART_CONFIG = {"font": "DejaVu Sans, sans-serif"}
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000


class RenderError(Exception):
    """A chart could not be rendered; formats then omit it with a note."""


def render_svg(spec: Mapping[str, Any]) -> str:
    import vl_convert as vlc

    try:
        return vlc.vegalite_to_svg(dict(spec), config=CHART_CONFIG, allowed_base_urls=[])
    except Exception as exc:  # vl-convert raises plain ValueError/RuntimeError with its own messages
        raise RenderError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc


def render_png(spec: Mapping[str, Any], scale: float = 1.5) -> bytes:
    import vl_convert as vlc

    try:
        return vlc.vegalite_to_png(dict(spec), scale=scale, config=CHART_CONFIG, allowed_base_urls=[])
    except Exception as exc:
        raise RenderError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc


def thumbnail(blob: bytes) -> tuple[bytes | None, str]:
    """(PNG thumbnail, note); an unreadable or oversized image gives (None, why)."""
    from PIL import Image, UnidentifiedImageError

    if not isinstance(blob, (bytes, bytearray)):
        return None, "not image bytes"
    if len(blob) > MAX_IMAGE_BYTES:
        return None, f"image larger than {MAX_IMAGE_BYTES // 2**20} MiB: thumbnail omitted"
    try:
        with Image.open(io.BytesIO(blob)) as im:
            if im.width * im.height > MAX_IMAGE_PIXELS:
                return None, "image has too many pixels: thumbnail omitted"
            im = im.convert("RGB")
            im.thumbnail((THUMB_PX, THUMB_PX))
            out = io.BytesIO()
            im.save(out, format="PNG", optimize=True)
            return out.getvalue(), ""
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None, "not a readable image: thumbnail omitted"
