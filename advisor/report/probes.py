"""Probe results as tables, whatever their exact JSON layout (records, pandas 'split'/'table' orients)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from advisor.report.model import ReportTable

MAX_DEPTH = 3


def _records_table(title: str, recs: list[Mapping[str, Any]]) -> ReportTable:
    cols: list[str] = []
    for r in recs:
        cols.extend(str(k) for k in r if str(k) not in cols)
    return ReportTable(title, tuple(cols), tuple(tuple(_cell(r.get(c)) for c in cols) for r in recs))


def _cell(v: Any) -> Any:
    if isinstance(v, (Mapping, list)):
        return json.dumps(v, sort_keys=True)
    return v


def _as_table(title: str, v: Any) -> ReportTable | None:
    if isinstance(v, list) and v and all(isinstance(r, Mapping) for r in v):
        return _records_table(title, v)
    if isinstance(v, Mapping) and isinstance(v.get("data"), list):
        if isinstance(v.get("columns"), list):  # pandas orient="split"
            cols = tuple(str(c) for c in v["columns"])
            rows = tuple(tuple(_cell(x) for x in r) for r in v["data"] if isinstance(r, list) and len(r) == len(cols))
            return ReportTable(title, cols, rows)
        if isinstance(v.get("schema"), Mapping) and all(isinstance(r, Mapping) for r in v["data"]):
            return _records_table(title, v["data"])  # pandas orient="table"
    return None


def probe_tables(raw: Any, title: str = "probe results", depth: int = 0) -> tuple[ReportTable, ...]:
    """Every table found in the probe JSON; scalar fields of an object become one 'details' table."""
    if isinstance(raw, str) and depth < MAX_DEPTH:
        try:
            raw = json.loads(raw)
        except ValueError:
            return ()
    direct = _as_table(title, raw)
    if direct is not None:
        return (direct,)
    if not isinstance(raw, Mapping) or depth >= MAX_DEPTH:
        return ()
    out: list[ReportTable] = []
    scalars = []
    for k, v in raw.items():
        if isinstance(v, (str, int, float, bool)) or v is None:
            parsed = None
            if isinstance(v, str) and v[:1] in "[{":
                parsed = probe_tables(v, str(k), depth + 1)
            if parsed:
                out.extend(parsed)
            else:
                scalars.append((str(k), v))
        elif isinstance(v, list) and all(isinstance(x, (str, int, float, bool)) or x is None for x in v):
            scalars.append((str(k), ", ".join(str(x) for x in v)))
        else:
            out.extend(probe_tables(v, str(k), depth + 1))
    if scalars and depth == 0:
        out.insert(0, ReportTable(f"{title}: details", ("field", "value"), tuple(scalars)))
    return tuple(out)
