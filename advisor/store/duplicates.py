"""Duplicate detector: model pairs that may be one checkpoint under two ids (table duplicate_candidates).

A candidate is a pair of models, from different sources, with equal parameter counts (within
PARAMS_TOL M: sources round to 0.1 M), ImageNet top-1 within TOP1_WINDOW points, and the same family
where both families are known. A source that names both models is taken to know they differ, so
pairs that share a top-1 source are not candidates. Every candidate must be reviewed in
precomputed/sources/curated/duplicates_review.csv: merged (then it disappears, since the curated
alias maps both names to one id) or kept "distinct" with a reason; tests fail on an unreviewed one.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from advisor.errors import SourceFileError
from advisor.store.sources.base import csv_line, read_csv

TOP1_WINDOW = 0.15  # percentage points
PARAMS_TOL = 0.051  # millions: equal at the 0.1 M precision QUBA publishes
REVIEW_FILE = "curated/duplicates_review.csv"
REVIEW_COLUMNS = ("model_a", "model_b", "verdict", "reason")
VERDICTS = ("distinct",)
COLUMNS = ["model_a", "model_b", "family", "params_m_a", "params_m_b", "top1_a", "source_a", "top1_b",
           "source_b", "top1_diff", "verdict", "reason"]


def read_review(sources_dir: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """(model_a, model_b) sorted -> (verdict, reason) from the curated review file (empty if absent)."""
    path = sources_dir / REVIEW_FILE
    if not path.is_file():
        return {}
    df = read_csv(path, REVIEW_COLUMNS, dtype=str, keep_default_na=False)
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for i, r in df.iterrows():
        key = tuple(sorted((r["model_a"], r["model_b"])))
        if r["verdict"] not in VERDICTS or not r["reason"].strip():
            raise SourceFileError(path, f"verdict must be one of {VERDICTS} with a reason", csv_line(i))
        if key in out:
            raise SourceFileError(path, f"pair {key} reviewed twice", csv_line(i))
        out[key] = (r["verdict"], r["reason"])
    return out


def duplicate_candidates(models: pd.DataFrame, scores: pd.DataFrame,
                         review: dict[tuple[str, str], tuple[str, str]]) -> pd.DataFrame:
    """COLUMNS for every candidate pair, with its review verdict ('unreviewed' when none)."""
    top1 = scores[(scores["property_id"] == "imagenet_top1") & (scores["item"] == "")]
    top1 = top1[["model_id", "source_id", "value"]]
    m = models[["model_id", "family", "params_m"]].dropna(subset=["params_m"])
    m = m[m["model_id"].isin(top1["model_id"])].sort_values("params_m").reset_index(drop=True)
    srcs = top1.groupby("model_id")["source_id"].agg(set).to_dict()
    vals = {k: list(zip(g["source_id"], g["value"], strict=True)) for k, g in top1.groupby("model_id")}
    rows = []
    p, fam, ids = m["params_m"].to_numpy(), m["family"].tolist(), m["model_id"].tolist()
    for i in range(len(m)):
        j = i + 1
        while j < len(m) and p[j] - p[i] <= PARAMS_TOL:
            a, b = sorted((ids[i], ids[j]))
            same_family = not (isinstance(fam[i], str) and isinstance(fam[j], str)) or fam[i] == fam[j]
            if same_family and not (srcs[a] & srcs[b]):
                best = min(((abs(va - vb), sa, va, sb, vb) for sa, va in vals[a] for sb, vb in vals[b]))
                if best[0] <= TOP1_WINDOW:
                    pa, pb = (p[i], p[j]) if ids[i] == a else (p[j], p[i])
                    family = next((f for f in (fam[i], fam[j]) if isinstance(f, str)), None)
                    verdict, reason = review.get((a, b), ("unreviewed", ""))
                    rows.append([a, b, family, pa, pb, best[2], best[1], best[4], best[3], round(best[0], 6),
                                 verdict, reason])
            j += 1
    return pd.DataFrame(rows, columns=COLUMNS)
