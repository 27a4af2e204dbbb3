"""Reliability fixtures: the report tests' tiny store, reused without copying its rows."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("_report_fixtures", Path(__file__).parents[1] / "report" / "conftest.py")
_report_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_report_fixtures)
EVIL = _report_fixtures.EVIL


@pytest.fixture
def tiny_db(tmp_path) -> Path:
    db = tmp_path / "tiny.duckdb"
    _report_fixtures.build_store_db(db)
    return db


@pytest.fixture
def cli_base(tiny_db, tmp_path) -> list[str]:
    """`advisor` global options that point at the tiny store and never build."""
    return ["--db", str(tiny_db), "--sources", str(tmp_path / "no_sources")]


REPORT_OPTS = ["--need", "accuracy=1", "--top", "3", "--draws", "20", "--format", "html"]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


UI_FIXTURE = _load("_ui_fixture_store", Path(__file__).parents[1] / "app" / "fixture_store.py")
APP = str(Path(__file__).parents[2] / "app.py")


@pytest.fixture
def ui_db(tmp_path) -> Path:
    """A private copy of the app's fixture store (tests here damage it)."""
    return UI_FIXTURE.make_store(tmp_path / "ui.duckdb")


@pytest.fixture
def app(ui_db, monkeypatch):
    """A fresh AppTest on a private fixture store, caches cleared before and after."""
    from streamlit.testing.v1 import AppTest  # noqa: TID251 (AppTest drives the app)

    from advisor.ui.cache import DB_ENV, clear_caches

    monkeypatch.setenv(DB_ENV, str(ui_db))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    clear_caches()
    yield AppTest.from_file(APP, default_timeout=60)
    clear_caches()
