"""URL <-> session state: the link reproduces the view."""

from __future__ import annotations

from advisor.ranking.presets import get_preset
from advisor.ui import state


def _as_query(q: dict) -> dict[str, list[str]]:
    return {k: v if isinstance(v, list) else [v] for k, v in q.items()}


def test_defaults_write_an_empty_query():
    assert state.query_from_state(state.defaults()) == {}


def test_round_trip_custom_state():
    s = state.defaults()
    s.update({state.PRESET: state.CUSTOM, state.weight_key("calibration"): 0.75, state.SHAPE_WEIGHT: 0.5,
              state.SHAPE_DIR: "texture", state.MAX_PARAMS: 30.0, state.PARADIGMS: ["clip"],
              state.COMPARE: ["timm:a", "timm:b"], state.LOG_X: False})
    q = state.query_from_state(s)
    back = state.defaults()
    back.update(state.state_from_query(_as_query(q)))
    for k in state.PERSISTED:
        assert back[k] == s[k], k
    # the defaults are the imagenet-like preset's weights, with the two overrides above
    assert state.weights_from_state(back) == {**get_preset("imagenet-like").weights, "calibration": 0.75,
                                              "texture_bias": 0.5}


def test_named_preset_then_overrides_and_bad_values_skipped():
    got = state.state_from_query({"preset": ["edge"], "w_calibration": ["0.4"], "max_gmacs": ["oops"]})
    assert got[state.PRESET] == "edge"
    assert got[state.MAX_PARAMS] == get_preset("edge").limits["max_params_m"]
    assert got[state.weight_key("efficiency")] == 1.0 and got[state.weight_key("calibration")] == 0.4
    assert state.MAX_GMACS not in got or got[state.MAX_GMACS] is None


def test_request_matches_preset_and_quba_mode():
    s = state.defaults()
    state.apply_preset(s, "distribution-shift")
    assert dict(state.request_from_state(s).weights) == get_preset("distribution-shift").weights
    state.apply_preset(s, "quba")
    assert state.request_from_state(s).mode == "quba"
