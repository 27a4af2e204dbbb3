"""Cached chart specs: what a page draws, built once per distinct input instead of on every rerun.

Why: a rerun that only moved an unrelated widget used to rebuild every Altair chart and re-validate it
against the Vega-Lite schema (0.1-0.25 s a chart on a busy 2-core machine). These functions return plain
Vega-Lite dicts, keyed on what the chart depends on (the rank request, the compared models), so a rerun
with the same inputs costs a dictionary lookup, and `st.vega_lite_chart` ships the dict as is.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from advisor.charts import DETAIL_VIEWS, compare_need_chart, contribution_chart, scatter_chart
from advisor.charts.detail import read_kind
from advisor.ranking.engine import RankRequest
from advisor.ranking.pareto import pareto_front
from advisor.ui import cache


def spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite dict, data inline, without a second schema validation."""
    with alt.data_transformers.disable_max_rows():
        return chart.to_dict(validate=False)


def show(chart_spec: dict, stretch: bool = True) -> None:
    """Draw a cached spec (stretch: as wide as the column; else at the chart's own width)."""
    st.vega_lite_chart(chart_spec, width="stretch" if stretch else "content")


@st.cache_data(max_entries=64, show_spinner=False)
def contribution_spec(request: RankRequest, measured: tuple[tuple, ...] = (), top: int = 10,
                      path: str | None = None) -> dict:
    """The Advisor page's per-need contribution chart for one request (the ranking itself is cached too)."""
    return spec(contribution_chart(cache.cached_rank(request, path, measured), top=top))


@st.cache_data(max_entries=64, show_spinner=False)
def compare_specs(ids: tuple[str, ...], path: str | None = None) -> dict[str, object]:
    """Everything the Compare page draws for these models: per-need bars, detail views, figure-read kinds.

    The models' order fixes their colours in every chart of the page.
    """
    ns = cache.reference_need_scores(path)
    out: dict[str, object] = {"need": spec(compare_need_chart(ns[ns["model_id"].isin(ids)], models=ids))}
    scores = cache.model_scores(ids, path)
    figure = scores["precision"].map(read_kind) == "figure-read" if len(scores) else pd.Series([], dtype=bool)
    out["figure_kinds"] = sorted(scores.loc[figure, "precision"].unique()) if figure.any() else []
    details = []
    for view in DETAIL_VIEWS:
        chart = view.build(scores, models=ids)
        if chart is not None:
            details.append((view.key, view.title, spec(chart)))
    out["details"] = details
    return out


@st.cache_data(max_entries=64, show_spinner=False)
def explore_view(x: tuple[str, str], y: tuple[str, str], keep: tuple[str, ...] | None, x_label: str, y_label: str,
                 log_x: bool, log_y: bool, path: str | None = None) -> tuple[pd.DataFrame, dict | None]:
    """(the Pareto frame, the scatter spec) for two properties over the kept models (None: all)."""
    models = cache.model_table(path)
    ids = pd.Index(keep) if keep is not None else pd.Index(models["model_id"])
    df = pareto_front(cache.get_data(path), x, y, ids)
    if df.empty:
        return df, None
    df = df.merge(models[["model_id", "paradigm", "arch_type"]], on="model_id", how="left")
    chart = scatter_chart(df, x_label, y_label, log_x=log_x, log_y=log_y)
    # SVG even for many points, so the axis labels stay inspectable text (the layout test reads them).
    return df, {**spec(chart), "usermeta": {"embedOptions": {"renderer": "svg"}}}
