"""UI timings in a real browser: server start to first ranking, and slider change to updated ranking.

Run: .venv/bin/python benchmarks/bench_ui.py [--db PATH] [--runs 10] [--shots /tmp/ui_shots]
Needs Debian's chromium at /usr/bin/chromium (never a downloaded browser). Targets on the 2-core dev
machine: first ranking < 8 s, slider to updated ranking < 500 ms (median).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
SUMMARY_JS = """() => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
    .map(e => e.innerText).find(t => t.includes('models ranked of')) || ''"""
PAGES = ("", "explore", "compare", "model_card")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError("streamlit did not start")


def wait_idle(page: Page, timeout: float = 30_000) -> None:
    """Wait until no script run is in progress (the running indicator is gone)."""
    page.wait_for_timeout(50)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=timeout)


def slider_times(page: Page, runs: int) -> tuple[list[float], list[float]]:
    """Per key press: ms until the ranking summary changes, and until the whole run has finished."""
    box = page.locator('[data-testid="stSlider"]').filter(has_text="Calibrated confidences")
    thumb = box.locator('input[type="range"]')
    shown, done = [], []
    for i in range(runs):
        wait_idle(page)
        before = page.evaluate(SUMMARY_JS)
        thumb.focus()
        t0 = time.perf_counter()
        page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        page.wait_for_function(f"old => ({SUMMARY_JS})() !== old", arg=before, polling="raf", timeout=30_000)
        shown.append((time.perf_counter() - t0) * 1000)
        wait_idle(page)
        done.append((time.perf_counter() - t0) * 1000)
    return shown, done


def screenshots(page: Page, base: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for path in PAGES:
        page.goto(f"{base}/{path}")
        page.wait_for_selector("h1", timeout=30_000)
        wait_idle(page)
        page.wait_for_timeout(800)  # let Vega finish drawing
        page.screenshot(path=str(out / f"page_{path or 'advisor'}.png"), full_page=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="store to serve (default: the project store)")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--shots", type=Path, help="also save a screenshot of every page here")
    args = ap.parse_args()
    env = dict(os.environ)
    if args.db:
        env["VISION_ADVISOR_DB"] = args.db
    port = free_port()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 2400})
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                 "--server.address", "127.0.0.1", "--server.headless", "true"],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_healthy(port)
            t_up = time.perf_counter() - t0
            page.goto(f"http://127.0.0.1:{port}")
            page.get_by_text("Top pick:").wait_for(timeout=60_000)
            t_first = time.perf_counter() - t0
            shown, done = slider_times(page, args.runs)
            print(f"server healthy after        {t_up:6.2f} s")
            print(f"first ranking visible after {t_first:6.2f} s  (target < 8 s)")
            print(f"slider -> ranking updated   median {statistics.median(shown):6.0f} ms  "
                  f"(min {min(shown):.0f}, max {max(shown):.0f}; target < 500 ms; n={len(shown)})")
            print(f"slider -> run finished      median {statistics.median(done):6.0f} ms  "
                  f"(min {min(done):.0f}, max {max(done):.0f})")
            if args.shots:
                screenshots(page, f"http://127.0.0.1:{port}", args.shots)
                print(f"screenshots in {args.shots}")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
