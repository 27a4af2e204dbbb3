"""A ranking's result and the steps every ranking mode shares (order, stability, contributions).

Both modes (`engine.MODES`) import this module; neither imports the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from advisor.ranking.request import RankRequest

PRIOR = 0.5  # a need nothing measures or predicts counts as the median candidate: neither rewarded nor punished


@dataclass(frozen=True)
class NeedEvidence:
    """Per candidate and need: the score, its uncertainty, the pool it was ranked in and the source used."""

    scores: pd.DataFrame  # models x needs in [0, 1], NaN = no data (and nothing predicts it)
    sd: pd.DataFrame  # posterior standard deviation of each score (0 where no data)
    pool: pd.DataFrame  # mean size of the pools the score was ranked in (NaN = no data)
    source: pd.DataFrame  # source of the largest pool behind the score ("" = no data)
    used: tuple[tuple[str, str], ...] = ()
    # "measured" (published or measured here), "predicted", "" (no data): what backs each score
    status: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ranking:
    table: pd.DataFrame  # model_id, rank, score, score_covered, coverage, top1_share, topk_share, stable, ...
    contributions: pd.DataFrame  # model_id, need, weight, need_score, contribution, has_data, status
    need_scores: pd.DataFrame  # models x needs (NaN = no data), in rank order
    request: RankRequest
    n_candidates: int
    notes: tuple[str, ...] = ()
    sources_used: tuple[tuple[str, str], ...] = ()  # (source_id, need) pairs whose values were ranked

    def need_evidence(self) -> pd.DataFrame:
        """Per weighted need: models with data among the ranked, sources used, median pool, models predicted."""
        c = self.contributions
        rows = []
        for need, g in c.groupby("need", sort=False):
            has = g[g["has_data"]]
            srcs = sorted(set(has["source_id"]) - {""}) if "source_id" in has else []
            pred = int((g["status"] == "predicted").sum()) if "status" in g else 0
            rows.append({"need": need, "n_models": len(has), "sources": ", ".join(srcs),
                         "median_pool": float(has["pool"].median()) if "pool" in has and len(has) else float("nan"),
                         "n_predicted": pred})
        return pd.DataFrame(rows, columns=["need", "n_models", "sources", "median_pool", "n_predicted"])


def stability(s: np.ndarray, weights: np.ndarray, request: RankRequest,
              sd: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Share of draws in which each model is first / in the top k.

    Each draw perturbs the weights (Dirichlet) and, where `sd` is given, the evidence too: every need score
    is redrawn from its posterior (normal approximation), so thin pools move more than thick ones.
    """
    n = s.shape[0]
    if n == 0 or request.draws <= 0:
        return np.zeros(n), np.zeros(n)
    rng = np.random.default_rng(request.seed)
    alpha = weights / weights.sum() * request.concentration
    k = min(request.top_k, n)
    top1 = np.zeros(n)
    topk = np.zeros(n)
    has = ~np.isnan(s)
    # score = (A @ w + prior * sum(w)) / sum(w): per draw a constant shift and scale, so ranks follow A @ w
    a = np.where(has, s, 0.0) - PRIOR * has
    noisy = sd is not None and bool(np.any(sd > 0))
    var = np.where(has, sd, 0.0) ** 2 if noisy else None
    chunk = max(1, min(request.draws, 2_000_000 // max(n, 1)))
    done = 0
    while done < request.draws:
        m = min(chunk, request.draws - done)
        wd = rng.dirichlet(alpha, size=m)
        sc = wd @ a.T  # draws x models
        if noisy:  # sum_j w_j * N(0, sd_j^2) is N(0, sum_j w_j^2 sd_j^2): one normal per model and draw
            sc = sc + rng.standard_normal((m, n)) * np.sqrt((wd * wd) @ var.T)
        sc = np.ascontiguousarray(sc)
        top1 += np.bincount(np.argmax(sc, axis=1), minlength=n)
        if k < n:
            topk += np.bincount(np.argpartition(-sc, k - 1, axis=1)[:, :k].ravel(), minlength=n)
        else:
            topk += m
        done += m
    return top1 / request.draws, topk / request.draws


def finish_ranking(table: pd.DataFrame, s_df: pd.DataFrame, w: np.ndarray, needs: list[str],
                   request: RankRequest, notes: list[str], n_candidates: int,
                   used: tuple[tuple[str, str], ...] = (), ev: NeedEvidence | None = None) -> Ranking:
    """Order by score (ties: coverage, id), add stability shares and the long per-need contributions."""
    table = table.assign(_s=table["score"].round(12)).sort_values(
        ["_s", "coverage", "model_id"], ascending=[False, False, True], kind="stable")
    table["rank"] = table["_s"].rank(method="min", ascending=False).astype(int)
    table = table.drop(columns="_s").reset_index(drop=True)
    s_ranked = s_df.reindex(table["model_id"])
    sd = None if ev is None else ev.sd.reindex(table["model_id"]).to_numpy()
    if sd is not None and ev.status is not None:
        # Draws perturb measured evidence only: a predicted score's wide interval would otherwise make the least
        # known models "first" most often (the top pick of 1,500 candidates first in 0 % of draws).
        sd = np.where(ev.status.reindex(table["model_id"]).eq("predicted").to_numpy(), 0.0, sd)
    top1, topk = stability(s_ranked.to_numpy(), w, request, sd)
    table["top1_share"] = top1
    table["topk_share"] = topk
    table["stable"] = top1 >= request.stable_share
    pct = s_ranked.rank(pct=True, ascending=True)
    n_m, n_n = s_ranked.shape
    long = pd.DataFrame({"model_id": np.repeat(s_ranked.index.to_numpy(), n_n),
                         "need": np.tile(np.array(needs, dtype=object), n_m),
                         "need_score": s_ranked.to_numpy().ravel(),
                         "need_percentile": pct.to_numpy().ravel(),
                         "weight": np.tile(w, n_m)})
    status = None if ev is None or ev.status is None else ev.status.reindex(s_ranked.index)
    if ev is not None:
        long["pool"] = ev.pool.reindex(s_ranked.index).to_numpy().ravel()
        long["source_id"] = ev.source.reindex(s_ranked.index).to_numpy().ravel()
        measured = s_ranked.notna() if status is None else status.eq("measured")
        long["n_with_data"] = np.tile(measured.sum().to_numpy(), n_m)
        long["sd"] = ev.sd.reindex(s_ranked.index).to_numpy().ravel()
    long["status"] = (status.to_numpy().ravel() if status is not None
                      else np.where(long["need_score"].notna(), "measured", ""))
    long["has_data"] = long["status"].eq("measured")
    long["contribution"] = long["weight"] * long["need_score"].fillna(PRIOR) / w.sum()
    return Ranking(table, long, s_ranked, request, n_candidates, tuple(notes), used)
