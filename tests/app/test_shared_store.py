"""The session's fixture store stays as built: a test that rewrote it made later AppTests rank the real store."""

from __future__ import annotations

import os

import duckdb

from advisor.store.store import PropertyStore

from .conftest import FIXTURE, file_signature
from .test_report_page import report_json


def test_writing_a_report_to_restore_leaves_the_fixture_store_as_built(tmp_path):
    """`report_json` (the JSON-restore tests' saved report) opened the store with PropertyStore's default
    auto_build on the real sources: the fixture's fingerprint is not theirs, so the file was rebuilt from them
    in place, and `test_landing_page_ranks_with_default_preset` run after it ranked the real store."""
    db = FIXTURE.make_store(tmp_path / "ui.duckdb")
    before = file_signature(db)
    report_json(db, {"calibration": 2.0, "accuracy": 1.0}, paradigms=("supervised",))
    assert file_signature(db) == before
    store = PropertyStore(db, auto_build=False)
    try:
        assert set(store.model_ids()) == set(FIXTURE.MODELS)
    finally:
        store.close()


def test_the_guard_sees_a_store_replaced_or_written_in_place(tmp_path):
    """conftest's check after each test relies on this: a build swapped in (what build_store does) and a write
    into the file are both told apart from the store as built."""
    db = FIXTURE.make_store(tmp_path / "ui.duckdb")
    before = file_signature(db)
    os.replace(FIXTURE.make_store(tmp_path / "other.duckdb"), db)
    assert file_signature(db) != before
    before = file_signature(db)
    con = duckdb.connect(str(db))
    try:
        con.execute("INSERT INTO build_info VALUES ('touched', 'yes')")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    assert file_signature(db) != before
