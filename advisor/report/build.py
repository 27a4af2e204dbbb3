"""build_report: a ranking session (store or data + request, probe results, images, note) -> Report."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from advisor import __version__
from advisor.errors import InvalidRequestError
from advisor.jsonio import load_json, loads_bounded
from advisor.ranking.data import RankingData
from advisor.ranking.engine import Ranking, RankRequest, rank
from advisor.ranking.explain import explain_top, head_to_head
from advisor.ranking.needs import get_need
from advisor.ranking.records import ranking_to_records
from advisor.ranking.request import apply_limits, limits_to_dict, mode_uses_weights
from advisor.report.charts import probe_charts, share_model_colours, tradeoff_charts
from advisor.report.measured import measured_tables
from advisor.report.model import Report, ReportImage, ReportTable
from advisor.report.probes import probe_tables, read_probe
from advisor.report.render import thumbnail
from advisor.report.speed import speed_tables
from advisor.store.measured import MEASURED_SOURCE as MEASURED_HERE

MAX_PROBE_BYTES = 50 * 1024 * 1024
N_REASONS = 3


def _cell(v: Any) -> Any:
    """A table cell as a JSON value: numpy scalars as Python ones, NaN and inf as None (missing)."""
    v = v.item() if hasattr(v, "item") else v
    return None if isinstance(v, float) and not math.isfinite(v) else v


def _sources_used(data: RankingData, ranking: Ranking) -> dict[str, list[str]]:
    """source_id -> what it was used for, following the engine's one-source-per-feature choice."""
    req = ranking.request
    used: dict[str, set[str]] = {}
    cand, _ = apply_limits(data.models, req.limits)
    ids = set(cand["model_id"])
    for sid, need in ranking.sources_used:
        used.setdefault(sid, set()).add(get_need(need).label if mode_uses_weights(req.mode) else "QUBA score")
    for prop, bound in (("throughput_cpu", req.limits.min_throughput_cpu),
                        ("throughput_gpu", req.limits.min_throughput_gpu)):
        if bound is not None:
            rows = data.scores[(data.scores["property_id"] == prop) & data.scores["model_id"].isin(ids)]
            for s in rows["source_id"].unique():
                used.setdefault(s, set()).add(f"limit: {prop.replace('_', ' ')}")
    return {s: sorted(v) for s, v in sorted(used.items())}


def _source_rows(store: Any, data: RankingData, used: dict[str, list[str]]) -> tuple[dict, ...]:
    known = store.sources().set_index("source_id") if store is not None else pd.DataFrame()
    nc_data = set(data.scores.loc[data.scores["non_commercial"].astype(bool), "source_id"])
    rows = []
    for sid, what in used.items():
        if sid in known.index:
            r = known.loc[sid]
            rows.append({"source_id": sid, "title": str(r["title"]), "citation": str(r["citation"]),
                         "repo": str(r["repo"]), "file": str(r["file"]), "commit": str(r["commit"]),
                         "licence": str(r["licence"]), "non_commercial": bool(r["non_commercial"]), "used_for": what})
        elif sid == MEASURED_HERE:
            rows.append({"source_id": sid, "title": "Measured here by this tool (probes, evaluations, speed)",
                         "citation": f"vision-advisor {__version__}", "repo": "", "file": "", "commit": "",
                         "licence": "your own measurement", "non_commercial": False, "used_for": what})
        else:
            rows.append({"source_id": sid, "title": sid, "citation": "", "repo": "", "file": "", "commit": "",
                         "licence": "not recorded", "non_commercial": sid in nc_data, "used_for": what})
    return tuple(rows)


def load_probe_results(value: Any) -> Any:
    """Probe results as a JSON value: a dict/list as is, JSON text, a path to a JSON file, or an object
    with `to_json()` (advisor.probes.results.ProbeResult)."""
    if value is None:
        return None
    if hasattr(value, "to_json") and not isinstance(value, (str, bytes, Path, Mapping, list)):
        value = value.to_json()
    if isinstance(value, Path):  # capped while reading, depth checked: the same reader as every JSON input
        value = load_json(value, what="probe results", max_bytes=MAX_PROBE_BYTES)
    elif isinstance(value, (str, bytes)):
        value = loads_bounded(value, what="probe results", max_bytes=MAX_PROBE_BYTES)
    if not isinstance(value, (Mapping, list)):
        raise InvalidRequestError("probe results must be a JSON object or list")
    return _clean(value)


def _clean(v: Any) -> Any:
    """Non-finite numbers become None (JSON has no NaN); containers are copied."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, Mapping):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def build_report(store_or_data: Any, request: RankRequest | None = None, probe_results: Any = None,
                 notes: str = "", images: Mapping[str, bytes] | list[tuple[str, bytes]] | None = None, *,
                 ranking: Ranking | None = None, title: str = "Vision model recommendation",
                 created_at: str | None = None, with_charts: bool = True, data: RankingData | None = None) -> Report:
    """Rank (or reuse the session's `ranking`) and gather everything the report shows.

    `store_or_data` is a PropertyStore (licences and data build hash come from it) or RankingData
    (licences then read 'not recorded'). `images` maps user file names (untrusted text) to bytes.
    `data`, when given, is the ranking input actually used (e.g. with scores measured here).
    """
    store = store_or_data if hasattr(store_or_data, "build_info") else None
    if data is None:
        data = RankingData.from_store(store) if store is not None else store_or_data
    if not isinstance(data, RankingData):
        raise TypeError("build_report needs a PropertyStore or RankingData")
    if ranking is None:
        if request is None:
            raise InvalidRequestError("build_report needs a request or a ranking")
        ranking = rank(data, request)
    request = ranking.request
    top = ranking.table.head(request.top_k)
    meta = ranking.table.set_index("model_id")
    shortlist = []
    for rec in ranking_to_records(ranking, request.top_k):
        m = meta.loc[rec["model_id"]]
        extra = {k: (None if pd.isna(m.get(k)) else str(m.get(k))) for k in ("display_name", "arch_type", "paradigm")}
        shortlist.append({**rec, **extra})
    total = sum(float(w) for w in request.weights.values() if w > 0)
    needs = tuple({"name": n, "label": get_need(n).label, "weight": float(w), "share": float(w) / total}
                  for n, w in request.weights.items() if w > 0) if mode_uses_weights(request.mode) else \
        tuple({"name": n, "label": get_need(n).label, "weight": float(w), "share": None}
              for n, w in ranking.contributions.drop_duplicates("need")[["need", "weight"]].itertuples(index=False))
    h2h = None
    if len(top) > 1:
        a, b = top["model_id"].iloc[:2]
        text, df = head_to_head(ranking, a, b)
        df = df.rename(columns={a: "contribution_a", b: "contribution_b"})
        h2h = {"a": a, "b": b, "text": text, "columns": list(df.columns),
               "rows": [[_cell(v) for v in r]
                        for r in df.itertuples(index=False)]}
    info = store.build_info() if store is not None else {}
    raw_probe = load_probe_results(probe_results)
    probe = read_probe(raw_probe) if raw_probe is not None else None
    ptables: tuple[ReportTable, ...] = probe_tables(probe) if probe is not None else ()
    charts = tradeoff_charts(ranking) if with_charts else ()
    if with_charts and probe is not None:
        charts += probe_charts(probe)
    charts = share_model_colours(charts, [m["model_id"] for m in shortlist])  # one colour per model
    pairs = list(images.items()) if isinstance(images, Mapping) else list(images or [])
    imgs = tuple(ReportImage(str(name), *thumbnail(blob, str(name))) for name, blob in pairs)
    used = _sources_used(data, ranking)
    return Report(
        title=title, created_at=created_at or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        tool_version=__version__,
        data_build={k: str(info[k]) for k in ("fingerprint", "built_at", "version") if k in info},
        request=request, needs=needs, limits=limits_to_dict(request.limits, active_only=True),
        n_candidates=int(ranking.n_candidates), n_ranked=len(ranking.table), ranking_notes=tuple(ranking.notes),
        shortlist=tuple(shortlist), reasons=explain_top(ranking, min(N_REASONS, len(top))), head_to_head=h2h,
        charts=charts, probe_results=raw_probe, probe_tables=ptables, images=imgs,
        sources=_source_rows(store, data, used), notes=str(notes or ""), speed_tables=speed_tables(data.scores),
        measured_tables=measured_tables(data.scores))
