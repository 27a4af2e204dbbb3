"""The Report record and the (de)serialisation of ranking requests, so a report restores its ranking."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.errors import InvalidRequestError
from advisor.jsonio import loads_bounded, read_capped
from advisor.ranking.request import RankRequest, request_from_dict

SCHEMA_VERSION = 1
REPORT_KIND = "vision-advisor-report"
MAX_REPORT_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class ReportChart:
    """A chart as a Vega-Lite spec (rendered per format), or None with a note saying why it is omitted."""

    name: str  # machine name, also the base of the image file name: [a-z0-9_]
    title: str
    spec: Mapping[str, Any] | None
    note: str = ""


@dataclass(frozen=True)
class ReportImage:
    """An image the user gave (name as given: untrusted text) and its PNG thumbnail, if it could be read."""

    name: str
    png: bytes | None
    note: str = ""


@dataclass(frozen=True)
class ReportTable:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Report:
    """Everything a practitioner sends on; plain JSON-able values so every format shows the same facts."""

    title: str
    created_at: str  # ISO 8601, UTC
    tool_version: str
    data_build: Mapping[str, str]  # fingerprint (data build hash), built_at, version; empty if unknown
    request: RankRequest
    needs: tuple[Mapping[str, Any], ...]  # name, label, weight, share
    limits: Mapping[str, Any]  # active hard limits only
    n_candidates: int
    n_ranked: int
    ranking_notes: tuple[str, ...]
    shortlist: tuple[Mapping[str, Any], ...]  # ranking_to_records rows + display_name, paradigm, arch_type
    reasons: Mapping[str, str]
    head_to_head: Mapping[str, Any] | None  # a, b, text, columns, rows
    charts: tuple[ReportChart, ...]
    probe_results: Any  # the probe results exactly as given (JSON value), or None
    probe_tables: tuple[ReportTable, ...]
    images: tuple[ReportImage, ...]
    sources: tuple[Mapping[str, Any], ...]  # source_id, title, licence, non_commercial, used_for
    notes: str = ""
    schema_version: int = SCHEMA_VERSION
    speed_tables: tuple[ReportTable, ...] = ()  # speed measured here (`advisor bench`), one table per setting
    measured_tables: tuple[ReportTable, ...] = ()  # figures measured on the user's images, side by side (issue 18)


def load_report_document(text: str | bytes) -> dict[str, Any]:
    """Parse a JSON report and check its kind and schema version."""
    try:
        doc = loads_bounded(text, what="report", max_bytes=MAX_REPORT_BYTES)
    except InvalidRequestError as exc:  # "report: not valid JSON (...)" -> "not a JSON report: not valid JSON (...)"
        raise InvalidRequestError(f"not a JSON report: {str(exc).removeprefix('report: ')}") from None
    if not isinstance(doc, dict) or doc.get("kind") != REPORT_KIND:
        raise InvalidRequestError("not a Vision Advisor JSON report (missing kind)")
    version = doc.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= SCHEMA_VERSION:
        raise InvalidRequestError(f"report schema_version {version!r} is not supported (this tool reads "
                                  f"1..{SCHEMA_VERSION}); upgrade the tool")
    if "request" not in doc:
        raise InvalidRequestError("report has no 'request'")
    return doc


def request_from_json(text: str | bytes) -> RankRequest:
    """The needs and limits of a JSON report (e.g. an upload on the report page)."""
    doc = load_report_document(text)
    try:
        return request_from_dict(doc["request"])
    except InvalidRequestError as exc:
        raise InvalidRequestError(f"report request: {exc}") from None


def request_from_report(path: Path | str) -> RankRequest:
    """`advisor rank --from report.json`: restore the request that produced a report."""
    p = Path(path)
    text = read_capped(p, MAX_REPORT_BYTES, "report")  # capped while reading: stat() says 0 for /dev/zero
    try:
        return request_from_json(text)
    except InvalidRequestError as exc:
        raise InvalidRequestError(f"{p}: {exc}") from None
