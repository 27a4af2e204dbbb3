"""'Measure speed here' on the Model card and Compare (AppTest): the result stays in the session and joins the
ranking as efficiency measured here. The benchmark runs a tiny random-weight timm net, relabelled as the fixture
store's models (whose names are not real timm models)."""

from __future__ import annotations

import dataclasses

import pytest

from advisor.evaluate import latency
from advisor.ui import state

pytestmark = pytest.mark.app

CARD_PAGE = "advisor/ui/pages/model_card.py"
COMPARE_PAGE = "advisor/ui/pages/compare.py"
ADVISOR_PAGE = "advisor/ui/pages/advisor.py"
TINY = "timm:test_vit.r160_in1k"
REAL_BENCH = latency.bench


@pytest.fixture
def stub_bench(monkeypatch):
    """latency.bench measures TINY once and reports it under each requested id (weights labelled as real)."""
    calls = []

    def fake(ids, **kw):
        calls.append((list(ids), kw))
        r = REAL_BENCH([TINY], batch_size=kw["batch_size"], repeats=kw["repeats"], warmup=1, device="cpu",
                       memory=False)
        m = r.models[0]
        return dataclasses.replace(r, models=tuple(dataclasses.replace(m, model_id=i, weights="stub:test")
                                                   for i in ids))

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(latency, "bench", fake)
    return calls


def measure_on_card(at, model_id: str, batch: int | None = None):
    """Open the Model card of `model_id`, set the speed settings, click 'Measure speed here'."""
    at.switch_page(CARD_PAGE).run()
    at.selectbox(key=state.CARD).set_value(model_id).run()
    if batch is not None:
        at.number_input(key="card_bench_batch").set_value(batch).run()
    at.number_input(key="card_bench_repeats").set_value(3).run()
    return at.button(key="card_bench_run").click().run()


def no_errors(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_model_card_measures_speed_and_the_ranking_uses_it(app, stub_bench):
    at = measure_on_card(app.run(), "timm:small_net.a1_in1k", batch=2)
    no_errors(at)
    assert stub_bench[0][0] == ["timm:small_net.a1_in1k"]
    assert stub_bench[0][1]["batch_size"] == 2 and stub_bench[0][1]["precision"] == "fp32"
    result = at.session_state[state.BENCH_RESULT]
    assert [m.model_id for m in result.models] == ["timm:small_net.a1_in1k"]
    shown = [d.value for d in at.dataframe if "latency b1 (ms)" in d.value.columns]
    assert shown and list(shown[0]["model"]) == ["timm:small_net.a1_in1k"]
    assert any("Measured on cpu (" in c.value for c in at.caption)
    # the Advisor page ranks with it: efficiency measured here, the setting named
    at.switch_page(ADVISOR_PAGE).run()
    no_errors(at)
    assert any("speed measurement on cpu" in i.value and "timm:small_net.a1_in1k ranks" in i.value for i in at.info)
    ranked = next(d.value for d in at.dataframe if "measured here" in d.value.columns)
    label = ranked.set_index("model")["measured here"]["timm:small_net.a1_in1k"]
    assert "Latency batch 1, cpu (" in label and "Throughput batch 2, cpu (" in label


def test_compare_measures_every_shown_model_and_keeps_earlier_ones(app, stub_bench, seed):
    at = measure_on_card(app.run(), "timm:small_net.a1_in1k", batch=2)
    at.switch_page(COMPARE_PAGE).run()
    ids = at.multiselect(key=state.COMPARE).value
    assert len(ids) >= 2
    at.number_input(key="compare_bench_repeats").set_value(3).run()
    at.number_input(key="compare_bench_batch").set_value(2).run()
    at.button(key="compare_bench_run").click().run()
    no_errors(at)
    assert stub_bench[-1][0] == list(ids)
    result = at.session_state[state.BENCH_RESULT]
    assert {m.model_id for m in result.models} == {"timm:small_net.a1_in1k", *ids}  # same setting: merged


def test_a_model_that_cannot_run_here_is_a_warning_and_keeps_the_session(app):
    at = measure_on_card(app.run(), "timm:small_net.a1_in1k")
    no_errors(at)
    assert any("Unknown timm model" in w.value for w in at.warning)
    assert state.BENCH_RESULT not in at.session_state
