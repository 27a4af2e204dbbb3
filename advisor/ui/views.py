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

from advisor.charts import DETAIL_VIEWS, compare_need_chart, contribution_chart, detail_chart, scatter_chart
from advisor.charts.detail import read_kind
from advisor.ranking.engine import RankRequest
from advisor.ranking.explain import explain_top
from advisor.ranking.pareto import pareto_front
from advisor.ui import cache, components


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
def ranked_view(request: RankRequest, measured: tuple[tuple, ...] = (), path: str | None = None
                ) -> tuple[pd.DataFrame, dict[str, str]]:
    """(the ranked table as shown, the top three's explanations) for one request: a page switch back to the
    Advisor, or a rerun from an unrelated widget, reuses them instead of rebuilding ~0.1 s of frames."""
    ranking = cache.cached_rank(request, path, measured)
    frame = components.ranked_table(ranking, cache.get_data(path), measured=components.measured_labels(measured))
    return frame, explain_top(ranking, 3)


@st.cache_data(max_entries=64, show_spinner=False)
def compare_need_spec(ids: tuple[str, ...], path: str | None = None) -> dict:
    """The Compare page's per-need bars for these models (their order fixes their colours on the page)."""
    ns = cache.reference_need_scores(path)
    return spec(compare_need_chart(ns[ns["model_id"].isin(ids)], models=ids))


@st.cache_data(max_entries=64, show_spinner=False)
def compare_details(ids: tuple[str, ...], path: str | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """([(view key, title)] of the detail views these models have data for, the figure-read precisions).

    Cheap (no chart is built): the page lists the views and builds only the one shown.
    """
    scores = cache.model_scores(ids, path)
    if not len(scores):
        return [], []
    present = set(scores["property_id"])
    views = [(v.key, v.title) for v in DETAIL_VIEWS if present & set(v.property_ids)]
    figure = scores["precision"].map(read_kind) == "figure-read"
    return views, sorted(scores.loc[figure, "precision"].unique()) if figure.any() else []


@st.cache_data(max_entries=128, show_spinner=False)
def detail_spec(key: str, ids: tuple[str, ...], path: str | None = None) -> dict | None:
    """One detail view's spec for these models (None: nothing to draw), built when it is first shown."""
    chart = detail_chart(key, cache.model_scores(ids, path), models=ids)
    return None if chart is None else spec(chart)


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
