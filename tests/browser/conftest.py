"""Real-browser fixtures: Debian's chromium driven by Playwright; `streamlit run app.py` on a free port."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SHOTS = Path("/tmp/ui_shots")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`streamlit run app.py` headless on 127.0.0.1 (stdout/stderr to a log next to nothing else)."""
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    return subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("streamlit did not become healthy")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


MAIN_HEIGHT_JS = """() => { const m = document.querySelector('[data-testid="stMain"]');
  return m ? m.scrollHeight : document.documentElement.scrollHeight; }"""


def save_shot(page, path: Path) -> Path:
    """The whole page: Streamlit scrolls inside its main area, so the window is made that tall for the shot."""
    size = page.viewport_size
    tall = int(page.evaluate(MAIN_HEIGHT_JS))
    if size and tall > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(tall + 40, 16_000)})
        page.wait_for_timeout(400)
    page.screenshot(path=str(path), full_page=True)
    if size:
        page.set_viewport_size(size)
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SHOTS / path.name)
    except OSError:
        pass
    return path


@pytest.fixture(scope="module")  # one sync Playwright at a time per process
def chromium_browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def load_module(name: str, path: Path):
    """Import a test helper by path (tests run with --import-mode=importlib: no test packages)."""
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


FIXTURE = load_module("ui_fixture_store_browser", ROOT / "tests" / "app" / "fixture_store.py")


@contextmanager
def serve_fixture_app(folder: Path, env: Mapping[str, str] | None = None,
                      extra_models: Mapping[str, tuple] | None = None) -> Iterator[str]:
    """The app on a fresh fixture store written in `folder` (plus `extra_models` rows), on a free port."""
    from advisor.ui.cache import DB_ENV

    FIXTURE.MODELS.update(extra_models or {})
    try:
        db = FIXTURE.make_store(folder / "ui.duckdb")
    finally:
        for mid in extra_models or {}:
            del FIXTURE.MODELS[mid]
    port = free_port()
    proc = start_server(port, {DB_ENV: str(db), **(env or {})})
    try:
        wait_healthy(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """The app on the fixture store, one server per test module (tests only read the store)."""
    with serve_fixture_app(tmp_path_factory.mktemp("ui")) as url:
        yield url


@pytest.fixture(scope="session")
def browser_support() -> SimpleNamespace:
    """The helpers above for test modules (a conftest is not importable as a module)."""
    return SimpleNamespace(save_shot=save_shot, serve_fixture_app=serve_fixture_app, load_module=load_module)
