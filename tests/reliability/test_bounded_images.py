"""Bounded work per image (issue 13, items 1 and 12): a tiny file must not cost unbounded memory."""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from advisor.probes import invariance
from advisor.probes.images import MAX_ASPECT, load_image

ROOT = Path(__file__).resolve().parents[2]
LITE0 = "timm:tf_efficientnet_lite0.in1k"


def png(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (120, 80, 40)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


@pytest.mark.parametrize("size", [(30000, 2), (2, 30000), (8000, 40), (9000, 1000)])
def test_extreme_strips_are_centre_cropped_to_a_bounded_canvas(size):
    r = load_image(png(size), "strip.png")
    w, h = r.image.size
    assert max(w, h) <= MAX_ASPECT * min(w, h)
    assert max(w, h) <= 8192
    assert r.original_size == size
    assert any("centre-cropped to 8:1" in n for n in r.warnings)


def test_ordinary_photo_is_not_cropped():
    r = load_image(png((640, 480)), "photo.png")
    assert r.image.size == (640, 480) and r.warnings == ()


def test_every_image_rejected_loads_no_model(tmp_path, monkeypatch):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")

    def never(*a, **k):
        raise AssertionError("a model was loaded although no image was usable")

    monkeypatch.setattr(invariance, "load_model", never)
    r = invariance.run_probe([bad], [LITE0], ["scale"])
    assert r.models == () and r.rows.empty
    assert r.errors[0].startswith("notes.png: not an image")
    assert r.errors[-1] == "no usable image: nothing was measured and no model was loaded"


def _limit_data() -> None:  # 4 GB of data segment; an address-space limit would break CUDA torch's import
    resource.setrlimit(resource.RLIMIT_DATA, (4 * 2**30, 4 * 2**30))


@pytest.mark.slow
def test_probe_cli_on_a_30000x2_png_under_4gb_ends_cleanly(tmp_path):
    from advisor.models.weights import probe_readiness

    ready, why = probe_readiness(LITE0)
    if not ready:
        pytest.skip(why)
    img = tmp_path / "sliver.png"
    img.write_bytes(png((30000, 2)))
    assert img.stat().st_size < 2000
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": "",
           "VISION_ADVISOR_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "advisor.cli", "probe", str(img), "--model", LITE0,
                           "--family", "scale"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600, preexec_fn=_limit_data)
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out and "MemoryError" not in out, out[-3000:]
    assert proc.returncode == 0, out[-3000:]
    assert "centre-cropped to 8:1" in out
