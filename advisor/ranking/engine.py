"""Needs + weights + hard limits -> ranked models with coverage, contributions and stability."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.special import ndtri

from advisor.errors import InvalidRequestError
from advisor.ranking.data import RankingData
from advisor.ranking.needs import need_label
from advisor.ranking.normalize import normalize
from advisor.ranking.predict import NOT_PREDICTED, fit_predictor, predictors
from advisor.ranking.predict import predict as predict_need
from advisor.ranking.quba import rank_quba
from advisor.ranking.request import (
    Limits,
    RankRequest,
    apply_limits,
    validate_request,
    validate_weights,
)
from advisor.ranking.result import PRIOR, NeedEvidence, Ranking, finish_ranking, stability
from advisor.ranking.update import apply_measured
from advisor.store.links import MIN_SHARED, uses_probit
from advisor.store.measured import MEASURED_SOURCE

__all__ = ["MODES", "PRIOR", "Limits", "NeedEvidence", "RankRequest", "Ranking", "need_evidence", "rank",
           "rank_advisor", "stability"]

# Evidence weight of the prior, in models: a percentile from a pool of n models is shrunk toward PRIOR as
# (n * p + SHRINK * PRIOR) / (n + SHRINK), the posterior mean of a Beta prior worth SHRINK models (see README).
SHRINK = 10.0


def need_evidence(data: RankingData, candidates: pd.DataFrame, needs: list[str], limits: Limits,
                  method: str, predict: bool = True) -> NeedEvidence:
    """Candidates x needs in [0, 1] with their uncertainty, pool sizes and what backs each score.

    Published evidence: each quantity (need, property, item) is one pool over every source and protocol, other
    protocols mapped onto the reference through their link (data.link_features); every model contributes one
    value (reference protocol first, then the widest source), normalised among the candidates and shrunk toward
    PRIOR by the pool size. Then, where `predict`, needs without data are predicted (predict.py); last, figures
    measured here update the measured models (update.py). Works on integer codes so a full ranking stays fast.
    """
    f = data.features
    cand_pos = candidates.index.to_numpy()
    in_cand = np.zeros(len(data.models), dtype=bool)
    in_cand[cand_pos] = True
    sel = in_cand[f["mi"].to_numpy()] & f["need"].isin(needs).to_numpy()
    sel &= (f["source_id"] != MEASURED_SOURCE).to_numpy()
    if limits.exclude_non_commercial:
        sel &= ~f["non_commercial"].to_numpy(dtype=bool)
    shape = (len(data.models), len(needs))
    out, sd, pool_out = np.full(shape, np.nan), np.zeros(shape), np.full(shape, np.nan)
    src_out = np.full(shape, "", dtype=object)
    used: tuple[tuple[str, str], ...] = ()
    spread: dict[str, float] = {}
    notes: list[str] = []
    if sel.any():
        mi, ki, si = (f[c].to_numpy()[sel] for c in ("mi", "ki", "si"))
        cov = np.bincount(si)[si]
        order = np.lexsort((f["src_rank"].to_numpy()[sel], -cov, f["lsd"].to_numpy()[sel], ki, mi))
        mk = mi[order] * (ki.max() + 1) + ki[order]
        keep = np.flatnonzero(sel)[order[np.r_[True, mk[1:] != mk[:-1]]]]
        g = f["gi"].to_numpy()[keep]
        signed = f["signed"].to_numpy()[keep]
        pool = np.bincount(g)[g].astype(float)
        norm = normalize(signed, g, method)
        # a linked value carries its link's residual spread: through the local slope of the normalisation
        mean_g = np.bincount(g, signed) / np.maximum(np.bincount(g), 1)
        std_g = np.sqrt(np.bincount(g, (signed - mean_g[g]) ** 2) / np.maximum(np.bincount(g), 1))[g]
        zc = ndtri(np.clip(norm, 1e-6, 1 - 1e-6))
        link_sd = np.where(std_g > 0, np.exp(-0.5 * zc * zc) / np.sqrt(2 * np.pi) * f["lsd"].to_numpy()[keep]
                           / np.where(std_g > 0, std_g, 1.0), 0.0)
        norm = (pool * norm + SHRINK * PRIOR) / (pool + SHRINK)
        row_sd = np.sqrt(norm * (1.0 - norm) / (pool + SHRINK + 1.0) + link_sd ** 2)
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
        kept = f.iloc[keep]
        for (prop, proto), gk in kept[kept["link"] == "unlinked"].groupby(["property_id", "protocol"],
                                                                              observed=True):
            per_item = gk.groupby("item", observed=True)["link_note"].first().astype(str)
            why = "; ".join([f"{i or 'the quantity'}: {n}" for i, n in per_item.items() if n][:2]) or \
                f"shares too few models (< {MIN_SHARED}) with the reference protocol"
            notes.append(f"{prop} under protocol {proto} is not linked to the reference protocol: its "
                         f"{gk['model_id'].nunique()} candidates are ranked in their own pool "
                         f"({gk['item'].nunique()} items; {why})")
        pairs = kept[["source_id", "need"]].astype(str).drop_duplicates()
        used = tuple(sorted(pairs.itertuples(index=False, name=None)))
        probit_rows = kept[kept["link"].ne("unlinked") & ~kept["relative"].astype(bool)
                           & kept["property_id"].map(uses_probit)]
        spread = {str(k): float(v) for k, v in probit_rows.groupby("qkey")["t"].std().groupby(
            probit_rows.groupby("qkey")["need"].first().astype(str)).median().dropna().items() if v > 0}
    idx = pd.Index(candidates["model_id"].to_numpy(), name="model_id")

    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a[cand_pos], index=idx, columns=needs)

    scores, sd_f, pool_f, src_f = frame(out), frame(sd), frame(pool_out), frame(src_out)
    status = pd.DataFrame(np.where(scores.notna(), "measured", ""), index=idx, columns=needs)
    if predict:
        x = predictors(data.scores, candidates)
        for need in needs:
            missing = scores.index[scores[need].isna()]
            if len(missing) == 0:
                continue
            p = fit_predictor(need, x, scores[need])
            val, psd = predict_need(p, x.loc[missing])
            if len(val):
                scores.loc[val.index, need] = val
                sd_f.loc[val.index, need] = psd
                status.loc[val.index, need] = "predicted"
                notes.append(f"{need_label(need)}: {len(val)} models without data {p.reason}")
            elif p.reason and need not in NOT_PREDICTED:
                notes.append(f"{need_label(need)}: no prediction, {p.reason}; models without data count as the "
                             "median")
    m_notes, m_needs = apply_measured(data.measured(), scores, sd_f, status, src_f, spread)
    notes += m_notes
    used = tuple(sorted(set(used) | {(MEASURED_SOURCE, n) for n in m_needs}))
    return NeedEvidence(scores, sd_f, pool_f, src_f, used, status, tuple(notes))


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
    ev = need_evidence(data, cand, needs, request.limits, request.normalization, request.predict)
    s_df = ev.scores
    notes += list(ev.notes)
    score, _, _ = combine(s_df.to_numpy(), w[None, :])
    measured = np.where(ev.status.eq("measured").to_numpy(), s_df.to_numpy(), np.nan)
    _, covered, coverage = combine(measured, w[None, :])
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
