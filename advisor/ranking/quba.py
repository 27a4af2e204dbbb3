"""QUBA mode: the QUBA score of Hesse et al. 2025, reproduced with its fixed constants.

score = sum_d w_d * (x_d - mu_d) / sigma_d / sum_d |w_d|, with mu, sigma and the signed default weights
from quba/quba_normalization.csv (as `computeQUBA` in the QUBA project page), loaded into the store at
build time (`PropertyStore.quba_constants`). Only QUBA's own
published values are used, and only models with all nine dimensions get a score (the site shows NaN).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from advisor.errors import InvalidRequestError
from advisor.ranking.data import RankingData
from advisor.ranking.request import RankRequest, apply_limits
from advisor.ranking.result import Ranking, finish_ranking


def rank_quba(data: RankingData, request: RankRequest) -> Ranking:
    """QUBA's own score over the candidates with all nine QUBA dimensions; user weights are ignored."""
    const = data.quba
    if const is None or const.empty:
        raise InvalidRequestError("QUBA mode needs QUBA's constants, and this store has none (rebuild it with "
                                  "`advisor build` from the shipped sources)")
    cand, notes = apply_limits(data.models, request.limits)
    sc = data.scores[data.scores["source_id"].isin(set(const["source_id"])) & (data.scores["item"] == "")
                     & data.scores["model_id"].isin(cand["model_id"])]
    sc = sc[sc["property_id"].isin(const["property_id"])]
    wide = sc.pivot_table(index="model_id", columns="property_id", values="value", aggfunc="first")
    z = pd.DataFrame(index=wide.index)
    for need, c in const.iterrows():
        col = wide[c["property_id"]] if c["property_id"] in wide else pd.Series(np.nan, index=wide.index)
        z[need] = (col / c["scale"] - c["mean"]) / c["std"]
    complete = z.notna().all(axis=1)
    if (~complete).any():
        notes.append(f"{int((~complete).sum())} QUBA models lack a dimension and get no QUBA score")
    z = z[complete]
    if z.empty:
        raise InvalidRequestError("no candidate has all nine QUBA dimensions; QUBA mode needs QUBA's own data")
    w = const["default_weight_signed"].to_numpy()
    score = z.to_numpy() @ w / np.abs(w).sum()
    z = z * np.sign(w)  # signed z with |w| gives the same score and keeps "higher is better" per need
    table = cand.set_index("model_id").loc[z.index].reset_index()
    table = table.assign(score=score, score_covered=score, coverage=1.0)
    notes.append("QUBA mode: fixed QUBA constants and default weights; user weights are ignored")
    used = tuple((str(src), need) for need, src in const["source_id"].items())
    return finish_ranking(table, z, np.abs(w), list(z.columns), request, notes, len(cand), used)
