from __future__ import annotations

import re
from pathlib import Path

import duckdb

from advisor.store.build import SCHEMA

README = Path(__file__).resolve().parents[2] / "precomputed" / "README.md"


def documented() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    table = None
    for line in README.read_text().splitlines():
        m = re.match(r"^### (\w+)", line)
        if m:
            table = m.group(1)
            out[table] = set()
            continue
        m = re.match(r"^\| (\w+) \|", line)
        if table and m and m.group(1) != "column":
            out[table].add(m.group(1))
    return out


def test_every_table_and_column_is_documented():
    con = duckdb.connect()
    con.execute(SCHEMA.read_text())
    docs = documented()
    for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
        cols = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
        assert table in docs, f"table {table} undocumented"
        assert cols <= docs[table], f"{table}: undocumented {cols - docs[table]}"
        assert docs[table] <= cols, f"{table}: documented but absent {docs[table] - cols}"
