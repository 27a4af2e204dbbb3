"""What every format shows, as plain strings and rows (formatting lives here, escaping in each format)."""

from __future__ import annotations

import json
from typing import Any

from advisor.ranking.needs import need_label
from advisor.ranking.request import LIMIT_BY_NAME
from advisor.report.model import Report, ReportTable

MAX_TABLE_ROWS = 60
def fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{digits}g}" if abs(v) >= 1000 or (v != 0 and abs(v) < 1e-3) else f"{v:.{digits}f}"
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return str(v)


def pct(v: Any) -> str:
    return "–" if v is None else f"{float(v):.0%}"


def header_line(r: Report) -> str:
    b = r.data_build
    build = (f"data build {b.get('fingerprint', 'unknown')}" + (f" (built {b['built_at']})" if "built_at" in b else "")
             if b else "data build not recorded (fixture data)")
    return f"Created {r.created_at} with vision-advisor {r.tool_version}; {build}; mode {r.request.mode}."


def needs_table(r: Report) -> tuple[list[str], list[list[str]]]:
    return ["need", "weight", "share of weight"], [[n["label"], fmt(n["weight"], 2), pct(n["share"])] for n in r.needs]


def as_set(v: Any) -> str:
    """A limit as the user set it: 30 stays '30' and 2.5 '2.5' (never '30.000'); lists joined; yes/no."""
    if isinstance(v, float) and not isinstance(v, bool):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return fmt(v)


def limits_lines(r: Report) -> list[str]:
    out = []
    for k, v in r.limits.items():
        spec = LIMIT_BY_NAME.get(k)
        label = k if spec is None else spec.label + (f" ({spec.unit})" if spec.unit else "")
        out.append(f"{label}: {as_set(v)}")
    return out


def settings_line(r: Report) -> str:
    q = r.request
    return (f"normalisation {q.normalization}; minimum coverage {q.min_coverage:.0%}; stability from {q.draws} "
            f"Dirichlet weight draws (concentration {q.concentration:g}, seed {q.seed}), top-k with k = {q.top_k}")


def shortlist_table(r: Report) -> tuple[list[str], list[list[str]]]:
    cols = ["rank", "model", "weights", "score", "coverage", "first in", f"in top {r.request.top_k}", "params (M)",
            "paradigm"]
    rows = [[str(m["rank"]), str(m["model_id"]), fmt(m.get("weights_from")), fmt(m["score"]), pct(m["coverage"]),
             pct(m["stability"]["top1_share"]), pct(m["stability"]["topk_share"]), fmt(m["params_m"], 1),
             fmt(m.get("paradigm"))]
            for m in r.shortlist]
    return cols, rows


def stability_sentence(r: Report) -> str:
    """What 'first in' means and when to worry (shown under the shortlist)."""
    share = r.request.stable_share
    return (f"'First in' is the share of {r.request.draws:,} perturbed versions of your weights and of the evidence in "
            f"which a model comes first. Below {share:.0%} the top pick is a close call: the next few models are "
            "about as good for what you asked, so compare them before deciding.")


def h2h_table(r: Report) -> tuple[list[str], list[list[str]]]:
    h = r.head_to_head or {}
    cols = list(h.get("columns", []))
    show = {"need": "need", "weight": "weight", "contribution_a": f"{h.get('a')}", "contribution_b": f"{h.get('b')}",
            "difference": "difference"}
    idx = [cols.index(c) for c in show if c in cols]
    rows = [[_need_label(row[i]) if cols[i] == "need" else fmt(row[i]) for i in idx] for row in h.get("rows", [])]
    return [show[cols[i]] for i in idx], rows


def _need_label(name: object) -> str:
    return need_label(str(name))


def table_rows(t: ReportTable) -> tuple[list[str], list[list[str]], int]:
    """Columns, formatted rows (capped) and how many rows were left out."""
    rows = [[fmt(v) if not isinstance(v, (dict, list)) else json.dumps(v) for v in row]
            for row in t.rows[:MAX_TABLE_ROWS]]
    return list(t.columns), rows, max(0, len(t.rows) - MAX_TABLE_ROWS)


def sources_table(r: Report) -> tuple[list[str], list[list[str]]]:
    cols = ["source", "title", "licence", "non-commercial", "used for", "repository / file @ commit"]
    rows = []
    for s in r.sources:
        where = " / ".join(x for x in (s.get("repo"), s.get("file")) if x)
        if s.get("commit"):
            where += f" @ {s['commit'][:12]}"
        rows.append([s["source_id"], s["title"], s["licence"], "NON-COMMERCIAL" if s["non_commercial"] else "no",
                     ", ".join(s["used_for"]), where])
    return cols, rows


def has_non_commercial(r: Report) -> bool:
    return any(s["non_commercial"] for s in r.sources)
