"""The study's detail views (per factor, data set, group, magnitude) and live-probe curves.

Every builder takes long scores as `PropertyStore.scores` returns them (model_id, property_id, item,
value, unit, source_id, precision) and returns None when there is nothing to draw.
Figure-read values are drawn lighter and named in the tooltip, so their precision stays visible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import altair as alt
import pandas as pd

from advisor.ranking.data import widest_source

READ = ["exact", "figure-read"]


def read_kind(precision: str) -> str:
    """'figure-read' for values read off a plot's pixels (carry ±), else 'exact' (incl. printed numbers)."""
    p = str(precision).lower()
    return "figure-read" if ("±" in p or "pixel" in p) else "exact"


def _prep(df: pd.DataFrame, property_ids: tuple[str, ...]) -> pd.DataFrame:
    d = df[df["property_id"].isin(property_ids)].copy()
    if "precision" not in d:
        d["precision"] = "exact"
    d["precision"] = d["precision"].fillna("exact").astype(str)
    d["read"] = d["precision"].map(read_kind)
    for col in ("source_id", "unit"):
        if col not in d:
            d[col] = ""
    return d


def _tips(value_title: str) -> list[alt.Tooltip]:
    return [alt.Tooltip("model_id:N", title="model"), alt.Tooltip("item:N", title="item"),
            alt.Tooltip("value:Q", title=value_title, format=".4g"), alt.Tooltip("source_id:N", title="source"),
            alt.Tooltip("precision:N", title="precision")]


def _grouped_bars(d: pd.DataFrame, y_title: str, x_title: str, rule: float | None = None) -> alt.Chart | None:
    if d.empty:
        return None
    base = alt.Chart(d).mark_bar().encode(
        x=alt.X("item:N", title=x_title, axis=alt.Axis(labelAngle=-35, labelLimit=200)),
        xOffset=alt.XOffset("model_id:N"),
        y=alt.Y("value:Q", title=y_title),
        color=alt.Color("model_id:N", title="model", legend=alt.Legend(orient="right", labelLimit=400)),
        opacity=alt.Opacity("read:N", title="value", scale=alt.Scale(domain=READ, range=[1.0, 0.45]),
                            legend=alt.Legend(orient="right")),
        tooltip=_tips(y_title),
    )
    # Streamlit fits axes and legends into `height`: leave room for the rotated item labels.
    if rule is None:
        return base.properties(height=400)
    line = alt.Chart(pd.DataFrame({"y": [rule]})).mark_rule(strokeDash=[4, 3], color="#555").encode(y="y:Q")
    return alt.layer(base, line).properties(height=400)


def _one_source(d: pd.DataFrame) -> pd.DataFrame:
    """Per (model, item) keep one source, the one covering most rows, so bars are not stacked twice."""
    return widest_source(d, ["model_id", "property_id", "item"])


def imagenet_x_chart(df: pd.DataFrame) -> alt.Chart | None:
    d = _one_source(_prep(df, ("imagenet_x_error_ratio",)))
    return _grouped_bars(d, "error ratio (1 = average error; lower is better)", "ImageNet-X factor", rule=1.0)


def robustness_chart(df: pd.DataFrame) -> alt.Chart | None:
    d = _one_source(_prep(df, ("shift_top1",)))
    return _grouped_bars(d, "top-1 (%)", "shifted test set")


def vtab_chart(df: pd.DataFrame) -> alt.Chart | None:
    """VTAB group means where published, else every task."""
    d = _one_source(_prep(df, ("vtab_linear_probe_top1",)))
    groups = d[d["item"].str.startswith("mean")]
    return _grouped_bars(groups if len(groups) else d, "linear-probe top-1 (%)", "VTAB group")


def pug_chart(df: pd.DataFrame) -> alt.Chart | None:
    d = _one_source(_prep(df, ("pug_imagenet_top1",)))
    return _grouped_bars(d, "top-1 (%)", "PUG-ImageNet factor")


def shape_bias_chart(df: pd.DataFrame) -> alt.Chart | None:
    d = _one_source(_prep(df, ("shape_bias",)))
    d = d[d["item"] == ""]
    if d.empty:
        return None
    return alt.Chart(d).mark_bar().encode(
        y=alt.Y("model_id:N", title=None, axis=alt.Axis(labelLimit=360)),
        x=alt.X("value:Q", title="shape bias (fraction of shape decisions)", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("model_id:N", legend=None),
        opacity=alt.Opacity("read:N", title="value", scale=alt.Scale(domain=READ, range=[1.0, 0.45])),
        tooltip=_tips("shape bias"),
    ).properties(height=50 * d["model_id"].nunique() + 70)  # Streamlit fits the axis into the height too


INVARIANCE = {"invariance_scale_top1": "zoom-in factor", "invariance_shift_top1": "crop shift (pixels)",
              "invariance_resolution_top1": "test resolution (pixels)"}


def invariance_chart(df: pd.DataFrame) -> alt.Chart | None:
    """Top-1 over magnitude, one panel per transform family (scale, shift, resolution)."""
    d = _one_source(_prep(df, tuple(INVARIANCE)))
    d = d.assign(magnitude=pd.to_numeric(d["item"], errors="coerce")).dropna(subset=["magnitude"])
    if d.empty:
        return None
    panels = []
    for prop, title in INVARIANCE.items():
        p = d[d["property_id"] == prop]
        if p.empty:
            continue
        panels.append(alt.Chart(p).mark_line(point=True).encode(
            x=alt.X("magnitude:Q", title=title, scale=alt.Scale(zero=False)),
            y=alt.Y("value:Q", title="top-1 (%)", scale=alt.Scale(zero=False)),
            color=alt.Color("model_id:N", title="model", legend=alt.Legend(orient="right", labelLimit=400)),
            strokeDash=alt.StrokeDash("read:N", title="value", scale=alt.Scale(domain=READ, range=[[1, 0], [5, 3]])),
            tooltip=_tips("top-1 (%)"),
        ).properties(width=250, height=240))
    return alt.hconcat(*panels).resolve_scale(y="shared")


def probe_curves(df: pd.DataFrame) -> alt.Chart | None:
    """Live-probe results: one panel per (metric, family), a line per model over the magnitude grid.

    `df`: model_id, family, magnitude, metric, value.
    """
    if df.empty:
        return None
    return alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("magnitude:Q", title="magnitude", scale=alt.Scale(zero=False)),
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        color=alt.Color("model_id:N", title="model", legend=alt.Legend(orient="bottom", labelLimit=400)),
        tooltip=[alt.Tooltip("model_id:N", title="model"), "family:N", "metric:N",
                 alt.Tooltip("magnitude:Q", format=".3g"), alt.Tooltip("value:Q", format=".4g")],
    ).properties(width=220, height=170).facet(
        row=alt.Row("metric:N", title=None), column=alt.Column("family:N", title=None),
    ).resolve_scale(x="independent", y="independent")


@dataclass(frozen=True)
class DetailView:
    key: str
    title: str
    property_ids: tuple[str, ...]
    build: Callable[[pd.DataFrame], alt.Chart | None]


DETAIL_VIEWS: tuple[DetailView, ...] = (
    DetailView("imagenet_x", "ImageNet-X error ratio per factor", ("imagenet_x_error_ratio",), imagenet_x_chart),
    DetailView("robustness", "Robustness per data set", ("shift_top1",), robustness_chart),
    DetailView("vtab", "VTAB linear probe by group", ("vtab_linear_probe_top1",), vtab_chart),
    DetailView("pug", "PUG-ImageNet factors", ("pug_imagenet_top1",), pug_chart),
    DetailView("invariance", "Invariance to scale, shift and resolution", tuple(INVARIANCE), invariance_chart),
    DetailView("shape_bias", "Shape bias", ("shape_bias",), shape_bias_chart),
)


def detail_chart(key: str, df: pd.DataFrame) -> alt.Chart | None:
    for v in DETAIL_VIEWS:
        if v.key == key:
            return v.build(df)
    raise KeyError(key)
