"""The report's probe section, built from a real `ProbeResult(...).to_json()`: summary tables, worded axes,
one colour per model across every chart."""

from __future__ import annotations

import json
import math
import re

import pytest
from markupsafe import escape

from advisor.charts.labels import PROBE_METRIC_LABELS
from advisor.charts.palette import model_colours
from advisor.errors import InvalidRequestError
from advisor.probes.results import ProbeResult
from advisor.report.build import build_report
from advisor.report.charts import share_model_colours
from advisor.report.html import to_html
from advisor.report.markdown import to_markdown
from advisor.report.model import ReportChart
from advisor.report.probes import COLUMN_HELP, SUMMARY_TITLE

FIXED_TIME = "2026-01-01T00:00:00Z"
RAW_IDS = {"kl", "prob_kept", "top1_agreement", "cosine", "value", "model_id", "magnitude", "mean_kl",
           "mean_prob_kept", "mean_cosine", "n_images", "image_sha256"}


def _walk(node, key):
    """Every dict value stored under `key` anywhere in a spec."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from _walk(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)


def test_summary_table_is_the_probe_results_summary(report, probe):
    expected = ProbeResult.from_json(probe).summary
    t = next(t for t in report.probe_tables if t.title == SUMMARY_TITLE)
    assert t.columns == ("model", "transform", "invariance", "prob. kept", "KL", "cosine", "images", "variants")
    assert len(t.rows) == len(expected) == 6  # 3 models x 2 transforms
    for row, (_, e) in zip(t.rows, expected.iterrows(), strict=True):
        assert row[:2] == (e.model_id, e.family)
        for got, want in zip(row[2:6], (e.invariance, e.mean_prob_kept, e.mean_kl, e.mean_cosine), strict=True):
            assert got is None if math.isnan(want) else got == pytest.approx(want)
        assert row[6:] == (2, 4)
    by_key = {r[:2]: r for r in t.rows}
    assert by_key[("timm:a", "scale")][2] == 1.0 and by_key[("timm:b", "scale")][2] == 0.5
    assert by_key[("timm:probe_only", "scale")][5] is None  # no embeddings measured: missing, never 0


def test_html_probe_section_is_readable_not_a_dump(report, probe):
    html = to_html(report)
    section = html[html.index("<h2>Probe results</h2>"):html.index("<h2>Data sources</h2>")]
    assert not re.search(r"[0-9a-f]{64}", html), "no full sha256 anywhere in the page"
    assert section.count("aaaaaaaaaaaa") == 1  # each image listed once, with a short hash
    for col, text in COLUMN_HELP.items():
        if col in ("invariance", "prob. kept", "KL", "cosine", "weights"):
            assert f'<th title="{escape(text)}">{escape(col)}</th>' in section  # tooltip on screen
            assert f"<dt>{escape(col)}:</dt><dd>{escape(text)}</dd>" in section  # and printed
    assert "random" in section and "untrained weights" in section
    assert "x.gif: not an image" in section
    probe_rows = len(json.loads(probe)["rows"])
    assert section.count("<tr>") < probe_rows * 0.6  # 36 raw rows are not dumped (summary + changes + lists)


def test_markdown_probe_section_has_summary_and_help(report):
    text = to_markdown(report)
    section = text[text.index("## Probe results"):text.index("## Data sources")]
    assert "| model | transform | invariance | prob. kept | KL | cosine | images | variants |" in section
    assert "- **KL**: Kullback-Leibler divergence" in section
    assert "timm:probe\\_only | scale | 0.500" in section
    assert not re.search(r"[0-9a-f]{64}", text)


def test_probe_charts_use_probe_result_curve(report, probe):
    result = ProbeResult.from_json(probe)
    for metric in PROBE_METRIC_LABELS:
        chart = next(c for c in report.charts if c.name == f"probe_{metric}")
        rows = [r for rs in chart.spec["datasets"].values() for r in rs]  # one data set per transform panel
        want = result.curve(metric).dropna(subset=[metric])
        got = {(r["model_id"], r["family"], r["magnitude"]): r["value"] for r in rows}
        assert got == {(m, f, g): pytest.approx(v) for m, f, g, v in
                       want[["model_id", "family", "magnitude", metric]].itertuples(index=False)}
    cos = next(c for c in report.charts if c.name == "probe_cosine")
    assert "timm:probe_only" not in {r["model_id"] for rows in cos.spec["datasets"].values() for r in rows}


def test_chart_axes_are_titled_in_words(report):
    for c in report.charts:
        assert c.spec is not None, c.note
        for enc in _walk(c.spec, "encoding"):
            for ch in ("x", "y"):
                if ch in enc and enc[ch].get("field") is not None:
                    title = enc[ch].get("title", enc[ch]["field"])  # Vega-Lite falls back to the field id
                    assert title is None or title not in RAW_IDS, (c.name, ch, title)
    for metric, label in PROBE_METRIC_LABELS.items():
        spec = next(c.spec for c in report.charts if c.name == f"probe_{metric}")
        assert {e["y"]["title"] for e in _walk(spec, "encoding") if "y" in e} == {label}
    assert PROBE_METRIC_LABELS["top1_agreement"] == "Top-1 agreement"
    assert PROBE_METRIC_LABELS["prob_kept"] == "Probability kept"


def test_each_model_has_one_colour_across_the_report(report):
    scales = [enc["color"]["scale"] for c in report.charts for enc in _walk(c.spec, "encoding")
              if enc.get("color", {}).get("field") == "model_id"]
    assert len(scales) == 4 * 2 * 2  # four probe charts, two transform panels each, a line and points each
    mappings = [dict(zip(s["domain"], s["range"], strict=True)) for s in scales]
    assert all(m == mappings[0] for m in mappings)
    shortlist = [m["model_id"] for m in report.shortlist]
    domain = scales[0]["domain"]
    assert domain[:2] == [m for m in shortlist if m in ("timm:a", "timm:b")]  # rank order first
    assert set(domain) == {"timm:a", "timm:b", "timm:probe_only"}
    assert len(set(scales[0]["range"])) == len(domain)  # distinct colours


def test_a_model_has_the_same_colour_in_the_app_and_the_report(report, probe):
    """Mutant caught: a second palette or order rule in the report (the report used to list its own palette,
    in another order, so one model had two colours)."""
    from advisor.charts.probe import probe_curves

    result = ProbeResult.from_json(probe)
    models = [m.model_id for m in result.models]
    app = probe_curves(result.curve("top1_agreement"), "top1_agreement", models=models).to_dict()  # Probe page
    app_scale = next(e["color"]["scale"] for e in _walk(app, "encoding") if "color" in e)
    report_scale = next(e["color"]["scale"] for c in report.charts for e in _walk(c.spec, "encoding")
                        if e.get("color", {}).get("field") == "model_id")
    app_colours = dict(zip(app_scale["domain"], app_scale["range"], strict=True))
    report_colours = dict(zip(report_scale["domain"], report_scale["range"], strict=True))
    assert app_colours == report_colours == model_colours(models)


def test_share_model_colours_unifies_charts_that_disagree():
    def spec(models):
        return {"mark": "line", "encoding": {"color": {"field": "model_id", "type": "nominal"}},
                "datasets": {"d": [{"model_id": m} for m in models]}}

    charts = (ReportChart("one", "one", spec(["x", "y"])), ReportChart("two", "two", spec(["z", "x"])),
              ReportChart("off", "off", None, "omitted"))
    out = share_model_colours(charts, order=["z"])
    scales = [s["encoding"]["color"]["scale"] for s in (out[0].spec, out[1].spec)]
    assert scales[0] == scales[1] and scales[0]["domain"] == ["z", "x", "y"]
    assert scales[0]["range"] == [model_colours(["x", "y", "z"])[m] for m in "zxy"]  # the app's colours
    assert out[2] == charts[2] and "scale" not in charts[0].spec["encoding"]["color"]  # inputs untouched


@pytest.mark.parametrize("raw", [
    {"variants": [{"model_id": "timm:a", "family": "scale", "magnitude": 2.0, "top1_agreement": 0.5}]},
    {"version": 99, "rows": []},
    [1, 2, 3],
])
def test_probe_json_that_probe_never_writes_is_refused(tiny_store, request_, raw):
    with pytest.raises(InvalidRequestError, match="advisor probe --json"):
        build_report(tiny_store, request_, probe_results=raw, created_at=FIXED_TIME)


def test_probe_result_object_and_its_json_give_the_same_report(tiny_store, request_, probe):
    a = build_report(tiny_store, request_, probe_results=probe, created_at=FIXED_TIME, with_charts=False)
    b = build_report(tiny_store, request_, probe_results=ProbeResult.from_json(probe), created_at=FIXED_TIME,
                     with_charts=False)
    assert a.probe_tables == b.probe_tables and a.probe_results == b.probe_results
