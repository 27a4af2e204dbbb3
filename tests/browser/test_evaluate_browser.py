"""The Evaluate page in real Chromium: upload a zip of real photos, evaluate EfficientNet-Lite0, see the results."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
LITE0 = "timm:tf_efficientnet_lite0.in1k"
ARTIFACTS = ROOT / "artifacts"


@pytest.fixture
def photos_zip(tmp_path, imagenet_samples) -> Path:
    src = imagenet_samples
    from advisor.models.weights import probe_readiness

    ok, msg = probe_readiness(LITE0)
    if not ok:
        pytest.skip(msg)
    with (src / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))[::50][:16]  # 16 photos of 16 classes
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for r in rows:
            zf.write(src / "images" / r["file"], f"photos/{r['wnid']}/{r['file']}")
    path = tmp_path / "photos.zip"
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture
def server(tmp_path, browser_support):
    lite0 = {LITE0: ("supervised", "CNN", 4.7, 0.4, "apache-2.0", 75.0, 0.030)}  # synthetic, as the rest
    env = {"HF_HUB_OFFLINE": "1", "VISION_ADVISOR_CACHE": str(tmp_path / "cache")}
    with browser_support.serve_fixture_app(tmp_path, env, lite0) as url:
        yield url


def test_evaluate_page_in_chromium(server, chromium_browser, photos_zip, browser_support):
    page = chromium_browser.new_page(viewport={"width": 1400, "height": 2200})
    page.goto(f"{server}/evaluate")
    page.get_by_text("Evaluate on your labelled images").wait_for(timeout=60_000)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(photos_zip))
    page.get_by_text("16 image(s) in 16 class(es)").wait_for(timeout=180_000)
    models = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Models")
    assert LITE0 in models.inner_text()  # the obtainable top of the ranking, weights present
    page.get_by_role("button", name="Evaluate", exact=True).click()
    page.get_by_text("Results on 16 images").wait_for(timeout=300_000)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)
    page.get_by_role("button", name="Download the result (JSON)").last.wait_for(timeout=30_000)
    page.get_by_text("feed the Advisor ranking as").last.wait_for(timeout=30_000)
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=30_000)
    page.get_by_text("Most common confusions").wait_for(timeout=30_000)
    page.wait_for_timeout(2500)  # let the data grids and the chart finish drawing before the screenshot
    ARTIFACTS.mkdir(exist_ok=True)
    browser_support.save_shot(page, ARTIFACTS / "evaluate_page.png")
    page.close()
