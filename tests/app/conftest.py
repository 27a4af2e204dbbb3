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


def file_signature(path: Path) -> tuple[int, int, int]:
    """Changes when the file is rewritten or replaced (a store build swaps in a new file)."""
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


@pytest.fixture(scope="session")
def ui_db(tmp_path_factory) -> Path:
    return FIXTURE.make_store(tmp_path_factory.mktemp("ui") / "ui.duckdb")


@pytest.fixture(autouse=True)
def _ui_db_untouched(request):
    """The fixture store is shared by the whole session: a test that rewrites it (a PropertyStore opened with
    auto_build on the real sources rebuilds it from them) fails here, instead of a later test failing for it."""
    if "ui_db" not in request.fixturenames:
        yield
        return
    db = request.getfixturevalue("ui_db")
    before = file_signature(db)
    yield
    assert file_signature(db) == before, (
        f"{request.node.nodeid} rewrote the shared fixture store {db}; open it with auto_build=False "
        "(or the CLI with --sources pointing at a missing folder)")


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
