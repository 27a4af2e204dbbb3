"""Altair chart builders: tidy DataFrame in, chart out; no metric maths and no streamlit."""

from __future__ import annotations

from advisor.charts.core import (
    MODEL_PALETTE,
    compare_need_chart,
    contribution_chart,
    model_colour_scale,
    model_colours,
    scatter_chart,
    short_label,
)
from advisor.charts.detail import (
    DETAIL_VIEWS,
    detail_chart,
    imagenet_x_chart,
    invariance_chart,
    probe_curves,
    pug_chart,
    robustness_chart,
    shape_bias_chart,
    vtab_chart,
)

__all__ = [
    "DETAIL_VIEWS",
    "MODEL_PALETTE",
    "compare_need_chart",
    "contribution_chart",
    "detail_chart",
    "imagenet_x_chart",
    "invariance_chart",
    "model_colour_scale",
    "model_colours",
    "probe_curves",
    "pug_chart",
    "robustness_chart",
    "scatter_chart",
    "shape_bias_chart",
    "short_label",
    "vtab_chart",
]
