"""The Report record and the (de)serialisation of ranking requests, so a report restores its ranking."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from advisor.errors import InvalidRequestError
from advisor.ranking.engine import Limits, RankRequest

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


def _plain(v: Any) -> Any:
    """JSON-safe value: tuples/sets become sorted or ordered lists; NaN and inf become None."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (frozenset, set)):
        return sorted(v)
    if isinstance(v, tuple):
        return list(v)
    return v


def limits_to_dict(limits: Limits, active_only: bool = False) -> dict[str, Any]:
    default = Limits()
    out = {}
    for f in fields(Limits):
        v = getattr(limits, f.name)
        if active_only and v == getattr(default, f.name):
            continue
        out[f.name] = _plain(v)
    return out


def request_to_dict(request: RankRequest) -> dict[str, Any]:
    """Every knob of the request, so loading it back reproduces the ranking exactly."""
    out: dict[str, Any] = {"weights": {k: float(v) for k, v in request.weights.items()},
                           "limits": limits_to_dict(request.limits)}
    for f in fields(RankRequest):
        if f.name not in out:
            out[f.name] = _plain(getattr(request, f.name))
    return out


def _number(name: str, v: Any, kind: type) -> Any:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InvalidRequestError(f"report request: '{name}' must be a number, got {v!r}")
    if kind is int and float(v) != int(v):
        raise InvalidRequestError(f"report request: '{name}' must be a whole number, got {v!r}")
    return kind(v)


def _strings(name: str, v: Any) -> tuple[str, ...]:
    if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v):
        raise InvalidRequestError(f"report request: '{name}' must be a list of strings")
    return tuple(v)


_LIMIT_KIND = {"max_params_m": float, "max_gmacs": float, "min_throughput_cpu": float, "min_throughput_gpu": float,
               "max_img_size": int}
_REQUEST_KIND = {"normalization": str, "min_coverage": float, "top_k": int, "draws": int, "concentration": float,
                 "seed": int, "stable_share": float, "mode": str}


def limits_from_dict(d: Mapping[str, Any]) -> Limits:
    """Strict: an unknown limit is an error, since dropping it silently would change the ranking."""
    if not isinstance(d, Mapping):
        raise InvalidRequestError("report request: 'limits' must be an object")
    unknown = set(d) - {f.name for f in fields(Limits)}
    if unknown:
        raise InvalidRequestError(f"report request: unknown limit(s) {sorted(unknown)}")
    kw: dict[str, Any] = {}
    for k, v in d.items():
        if k in _LIMIT_KIND:
            kw[k] = _number(k, v, _LIMIT_KIND[k])
        elif k == "exclude_non_commercial":
            if not isinstance(v, bool):
                raise InvalidRequestError("report request: 'exclude_non_commercial' must be true or false")
            kw[k] = v
        elif k == "probe_ready_ids":
            kw[k] = None if v is None else frozenset(_strings(k, v))
        else:
            kw[k] = _strings(k, v)
    return Limits(**kw)


def request_from_dict(d: Mapping[str, Any]) -> RankRequest:
    """Inverse of request_to_dict; rejects unknown keys and wrong types with a clear message."""
    if not isinstance(d, Mapping):
        raise InvalidRequestError("report request must be an object")
    unknown = set(d) - {f.name for f in fields(RankRequest)}
    if unknown:
        raise InvalidRequestError(f"report request: unknown key(s) {sorted(unknown)}")
    w = d.get("weights", {})
    if not isinstance(w, Mapping) or not all(isinstance(k, str) for k in w):
        raise InvalidRequestError("report request: 'weights' must map need names to numbers")
    kw: dict[str, Any] = {"weights": {k: _number(f"weights.{k}", v, float) for k, v in w.items()},
                          "limits": limits_from_dict(d.get("limits", {}))}
    for k, kind in _REQUEST_KIND.items():
        if k not in d:
            continue
        if kind is str:
            if not isinstance(d[k], str):
                raise InvalidRequestError(f"report request: '{k}' must be text")
            kw[k] = d[k]
        else:
            kw[k] = _number(k, d[k], kind)
    return RankRequest(**kw)


def load_report_document(text: str | bytes) -> dict[str, Any]:
    """Parse a JSON report and check its kind and schema version."""
    if len(text) > MAX_REPORT_BYTES:
        raise InvalidRequestError(f"report is larger than {MAX_REPORT_BYTES // 2**20} MiB")
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(f"not a JSON report: {exc}") from None
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
    return request_from_dict(load_report_document(text)["request"])


def request_from_report(path: Path | str) -> RankRequest:
    """`advisor rank --from report.json`: restore the request that produced a report."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_REPORT_BYTES:
            raise InvalidRequestError(f"{p}: report is larger than {MAX_REPORT_BYTES // 2**20} MiB")
        text = p.read_bytes()
    except OSError as exc:
        raise InvalidRequestError(f"cannot read report {p}: {exc.strerror or exc}") from None
    try:
        return request_from_json(text)
    except InvalidRequestError as exc:
        raise InvalidRequestError(f"{p}: {exc}") from None
