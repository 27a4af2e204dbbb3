"""Offline rendering: Vega-Lite specs -> SVG/PNG with vl-convert (network forbidden), images -> thumbnails."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

THUMB_PX = 160
# Text is measured by vl-convert and drawn by a browser or WeasyPrint: name one font both have (fonts-dejavu-core),
# or legend labels measured in one font are cut when drawn in a wider one.
CHART_CONFIG = {"font": "DejaVu Sans, sans-serif"}


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


def thumbnail(blob: bytes, name: str = "image") -> tuple[bytes | None, str]:
    """(PNG thumbnail, note); untrusted bytes go through the probes' safe intake (the same limits), and an
    image it rejects gives (None, why)."""
    from advisor.errors import ImageIntakeError
    from advisor.probes.images import load_image

    if not isinstance(blob, (bytes, bytearray)):
        return None, "not image bytes"
    try:
        im = load_image(bytes(blob), name).image.copy()
    except ImageIntakeError as exc:
        return None, f"thumbnail omitted: {str(exc).split(': ', 1)[-1]}"
    im.thumbnail((THUMB_PX, THUMB_PX))
    out = io.BytesIO()
    im.save(out, format="PNG", optimize=True)
    return out.getvalue(), ""
