"""The JSON report: a versioned schema that restores the request and, loaded back, the whole Report."""

from __future__ import annotations

import base64
import json
from typing import Any

from advisor.ranking.request import request_from_dict, request_to_dict
from advisor.report.model import (
    REPORT_KIND,
    SCHEMA_VERSION,
    Report,
    ReportChart,
    ReportImage,
    ReportTable,
    load_report_document,
)


def report_to_dict(r: Report) -> dict[str, Any]:
    return {
        "kind": REPORT_KIND, "schema_version": SCHEMA_VERSION, "title": r.title, "created_at": r.created_at,
        "tool": {"name": "vision-advisor", "version": r.tool_version}, "data_build": dict(r.data_build),
        "request": request_to_dict(r.request), "needs": [dict(n) for n in r.needs], "limits": dict(r.limits),
        "ranking": {"n_candidates": r.n_candidates, "n_ranked": r.n_ranked, "notes": list(r.ranking_notes),
                    "shortlist": [dict(m) for m in r.shortlist]},
        "reasons": dict(r.reasons), "head_to_head": None if r.head_to_head is None else dict(r.head_to_head),
        "charts": [{"name": c.name, "title": c.title, "spec": c.spec, "note": c.note} for c in r.charts],
        "probe_results": r.probe_results,
        "probe_tables": [{"title": t.title, "columns": list(t.columns), "rows": [list(x) for x in t.rows]}
                         for t in r.probe_tables],
        "images": [{"name": im.name, "png_base64": None if im.png is None else base64.b64encode(im.png).decode(),
                    "note": im.note} for im in r.images],
        "sources": [dict(s) for s in r.sources], "notes": r.notes,
        "speed_tables": _tables(r.speed_tables), "measured_tables": _tables(r.measured_tables),
    }


def _tables(tables: tuple[ReportTable, ...]) -> list[dict[str, Any]]:
    return [{"title": t.title, "columns": list(t.columns), "rows": [list(x) for x in t.rows]} for t in tables]


def _read_tables(items: Any) -> tuple[ReportTable, ...]:
    return tuple(ReportTable(t["title"], tuple(t["columns"]), tuple(tuple(x) for x in t["rows"])) for t in items)


def to_json(report: Report, indent: int | None = 1) -> str:
    """Strict JSON (no NaN): every number was already turned into a finite float or null."""
    return json.dumps(report_to_dict(report), indent=indent, allow_nan=False, ensure_ascii=False)


def report_from_json(text: str | bytes) -> Report:
    """Load a JSON report back (e.g. to preview an uploaded report)."""
    d = load_report_document(text)
    rk = d.get("ranking", {})
    return Report(
        title=d["title"], created_at=d["created_at"], tool_version=d["tool"]["version"],
        data_build=d.get("data_build", {}), request=request_from_dict(d["request"]),
        needs=tuple(d.get("needs", [])), limits=d.get("limits", {}), n_candidates=rk.get("n_candidates", 0),
        n_ranked=rk.get("n_ranked", 0), ranking_notes=tuple(rk.get("notes", [])),
        shortlist=tuple(rk.get("shortlist", [])), reasons=d.get("reasons", {}), head_to_head=d.get("head_to_head"),
        charts=tuple(ReportChart(c["name"], c["title"], c.get("spec"), c.get("note", "")) for c in d.get("charts", [])),
        probe_results=d.get("probe_results"),
        probe_tables=tuple(ReportTable(t["title"], tuple(t["columns"]), tuple(tuple(x) for x in t["rows"]))
                           for t in d.get("probe_tables", [])),
        images=tuple(ReportImage(i["name"], None if i.get("png_base64") is None else base64.b64decode(i["png_base64"]),
                                 i.get("note", "")) for i in d.get("images", [])),
        sources=tuple(d.get("sources", [])), notes=d.get("notes", ""), schema_version=d["schema_version"],
        speed_tables=_read_tables(d.get("speed_tables", [])),
        measured_tables=_read_tables(d.get("measured_tables", [])))


def render(report: Report, assets: str | None = None) -> tuple[bytes, dict[str, bytes]]:
    """FORMATS entry: the versioned JSON document."""
    return to_json(report).encode("utf-8"), {}
