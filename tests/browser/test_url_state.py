"""A URL copied right after quick widget changes restores exactly what is on screen in a fresh browser."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]

HERE = Path(__file__).parent


SLIDERS = ("Calibrated confidences", "Robustness to corruptions")


def thumb(page, label: str):
    return page.locator('[data-testid="stSlider"]').filter(has_text=label).locator('input[type="range"]').first


def idle(page) -> None:
    page.wait_for_timeout(100)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=30_000)


def read_screen(page) -> dict[str, str]:
    values = {label: thumb(page, label).input_value() for label in SLIDERS}
    values["top pick"] = page.get_by_text("Top pick:").inner_text()
    return values


def on_screen(page) -> dict[str, str]:
    """What the page shows once it has settled: the same twice, 0.5 s apart (on a loaded machine a rerun
    can start well after the key press, so one idle moment does not mean the last run has drawn)."""
    seen = read_screen(page)
    for _ in range(20):
        page.wait_for_timeout(500)
        idle(page)
        now = read_screen(page)
        if now == seen:
            return now
        seen = now
    return seen


def test_url_copied_at_once_restores_the_view(server, chromium_browser, tmp_path, browser_support):
    page = chromium_browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server)
    page.get_by_text("Top pick:").wait_for(timeout=30_000)
    idle(page)
    thumb(page, SLIDERS[0]).focus()
    for _ in range(10):  # quick steps, no waiting in between: the runs interrupt each other
        page.keyboard.press("ArrowRight")
    thumb(page, SLIDERS[1]).focus()
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    # The address bar follows the widgets within a round trip, not after the page has finished drawing.
    page.wait_for_function("() => location.search.includes('w_calibration=1')"
                           " && location.search.includes('w_corruption=0.15')", timeout=15_000)
    idle(page)
    url, shown = page.url, on_screen(page)
    assert shown[SLIDERS[0]] == "1"
    fresh = chromium_browser.new_context(viewport={"width": 1400, "height": 1000})
    other = fresh.new_page()
    try:
        other.goto(url)
        other.get_by_text("Top pick:").wait_for(timeout=30_000)
        idle(other)
        assert on_screen(other) == shown
    finally:
        browser_support.save_shot(other, tmp_path / "url_restored.png")
        fresh.close()
        page.close()
