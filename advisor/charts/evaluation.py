"""Charts of an evaluation on the user's labelled images (EvaluationResult)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from advisor.charts.palette import model_colour_scale
from advisor.evaluate.result import EvaluationResult


def reliability_chart(result: EvaluationResult) -> alt.LayerChart | None:
    """Accuracy against confidence per bin, one line per model, dot size = images in the bin; the diagonal is
    perfect calibration. None when no model has classification bins (an own label set)."""
    rows = [{"model_id": m.model_id, "confidence": b["confidence"], "accuracy": b["accuracy"], "images": b["count"]}
            for m in result.models for b in m.reliability if b["count"]]
    if not rows:
        return None
    d = pd.DataFrame(rows)
    diag = alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})).mark_line(
        color="#999", strokeDash=[4, 4]).encode(x="x:Q", y="y:Q")
    scale = alt.Scale(domain=[0, 1])
    colour = alt.Color("model_id:N", title=None, scale=model_colour_scale(m.model_id for m in result.models),
                       legend=alt.Legend(orient="bottom", columns=1, labelLimit=0))
    base = alt.Chart(d).encode(x=alt.X("confidence:Q", scale=scale, title="mean confidence in the bin"),
                               y=alt.Y("accuracy:Q", scale=scale, title="accuracy in the bin"), color=colour)
    line = base.mark_line(strokeWidth=1.5, opacity=0.7)
    pts = base.mark_circle(opacity=0.9).encode(
        size=alt.Size("images:Q", title="images in the bin", scale=alt.Scale(range=[40, 400]),
                      legend=alt.Legend(format="d", tickMinStep=1)),
        tooltip=[alt.Tooltip("model_id:N", title="model"), alt.Tooltip("confidence:Q", format=".3f"),
                 alt.Tooltip("accuracy:Q", format=".3f"), "images"])
    return (diag + line + pts).properties(height=320, title="Reliability (15 equal-width bins)")
