"""Chart builders: tidy frames in, Vega-Lite specs out (no streamlit needed)."""

from __future__ import annotations

import pandas as pd
import pytest

from advisor.charts import DETAIL_VIEWS, contribution_chart, probe_curves, scatter_chart
from advisor.charts.detail import read_kind
from advisor.ranking.data import RankingData
from advisor.ranking.engine import RankRequest, rank
from advisor.ranking.pareto import pareto_front


def _data(spec: dict) -> list[dict]:
    return next(iter(spec["datasets"].values()))


@pytest.fixture
def data() -> RankingData:
    rows = [(m, "imagenet_top1", "", v, "s") for m, v in (("timm:a", 80.0), ("timm:b", 70.0), ("timm:c", 75.0))]
    rows += [(m, "params_m", "", v, "s") for m, v in (("timm:a", 50.0), ("timm:b", 5.0), ("timm:c", 60.0))]
    rows += [("timm:a", "ece_15bin", "in", 0.05, "s"), ("timm:b", "ece_15bin", "in", 0.01, "s")]
    scores = pd.DataFrame(rows, columns=["model_id", "property_id", "item", "value", "source_id"])
    return RankingData.from_frames(pd.DataFrame({"model_id": ["timm:a", "timm:b", "timm:c"]}), scores)


def test_contribution_chart_in_rank_order_with_missing_data_marked(data):
    r = rank(data, RankRequest(weights={"accuracy": 1.0, "calibration": 1.0}, draws=0))
    spec = contribution_chart(r, top=2).to_dict()
    rows = _data(spec)
    assert {row["model_id"] for row in rows} == set(r.table["model_id"].head(2))
    assert spec["encoding"]["y"]["sort"] == r.table["model_id"].head(2).tolist()
    full = contribution_chart(r, top=3).to_dict()
    missing = [row for row in _data(full) if row["model_id"] == "timm:c" and row["need"] == "calibration"]
    assert "no data" in missing[0]["data"]


def test_scatter_marks_front_and_drops_non_positive_on_log(data):
    df = pareto_front(data, ("params_m", ""), ("imagenet_top1", ""))
    assert set(df.loc[df["on_front"], "model_id"]) == {"timm:a", "timm:b"}
    spec = scatter_chart(df, "Parameters (M)", "ImageNet top-1 (%)", log_x=True).to_dict()
    assert spec["layer"][1]["encoding"]["x"]["scale"]["type"] == "log"
    assert spec["layer"][1]["encoding"]["x"]["title"] == "Parameters (M)"
    bad = df.assign(value_x=[0.0, *df["value_x"].iloc[1:]])
    spec = scatter_chart(bad, "x", "y", log_x=True).to_dict()
    assert all(v["value_x"] > 0 for v in spec["datasets"][spec["layer"][1]["data"]["name"]])


@pytest.mark.parametrize("view", DETAIL_VIEWS, ids=lambda v: v.key)
def test_detail_views_empty_and_figure_read(view):
    assert view.build(pd.DataFrame(columns=["model_id", "property_id", "item", "value", "precision"])) is None
    items = {"invariance": ["1", "2"], "shape_bias": [""]}.get(view.key, ["x", "mean_y"])
    rows = [("timm:a", view.property_ids[0], it, 0.5 + i, "figure-pixel ±0.3", "src") for i, it in enumerate(items)]
    df = pd.DataFrame(rows, columns=["model_id", "property_id", "item", "value", "precision", "source_id"])
    spec = view.build(df).to_dict()
    rows = [r for d in spec.get("datasets", {}).values() for r in d]
    assert rows and all(r.get("precision") == "figure-pixel ±0.3" for r in rows if "precision" in r)
    # the marks' read-kind field (not the legend's domain, which always lists every kind) says figure-read
    assert any(r.get("read") == "figure-read" or "figure-read" in r.values() for r in rows), rows[:2]


def test_read_kind():
    assert read_kind("figure-pixel ±0.02") == "figure-read"
    assert read_kind("figure-text exact") == "exact"
    assert read_kind("exact") == "exact"


def test_probe_curves_facets_metric_and_family():
    df = pd.DataFrame({"model_id": ["m"] * 4, "family": ["scale", "scale", "blur", "blur"],
                       "magnitude": [1.0, 2.0, 0.0, 1.0], "metric": ["top1_agreement"] * 4,
                       "value": [1.0, 0.8, 1.0, 0.9]})
    spec = probe_curves(df).to_dict()
    assert spec["facet"]["column"]["field"] == "family"
    assert spec["facet"]["row"]["field"] == "metric"
    assert probe_curves(df.iloc[:0]) is None


def test_model_colours_follow_the_given_order_not_each_charts_own_domain():
    from advisor.charts import MODEL_PALETTE, model_colour_scale, model_colours

    page = ["timm:z", "timm:a", "timm:m"]
    c = model_colours(page)
    assert list(c.values()) == list(MODEL_PALETTE[:3])
    assert c["timm:z"] == MODEL_PALETTE[0]  # first given, first colour (not alphabetical)
    assert model_colours(["timm:z", "timm:z", "timm:a"]) == {"timm:z": MODEL_PALETTE[0], "timm:a": MODEL_PALETTE[1]}
    scale = model_colour_scale(page).to_dict()
    assert scale == {"domain": page, "range": list(MODEL_PALETTE[:3])}


def test_short_label_keeps_both_ends():
    from advisor.charts import short_label

    assert short_label("short") == "short"
    long = "timm:convnext_base.fb_in22k_ft_in1k_384"
    s = short_label(long, 20)
    assert len(s) == 20 and s.startswith("timm:conv") and s.endswith("in1k_384") and "…" in s


def test_detail_charts_share_the_pages_colours_and_name_their_marks():
    rows = [("timm:b", "shift_top1", "imagenet-sketch", 30.0, "exact", "s"),
            ("timm:b", "shape_bias", "", 0.4, "figure-pixel ±0.02", "s")]
    df = pd.DataFrame(rows, columns=["model_id", "property_id", "item", "value", "precision", "source_id"])
    page = ["timm:a", "timm:b"]  # timm:a has no data here, yet timm:b keeps its page colour
    for view in (v for v in DETAIL_VIEWS if v.key in ("robustness", "shape_bias")):
        spec = view.build(df, models=page).to_dict()
        enc = spec["encoding"]
        assert enc["color"]["scale"]["domain"] == page
        assert enc["color"]["legend"] is not None  # the model legend is there
        assert "published plot" in enc["opacity"]["legend"]["labelExpr"]


def test_scatter_axis_of_non_negative_values_stays_at_or_above_zero(data):
    df = pareto_front(data, ("params_m", ""), ("imagenet_top1", ""))
    df = df.assign(value_y=[0.5, 60.0, 80.0][: len(df)])
    spec = scatter_chart(df, "x", "y").to_dict()
    assert spec["layer"][1]["encoding"]["y"]["scale"]["domain"][0] == 0.0


def test_compare_need_chart_is_horizontal_with_unlimited_labels():
    from advisor.charts import compare_need_chart

    df = pd.DataFrame({"model_id": ["timm:a", "timm:b"], "need": ["synthetic", "synthetic"],
                       "need_score": [0.2, float("nan")]})
    spec = compare_need_chart(df, models=["timm:b", "timm:a"]).to_dict()
    assert spec["encoding"]["y"]["field"] == "need_label" and spec["encoding"]["y"]["axis"]["labelLimit"] == 0
    assert [r["model_id"] for r in _data(spec)] == ["timm:a"]  # missing stays missing, never a zero bar
    assert spec["encoding"]["color"]["scale"]["domain"] == ["timm:b", "timm:a"]
