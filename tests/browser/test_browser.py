"""The real thing: streamlit serves the app, Chromium moves a slider by keyboard, the ranking follows."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HERE = Path(__file__).parent


def slider_thumb(page, label: str):
    box = page.locator('[data-testid="stSlider"]').filter(has_text=label)
    return box.locator('input[type="range"]')  # react-aria slider: a visually hidden range input


def top_pick(page) -> str:
    return page.get_by_text("Top pick:").inner_text().removeprefix("Top pick: ").strip()


def test_keyboard_slider_changes_the_top_pick(server, chromium_browser, tmp_path, browser_support):
    page = chromium_browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(server)
    page.get_by_text("Top pick:").wait_for(timeout=30_000)
    page.get_by_text("Why these models").wait_for(timeout=30_000)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=30_000)  # first run done
    before = top_pick(page)
    assert before == "timm:big_net.a1_in1k"  # thin study-only evidence no longer carries ConvNeXt (see test_app)
    thumb = slider_thumb(page, "Calibrated confidences")
    assert thumb.input_value() == "0.5"
    thumb.focus()
    for _ in range(10):  # 0.5 -> 1.0 in steps of 0.05
        page.keyboard.press("ArrowRight")
    try:
        page.get_by_text("Top pick: timm:cal_net.a1_in1k").wait_for(timeout=15_000)
    finally:
        browser_support.save_shot(page, tmp_path / "browser_advisor_after_slider.png")
    assert thumb.input_value() == "1"
    assert "w_calibration=1" in page.url  # the link now reproduces this view
    assert (tmp_path / "browser_advisor_after_slider.png").stat().st_size > 10_000
    page.close()
