"""The one live-probe curve chart (app and report): a panel per transform, a line and a marker per model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import altair as alt
import pandas as pd

from advisor.charts.labels import PROBE_METRIC_LABELS
from advisor.charts.palette import model_colour_scale, model_shape_scale

JITTER = 0.012  # share of a panel's x range between neighbouring models, so equal curves stay visible
POINT_KIND = ("transformed", "untransformed image")


class FamilyAxis(NamedTuple):
    """What a panel needs to know of a transform family (from `advisor.probes.transforms.Family`)."""

    label: str  # panel title
    unit: str  # x-axis title
    identity: float  # the magnitude that leaves the image unchanged (drawn larger)


def family_axes(families) -> dict[str, FamilyAxis]:  # families: iterable of probes.transforms.Family
    """name -> FamilyAxis for the families a probe ran."""
    return {f.name: FamilyAxis(f.label, f.unit, f.identity) for f in families}


def probe_curves(curve: pd.DataFrame, metric: str, models: Sequence[str] | None = None,
                 families: Mapping[str, FamilyAxis] | None = None,
                 panel_width: int = 190, columns: int = 3) -> alt.ConcatChart | None:
    """One metric over each family's magnitude grid (mean over images), one panel per family.

    `curve` is `ProbeResult.curve(metric)`: model_id, family, magnitude, <metric>, n_images. Panels share the
    y scale (so a drop reads the same everywhere); each x axis names its family's unit (`families`); every
    model has its own colour and marker, and lines are nudged apart by a small x offset (the tooltip gives the
    true magnitude), so identical curves do not hide each other; the untransformed point is drawn larger.
    """
    if curve.empty or metric not in curve:
        return None
    d = curve.dropna(subset=[metric]).rename(columns={metric: "value"})
    if d.empty:
        return None
    label = PROBE_METRIC_LABELS[metric]
    ids = list(models) if models is not None else sorted(d["model_id"].astype(str).unique())
    ids = [m for m in ids if m in set(d["model_id"])] + sorted(set(d["model_id"]) - set(ids))
    offset = {m: i - (len(ids) - 1) / 2 for i, m in enumerate(ids)}
    colour = alt.Color("model_id:N", title="model", scale=model_colour_scale(ids),
                       legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=0))
    shape = alt.Shape("model_id:N", title="model", scale=model_shape_scale(ids))
    tips = [alt.Tooltip("model_id:N", title="model"), alt.Tooltip("family:N", title="transform"),
            alt.Tooltip("magnitude:Q", format=".3g"), alt.Tooltip("value:Q", title=label, format=".4g"),
            alt.Tooltip("n_images:Q", title="images")]
    lo, hi = float(d["value"].min()), float(d["value"].max())
    pad = (hi - lo) * 0.05 or 0.05
    y_scale = alt.Scale(domain=[lo - pad, hi + pad], nice=False, zero=False)
    panels = []
    for fam in dict.fromkeys(d["family"]):
        p = d[d["family"] == fam].copy()
        span = float(p["magnitude"].max() - p["magnitude"].min()) or 1.0
        p["x"] = p["magnitude"] + p["model_id"].map(offset).astype(float) * JITTER * span
        axis = (families or {}).get(fam, FamilyAxis(str(fam), "magnitude", float("nan")))
        p["point"] = [POINT_KIND[int(m == axis.identity)] for m in p["magnitude"]]
        x = alt.X("x:Q", title=axis.unit, scale=alt.Scale(zero=False, nice=False))
        y = alt.Y("value:Q", title=label, scale=y_scale)
        line = alt.Chart(p).mark_line(opacity=0.8).encode(x=x, y=y, color=colour, detail="model_id:N")
        points = alt.Chart(p).mark_point(filled=True, opacity=0.9).encode(
            x=x, y=y, color=colour, shape=shape, tooltip=tips,
            size=alt.Size("point:N", scale=alt.Scale(domain=list(POINT_KIND), range=[35, 140]),
                          legend=alt.Legend(title="point", orient="bottom", labelLimit=0)))
        panels.append(alt.layer(line, points).properties(width=panel_width, height=150, title=axis.label))
    return alt.concat(*panels, columns=columns).resolve_scale(y="shared")
