"""The study's detail views (per factor, data set, group, magnitude).

Every builder takes long scores as `PropertyStore.scores` returns them (model_id, property_id, item,
value, unit, source_id, precision) and returns None when there is nothing to draw.
Figure-read values are drawn lighter and named in the tooltip, so their precision stays visible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import altair as alt
import pandas as pd

from advisor.charts.core import short_label
from advisor.charts.palette import model_colour_scale
from advisor.ranking.data import widest_source

READ = ["exact", "figure-read"]
# Legend titles and swatches that say what each mark means: solid = exact number, faded / dashed = read off a plot.
READ_LEGEND = alt.Legend(title="value (tooltip: precision)", orient="bottom", direction="vertical", labelLimit=0,
                         symbolType="square", symbolFillColor="#4c78a8", symbolStrokeColor="#4c78a8",
                         labelExpr="datum.label == 'exact' ? 'exact (solid): a published number' : "
                                   "'figure-read (faded): read off a published plot, ±'")


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


def _colour(d: pd.DataFrame, models: Sequence[str] | None) -> alt.Color:
    """The page's model colours (shared across its charts) and a legend under the chart, never cut."""
    ids = list(models) if models is not None else sorted(d["model_id"].astype(str).unique())
    return alt.Color("model_id:N", title="model", scale=model_colour_scale(ids),
                     legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=0))


def _grouped_bars(d: pd.DataFrame, x_title: str, y_title: str, rule: float | None = None,
                  models: Sequence[str] | None = None) -> alt.Chart | None:
    """Horizontal grouped bars: items on the y axis (readable at any width; long names shortened in the
    middle, full name in the tooltip), one bar per model, value on x."""
    if d.empty:
        return None
    d = d.assign(label=d["item"].map(lambda s: short_label(s, 60)))  # full name in the tooltip
    n_items, n_models = d["label"].nunique(), d["model_id"].nunique()
    sort = list(models) if models is not None else "ascending"
    # The y title goes above the chart: written along a short axis ("shifted test set") it was cut.
    base = alt.Chart(d, title=alt.TitleParams(y_title, anchor="start", fontSize=12, fontWeight="normal")).mark_bar(
    ).encode(
        y=alt.Y("label:N", title=None, axis=alt.Axis(labelLimit=0)),
        yOffset=alt.YOffset("model_id:N", sort=sort),
        x=alt.X("value:Q", title=x_title),
        color=_colour(d, models),
        opacity=alt.Opacity("read:N", scale=alt.Scale(domain=READ, range=[1.0, 0.45]), legend=READ_LEGEND),
        tooltip=_tips(x_title),
    )
    # Streamlit fits axes and legends into `height`: bars, the x axis and the two legends below.
    height = n_items * (7 * n_models + 8) + 120 + 18 * n_models
    if rule is None:
        return base.properties(height=height)
    line = alt.Chart(pd.DataFrame({"x": [rule]})).mark_rule(strokeDash=[4, 3], color="#555").encode(x="x:Q")
    return alt.layer(base, line).properties(height=height, title=base.title)


def _one_source(d: pd.DataFrame) -> pd.DataFrame:
    """Per (model, item) keep one source, the one covering most rows, so bars are not stacked twice."""
    return widest_source(d, ["model_id", "property_id", "item"])


def imagenet_x_chart(df: pd.DataFrame, models: Sequence[str] | None = None) -> alt.Chart | None:
    d = _one_source(_prep(df, ("imagenet_x_error_ratio",)))
    return _grouped_bars(d, "error ratio (1 = average error; lower is better)", "ImageNet-X factor", rule=1.0,
                         models=models)


def robustness_chart(df: pd.DataFrame, models: Sequence[str] | None = None) -> alt.Chart | None:
    d = _one_source(_prep(df, ("shift_top1",)))
    return _grouped_bars(d, "top-1 (%)", "shifted test set", models=models)


def vtab_chart(df: pd.DataFrame, models: Sequence[str] | None = None) -> alt.Chart | None:
    """VTAB group means where published, else every task."""
    d = _one_source(_prep(df, ("vtab_linear_probe_top1",)))
    groups = d[d["item"].str.startswith("mean")]
    return _grouped_bars(groups if len(groups) else d, "linear-probe (LP) top-1 (%)", "VTAB group", models=models)


def pug_chart(df: pd.DataFrame, models: Sequence[str] | None = None) -> alt.Chart | None:
    d = _one_source(_prep(df, ("pug_imagenet_top1",)))
    return _grouped_bars(d, "top-1 (%)", "PUG-ImageNet factor", models=models)


def shape_bias_chart(df: pd.DataFrame, models: Sequence[str] | None = None) -> alt.Chart | None:
    d = _one_source(_prep(df, ("shape_bias",)))
    d = d[d["item"] == ""]
    if d.empty:
        return None
    d = d.assign(label=d["model_id"])  # full ids: the axis has room, and the layout test forbids "…"
    return alt.Chart(d).mark_bar().encode(
        y=alt.Y("label:N", title=None, axis=alt.Axis(labelLimit=0),
                sort=list(models) if models is not None else "ascending"),
        x=alt.X("value:Q", title="shape bias (fraction of shape decisions)", scale=alt.Scale(domain=[0, 1])),
        color=_colour(d, models),
        opacity=alt.Opacity("read:N", scale=alt.Scale(domain=READ, range=[1.0, 0.45]), legend=READ_LEGEND),
        tooltip=_tips("shape bias"),
    ).properties(height=34 * d["model_id"].nunique() + 130 + 18 * d["model_id"].nunique())


INVARIANCE = {"invariance_scale_top1": "zoom-in factor", "invariance_shift_top1": "crop shift (pixels)",
              "invariance_resolution_top1": "test resolution (pixels)"}


def invariance_chart(df: pd.DataFrame, models: Sequence[str] | None = None) -> alt.Chart | None:
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
            color=_colour(d, models),
            strokeDash=alt.StrokeDash("read:N", scale=alt.Scale(domain=READ, range=[[1, 0], [5, 3]]),
                                      legend=alt.Legend(title="line", orient="bottom", direction="vertical",
                                                        symbolType="stroke", labelLimit=0,
                                                        labelExpr="datum.label == 'exact' ? 'solid: exact "
                                                                  "published numbers' : 'dashed: read off a "
                                                                  "published plot, ±'")),
            tooltip=_tips("top-1 (%)"),
        ).properties(width=230, height=220))
    # Legends below the panels: three panels and a legend side by side do not fit a 1,280 px window.
    return alt.hconcat(*panels).resolve_scale(y="shared")


@dataclass(frozen=True)
class DetailView:
    key: str
    title: str
    property_ids: tuple[str, ...]
    build: Callable[..., alt.Chart | None]  # (scores, models=None) -> chart or None


DETAIL_VIEWS: tuple[DetailView, ...] = (
    DetailView("imagenet_x", "ImageNet-X error ratio per factor", ("imagenet_x_error_ratio",), imagenet_x_chart),
    DetailView("robustness", "Robustness per data set", ("shift_top1",), robustness_chart),
    DetailView("vtab", "VTAB linear probe by group", ("vtab_linear_probe_top1",), vtab_chart),
    DetailView("pug", "PUG-ImageNet factors", ("pug_imagenet_top1",), pug_chart),
    DetailView("invariance", "Invariance to scale, shift and resolution", tuple(INVARIANCE), invariance_chart),
    DetailView("shape_bias", "Shape bias", ("shape_bias",), shape_bias_chart),
)


def detail_chart(key: str, df: pd.DataFrame, models: Sequence[str] | None = None) -> alt.Chart | None:
    for v in DETAIL_VIEWS:
        if v.key == key:
            return v.build(df, models=models)
    raise KeyError(key)
