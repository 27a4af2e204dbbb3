"""UI timings in a real browser, input -> updated element, per interaction (median of N).

Run: .venv/bin/python benchmarks/bench_ui.py [--db PATH] [--runs 10] [--baseline DIR] [--shots DIR]

Interactions: preset change, need slider, hard limit, page switch (Advisor <-> Compare), Compare add-model,
Model card open (from the top pick), report export (the JSON download).
Each is timed from the input event until the element it changes shows the new value ("shown"), and until
Streamlit's run indicator is gone ("done"). `--baseline DIR` runs the same measurements, in the same
process and on the same store, against another checkout (e.g. `git worktree add --detach /tmp/prev 1fd99dd`)
served on another port, and prints both side by side. Needs Debian's chromium at /usr/bin/chromium (never
a downloaded browser). Target: every interaction < 1 s. Run it with the virtual environment inside the
repository, as the README makes it (`.venv/bin/python benchmarks/bench_ui.py`): the app's config keeps
Streamlit's file watcher off, which is what keeps that layout fast.
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
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
SUMMARY_JS = """() => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
    .map(e => e.innerText).find(t => t.includes('models ranked of')) || ''"""
CHART_TEXT_JS = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"] svg text')]
    .map(e => e.textContent).join('\\n')"""
PAGES = ("", "explore", "compare", "model_card", "probe", "report")
PRESETS = ("I need calibrated confidences", "My data looks like ImageNet")
COMPARE_BASE = ("timm:convnext_base.fb_in22k_ft_in1k", "open_clip:ViT-B-16.laion400m_e31")
COMPARE_ADD = ("bvg:resnet50_freqmix", "bvg:resnet50_diffusionnoise", "bvg:resnet50_frozen_random",
               "bvg:resnet50_diffusionnoise_fixed")  # ids in the shipped store
TARGET_MS = 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("streamlit did not start")


def wait_idle(page: Page, timeout: float = 60_000) -> None:
    """Wait until no script run is in progress (the running indicator is gone)."""
    page.wait_for_timeout(50)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=timeout)


def timed(page: Page, act: Callable[[], None], shown: Callable[[], None]) -> tuple[float, float]:
    """(ms until `shown` returns, ms until the run is over) after `act`."""
    wait_idle(page)
    t0 = time.perf_counter()
    act()
    shown()
    t_shown = (time.perf_counter() - t0) * 1000
    wait_idle(page)
    return t_shown, (time.perf_counter() - t0) * 1000


def summary_changed(page: Page, before: str) -> Callable[[], None]:
    return lambda: page.wait_for_function(f"old => ({SUMMARY_JS})() !== old", arg=before, polling="raf",
                                          timeout=60_000)


def bench_preset(page: Page, base: str, runs: int) -> list[tuple[float, float]]:
    page.goto(base)
    page.get_by_text("Top pick:").wait_for(timeout=90_000)
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Start from a preset")
    out = []
    for i in range(runs):
        wait_idle(page)
        box.click()
        option = page.locator('[role="option"]').filter(has_text=PRESETS[i % 2])
        option.wait_for()
        before = page.evaluate(SUMMARY_JS)
        out.append(timed(page, option.click, summary_changed(page, before)))
    return out


def bench_slider(page: Page, base: str, runs: int) -> list[tuple[float, float]]:
    page.goto(base)
    page.get_by_text("Top pick:").wait_for(timeout=90_000)
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text="Calibrated confidences").locator(
        'input[type="range"]')
    out = []
    for i in range(runs):
        wait_idle(page)
        before = page.evaluate(SUMMARY_JS)
        thumb.focus()
        key = "ArrowRight" if i % 2 == 0 else "ArrowLeft"
        out.append(timed(page, lambda k=key: page.keyboard.press(k), summary_changed(page, before)))
    return out


def bench_limit(page: Page, base: str, runs: int) -> list[tuple[float, float]]:
    page.goto(base)
    page.get_by_text("Top pick:").wait_for(timeout=90_000)
    field = page.locator('[data-testid="stNumberInput"]').filter(has_text="Max parameters").locator("input").first
    out = []
    for i in range(runs):
        wait_idle(page)
        before = page.evaluate(SUMMARY_JS)
        field.fill(str(40 + 20 * (i % 2)))

        def act() -> None:
            field.press("Enter")

        out.append(timed(page, act, summary_changed(page, before)))
    return out


def bench_page_switch(page: Page, base: str, runs: int) -> list[tuple[float, float]]:
    page.goto(base)
    page.get_by_text("Top pick:").wait_for(timeout=90_000)
    nav = page.locator('[data-testid="stTopNavLink"], [data-testid="stSidebarNavLink"]')
    out = []
    for i in range(runs):
        wait_idle(page)
        if i % 2 == 0:
            link = nav.filter(has_text="Compare").first
            shown = lambda: page.locator('[data-testid="stVegaLiteChart"] svg').first.wait_for(timeout=60_000)  # noqa: E731
            out.append(timed(page, link.click, lambda s=shown: (page.get_by_text("Per need").wait_for(), s())))
        else:
            link = nav.filter(has_text="Advisor").first
            out.append(timed(page, link.click, lambda: page.get_by_text("Top pick:").wait_for(timeout=60_000)))
    return out


def bench_compare_add(page: Page, base: str, runs: int) -> list[tuple[float, float]]:
    query = "&".join(f"compare={m}" for m in COMPARE_BASE)
    out = []
    for i in range(runs):
        page.goto(f"{base}/compare?{query}")
        page.get_by_text("Per need").wait_for(timeout=90_000)
        wait_idle(page)
        page.wait_for_timeout(300)
        model = COMPARE_ADD[i % len(COMPARE_ADD)]
        box = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Models").locator("input").first
        box.click()
        box.fill(model)
        page.locator('[role="option"]').filter(has_text=model).first.wait_for()
        needle = model.split(":")[1][:12]

        def shown(n: str = needle) -> None:
            page.wait_for_function(f"n => ({CHART_TEXT_JS})().includes(n)", arg=n, polling="raf", timeout=60_000)

        out.append(timed(page, lambda b=box: b.press("Enter"), shown))
    return out


def bench_model_card(page: Page, base: str, runs: int) -> list[tuple[float, float]]:
    """'Open model card' on the top pick -> the card shows its rank under the user's needs."""
    out = []
    for _ in range(runs):
        page.goto(base)
        page.get_by_text("Why these models").wait_for(timeout=90_000)
        wait_idle(page)
        button = page.get_by_role("link", name="Open model card").first
        button.scroll_into_view_if_needed()  # the user scrolls to it first: timed from the click itself
        page.wait_for_timeout(300)
        out.append(timed(page, button.click,
                         lambda: page.get_by_text("under your current needs").first.wait_for(timeout=60_000)))
    return out


def bench_report_export(page: Page, base: str, runs: int) -> list[tuple[float, float]]:
    """Report page -> the JSON report's download arrives (the other formats are built with it)."""
    out = []
    nav = page.locator('[data-testid="stTopNavLink"], [data-testid="stSidebarNavLink"]')
    for _ in range(runs):
        page.goto(base)
        page.get_by_text("Top pick:").wait_for(timeout=90_000)
        wait_idle(page)
        nav.filter(has_text="Report").first.click()
        button = page.locator('[data-testid="stDownloadButton"]').filter(has_text="JSON")
        button.wait_for(timeout=300_000)  # the first visit builds the report (every format but the PDF)
        wait_idle(page)
        box: dict = {}

        def act(b=button, x=box) -> None:
            x["cm"] = page.expect_download(timeout=60_000)
            x["info"] = x["cm"].__enter__()
            b.click()

        def shown(x=box) -> None:
            x["cm"].__exit__(None, None, None)
            x["info"].value.path()  # the whole file has arrived

        out.append(timed(page, act, shown))
    return out


BENCHES: dict[str, Callable[[Page, str, int], list[tuple[float, float]]]] = {
    "preset change": bench_preset, "need slider": bench_slider, "hard limit": bench_limit,
    "page switch": bench_page_switch, "Compare add-model": bench_compare_add, "Model card open": bench_model_card,
    "report export (JSON)": bench_report_export,
}


def serve(root: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` in `root`; its stderr goes to $BENCH_UI_LOG when set (server-side timings)."""
    port = free_port()
    log = open(os.environ.get("BENCH_UI_LOG", os.devnull), "w")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true",
                             "--browser.gatherUsageStats", "false"],
                            cwd=root, env={**env, "PYTHONPATH": str(root)}, stdout=subprocess.DEVNULL,
                            stderr=log)
    wait_healthy(port)
    return proc, f"http://127.0.0.1:{port}"


def measure(browser, root: Path, env: dict[str, str], runs: int, width: int,
            shots: Path | None = None, only: tuple[str, ...] = ()) -> dict[str, list[tuple[float, float]]]:
    proc, base = serve(root, env)
    results: dict[str, list[tuple[float, float]]] = {}
    try:
        page = browser.new_page(viewport={"width": width, "height": 1400}, accept_downloads=True)
        t0 = time.perf_counter()
        page.goto(base)
        page.get_by_text("Top pick:").wait_for(timeout=600_000)  # cold: store, ranking data and first rank
        results["first ranking (cold)"] = [((time.perf_counter() - t0) * 1000, 0.0)]
        for name, bench in BENCHES.items():
            if only and name not in only:
                continue
            try:
                results[name] = bench(page, base, runs)
            except Exception as exc:  # a selector the other checkout lacks: report, keep going
                print(f"  {root.name}: {name} failed: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        if shots:
            shots.mkdir(parents=True, exist_ok=True)
            for path in PAGES:
                page.goto(f"{base}/{path}")
                page.wait_for_selector("h1", timeout=60_000)
                wait_idle(page)
                page.wait_for_timeout(800)  # let Vega finish drawing
                page.screenshot(path=str(shots / f"{root.name}_{path or 'advisor'}.png"), full_page=True)
        page.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return results


def _med(xs: list[tuple[float, float]] | None, i: int) -> str:
    if not xs:
        return "     –"
    return f"{statistics.median(x[i] for x in xs):6.0f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="store to serve (default: the project store)")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--baseline", type=Path, help="another checkout to measure the same way (side by side)")
    ap.add_argument("--shots", type=Path, help="also save a screenshot of every page here")
    ap.add_argument("--only", action="append", default=[], choices=list(BENCHES), help="time only these (repeatable)")
    args = ap.parse_args()
    env = dict(os.environ)
    db = Path(args.db) if args.db else ROOT / "precomputed" / "advisor.duckdb"
    env["VISION_ADVISOR_DB"] = str(db.resolve())  # both checkouts serve the very same store
    roots = [("this", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    found: dict[str, dict[str, list[tuple[float, float]]]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for label, root in roots:
                found[label] = measure(browser, root, env, args.runs, args.width, args.shots, tuple(args.only))
        finally:
            browser.close()
    head = "median ms, input -> updated element (-> run finished)"
    cols = "".join(f" | {label:>20s}" for label, _ in roots)
    print(f"{head}\n{'interaction':26s}{cols}   target")
    for name in ["first ranking (cold)", *BENCHES]:
        cells = ""
        for label, _ in roots:
            r = found[label].get(name)
            cells += f" | {_med(r, 0)} ({_med(r, 1).strip():>6s})" if name in BENCHES else f" | {_med(r, 0):>20s}"
        ok = ""
        if name in BENCHES and found["this"].get(name):
            ok = "  ok" if statistics.median(x[0] for x in found["this"][name]) < TARGET_MS else "  SLOW"
        print(f"{name:26s}{cells}   {'< 1000' if name in BENCHES else ''}{ok}")
    print(f"n = {args.runs} per interaction; width {args.width} px; store {db}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
