"""Every chart, palette and metric label of the app and the report (Altair; no metric maths, no streamlit).

Modules: palette (one colour and marker per model), labels (metric words), core (ranking charts), detail (the
study's detail views), probe (live-probe curves), tradeoff (which charts a report draws).
"""

from __future__ import annotations

from advisor.charts.core import compare_need_chart, contribution_chart, scatter_chart, short_label
from advisor.charts.detail import (
    DETAIL_VIEWS,
    detail_chart,
    imagenet_x_chart,
    invariance_chart,
    pug_chart,
    robustness_chart,
    shape_bias_chart,
    vtab_chart,
)
from advisor.charts.palette import MODEL_PALETTE, model_colour_scale, model_colours
from advisor.charts.probe import family_axes, probe_curves

__all__ = [
    "DETAIL_VIEWS",
    "MODEL_PALETTE",
    "compare_need_chart",
    "contribution_chart",
    "detail_chart",
    "family_axes",
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
