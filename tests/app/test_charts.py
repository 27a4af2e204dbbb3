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


def _curve():
    rows = []
    for m in ("timm:a", "timm:b"):
        for fam, grid in (("scale", (1.0, 1.5, 2.0)), ("rotation", (0.0, 15.0, 90.0))):
            rows += [{"model_id": m, "family": fam, "magnitude": g, "top1_agreement": 1.0 - i * 0.25,
                      "n_images": 4} for i, g in enumerate(grid)]  # identical curves: they would overlap
    return pd.DataFrame(rows)


def _panels(spec):
    return spec["concat"]


def test_probe_curves_share_y_name_units_and_keep_equal_lines_apart():
    """Mutants caught: a per-panel y scale (resolve 'independent'), the x title back to 'magnitude', no
    marker per model, no sideways nudge (equal curves drawn on top of each other)."""
    from advisor.charts.probe import FamilyAxis

    fams = {"scale": FamilyAxis("Scale (zoom in)", "zoom factor", 1.0),
            "rotation": FamilyAxis("Rotation", "degrees", 0.0)}
    spec = probe_curves(_curve(), "top1_agreement", models=["timm:b", "timm:a"], families=fams).to_dict()
    assert spec["resolve"]["scale"]["y"] == "shared"
    panels = _panels(spec)
    assert [p["title"] for p in panels] == ["Scale (zoom in)", "Rotation"]
    x_titles = [lay["encoding"]["x"]["title"] for p in panels for lay in p["layer"]]
    assert set(x_titles[:2]) == {"zoom factor"} and set(x_titles[2:]) == {"degrees"}
    points = [lay for p in panels for lay in p["layer"] if lay["mark"]["type"] == "point"]
    assert all(lay["encoding"]["shape"]["field"] == "model_id" for lay in points)
    shapes = points[0]["encoding"]["shape"]["scale"]
    assert shapes["domain"] == ["timm:b", "timm:a"] and len(set(shapes["range"])) == 2
    rows = [r for rs in spec["datasets"].values() for r in rs]
    xs = {(r["model_id"], r["family"], r["magnitude"]): r["x"] for r in rows}
    for fam, g in (("scale", 1.5), ("rotation", 15.0)):
        assert xs[("timm:a", fam, g)] != xs[("timm:b", fam, g)]  # nudged apart
        assert abs(xs[("timm:a", fam, g)] - g) < 0.05 * (2.0 - 1.0 if fam == "scale" else 90.0)  # only slightly
    big = {r["magnitude"] for r in rows if r["point"] == "untransformed image"}
    assert big == {1.0, 0.0}
    assert probe_curves(_curve().iloc[:0], "top1_agreement") is None


def test_model_colour_follows_the_id_not_the_order_or_the_chart():
    """Mutant caught: colours by order of appearance (the old rule), which gave one model different colours
    on two pages that list it in different places."""
    from advisor.charts import MODEL_PALETTE, model_colour_scale, model_colours
    from advisor.charts.palette import colour_slot

    page = ["timm:z", "timm:a", "timm:m"]
    c = model_colours(page)
    assert c == model_colours(list(reversed(page)))  # order does not matter
    assert len(set(c.values())) == 3  # distinct
    alone = {m: model_colours([m])[m] for m in page}
    assert alone == {m: MODEL_PALETTE[colour_slot(m)] for m in page}  # a model's own colour, from its id
    clash = [m for m in (f"timm:m{i}" for i in range(200)) if colour_slot(m) == colour_slot("timm:z")][:2]
    both = model_colours(["timm:z", *clash])
    assert len(set(both.values())) == 3  # a clash is resolved, never drawn in one colour
    assert model_colours(["timm:z", "timm:z", "timm:a"]) == {"timm:z": c["timm:z"], "timm:a": c["timm:a"]}
    scale = model_colour_scale(page).to_dict()
    assert scale == {"domain": page, "range": [c[m] for m in page]}


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
