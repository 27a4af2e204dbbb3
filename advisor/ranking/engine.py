"""Needs + weights + hard limits -> ranked models with coverage, contributions and stability."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from advisor.errors import InvalidRequestError
from advisor.ranking.data import RankingData
from advisor.ranking.normalize import normalize
from advisor.ranking.request import (
    Limits,
    RankRequest,
    apply_limits,
    validate_request,
    validate_weights,
)

PRIOR = 0.5  # a missing need counts as the median candidate: neither rewarded nor punished


@dataclass(frozen=True)
class Ranking:
    table: pd.DataFrame  # model_id, rank, score, score_covered, coverage, top1_share, topk_share, stable, ...
    contributions: pd.DataFrame  # model_id, need, weight, need_score, contribution, has_data
    need_scores: pd.DataFrame  # models x needs (NaN = no data), in rank order
    request: RankRequest
    n_candidates: int
    notes: tuple[str, ...] = ()
    sources_used: tuple[tuple[str, str], ...] = ()  # (source_id, need) pairs whose values were ranked


def need_score_matrix(data: RankingData, candidates: pd.DataFrame, needs: list[str], limits: Limits,
                      method: str) -> tuple[pd.DataFrame, tuple[tuple[str, str], ...]]:
    """Candidates x needs in [0, 1] (NaN where a model has no data), and the (source, need) pairs used.

    For each (need, property, item) every model contributes one value, from the source that covers
    the most candidates among those that have it; values are normalised only within one source.
    Works on the integer codes of `RankingData.features` so a full-store ranking stays fast.
    """
    f = data.features
    cand_pos = candidates.index.to_numpy()
    in_cand = np.zeros(len(data.models), dtype=bool)
    in_cand[cand_pos] = True
    sel = in_cand[f["mi"].to_numpy()] & f["need"].isin(needs).to_numpy()
    if limits.exclude_non_commercial:
        sel &= ~f["non_commercial"].to_numpy(dtype=bool)
    out = np.full((len(data.models), len(needs)), np.nan)
    used: tuple[tuple[str, str], ...] = ()
    if sel.any():
        mi, gi, ki = (f[c].to_numpy()[sel] for c in ("mi", "gi", "ki"))
        cov = np.bincount(gi)[gi]
        order = np.lexsort((f["src_rank"].to_numpy()[sel], -cov, ki, mi))
        mk = mi[order] * (ki.max() + 1) + ki[order]
        keep = np.flatnonzero(sel)[order[np.r_[True, mk[1:] != mk[:-1]]]]
        norm = normalize(f["signed"].to_numpy()[keep], f["gi"].to_numpy()[keep], method)
        col = pd.Categorical(f["need"].to_numpy()[keep], categories=needs).codes
        m = f["mi"].to_numpy()[keep]
        prop_key = m * (f["pi"].max() + 1) + f["pi"].to_numpy()[keep]
        _, inv = np.unique(prop_key, return_inverse=True)
        prop_mean = np.bincount(inv, norm) / np.bincount(inv)
        first = np.unique(inv, return_index=True)[1]
        pm, pc = m[first], col[first]
        nk = pm * len(needs) + pc
        un, inv2 = np.unique(nk, return_inverse=True)
        need_mean = np.bincount(inv2, prop_mean) / np.bincount(inv2)
        out[un // len(needs), un % len(needs)] = need_mean
        pairs = f.iloc[keep][["source_id", "need"]].astype(str).drop_duplicates()
        used = tuple(sorted(pairs.itertuples(index=False, name=None)))
    matrix = pd.DataFrame(out[cand_pos], index=pd.Index(candidates["model_id"].to_numpy(), name="model_id"),
                          columns=needs)
    return matrix, used


def combine(s: np.ndarray, w: np.ndarray, prior: float = PRIOR) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores for weight rows `w` (draws x needs): (score, score over covered needs, coverage)."""
    has = ~np.isnan(s)
    s0 = np.where(has, s, 0.0)
    total = w.sum(axis=-1)
    covered_w = has.astype(float) @ w.T
    num = s0 @ w.T
    with np.errstate(invalid="ignore", divide="ignore"):
        covered = num / covered_w
    coverage = covered_w / total
    score = (num + prior * (total - covered_w)) / total
    return score, covered, coverage


def stability(s: np.ndarray, weights: np.ndarray, request: RankRequest) -> tuple[np.ndarray, np.ndarray]:
    """Share of Dirichlet weight draws in which each model is first / in the top k."""
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
    chunk = max(1, min(request.draws, 4_000_000 // max(n, 1)))
    done = 0
    while done < request.draws:
        m = min(chunk, request.draws - done)
        sc = np.ascontiguousarray(rng.dirichlet(alpha, size=m) @ a.T)  # draws x models
        top1 += np.bincount(np.argmax(sc, axis=1), minlength=n)
        if k < n:
            topk += np.bincount(np.argpartition(-sc, k - 1, axis=1)[:, :k].ravel(), minlength=n)
        else:
            topk += m
        done += m
    return top1 / request.draws, topk / request.draws


def rank(data: RankingData, request: RankRequest) -> Ranking:
    """Rank the candidates that pass the limits; see RankRequest for the knobs."""
    validate_request(request)
    if request.mode == "quba":
        from advisor.ranking.quba import rank_quba

        return rank_quba(data, request)
    weights = validate_weights(request.weights)
    cand, notes = apply_limits(data.models, request.limits)
    if cand.empty:
        raise InvalidRequestError("no model passes the hard limits; relax a limit. " + "; ".join(notes))
    needs = list(weights)
    w = np.array([weights[n] for n in needs])
    s_df, used = need_score_matrix(data, cand, needs, request.limits, request.normalization)
    score, covered, coverage = combine(s_df.to_numpy(), w[None, :])
    table = cand.assign(score=score[:, 0], score_covered=covered[:, 0], coverage=coverage[:, 0])
    table = table[table["coverage"] > 0]
    dropped = 0
    if request.min_coverage > 0:
        before = len(table)
        table = table[table["coverage"] >= request.min_coverage - 1e-12]
        dropped = before - len(table)
    if table.empty:
        raise InvalidRequestError("no candidate has data for the weighted needs at the required coverage "
                                  f"({len(cand)} passed the limits; lower --min-coverage or change the needs)")
    if dropped:
        notes.append(f"{dropped} models below the minimum coverage {request.min_coverage:.0%} left out")
    return _finish(table, s_df, w, needs, request, notes, len(cand), used)


def _finish(table: pd.DataFrame, s_df: pd.DataFrame, w: np.ndarray, needs: list[str], request: RankRequest,
            notes: list[str], n_candidates: int, used: tuple[tuple[str, str], ...] = ()) -> Ranking:
    table = table.assign(_s=table["score"].round(12)).sort_values(
        ["_s", "coverage", "model_id"], ascending=[False, False, True], kind="stable")
    table["rank"] = table["_s"].rank(method="min", ascending=False).astype(int)
    table = table.drop(columns="_s").reset_index(drop=True)
    s_ranked = s_df.reindex(table["model_id"])
    top1, topk = stability(s_ranked.to_numpy(), w, request)
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
    long["has_data"] = long["need_score"].notna()
    long["contribution"] = long["weight"] * long["need_score"].fillna(PRIOR) / w.sum()
    return Ranking(table, long, s_ranked, request, n_candidates, tuple(notes), used)
