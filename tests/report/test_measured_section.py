"""Reports show the models measured on the user's data side by side, with intervals, as their own table (issue 18)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from advisor.ranking.data import RankingData
from advisor.ranking.engine import RankRequest
from advisor.report.build import build_report
from advisor.report.html import to_html
from advisor.report.json_io import report_from_json, to_json
from advisor.report.markdown import markdown_bundle
from advisor.report.measured import TITLE, measured_tables

# Synthetic measured-here rows (as an evaluation writes them): k-NN top-1 on 120 own images, with 95 % intervals.
MEASURED = pd.DataFrame({
    "model_id": ["timm:c", "timm:a", "timm:b"], "property_id": ["measured_knn_top1"] * 3, "item": [""] * 3,
    "value": [91.7, 97.5, 95.0], "ci_low": [86.7, 94.2, 90.8], "ci_high": [95.8, 99.2, 98.3],
    "n_images": [120, 120, 120]})


@pytest.fixture
def measured_report(tiny_store):
    data = RankingData.from_store(tiny_store).with_extra_scores(MEASURED)
    return build_report(tiny_store, RankRequest({"accuracy": 1.0, "transfer": 1.0}, draws=0), data=data,
                        with_charts=False, created_at="2026-01-01T00:00:00Z")


def test_the_report_lists_the_measured_models_best_first_with_intervals(measured_report):
    (t,) = measured_report.measured_tables
    assert t.title == TITLE and t.columns[:5] == ("figure", "model", "value", "95 % low", "95 % high")
    assert [r[1] for r in t.rows] == ["timm:a", "timm:b", "timm:c"]  # best first, side by side
    a = t.rows[0]
    assert (a[2], a[3], a[4], a[5]) == (97.5, 94.2, 99.2, 120) and "k-NN" in a[0]


def test_every_format_shows_the_table(measured_report):
    text, _ = markdown_bundle(measured_report, None)
    assert f"## {TITLE}" in text and "| timm:a | 97.500 | 94.200 | 99.200 | 120 |" in text
    html = to_html(measured_report)
    assert f"<h2>{TITLE}</h2>" in html and "94.2" in html and "timm:c" in html
    doc = json.loads(to_json(measured_report))
    assert doc["measured_tables"][0]["rows"][0][1:5] == ["timm:a", 97.5, 94.2, 99.2]
    assert report_from_json(to_json(measured_report)).measured_tables == measured_report.measured_tables


def test_the_pdf_shows_the_table(measured_report):
    pypdf = pytest.importorskip("pypdf")
    from advisor.report.pdf import PdfUnavailableError, render_pdf

    try:
        blob = render_pdf(measured_report)
    except PdfUnavailableError as exc:
        pytest.skip(str(exc))
    text = "".join("".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(io.BytesIO(blob)).pages)
    assert "".join(TITLE.split()) in text and "94.2" in text


def test_no_measured_evidence_no_table(tiny_store):
    """Without measured-here rows the section is absent (and speed rows alone do not make one)."""
    r = build_report(tiny_store, RankRequest({"accuracy": 1.0}, draws=0), with_charts=False)
    assert r.measured_tables == () and TITLE not in markdown_bundle(r, None)[0]
    speed = pd.DataFrame({"model_id": ["timm:a"], "property_id": ["measured_latency_ms"], "item": ["batch 1"],
                          "value": [3.0], "source_id": ["measured_here"]})
    assert measured_tables(speed) == ()
