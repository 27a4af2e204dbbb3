"""A store damaged while the app serves (issue 13, item 6): a message, then healed without a restart."""

from __future__ import annotations

import os

import pytest

from advisor.store.store import PropertyStore
from advisor.ui import state

from .conftest import UI_FIXTURE

pytestmark = pytest.mark.app

CARD_PAGE = "advisor/ui/pages/model_card.py"


def damage_in_place(path) -> None:
    """Overwrite the data blocks of the open file (same inode), as a failing disk or a stray write would."""
    size = os.path.getsize(path)
    with open(path, "r+b") as fh:
        fh.seek(size // 10)
        fh.write(os.urandom(size - size // 10))


def evict_buffers(path) -> int:
    """The tiny fixture store sits whole in DuckDB's buffer pool, so damage would stay invisible; a real store
    (hundreds of MB) is read from disk again. DuckDB shares one instance (and buffer pool) per file while any
    connection to it is open: reopen every store's connection to get a cold pool on the same file."""
    import gc

    import duckdb

    gc.collect()
    stores = [o for o in gc.get_objects() if isinstance(o, PropertyStore) and o.db_path == path]
    for store in stores:
        store._con.close()
    for store in stores:
        store._con = duckdb.connect(str(store.db_path), read_only=True)
    return len(stores)


def repair_by_replacing(path, tmp_path) -> None:
    """What a rebuild does: a new file renamed over the old one (open connections keep the old inode)."""
    fresh = UI_FIXTURE.make_store(tmp_path / "fresh.duckdb")
    os.replace(fresh, path)


def test_query_on_a_damaged_file_is_a_store_error_and_marks_it(ui_db):
    from advisor.errors import StoreError

    store = PropertyStore(ui_db, auto_build=False)
    store.models()
    damage_in_place(ui_db)
    with pytest.raises(StoreError, match="could not be read"):
        for mid in (UI_FIXTURE.ACCURATE, UI_FIXTURE.CALIBRATED):
            store.scores([mid])
            store.model(mid)
            store.conflicts()
    assert store.failed
    store.close()


def test_app_shows_a_message_then_heals(app, ui_db, tmp_path):
    at = app.run()
    at.switch_page(CARD_PAGE).run()
    assert not at.exception and not at.error
    damage_in_place(ui_db)
    assert evict_buffers(ui_db) >= 1
    other = next(m for m in (UI_FIXTURE.ACCURATE, UI_FIXTURE.CALIBRATED) if m != at.selectbox(key=state.CARD).value)
    at.selectbox(key=state.CARD).set_value(other).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("could not be read" in e.value for e in at.error)
    repair_by_replacing(ui_db, tmp_path)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key=state.CARD).value == other
    assert at.subheader, "the model card is shown again"

