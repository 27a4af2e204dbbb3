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
