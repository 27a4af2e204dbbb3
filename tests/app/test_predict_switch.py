"""The Advisor page's prediction switch: on, needs without data are predicted and marked; off, they count as the
median (RankRequest.predict, `advisor rank --no-predict`), and the switch is kept in the state and the link."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.ui import state

pytestmark = pytest.mark.app

N = 40
NO_ECE = 6  # the most accurate models have no calibration data: predicted when the switch is on


APP = str(Path(__file__).parents[2] / "app.py")


def _store(path: Path, fixture) -> Path:
    builder = fixture.load_helper(Path(__file__).parents[1] / "store_builder.py", "tests_store_builder")
    ids = [f"timm:net{i:02d}.a1_in1k" for i in range(N)]
    models = [{"model_id": m, "arch_type": "CNN", "paradigm": "supervised", "params_m": 10.0 + i, "gmacs": 2.0,
               "img_size": 224, "loader": "timm", "load_name": m.split(":", 1)[1], "weights_licence": "apache-2.0",
               "meta_source_id": "timm", **fixture._obtain(m)} for i, m in enumerate(ids)]
    rows = []
    for i, m in enumerate(ids):
        rows.append((m, "imagenet_top1", "", 70.0 + 0.4 * i, "timm"))
        if i < N - NO_ECE:  # synthetic: calibration improves with accuracy, with some scatter
            rows.append((m, "ece_15bin", "imagenet_1k", 0.09 - 0.002 * i + 0.01 * ((i * 7) % 5) / 5, "paper"))
    src = [("timm", "timm results", "timm", "x", "f.csv", "c", "Apache-2.0", False),
           ("paper", "a paper", "paper", "x", "f.csv", "c", "CC BY 4.0", False)]
    return builder.write_store(path, sources=src, models=models, scores=rows)


@pytest.fixture
def predict_app(tmp_path, monkeypatch, seed):
    from streamlit.testing.v1 import AppTest

    from advisor.ui.cache import DB_ENV, clear_caches

    monkeypatch.setenv(DB_ENV, str(_store(tmp_path / "predict.duckdb", seed)))
    clear_caches()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"preset": "custom", "w_calibration": "1", "w_accuracy": "1"})
    yield at
    clear_caches()


def _why(at) -> str:
    """The 'Why these models' explanations (the expanders named by a model id)."""
    return " ".join(m.value for e in at.expander if e.label.startswith("timm:") for m in e.markdown)


def test_flipping_the_switch_changes_the_predicted_marks(predict_app):
    """On (the default): the top picks' calibration is 'predicted, not measured' with its interval. Off: no
    prediction anywhere (those models fall back to the median, below the measured ones), and the link says
    predict=0.
    Mutant caught: the toggle not wired to RankRequest.predict (the marks would not change)."""
    at = predict_app.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.toggle(key=state.PREDICT).value is True
    on = _why(at)
    assert "predicted, not measured: calibrated confidences" in on and "80 % interval" in on
    at.toggle(key=state.PREDICT).set_value(False).run()
    assert not at.exception, [e.value for e in at.exception]
    off = _why(at)
    assert "predicted" not in off and off != on
    assert at.query_params[state.PREDICT] == "0"
    at.toggle(key=state.PREDICT).set_value(True).run()
    assert "predicted, not measured" in _why(at) and state.PREDICT not in at.query_params


def test_the_switch_is_read_from_the_link(predict_app):
    predict_app.query_params[state.PREDICT] = "0"
    at = predict_app.run()
    assert at.toggle(key=state.PREDICT).value is False
    assert "predicted" not in _why(at)
    assert state.request_from_state(state.user_state(at.session_state)).predict is False
