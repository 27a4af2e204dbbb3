"""The HTML report in real headless Chromium: renders offline, fetches nothing, runs nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from advisor.report.write import write_report

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/report_shots")


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
    assert len(imgs) == 5 and all(ok and w > 0 for ok, w in imgs)  # every chart and thumbnail decoded
    assert "timm:a" in text and "NON-COMMERCIAL" in text and "feedc0ffee123456" in text
    page.close()
