"""Altair chart builders: tidy DataFrame in, chart out; no metric maths and no streamlit."""

from __future__ import annotations

from advisor.charts.core import compare_need_chart, contribution_chart, scatter_chart
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
    "compare_need_chart",
    "contribution_chart",
    "detail_chart",
    "imagenet_x_chart",
    "invariance_chart",
    "probe_curves",
    "pug_chart",
    "robustness_chart",
    "scatter_chart",
    "shape_bias_chart",
    "vtab_chart",
]
