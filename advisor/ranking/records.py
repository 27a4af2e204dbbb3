"""A ranking as plain records: what `advisor rank --json`, reports and the app share."""

from __future__ import annotations

import pandas as pd

from advisor.ranking.engine import Ranking


def ranking_to_records(r: Ranking, top: int) -> list[dict]:
    """Per model: model_id, rank, score, coverage, per-need contributions, stability."""
    rows = r.table.head(top)
    c = r.contributions[r.contributions["model_id"].isin(rows["model_id"])]
    out = []
    for row in rows.itertuples(index=False):
        cc = c[c["model_id"] == row.model_id]
        out.append({
            "model_id": row.model_id, "rank": int(row.rank), "score": float(row.score),
            "score_covered": float(row.score_covered), "coverage": float(row.coverage),
            "params_m": None if pd.isna(row.params_m) else float(row.params_m),
            "weights_from": None if pd.isna(getattr(row, "weights_from", None)) else str(row.weights_from),
            "contributions": {n: {"weight": float(w), "need_score": None if pd.isna(s) else float(s),
                                  "contribution": float(ct), "evidence": st or "none"}
                              for n, w, s, ct, st in zip(cc["need"], cc["weight"], cc["need_score"],
                                                         cc["contribution"], cc["status"], strict=True)},
            "stability": {"top1_share": float(row.top1_share), "topk_share": float(row.topk_share),
                          "k": r.request.top_k, "stable": bool(row.stable)},
        })
    return out
