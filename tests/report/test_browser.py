"""The HTML report in real headless Chromium: renders offline, fetches nothing, runs nothing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from advisor.report.formats import write_report

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("ADVISOR_SHOTS", "/tmp/report_shots"))  # screenshots to look at
A4_PX = 794  # A4 width at 96 dpi


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                               args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


def test_html_report_in_chromium(browser, report, evil, tmp_path):
    out = tmp_path / "report.html"
    write_report(report, "html", out)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    requests, dialogs, errors = [], [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(out.as_uri(), wait_until="load")
    page.wait_for_timeout(300)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "report.png"), full_page=True)
    fetched = [u for u in requests if not u.startswith("data:") and u != out.as_uri()]
    assert fetched == [] and dialogs == [] and errors == []
    text = page.inner_text("body")
    assert evil in text  # shown as text
    assert page.locator("img[src='x']").count() == 0
    imgs = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth])")
    assert len(imgs) == 8 and all(ok and w > 0 for ok, w in imgs)  # every chart and thumbnail decoded
    assert "timm:a" in text and "NON-COMMERCIAL" in text and "feedc0ffee123456" in text
    page.close()


# Elements whose right edge passes the viewport (text, tables, charts): a printed page would cut them.
OVERFLOW_JS = """() => {
  const w = document.documentElement.clientWidth, out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > w + 0.5) out.push(el.tagName + ' ends at ' + Math.round(r.right));
    else if (el.clientWidth && el.scrollWidth > el.clientWidth + 1) out.push(el.tagName + ' text overflows');
  }
  return {scroll: document.documentElement.scrollWidth, client: w, over: out.slice(0, 10)};
}"""


@pytest.mark.parametrize("width", [1280, A4_PX])
def test_html_report_fits_the_page_width(browser, tiny_store, request_, probe, tmp_path, width):
    import io

    from PIL import Image

    from advisor.report.build import build_report

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (0, 90, 160)).save(buf, format="PNG")
    long_name = "holiday_photo_" + "x" * 150 + ".png"  # one unbreakable word, far wider than the page
    report = build_report(tiny_store, request_, probe_results=probe.replace("cat.png", long_name),
                          images={long_name: buf.getvalue()}, notes=long_name, created_at="2026-01-01T00:00:00Z")
    out = tmp_path / "report.html"
    write_report(report, "html", out)
    page = browser.new_page(viewport={"width": width, "height": 1100})
    page.goto(out.as_uri(), wait_until="load")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"report_{width}.png"), full_page=True)
    fit = page.evaluate(OVERFLOW_JS)
    assert fit["scroll"] <= fit["client"] and fit["over"] == [], fit
    charts = page.eval_on_selector_all("figure img", "els => els.map(e => e.getBoundingClientRect().width)")
    assert len(charts) == 8 and all(0 < w <= fit["client"] for w in charts)  # seven charts, one thumbnail
    page.emulate_media(media="print")  # the print stylesheet (A4) must fit too
    fit = page.evaluate(OVERFLOW_JS)
    assert fit["scroll"] <= fit["client"] and fit["over"] == [], fit
    page.close()
