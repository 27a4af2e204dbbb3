"""Pareto front for any two properties (one value per model and axis, from one source)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from advisor.ranking.data import RankingData, widest_source
from advisor.store.properties import get_property


def axis_values(data: RankingData, property_id: str, item: str = "",
                model_ids: pd.Index | None = None) -> pd.DataFrame:
    """model_id, value, source_id, precision: per model the value from the source covering most models."""
    s = data.scores
    s = s[(s["property_id"] == property_id) & (s["item"] == item)]
    if model_ids is not None:
        s = s[s["model_id"].isin(model_ids)]
    return widest_source(s, ["model_id"])[["model_id", "value", "source_id", "precision"]].reset_index(drop=True)


def front_mask(vx: np.ndarray, vy: np.ndarray) -> np.ndarray:
    """True where no other point is at least as good on both axes and better on one (both higher-is-better)."""
    vx, vy = np.asarray(vx, dtype=float), np.asarray(vy, dtype=float)
    order = np.lexsort((-vy, -vx))  # best x first, ties by best y
    front = np.zeros(len(vx), dtype=bool)
    best_y = -np.inf
    for i in order:
        if vy[i] > best_y:
            front[i] = True
            best_y = vy[i]
    return front


def pareto_front(data: RankingData, x: tuple[str, str], y: tuple[str, str],
                 model_ids: pd.Index | None = None) -> pd.DataFrame:
    """Models with both values; `on_front` marks those no other model beats on both axes."""
    ax = axis_values(data, *x, model_ids=model_ids)
    ay = axis_values(data, *y, model_ids=model_ids)
    df = ax.merge(ay, on="model_id", suffixes=("_x", "_y"))
    if df.empty:
        return df.assign(on_front=pd.Series(dtype=bool))
    sx = 1.0 if get_property(x[0]).higher_is_better else -1.0
    sy = 1.0 if get_property(y[0]).higher_is_better else -1.0
    front = front_mask(df["value_x"].to_numpy() * sx, df["value_y"].to_numpy() * sy)
    return df.assign(on_front=front).sort_values("value_x", ascending=sx < 0).reset_index(drop=True)
