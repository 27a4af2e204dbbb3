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
# Evidence weight of the prior, in models: a percentile from a pool of n models is shrunk toward PRIOR as
# (n * p + SHRINK * PRIOR) / (n + SHRINK), the posterior mean of a Beta prior worth SHRINK models (see README).
SHRINK = 10.0


@dataclass(frozen=True)
class NeedEvidence:
    """Per candidate and need: the score, its uncertainty, the pool it was ranked in and the source used."""

    scores: pd.DataFrame  # models x needs in [0, 1], NaN = no data
    sd: pd.DataFrame  # posterior standard deviation of each score (0 where no data)
    pool: pd.DataFrame  # mean size of the per-source pools the score was ranked in (NaN = no data)
    source: pd.DataFrame  # source of the largest pool behind the score ("" = no data)
    used: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Ranking:
    table: pd.DataFrame  # model_id, rank, score, score_covered, coverage, top1_share, topk_share, stable, ...
    contributions: pd.DataFrame  # model_id, need, weight, need_score, contribution, has_data
    need_scores: pd.DataFrame  # models x needs (NaN = no data), in rank order
    request: RankRequest
    n_candidates: int
    notes: tuple[str, ...] = ()
    sources_used: tuple[tuple[str, str], ...] = ()  # (source_id, need) pairs whose values were ranked

    def need_evidence(self) -> pd.DataFrame:
        """Per weighted need: models with data among the ranked, sources used, median pool size."""
        c = self.contributions
        rows = []
        for need, g in c.groupby("need", sort=False):
            has = g[g["has_data"]]
            srcs = sorted(set(has["source_id"]) - {""}) if "source_id" in has else []
            rows.append({"need": need, "n_models": len(has), "sources": ", ".join(srcs),
                         "median_pool": float(has["pool"].median()) if "pool" in has and len(has) else float("nan")})
        return pd.DataFrame(rows, columns=["need", "n_models", "sources", "median_pool"])


def need_evidence(data: RankingData, candidates: pd.DataFrame, needs: list[str], limits: Limits,
                  method: str) -> NeedEvidence:
    """Candidates x needs in [0, 1] with their uncertainty and pool sizes.

    For each (need, property, item) every model contributes one value, from the source that covers
    the most candidates among those that have it; values are normalised only within one source, then
    shrunk toward PRIOR by the size of that pool (best of 4 is weaker evidence than top 5 % of 1,000).
    Works on the integer codes of `RankingData.features` so a full-store ranking stays fast.
    """
    f = data.features
    cand_pos = candidates.index.to_numpy()
    in_cand = np.zeros(len(data.models), dtype=bool)
    in_cand[cand_pos] = True
    sel = in_cand[f["mi"].to_numpy()] & f["need"].isin(needs).to_numpy()
    if limits.exclude_non_commercial:
        sel &= ~f["non_commercial"].to_numpy(dtype=bool)
    shape = (len(data.models), len(needs))
    out, sd, pool_out = np.full(shape, np.nan), np.zeros(shape), np.full(shape, np.nan)
    src_out = np.full(shape, "", dtype=object)
    used: tuple[tuple[str, str], ...] = ()
    if sel.any():
        mi, gi, ki = (f[c].to_numpy()[sel] for c in ("mi", "gi", "ki"))
        cov = np.bincount(gi)[gi]
        order = np.lexsort((f["src_rank"].to_numpy()[sel], -cov, ki, mi))
        mk = mi[order] * (ki.max() + 1) + ki[order]
        keep = np.flatnonzero(sel)[order[np.r_[True, mk[1:] != mk[:-1]]]]
        g = f["gi"].to_numpy()[keep]
        pool = np.bincount(g)[g].astype(float)
        norm = normalize(f["signed"].to_numpy()[keep], g, method)
        norm = (pool * norm + SHRINK * PRIOR) / (pool + SHRINK)
        row_sd = np.sqrt(norm * (1.0 - norm) / (pool + SHRINK + 1.0))
        col = pd.Categorical(f["need"].to_numpy()[keep], categories=needs).codes
        m = f["mi"].to_numpy()[keep]
        prop_key = m * (f["pi"].max() + 1) + f["pi"].to_numpy()[keep]
        _, inv = np.unique(prop_key, return_inverse=True)
        n_prop = np.bincount(inv)
        prop_mean, prop_sd, prop_pool = (np.bincount(inv, x) / n_prop for x in (norm, row_sd, pool))
        first = np.unique(inv, return_index=True)[1]
        pm, pc = m[first], col[first]
        nk = pm * len(needs) + pc
        un, inv2 = np.unique(nk, return_inverse=True)
        n_need = np.bincount(inv2)
        r, c = un // len(needs), un % len(needs)
        out[r, c] = np.bincount(inv2, prop_mean) / n_need
        sd[r, c] = np.bincount(inv2, prop_sd) / n_need
        pool_out[r, c] = np.bincount(inv2, prop_pool) / n_need
        row_nk = m * len(needs) + col
        big = np.lexsort((-pool, row_nk))
        firsts = big[np.r_[True, row_nk[big][1:] != row_nk[big][:-1]]]
        src = f["source_id"].to_numpy()[keep][firsts]
        src_out[row_nk[firsts] // len(needs), row_nk[firsts] % len(needs)] = src
        pairs = f.iloc[keep][["source_id", "need"]].astype(str).drop_duplicates()
        used = tuple(sorted(pairs.itertuples(index=False, name=None)))
    idx = pd.Index(candidates["model_id"].to_numpy(), name="model_id")

    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a[cand_pos], index=idx, columns=needs)

    return NeedEvidence(frame(out), frame(sd), frame(pool_out), frame(src_out), used)


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
    ev = need_evidence(data, cand, needs, request.limits, request.normalization)
    s_df = ev.scores
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
    return _finish(table, s_df, w, needs, request, notes, len(cand), ev.used, ev)


def _finish(table: pd.DataFrame, s_df: pd.DataFrame, w: np.ndarray, needs: list[str], request: RankRequest,
            notes: list[str], n_candidates: int, used: tuple[tuple[str, str], ...] = (),
            ev: NeedEvidence | None = None) -> Ranking:
    table = table.assign(_s=table["score"].round(12)).sort_values(
        ["_s", "coverage", "model_id"], ascending=[False, False, True], kind="stable")
    table["rank"] = table["_s"].rank(method="min", ascending=False).astype(int)
    table = table.drop(columns="_s").reset_index(drop=True)
    s_ranked = s_df.reindex(table["model_id"])
    sd = None if ev is None else ev.sd.reindex(table["model_id"]).to_numpy()
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
    if ev is not None:
        long["pool"] = ev.pool.reindex(s_ranked.index).to_numpy().ravel()
        long["source_id"] = ev.source.reindex(s_ranked.index).to_numpy().ravel()
        long["n_with_data"] = np.tile(s_ranked.notna().sum().to_numpy(), n_m)
    long["has_data"] = long["need_score"].notna()
    long["contribution"] = long["weight"] * long["need_score"].fillna(PRIOR) / w.sum()
    return Ranking(table, long, s_ranked, request, n_candidates, tuple(notes), used)
