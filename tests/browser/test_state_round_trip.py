"""What the user set survives every page: a limit, a slider and a switch, then a visit to every page and back.

Streamlit drops a keyed widget's value when its page is left (the AppTest harness does not show this), so the
check needs a real browser: the widgets, the address bar, the exported JSON report and a fresh browser that
opens the copied link must all still hold the user's values.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from advisor.ui import state

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

LIMIT = "Max parameters"  # set to 30 (M)
SLIDER = "Calibrated confidences"  # 0.5 in the default preset, moved to 0.8
SWITCH = "Ignore non-commercial data"  # off by default, turned on
WANT_URL = {state.MAX_PARAMS: ["30"], state.weight_key("calibration"): ["0.8"], state.EXCLUDE_NC: ["1"]}


def idle(page) -> None:
    page.wait_for_timeout(150)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)


def limit_box(page):
    return page.locator('[data-testid="stNumberInput"]').filter(has_text=LIMIT).locator("input")


def slider(page):
    return page.locator('[data-testid="stSlider"]').filter(has_text=SLIDER).locator('input[type="range"]').first


def switch(page):
    return page.locator('[data-testid="stCheckbox"]').filter(has_text=SWITCH).locator("input")


def read_advisor(page) -> dict[str, object]:
    limit = limit_box(page).input_value()
    return {"limit": float(limit) if limit else None, "slider": slider(page).input_value(),
            "switch": switch(page).is_checked(), "top": page.get_by_text("Top pick:").inner_text()}


def on_advisor(page) -> dict[str, object]:
    """The Advisor page's values once the browser has settled (the same twice, 0.5 s apart)."""
    page.get_by_text("Top pick:").wait_for(timeout=60_000)
    idle(page)
    seen = read_advisor(page)
    for _ in range(20):
        page.wait_for_timeout(500)
        now = read_advisor(page)
        if now == seen:
            return now
        seen = now
    return seen


def url_state(page, wait_s: float = 15.0) -> dict[str, list[str]]:
    """The user's values in the address bar, once they are there (the browser may be a run behind)."""
    got: dict[str, list[str] | None] = {}
    for _ in range(int(wait_s / 0.25)):
        query = parse_qs(urlparse(page.url).query)
        got = {k: query.get(k) for k in WANT_URL}
        if got == WANT_URL:
            break
        page.wait_for_timeout(250)
    return got


def go(page, title: str) -> None:
    """Click the page's link in the top navigation (a new URL would start a new session)."""
    page.locator('[data-testid="stTopNavLink"]').filter(has_text=title).first.click()
    page.locator("h1").filter(has_text="Vision Advisor" if title == state.PAGES[0].title else title).first.wait_for(
        timeout=60_000)
    idle(page)


def set_user_values(page) -> None:
    box = limit_box(page)
    box.fill("30")
    box.press("Enter")
    idle(page)
    thumb = slider(page)
    thumb.focus()
    for _ in range(6):  # 0.5 -> 0.8 in steps of 0.05
        page.keyboard.press("ArrowRight")
    idle(page)
    page.locator('[data-testid="stCheckbox"]').filter(has_text=SWITCH).locator("label").click()
    idle(page)


def exported_request(page, tmp_path: Path) -> dict:
    go(page, next(p.title for p in state.PAGES if p.file == "report.py"))
    button = page.locator('[data-testid="stDownloadButton"]').filter(has_text="JSON")
    button.wait_for(timeout=120_000)
    with page.expect_download(timeout=60_000) as dl:
        button.click()
    path = tmp_path / "report.json"
    dl.value.save_as(path)
    return json.loads(path.read_text())["request"]


@pytest.mark.parametrize("attempt", [1, 2])  # the "passes twice in a row"
def test_values_survive_every_page_and_a_fresh_browser(server, chromium_browser, tmp_path, browser_support,
                                                       attempt):
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    fresh = None
    try:
        page.goto(server)
        before = on_advisor(page)
        assert before["limit"] is None and before["switch"] is False
        set_user_values(page)
        want = on_advisor(page)
        assert (want["limit"], want["slider"], want["switch"]) == (30.0, "0.8", True)
        assert want["top"] != before["top"]  # the 300 M default top pick is out under the limit
        assert url_state(page) == WANT_URL, page.url
        advisor_title = state.PAGES[0].title
        for spec in state.PAGES[1:]:  # every page in the page spec, then back to the Advisor
            go(page, spec.title)
            assert url_state(page) == WANT_URL, f"URL lost the user's values on {spec.title}: {page.url}"
            go(page, advisor_title)
            assert on_advisor(page) == want, f"after visiting {spec.title}"
        assert url_state(page) == WANT_URL
        # "Open model card" on the top pick: the card ranks it under the user's needs (1st), not the defaults'.
        top_id = want["top"].split("Top pick:", 1)[1].strip()
        page.get_by_role("link", name="Open model card").first.click()
        page.locator("h1").filter(has_text="Model card").first.wait_for(timeout=60_000)
        page.get_by_text("under your current needs").first.wait_for(timeout=60_000)
        idle(page)
        assert page.get_by_text("under your current needs").first.inner_text().startswith("Rank 1 of")
        assert page.get_by_text(top_id).first.is_visible()
        assert url_state(page) == WANT_URL, page.url
        go(page, advisor_title)
        assert on_advisor(page) == want, "after opening the model card"
        request = exported_request(page, tmp_path)
        assert request["limits"]["max_params_m"] == 30
        assert request["limits"]["exclude_non_commercial"] is True
        assert request["weights"]["calibration"] == pytest.approx(0.8)
        assert url_state(page) == WANT_URL  # still, on the Report page
        link = page.url
        go(page, advisor_title)
        assert on_advisor(page) == want

        fresh = chromium_browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
        other = fresh.new_page()
        other.goto(link)  # the Report page's address, opened in a new browser
        other.wait_for_selector("h1", timeout=60_000)
        idle(other)
        assert exported_request(other, tmp_path) == request
        go(other, advisor_title)
        assert on_advisor(other) == want
    finally:
        browser_support.save_shot(page, tmp_path / f"round_trip_{attempt}.png")
        context.close()
        if fresh is not None:
            fresh.close()
