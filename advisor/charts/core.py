"""Ranking charts: per-need contribution bars, the two-property scatter with its Pareto front."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from advisor.charts.palette import model_colour_scale
from advisor.ranking.engine import Ranking
from advisor.ranking.needs import need_label


def short_label(text: str, width: int = 28) -> str:
    """Shorten a long label in the middle ('timm:convnext_ba…in22k_ft_in1k'), keeping both ends readable;
    the full text belongs in the tooltip."""
    text = str(text)
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def _short(model_id: str, width: int = 46) -> str:
    return short_label(model_id, width)


def _model_scale(d: pd.DataFrame, models: Sequence[str] | None) -> alt.Scale:
    return model_colour_scale(models if models is not None else sorted(d["model_id"].astype(str).unique()))


SHADE = ("solid: measured", "faded: predicted (from top-1 and paradigm)", "pale: no data (counted as average)")


def contribution_chart(ranking: Ranking, top: int = 10) -> alt.Chart:
    """Stacked horizontal bars: how much each need adds to each top model's score (rank order).

    Long model ids are shortened in the middle on the axis (full id in the tooltip); the shade legend
    says in words which bars rest on data, since a grey legend swatch cannot match tinted bars.
    """
    order = ranking.table["model_id"].head(top).tolist()
    c = ranking.contributions[ranking.contributions["model_id"].isin(order)].copy()
    c["need_label"] = c["need"].map(need_label)
    status = c["status"] if "status" in c else c["has_data"].map({True: "measured", False: ""})
    c["data"] = status.map({"measured": SHADE[0], "predicted": SHADE[1]}).fillna(SHADE[2])
    c["label"] = c["model_id"].map(_short)
    labels = [_short(m) for m in order]
    # One legend column when a need's name is long ("Few systematic mistakes (ImageNet-X)"): two such
    # columns ran past the right edge of the Advisor page's results column at 1,280 px and were cut.
    columns = 1 if c["need_label"].str.len().max() > 30 else 2
    bars = alt.Chart(c).mark_bar().encode(
        y=alt.Y("label:N", sort=labels, title=None, axis=alt.Axis(labelLimit=0)),
        x=alt.X("sum(contribution):Q", title="score (sum of weighted need scores)",
                scale=alt.Scale(domain=[0, 1])),
        # Two legend columns under the bars and the shade legend above them: three columns and the shade
        # legend side by side ran past the right edge of the Advisor page's results column at 1,280 px.
        color=alt.Color("need_label:N", title="need", legend=alt.Legend(orient="bottom", columns=columns,
                                                                        labelLimit=0)),
        opacity=alt.Opacity("data:N", title="bar shade", scale=alt.Scale(domain=list(SHADE), range=[1.0, 0.55, 0.25]),
                            # one shade a line: three side by side ran past the chart's right edge at 1,280 px
                            legend=alt.Legend(orient="top", direction="vertical", labelLimit=0,
                                              symbolType="square", symbolFillColor="#4c78a8",
                                              symbolStrokeColor="#4c78a8")),
        order=alt.Order("weight:Q", sort="descending"),
        tooltip=[alt.Tooltip("model_id:N", title="model"), alt.Tooltip("need_label:N", title="need"),
                 alt.Tooltip("weight:Q", format=".2f"), alt.Tooltip("need_score:Q", format=".2f",
                                                                    title="need score (0-1)"),
                 alt.Tooltip("contribution:Q", format=".3f"), alt.Tooltip("data:N")],
    )
    # Streamlit fits the whole chart (axes, legends) into `height`: room for the x axis and the legends below.
    n_needs = c["need_label"].nunique()
    legend_rows = (n_needs + columns - 1) // columns + len(SHADE)
    return bars.properties(height=max(200, 28 * len(order) + 150 + 18 * legend_rows))


def _axis_scale(values: pd.Series, log: bool) -> alt.Scale:
    """Fit the axis to the data; a linear axis of non-negative values (accuracy, counts) never dips below 0."""
    if log or values.empty:
        return alt.Scale(type="log" if log else "linear", zero=False, nice=not log, padding=12)
    lo, hi = float(values.min()), float(values.max())
    pad = (hi - lo) * 0.05 or abs(hi) * 0.05 or 1.0
    low = lo - pad
    if lo >= 0:
        low = max(0.0, low)
    return alt.Scale(type="linear", zero=False, nice=False, domain=[low, hi + pad])


def scatter_chart(df: pd.DataFrame, x_label: str, y_label: str, log_x: bool = False,
                  log_y: bool = False, label_front: bool = False) -> alt.LayerChart:
    """Two properties over models; Pareto-front models ringed and joined by a line.

    `df` is `advisor.ranking.pareto.pareto_front` output (model_id, value_x, value_y, on_front, source_id_x/y,
    precision_x/y), optionally with paradigm and arch_type columns. Axes fit the data (no forced zero;
    never below 0 for non-negative values);
    non-positive values are left off a log axis, since a log scale cannot place them. `label_front` writes
    each front model's name beside its ring (a printed report has no tooltips).
    """
    d = df.copy()
    for col in ("paradigm", "arch_type", "source_id_x", "source_id_y", "precision_x", "precision_y"):
        if col not in d:
            d[col] = "unknown"
        d[col] = d[col].fillna("unknown").astype(str)
    if log_x:
        d = d[d["value_x"] > 0]
    if log_y:
        d = d[d["value_y"] > 0]
    xs = _axis_scale(d["value_x"], log_x)
    ys = _axis_scale(d["value_y"], log_y)
    x = alt.X("value_x:Q", title=x_label, scale=xs)
    y = alt.Y("value_y:Q", title=y_label, scale=ys)
    tips = [alt.Tooltip("model_id:N", title="model"), alt.Tooltip("paradigm:N"), alt.Tooltip("arch_type:N",
            title="architecture"), alt.Tooltip("value_x:Q", title=x_label, format=".4g"),
            alt.Tooltip("source_id_x:N", title="x source"), alt.Tooltip("precision_x:N", title="x precision"),
            alt.Tooltip("value_y:Q", title=y_label, format=".4g"), alt.Tooltip("source_id_y:N", title="y source"),
            alt.Tooltip("precision_y:N", title="y precision"), alt.Tooltip("on_front:N", title="Pareto front")]
    points = alt.Chart(d).mark_point(filled=True, size=55, opacity=0.7).encode(
        x=x, y=y, tooltip=tips,
        color=alt.Color("paradigm:N", title="paradigm", legend=alt.Legend(orient="right")),
        shape=alt.Shape("arch_type:N", title="architecture", legend=alt.Legend(orient="right")),
    )
    front = d[d["on_front"].astype(bool)].sort_values("value_x")
    line = alt.Chart(front).mark_line(color="#d62728", strokeWidth=1.5).encode(x=x, y=y, order="value_x:Q")
    rings = alt.Chart(front).mark_point(size=160, color="#d62728", strokeWidth=2).encode(x=x, y=y, tooltip=tips)
    layers = [line, points, rings]
    if label_front:
        named = front.assign(label=front["model_id"].map(lambda m: short_label(m, 34)))
        layers.append(alt.Chart(named).mark_text(align="left", dx=8, dy=-6, fontSize=10, color="#333").encode(
            x=x, y=y, text="label:N"))
    return alt.layer(*layers).properties(height=460).interactive()


def compare_need_chart(df: pd.DataFrame, models: Sequence[str] | None = None) -> alt.Chart:
    """Horizontal grouped bars of need scores (0-1 among candidates) for a few models.

    `df`: model_id, need, need_score (NaN = no data; drawn as a missing bar, never as zero). Horizontal, so
    every need label is readable at any width; `models` fixes the model -> colour mapping for the page.
    """
    d = df.dropna(subset=["need_score"]).copy()
    d["need_label"] = d["need"].map(need_label)
    n_rows = max(1, d["need_label"].nunique())
    n_models = max(1, d["model_id"].nunique())
    return alt.Chart(d).mark_bar().encode(
        y=alt.Y("need_label:N", title=None, axis=alt.Axis(labelLimit=0)),
        yOffset=alt.YOffset("model_id:N", sort=list(models) if models is not None else "ascending"),
        x=alt.X("need_score:Q", title="need score (0 worst – 1 best)", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("model_id:N", title="model", scale=_model_scale(d, models),
                        legend=alt.Legend(orient="top", direction="vertical", labelLimit=0)),
        tooltip=[alt.Tooltip("model_id:N", title="model"), alt.Tooltip("need_label:N", title="need"),
                 alt.Tooltip("need_score:Q", format=".2f")],
    ).properties(height=n_rows * (8 * n_models + 8) + 60 + 18 * n_models)
