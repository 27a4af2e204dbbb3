"""Needs + weights + hard limits -> ranked models with coverage, contributions and stability."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from advisor.errors import InvalidRequestError
from advisor.ranking.data import RankingData
from advisor.ranking.normalize import normalize
from advisor.ranking.quba import rank_quba
from advisor.ranking.request import (
    Limits,
    RankRequest,
    apply_limits,
    validate_request,
    validate_weights,
)
from advisor.ranking.result import PRIOR, NeedEvidence, Ranking, finish_ranking, stability

__all__ = ["MODES", "PRIOR", "Limits", "NeedEvidence", "RankRequest", "Ranking", "need_evidence", "rank",
           "rank_advisor", "stability"]

# Evidence weight of the prior, in models: a percentile from a pool of n models is shrunk toward PRIOR as
# (n * p + SHRINK * PRIOR) / (n + SHRINK), the posterior mean of a Beta prior worth SHRINK models (see README).
SHRINK = 10.0


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


def rank_advisor(data: RankingData, request: RankRequest) -> Ranking:
    """The advisor's ranking: the user's weighted needs over the candidates that pass the limits."""
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
    return finish_ranking(table, s_df, w, needs, request, notes, len(cand), ev.used, ev)


# Ranking modes: the request's `mode` names one entry (request.MODES lists the same names for validation).
MODES: dict[str, Callable[[RankingData, RankRequest], Ranking]] = {"advisor": rank_advisor, "quba": rank_quba}


def rank(data: RankingData, request: RankRequest) -> Ranking:
    """Rank the candidates that pass the limits; see RankRequest for the knobs and MODES for the modes."""
    validate_request(request)
    return MODES[request.mode](data, request)
