from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

import advisor
from advisor.ranking.data import RankingData
from advisor.ranking.engine import Limits, RankRequest, rank
from advisor.ranking.records import ranking_to_records
from advisor.ranking.request import request_from_dict, request_to_dict
from advisor.report.build import build_report
from advisor.report.formats import write_report
from advisor.report.html import to_html
from advisor.report.json_io import report_from_json
from advisor.report.markdown import to_markdown
from advisor.report.model import request_from_json, request_from_report
from advisor.report.probes import CHANGES_TITLE, IMAGES_TITLE, ISSUES_TITLE, MODELS_TITLE, SUMMARY_TITLE

PROBE_CHARTS = ["probe_top1_agreement", "probe_prob_kept", "probe_kl", "probe_cosine"]

URL_ATTRS = {"src", "href", "srcset", "action", "poster", "data", "formaction", "background", "xlink:href"}


class _Attrs(HTMLParser):
    """Every URL-bearing attribute of real tags (escaped text is not a tag, so it is not counted)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in URL_ATTRS]


def fetched_urls(html: str) -> tuple[list[str], list[str]]:
    p = _Attrs()
    p.feed(html)
    return p.urls, p.tags
FIXED_TIME = "2026-01-01T00:00:00Z"
EVIL = "<img src=x onerror=alert(1)>.png"


def test_report_contents_from_store(report, tiny_store):
    assert report.tool_version == advisor.__version__
    assert report.data_build == {"fingerprint": "feedc0ffee123456", "built_at": "2026-01-02T03:04:05Z",
                                 "version": "0.1.0"}
    assert [n["name"] for n in report.needs] == ["accuracy", "calibration", "natural_shift"]
    assert [m["rank"] for m in report.shortlist] == [1, 2, 3]
    assert set(report.reasons) == {m["model_id"] for m in report.shortlist}
    assert report.head_to_head["a"] == report.shortlist[0]["model_id"]
    assert report.head_to_head["b"] == report.shortlist[1]["model_id"]
    src = {s["source_id"]: s for s in report.sources}
    assert "src_unused" not in src  # only sources the ranking used
    assert src["src_nc"]["non_commercial"] and src["src_nc"]["licence"] == "CC BY-NC 4.0"
    assert not src["src_cal"]["non_commercial"] and src["src_cal"]["licence"] == "MIT"
    assert [i.name for i in report.images] == [EVIL, "broken.png"]
    assert report.images[0].png is not None, report.images[0].note
    assert report.images[0].png.startswith(b"\x89PNG") and report.images[1].png is None
    assert [t.title for t in report.probe_tables] == [SUMMARY_TITLE, CHANGES_TITLE, MODELS_TITLE, IMAGES_TITLE,
                                                      ISSUES_TITLE]
    assert all(" -> " in row[0] and " at " in row[0] for row in report.probe_tables[1].rows)


def test_excluding_non_commercial_drops_that_source(tiny_store, request_):
    req = RankRequest(weights=dict(request_.weights), limits=Limits(exclude_non_commercial=True), draws=0)
    r = build_report(tiny_store, req, created_at=FIXED_TIME)
    assert all(not s["non_commercial"] for s in r.sources)
    assert "NON-COMMERCIAL" not in to_markdown(r)


def test_markdown_writes_images_beside_it(report, tmp_path):
    out = tmp_path / "out" / "report.md"
    written = write_report(report, "md", out)
    text = out.read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert links, "charts and the thumbnail should be linked images"
    for link in links:
        assert link.startswith("report_files/") and (out.parent / link).is_file()
    assert {p.parent for p in written[1:]} == {out.parent / "report_files"}
    assert "NON-COMMERCIAL" in text and "feedc0ffee123456" in text
    assert "<img" not in text and "<b>" not in text  # user text is never markup
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;.png" in text


def test_markdown_without_folder_omits_charts_with_note(report):
    text = to_markdown(report)
    assert "![" not in text and "image omitted (no output folder)" in text


def test_failing_chart_builder_gives_note(monkeypatch, tiny_store, request_, probe):
    """A ranking chart that cannot be built is omitted with its reason; the probe charts and the report stay."""
    import advisor.charts.tradeoff as tradeoff

    def broken(*args, **kwargs):
        raise ValueError("no room")

    monkeypatch.setattr(tradeoff, "contribution_chart", broken)
    monkeypatch.setattr(tradeoff, "scatter_chart", broken)
    r = build_report(tiny_store, request_, probe_results=probe, created_at=FIXED_TIME)
    ranking_charts = [c for c in r.charts if not c.name.startswith("probe_")]
    assert ranking_charts and all(c.spec is None and "ValueError: no room" in c.note for c in ranking_charts)
    assert all(c.spec is not None for c in r.charts if c.name.startswith("probe_"))
    assert "chart omitted" in to_html(r) and "chart omitted" in to_markdown(r)


def test_html_is_self_contained_and_escaped(report):
    html = to_html(report)
    urls, tags = fetched_urls(html)
    assert [c.name for c in report.charts] == ["contributions", "score_vs_params", "need_vs_need", *PROBE_CHARTS]
    assert len(urls) == 8, "seven charts and one thumbnail, embedded"
    assert tags.count("img") == 8 and "script" not in tags and "link" not in tags
    assert "url(" not in html  # no CSS fetches either
    assert all(u.startswith("data:image/") for u in urls), [u[:40] for u in urls if not u.startswith("data:")]
    assert "<script" not in html.lower() and "http://" not in html and "https://" not in html
    assert "Content-Security-Policy" in html and "default-src &#39;none&#39;; img-src data:" in html
    assert EVIL not in html and "&lt;img src=x onerror=alert(1)&gt;.png" in html
    assert "<b>vision</b>" not in html and "&lt;b&gt;vision&lt;/b&gt;" in html
    assert html.count("data:image/svg+xml;base64,") == 7 and html.count("data:image/png;base64,") == 1


def test_json_round_trip_reproduces_ranking(report, tiny_store, tmp_path):
    out = tmp_path / "r.json"
    write_report(report, "json", out)
    doc = json.loads(out.read_text())
    assert doc["schema_version"] == 1 and doc["kind"] == "vision-advisor-report"
    req = request_from_report(out)
    assert req == report.request
    again = rank(RankingData.from_store(tiny_store), req)
    assert ranking_to_records(again, req.top_k) == [
        {k: v for k, v in m.items() if k not in ("display_name", "arch_type", "paradigm")} for m in report.shortlist]
    assert report_from_json(out.read_text()) == report


def test_request_dict_round_trip_every_field():
    req = RankRequest(weights={"accuracy": 2.0, "efficiency": 0.5},
                      limits=Limits(max_params_m=30.0, max_gmacs=5.0, min_throughput_cpu=10.0, min_throughput_gpu=100.0,
                                    paradigms=("clip",), arch_types=("CNN", "hybrid"), max_img_size=224,
                                    exclude_non_commercial=True, only_model_ids=("timm:a",),
                                    probe_ready_ids=frozenset({"timm:b", "timm:a"})),
                      normalization="zscore", min_coverage=0.5, top_k=7, draws=11, concentration=9.0, seed=3,
                      stable_share=0.7, mode="advisor")
    d = json.loads(json.dumps(request_to_dict(req)))
    assert request_from_dict(d) == req


@pytest.mark.parametrize("doc, message", [
    ("not json", "not a JSON report"),
    ('{"kind": "vision-advisor-report", "schema_version": 99, "request": {}}', "not supported"),
    ('{"schema_version": 1, "request": {}}', "missing kind"),
    ('{"kind": "vision-advisor-report", "schema_version": 1, "request": {"weights": {"accuracy": "x"}}}', "number"),
    ('{"kind": "vision-advisor-report", "schema_version": 1, "request": {"limits": {"max_paramz": 3}}}', "unknown"),
    ('{"kind": "vision-advisor-report", "schema_version": 1, "request": {"top_k": 2.5}}', "whole number"),
])
def test_bad_reports_are_rejected(doc, message):
    from advisor.errors import InvalidRequestError

    with pytest.raises(InvalidRequestError, match=message):
        request_from_json(doc)


def test_report_from_fixture_data_without_store(data, request_):
    r = build_report(data, request_, created_at=FIXED_TIME)
    assert r.data_build == {}
    assert {s["licence"] for s in r.sources} == {"not recorded"}
    assert any(s["non_commercial"] for s in r.sources if s["source_id"] == "src_nc")
    assert "data build not recorded" in to_html(r)


def test_limits_are_printed_as_the_user_set_them(tiny_store, request_):
    """Mutant caught: limits through the 3-decimal number format ('Max parameters (M): 30.000')."""
    from advisor.report.view import limits_lines

    req = RankRequest(weights=dict(request_.weights), limits=Limits(max_params_m=30.0), draws=0)
    r = build_report(tiny_store, req, created_at="2026-01-01T00:00:00Z", with_charts=False)
    lines = limits_lines(r)
    assert any(x.endswith(": 30") and x.startswith("Max parameters") for x in lines), lines
    assert not any("30.000" in x for x in lines)
    from advisor.report.view import as_set

    assert (as_set(2.5), as_set(30.0), as_set(1500.0), as_set(True)) == ("2.5", "30", "1500", "yes")
    assert "Max parameters (M): 30" in to_markdown(r).replace("\\", "")
