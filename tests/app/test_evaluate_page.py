"""The Evaluate page with AppTest: real photos and the pip EfficientNet-Lite0 weights, end to end into the
Advisor ranking; hostile zips; offline weights offer; the cancel hook of `advisor.evaluate`."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from advisor.errors import InvalidRequestError
from advisor.evaluate.intake import data_root, extract_zip, server_folder
from advisor.ui import state

pytestmark = pytest.mark.app

EVAL_PAGE = "advisor/ui/pages/evaluate.py"
ADVISOR_PAGE = "advisor/ui/pages/advisor.py"
LITE0 = "timm:tf_efficientnet_lite0.in1k"
ROOT = Path(__file__).resolve().parents[2]




def no_errors(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("VISION_ADVISOR_CACHE", str(tmp_path / "advisor"))


@pytest.fixture
def lite_db(tmp_path_factory, seed):
    """The fixture store plus Lite0 (synthetic test values, like every row of that store)."""
    seed.MODELS[LITE0] = ("supervised", "CNN", 4.7, 0.4, "apache-2.0", 75.0, 0.030)
    try:
        return seed.make_store(tmp_path_factory.mktemp("ui_lite") / "ui.duckdb")
    finally:
        del seed.MODELS[LITE0]


@pytest.fixture
def lite_app(lite_db, monkeypatch, isolated):
    from streamlit.testing.v1 import AppTest

    from advisor.ui.cache import DB_ENV, clear_caches

    monkeypatch.setenv(DB_ENV, str(lite_db))
    clear_caches()
    yield AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    clear_caches()


# --- zip and folder intake ------------------------------------------------------------------------------
def test_zip_with_traversal_or_absolute_names_is_refused_and_nothing_written(tmp_path):
    for name in ("../evil.jpg", "cls/../../evil.jpg", "/etc/evil.jpg", "C:/evil.jpg", "a\\..\\..\\evil.jpg"):
        dest = tmp_path / "d"
        with pytest.raises(InvalidRequestError, match="outside itself"):
            extract_zip(zip_bytes({"cls/ok.jpg": b"x", name: b"y"}), dest)
        assert not dest.exists()
    assert not (tmp_path.parent / "evil.jpg").exists()


def test_zip_limits_on_count_declared_and_actual_bytes(tmp_path):
    with pytest.raises(InvalidRequestError, match="holds 4 files; at most 3"):
        extract_zip(zip_bytes({f"c/{i}.jpg": b"x" for i in range(4)}), tmp_path / "a", max_files=3)
    with pytest.raises(InvalidRequestError, match="unpacks to"):
        extract_zip(zip_bytes({"c/big.jpg": b"0" * 5000}), tmp_path / "b", max_bytes=4000)
    assert not (tmp_path / "b").exists()
    with pytest.raises(InvalidRequestError, match="not a readable zip"):
        extract_zip(b"PK not a zip", tmp_path / "c")


def test_zip_layouts_resolve_to_class_folders_or_the_labels_csv(tmp_path):
    got = extract_zip(zip_bytes({"photos/cat/a.jpg": b"x", "photos/dog/b.jpg": b"y", "__MACOSX/._a.jpg": b""}),
                      tmp_path / "one")
    assert got == tmp_path / "one" / "photos" and sorted(p.name for p in got.iterdir()) == ["cat", "dog"]
    got = extract_zip(zip_bytes({"imgs/a.jpg": b"x", "labels.csv": b"path,label\nimgs/a.jpg,cat\n"}),
                      tmp_path / "two")
    assert got == tmp_path / "two" / "labels.csv"
    assert data_root(tmp_path / "one") == tmp_path / "one" / "photos"


def test_server_folder_must_be_a_readable_folder(tmp_path):
    with pytest.raises(InvalidRequestError, match="no such folder"):
        server_folder(str(tmp_path / "nope"), tmp_path)
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(InvalidRequestError, match="not a folder"):
        server_folder(str(tmp_path / "f.txt"), tmp_path)
    with pytest.raises(InvalidRequestError, match="type the path"):
        server_folder("  ", tmp_path)
    (tmp_path / "cat").mkdir()
    assert server_folder(str(tmp_path), tmp_path) == tmp_path.resolve()


# --- the page ------------------------------------------------------------------------------------------
def open_evaluate(at):
    at.run()
    at.switch_page(EVAL_PAGE).run()
    no_errors(at)
    return at


def test_hostile_zip_upload_gives_a_message_not_a_traceback(app, isolated, monkeypatch):
    at = open_evaluate(app)
    hostile = zip_bytes({"cat/../../../outside.jpg": b"x", "cat/a.jpg": b"y"})
    at.file_uploader(key=state.EVAL_UPLOAD).set_value([("photos.zip", hostile, "application/zip")]).run()
    assert not at.exception
    assert any("outside itself" in e.value and "refused" in e.value for e in at.error)
    assert at.button(key=state.EVAL_RUN).disabled
    many = zip_bytes({f"cat/{i}.jpg": b"x" for i in range(5)})
    import advisor.evaluate.intake as intake

    monkeypatch.setattr(intake, "MAX_ZIP_FILES", 3)
    at.file_uploader(key=state.EVAL_UPLOAD).set_value([("many.zip", many, "application/zip")]).run()
    assert any("holds 5 files" in e.value and "at most 3 are accepted" in e.value for e in at.error)


def test_server_folder_errors_are_messages(app, isolated, tmp_path, monkeypatch):
    monkeypatch.setenv("VISION_ADVISOR_SERVER_FOLDERS", str(tmp_path))
    at = open_evaluate(app)
    at.radio(key=state.EVAL_SOURCE).set_value("folder").run()
    at.text_input(key=state.EVAL_FOLDER).input(str(tmp_path / "missing")).run()
    assert not at.exception
    assert any("no such folder" in e.value for e in at.error)
    (tmp_path / "empty").mkdir()
    at.text_input(key=state.EVAL_FOLDER).input(str(tmp_path / "empty")).run()
    assert any("no images found" in e.value for e in at.error)


def test_offline_weights_offer_says_why_fast(app, isolated, seed):
    """A top-ranked study model without weights here: the download offer says offline, within seconds."""
    import time

    at = open_evaluate(app)
    offer = [e for e in at.expander if "Get weights" in e.label]
    assert offer, [e.label for e in at.expander]
    box = at.selectbox(key=state.EVAL_GET)
    assert set(box.options) <= set(seed.MODELS)
    study = [m for m in box.options if m in seed.STUDY and m.startswith("timm:")]
    assert study, box.options
    t0 = time.monotonic()
    box.set_value(study[0]).run()
    assert time.monotonic() - t0 < 20  # one app rerun included; the hub is never asked
    assert any("HF\\_HUB\\_OFFLINE is set" in w.value for w in at.warning), [w.value for w in at.warning]
    assert not [b for b in at.button if b.key == state.EVAL_DOWNLOAD]  # no download offered offline


@pytest.mark.slow
def test_evaluate_page_end_to_end_on_real_photos_feeds_the_ranking(lite_app, tmp_path, imagenet_samples):
    from advisor.models.weights import probe_readiness

    src = imagenet_samples
    ok, msg = probe_readiness(LITE0)
    if not ok:
        pytest.skip(msg)
    with (src / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))[::100][:8]  # 8 photos of 8 classes
    entries = {f"{r['wnid']}/{r['file']}": (src / "images" / r["file"]).read_bytes() for r in rows}
    entries["n01440764/broken.jpg"] = b"\xff\xd8\xff not a jpeg"
    at = lite_app
    at.query_params.update({"preset": "custom", "w_accuracy": "1"})
    open_evaluate(at)
    at.file_uploader(key=state.EVAL_UPLOAD).set_value([("photos.zip", zip_bytes(entries), "application/zip")]).run()
    no_errors(at)
    assert any("9 image(s) in 8 class(es): ImageNet classes" in c.value for c in at.caption)
    at.multiselect(key=state.EVAL_MODELS).set_value([LITE0]).run()
    at.multiselect(key=state.EVAL_FAMILIES).set_value(["rotation"]).run()
    at.button(key=state.EVAL_RUN).click().run()
    no_errors(at)
    result = at.session_state[state.EVAL_RESULT]
    m = result.model(LITE0)
    assert m.task == "imagenet" and m.n_images == 8 and len(result.images) == 8
    assert any("broken" in e for e in result.errors)
    assert any("broken\\.jpg" in md.value for md in at.markdown)  # the bad file is listed, escaped
    assert any(h.value.startswith("Results on 8 images") for h in at.subheader)
    summary = at.dataframe[0].value.set_index("model")
    top1 = m.metrics["top1"]
    assert summary.loc[LITE0, "top-1 %"] == f"{top1.value * 100:.1f} [{top1.ci_low * 100:.1f}–{top1.ci_high * 100:.1f}]"
    assert summary.loc[LITE0, "images"] == 8 and "correct" not in summary  # in the details view, not the summary
    full = next(d.value for d in at.dataframe if "correct" in d.value.columns).set_index("model")
    assert full.loc[LITE0, "correct"] == f"{m.correct:,}"
    assert summary.loc[LITE0, "published ImageNet top-1 %"] == "75.0"
    assert at.get("vega_lite_chart")  # the reliability diagram
    inv = at.dataframe[-1].value
    assert set(inv["family"]) == {"rotation"} and (inv["images"] == 8).all()
    assert [b.proto.label for b in at.get("download_button")] == ["Download the result (JSON)"]
    from advisor.measured import measured_from_text  # what `advisor rank --measured` reads

    assert measured_from_text(result.to_json()).equals(result.measured_scores())
    assert any("measured here" in s.value for s in at.success)
    at.switch_page(ADVISOR_PAGE).run()
    no_errors(at)
    table = at.dataframe[0].value.set_index("model")
    label = table.loc[LITE0, "measured here"]
    assert label.startswith("Top-1 (measured here on 8 images, 95% CI ")
    assert "ECE (measured here on 8 images" in label
    assert any("your evaluation on 8 images" in i.value and f"{LITE0} ranks " in i.value for i in at.info)


def test_cancel_hook_stops_the_evaluation(tmp_path, isolated):
    """A progress callback that raises EvaluationCancelled stops `evaluate` before any model runs."""
    from PIL import Image

    from advisor.evaluate.run import EvaluationCancelled, evaluate

    for cls in ("a", "b"):
        (tmp_path / "d" / cls).mkdir(parents=True)
        Image.new("RGB", (32, 32), (200, 0, 0) if cls == "a" else (0, 0, 200)).save(tmp_path / "d" / cls / "x.png")
    seen = []

    def stop(f: float, msg: str) -> None:
        seen.append((f, msg))
        raise EvaluationCancelled("stopped by the user")

    with pytest.raises(EvaluationCancelled):
        evaluate(tmp_path / "d", ["timm:test_efficientnet.r160_in1k"], allow_random=True, progress=stop,
                 cache_root=tmp_path / "cache")
    assert seen == [(0.0, "0/2 (model, image) pairs")]
    assert not (tmp_path / "cache").exists()  # nothing was computed


def test_a_typed_model_id_is_checked_against_the_store(app, isolated, seed):
    """Unknown ids get 'did you mean'; a store model without weights here is offered for download (which
    says why it cannot be fetched offline); the page keeps working."""
    at = open_evaluate(app)
    at.text_input(key="eval_model_id").input("timm:convnext_bse.fb_in22k_ft_in1k").run()
    no_errors(at)
    assert any("Unknown model" in w.value and "Did you mean" in w.value and "convnext\\_base" in w.value
               for w in at.warning), [w.value for w in at.warning]
    study = next(m for m in seed.STUDY if m.startswith("timm:"))
    at.text_input(key="eval_model_id").input(study).run()
    no_errors(at)
    assert any(e.label.startswith("Get weights") for e in at.expander)
    assert any("HF\\_HUB\\_OFFLINE is set" in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.text_input(key="eval_model_id").value == ""  # cleared for the next id


def test_a_typed_model_that_can_run_joins_the_selection(app, isolated, seed, monkeypatch):
    from .test_probe_page import fake_weights

    fake_weights(monkeypatch, seed)
    at = open_evaluate(app)
    at.text_input(key="eval_model_id").input(seed.CALIBRATED).run()
    no_errors(at)
    assert seed.CALIBRATED in at.multiselect(key=state.EVAL_MODELS).value


def test_model_card_offers_the_same_weights_download(app, isolated, seed):
    study = next(m for m in seed.STUDY if m.startswith("timm:"))
    app.query_params.update({state.CARD: study})  # the model card's model, as a shared link gives it
    at = app.run()
    at.switch_page("advisor/ui/pages/model_card.py").run()
    no_errors(at)
    assert any(e.label.startswith("Download the weights") for e in at.expander), [e.label for e in at.expander]
    assert any("HF\\_HUB\\_OFFLINE is set" in w.value for w in at.warning)  # the plan's own message


def own_label_result():
    """An evaluation on an own label set (transfer) next to one on ImageNet labels: test values."""
    from advisor.evaluate.result import EvaluationResult, ModelEvaluation
    from advisor.evaluate.stats import Figure

    transfer = ModelEvaluation("timm:own_net.a1_in1k", "file:x", "transfer", 20, None,
                               {"knn_top1": Figure(0.8, 0.7, 0.9, 20),
                                "linear_probe_top1": Figure(0.85, 0.75, 0.95, 20), "logme": Figure(1.2, 1.1, 1.3, 20)})
    imagenet = ModelEvaluation("timm:in_net.a1_in1k", "file:y", "imagenet", 20, 81.5,
                               {"top1": Figure(0.7, 0.6, 0.8, 20), "ece": Figure(0.05, 0.03, 0.08, 20)}, correct=14)
    return EvaluationResult("/data/x", "own", ("a", "b"), ({"name": "a.jpg", "sha256": "0" * 64, "label": "a"},),
                            (transfer, imagenet))


def test_evaluate_tables_show_logme_published_top1_and_never_none(app, isolated):
    """Mutant caught: the old `correct: None` for an own label set (and NaN figures shown as 'None')."""
    from .test_pages import none_shown

    at = open_evaluate(app)
    at.session_state[state.EVAL_RESULT] = own_label_result()
    at.run()
    no_errors(at)
    assert none_shown(at) == []
    main = at.dataframe[0].value.set_index("model")
    assert {"LogME", "k-NN top-1 %", "published ImageNet top-1 %"} <= set(main.columns)
    assert main.loc["timm:own_net.a1_in1k", "LogME"] == "1.200 [1.100–1.300]"
    assert main.loc["timm:own_net.a1_in1k", "published ImageNet top-1 %"] == "—"
    full = at.dataframe[1].value.set_index("model")
    assert full.loc["timm:own_net.a1_in1k", "correct"] == "n/a (own labels)"
    assert full.loc["timm:in_net.a1_in1k", "correct"] == "14"
    help_text = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "LogME:" in help_text and "NLL:" not in help_text  # help only for the figures shown


def _tinted_photos(classes=("reds", "blues"), per_class: int = 4) -> dict[str, bytes]:
    """Own-label class folders of small noise photos tinted per class (deterministic), as zip entries."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    out = {}
    for c, name in enumerate(classes):
        for i in range(per_class):
            px = rng.integers(0, 120, (96, 128, 3), dtype=np.uint8)
            px[..., c] += 120
            buf = io.BytesIO()
            Image.fromarray(px).save(buf, format="PNG")
            out[f"{name}/{name}{i}.png"] = buf.getvalue()
    return out


def _click_stop_now() -> None:
    """What the browser sends when Stop is clicked while the script runs: a rerun request carrying the
    current widget values and Stop's click (no other click repeated). Streamlit honours it at the page's
    next element update, which stops the running script there."""
    from streamlit.proto.WidgetStates_pb2 import WidgetStates
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    states = WidgetStates()
    for w in ctx.session_state.get_widget_states():
        if w.WhichOneof("value") != "trigger_value":
            states.widgets.append(w)
    stop = states.widgets.add()
    stop.id = ctx.session_state._state._key_id_mapper.get_id_from_key(state.EVAL_CANCEL)
    stop.trigger_value = True
    assert stop.id, "the Stop button is shown while the evaluation runs"
    assert ctx.script_requests.request_rerun(RerunData(widget_states=states, page_script_hash=ctx.page_script_hash))


def test_stop_mid_run_says_stopped_shows_no_partial_result_and_a_second_run_works(lite_app, monkeypatch):
    """Stop clicked after the first model outputs are computed (AppTest cannot click during a run, so the
    click's rerun request is sent from inside the run, as the browser's would arrive).
    Mutants caught (each checked): the page's progress update swallowing Streamlit's stop (the cancel
    ignored: the run goes on to the figures and shows its result); the 'stopped' message branch removed."""
    import advisor.evaluate.outputs as outputs
    import advisor.evaluate.run as run_mod
    from advisor.models.weights import probe_readiness

    ok, msg = probe_readiness(LITE0)
    if not ok:
        pytest.skip(msg)
    calls = {"outputs": 0, "figures": 0}
    keep, figures = outputs._keep_finite, run_mod._evaluate_model

    def outputs_then_stop(*a, **k):
        keep(*a, **k)
        calls["outputs"] += 1
        if calls["outputs"] == 1 and stopping:
            _click_stop_now()

    def counted(*a, **k):
        calls["figures"] += 1
        return figures(*a, **k)

    monkeypatch.setattr(outputs, "_keep_finite", outputs_then_stop)
    monkeypatch.setattr(run_mod, "_evaluate_model", counted)
    at = lite_app
    open_evaluate(at)
    at.file_uploader(key=state.EVAL_UPLOAD).set_value([("photos.zip", zip_bytes(_tinted_photos()),
                                                        "application/zip")]).run()
    at.multiselect(key=state.EVAL_MODELS).set_value([LITE0]).run()
    no_errors(at)
    stopping = True
    at.button(key=state.EVAL_RUN).click().run()
    no_errors(at)
    assert calls == {"outputs": 1, "figures": 0}  # stopped after the model outputs, before any figure
    assert any("The evaluation was stopped" in i.value for i in at.info), [i.value for i in at.info]
    assert state.EVAL_RESULT not in at.session_state
    assert not at.dataframe and not [h for h in at.subheader if h.value.startswith("Results on")]
    assert not at.button(key=state.EVAL_RUN).disabled  # still usable
    stopping = False
    at.button(key=state.EVAL_RUN).click().run()
    no_errors(at)
    assert calls["figures"] == 1
    assert not any("The evaluation was stopped" in i.value for i in at.info)
    result = at.session_state[state.EVAL_RESULT]
    assert result.model(LITE0).n_images == 8 and result.model(LITE0).task == "transfer"
    assert any(h.value.startswith("Results on 8 images") for h in at.subheader)
