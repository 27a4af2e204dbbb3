"""Screenshots of every page on the real store at 1,280 and 1,920 px, Probe and Evaluate also after a run.

Run by hand (to look at them, as the closing notes describe): `.venv/bin/python benchmarks/shots.py [--out DIR]`
(default artifacts/layout/, gitignored). The Probe page runs EfficientNet-Lite0 (weights from its pip package)
on the Chelsea sample photo; the Evaluate page uploads a zip of 40 of the shared ImageNet sample photos
(../shared/data/imagenet_samples) and evaluates Lite0 on them. Needs Debian's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import sys
import tempfile
import zipfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from bench_evaluate import samples_dir  # noqa: E402
from bench_ui import ARGS, CHROMIUM, serve, wait_idle  # noqa: E402

from advisor.ui import state  # noqa: E402

PAGES = tuple("" if i == 0 else Path(p.file).stem for i, p in enumerate(state.PAGES))
# What shows that a page has finished drawing (beyond the run indicator): the last thing it draws.
DONE_TEXT = {"": "Why these models", "report": "Download",
             "model_card": re.compile("Download the weights|Its weights are on this machine|No public weights")}
WIDTHS = (1280, 1920)


MAIN_HEIGHT_JS = """() => { const m = document.querySelector('[data-testid="stMain"]');
    return m ? m.scrollHeight : document.body.scrollHeight; }"""
SKELETON = '[data-testid="stSkeleton"]'


def settle(page: Page) -> None:
    """The run is over and nothing is still a placeholder."""
    page.wait_for_selector("h1", timeout=120_000)
    page.wait_for_timeout(300)
    wait_idle(page, timeout=600_000)
    page.wait_for_selector(SKELETON, state="detached", timeout=120_000)
    page.wait_for_timeout(1500)  # Vega and the data grids finish drawing


def shot(page: Page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main area, so the window is made that tall for the shot."""
    size = page.viewport_size or {"width": 1280, "height": 1000}
    tall = int(page.evaluate(MAIN_HEIGHT_JS))
    if tall > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(tall + 40, 16_000)})
        page.wait_for_timeout(600)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    print(path)


def photos_zip(tmp: Path, n: int = 40) -> Path | None:
    d = samples_dir()
    if d is None:
        return None
    with (d / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))[::20][:n]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for r in rows:
            zf.write(d / "images" / r["file"], f"photos/{r['wnid']}/{r['file']}")
    path = tmp / "photos.zip"
    path.write_bytes(buf.getvalue())
    return path


def run_probe(page: Page, base: str) -> None:
    page.goto(f"{base}/probe")
    page.get_by_role("button", name="Run probe").wait_for(timeout=120_000)
    wait_idle(page)
    page.get_by_role("button", name="Run probe").click()
    page.get_by_text("Results on").first.wait_for(timeout=600_000)
    settle(page)


def run_evaluate(page: Page, base: str, archive: Path) -> None:
    page.goto(f"{base}/evaluate")
    page.get_by_text("Evaluate on your labelled images").wait_for(timeout=120_000)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(archive))
    page.get_by_text("image(s) in").first.wait_for(timeout=300_000)
    wait_idle(page)
    page.get_by_role("button", name="Evaluate", exact=True).click()
    page.get_by_text("Results on").first.wait_for(timeout=900_000)
    settle(page)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "artifacts" / "layout")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VISION_ADVISOR_DB": str(ROOT / "precomputed" / "advisor.duckdb")}
    with tempfile.TemporaryDirectory() as tmp:
        env.setdefault("VISION_ADVISOR_CACHE", str(Path(tmp) / "cache"))
        archive = photos_zip(Path(tmp))
        proc, base = serve(ROOT, env)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for width in WIDTHS:
                    page = browser.new_page(viewport={"width": width, "height": 1000})
                    page.goto(base)
                    page.get_by_text("Top pick:").wait_for(timeout=600_000)
                    for path in PAGES:  # the top navigation: one session, as a user moves through the app
                        page.locator('[data-testid="stTopNavLink"]').nth(PAGES.index(path)).click()
                        if path in DONE_TEXT:
                            page.get_by_text(DONE_TEXT[path]).first.wait_for(timeout=600_000)
                        settle(page)
                        shot(page, args.out / f"{path or 'advisor'}_{width}.png")
                    run_probe(page, base)
                    shot(page, args.out / f"probe_{width}_after_run.png")
                    if archive is not None:
                        run_evaluate(page, base, archive)
                        shot(page, args.out / f"evaluate_{width}_after_run.png")
                    page.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
