"""AppTest fixtures: the app runs against a small seeded store named by VISION_ADVISOR_DB."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

HERE = Path(__file__).parent
APP = str(HERE.parents[1] / "app.py")


def _fixture_module():
    spec = importlib.util.spec_from_file_location("ui_fixture_store", HERE / "fixture_store.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


FIXTURE = _fixture_module()


@pytest.fixture(scope="session")
def ui_db(tmp_path_factory) -> Path:
    return FIXTURE.make_store(tmp_path_factory.mktemp("ui") / "ui.duckdb")


@pytest.fixture
def app(ui_db, monkeypatch):
    """A fresh AppTest on the fixture store, caches cleared before and after."""
    from streamlit.testing.v1 import AppTest

    from advisor.ui.cache import DB_ENV, clear_caches

    monkeypatch.setenv(DB_ENV, str(ui_db))
    clear_caches()
    yield AppTest.from_file(APP, default_timeout=60)
    clear_caches()


@pytest.fixture
def seed():
    """The fixture store module (model ids the tests refer to)."""
    return FIXTURE
