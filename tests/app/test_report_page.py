"""The Report page with AppTest: downloads in every format, probe results included, JSON restore."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from advisor.ui import state

pytestmark = pytest.mark.app

REPORT_PAGE = "advisor/ui/pages/report.py"
ADVISOR_PAGE = "advisor/ui/pages/advisor.py"


def no_errors(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def open_report(app):
    at = app.run()
    at.switch_page(REPORT_PAGE).run()
    no_errors(at)
    return at


def downloads(at) -> dict[str, object]:
    return {b.proto.label: b for b in at.get("download_button")}


def report_json(db, weights: dict[str, float], **limits) -> bytes:
    """A report written by the package (not the page) for a fixed request on the fixture store."""
    from advisor.ranking.engine import Limits, RankRequest
    from advisor.report.build import build_report
    from advisor.report.json_io import to_json
    from advisor.store.store import PropertyStore

    req = RankRequest(weights=weights, limits=Limits(**limits), top_k=state.TOP_K, draws=state.DRAWS, seed=state.SEED)
    # auto_build=False: the fixture store is not built from the real sources, so a default PropertyStore
    # would find it "stale" and rebuild it from them in place, leaving every later test the real store.
    return to_json(build_report(PropertyStore(db, auto_build=False), req, with_charts=False)).encode()


def test_download_buttons_for_every_format(app):
    at = open_report(app)
    labels = list(downloads(at))
    assert [lab.split(" ")[0] for lab in labels] == ["Markdown", "HTML", "JSON", "PDF"]
    assert "zip" in labels[0]
    assert at.text_area(key=state.REPORT_NOTES).value == ""


@pytest.fixture
def media(monkeypatch) -> dict[str, bytes]:
    """Download-button payloads by file name, recorded as AppTest's in-memory media store receives them."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    seen: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        if filename and isinstance(path_or_data, bytes):
            seen[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return seen


def test_report_outputs_hold_the_ranking_notes_and_probe_results(app, seed, media):
    from .test_probe_page import fake_result

    at = open_report(app)
    at.session_state[state.PROBE_RESULT] = fake_result(seed.ACCURATE)
    at.text_area(key=state.REPORT_NOTES).input("<b>ship it</b>").run()
    no_errors(at)
    assert any("probe results on 1 image" in c.value for c in at.caption)
    md, html, js = (media[f"vision-advisor-report.{ext}"] for ext in ("zip", "html", "json"))
    doc = json.loads(js)
    assert doc["notes"] == "<b>ship it</b>"
    assert doc["probe_results"]["models"][0]["model_id"] == seed.ACCURATE
    top = at.session_state  # the page's ranking is the Advisor page's
    assert doc["request"]["weights"] == state.weights_from_state({k: top[k] for k in state.PERSISTED})
    assert b"&lt;b&gt;ship it&lt;/b&gt;" in html and b"<b>ship it</b>" not in html
    preview = at.get("iframe")[0].proto.srcdoc
    assert preview == html.decode()
    names = zipfile.ZipFile(io.BytesIO(md)).namelist()
    assert names[0] == "report.md" and any(n.startswith("report_files/chart_") for n in names)
    text = zipfile.ZipFile(io.BytesIO(md)).read("report.md").decode()
    assert "## Probe results" in text and "](report_files/chart_" in text


def test_uploading_a_json_report_restores_needs_and_limits(app, ui_db, seed):
    at = open_report(app)
    blob = report_json(ui_db, {"calibration": 2.0, "accuracy": 1.0}, paradigms=("supervised",))
    at.file_uploader(key=state.REPORT_UPLOAD).set_value(("saved.json", blob, "application/json")).run()
    no_errors(at)
    assert any("restored from \u2068saved\\.json\u2069" in s.value for s in at.success)  # escaped, isolated
    assert any("scaled" in c.value for c in at.caption)  # weight 2 does not fit a 0-1 slider
    s = at.session_state
    assert s[state.PRESET] == state.CUSTOM
    assert s[state.weight_key("calibration")] == 1.0 and s[state.weight_key("accuracy")] == 0.5
    assert s[state.PARADIGMS] == ["supervised"]
    at.switch_page(ADVISOR_PAGE).run()
    no_errors(at)
    assert at.slider(key=state.weight_key("calibration")).value == 1.0
    table = at.dataframe[0].value
    saved = json.loads(blob)["ranking"]["shortlist"]
    assert table["model"].head(len(saved)).tolist() == [m["model_id"] for m in saved]
    assert table["score"].head(len(saved)).tolist() == pytest.approx([m["score"] for m in saved])


@pytest.mark.parametrize("blob", [b"{not json", b'{"kind": "something else"}',
                                  b'{"kind": "vision-advisor-report", "schema_version": 1, '
                                  b'"request": {"weights": {"no_such_need": 1}}}'])
def test_a_broken_report_is_an_error_message(app, blob):
    at = open_report(app)
    before = at.session_state[state.weight_key("accuracy")]
    at.file_uploader(key=state.REPORT_UPLOAD).set_value(("bad.json", blob, "application/json")).run()
    assert not at.exception
    assert any("\u2068bad\\.json\u2069 was not loaded" in e.value for e in at.error)
    assert at.session_state[state.weight_key("accuracy")] == before


@pytest.mark.parametrize("preset", ["imagenet-like", "edge", "quba"])
def test_state_from_request_round_trips_the_advisor_request(preset):
    """Page state -> request -> page state -> the same request (what a restored report relies on)."""
    s = state.defaults()
    state.apply_preset(s, preset)
    s[state.PARADIGMS] = ["supervised"]
    s[state.EXCLUDE_NC] = True
    s[state.MIN_COVERAGE] = 0.25
    req = state.request_from_state(s)
    values, notes = state.state_from_request(req)
    assert notes == []
    again = {**state.defaults(), **values}
    assert state.request_from_state(again) == req


def test_every_registered_format_has_a_download_button(app, media):
    from advisor.report.formats import FORMATS

    at = open_report(app)
    no_errors(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [f.label for f in FORMATS.values()]
