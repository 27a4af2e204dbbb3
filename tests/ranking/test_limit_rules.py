"""Each hard-limit rule keeps exactly the models it names; the request's spec and the rules agree."""

from __future__ import annotations

import pandas as pd
import pytest

from advisor.ranking.limit_rules import RULES
from advisor.ranking.request import LIMITS, Limits, apply_limits, limits_from_dict, limits_to_dict

MODELS = pd.DataFrame({
    "model_id": ["a", "b", "c", "d"],
    "params_m": [5.0, 30.0, 300.0, None],
    "throughput_cpu": [400.0, 50.0, 5.0, 100.0],
    "paradigm": ["supervised", "clip", "supervised", None],
    "obtainable": [True, True, False, True],
})


def kept(**limits) -> list[str]:
    return list(apply_limits(MODELS, Limits(**limits))[0]["model_id"])


@pytest.mark.parametrize(("limits", "want"), [
    ({}, ["a", "b", "d"]),  # only obtainable models by default
    ({"include_unobtainable": True}, ["a", "b", "c", "d"]),
    ({"max_params_m": 30.0}, ["a", "b"]),  # at most 30, unknown (d) excluded
    ({"min_throughput_cpu": 100.0}, ["a", "d"]),  # at least 100
    ({"paradigms": ("clip",)}, ["b"]),
    ({"only_model_ids": ("a", "c"), "include_unobtainable": True}, ["a", "c"]),
    ({"probe_ready_ids": frozenset({"b", "c"})}, ["b"]),
    ({"probe_ready_ids": frozenset()}, []),  # switched on with nothing ready: nothing passes
    ({"exclude_non_commercial": True}, ["a", "b", "d"]),  # read by the engine, filters no rows here
])
def test_each_rule_keeps_what_it_names(limits, want):
    """Mutants: MaxRule.passes returning `col >= v` (swapped with MinRule), InRule/ReadyRule keeping `~isin`, or
    IncludeRule keeping the unobtainable rows each fail a case here."""
    assert kept(**limits) == want


def test_notes_count_models_without_the_value_once():
    """The obtainability switch runs first; a model already out is not counted again by a later limit."""
    _, notes = apply_limits(MODELS, Limits(max_params_m=1000.0, paradigms=("supervised", "clip")))
    assert notes == ["1 models without public weights or a known loader left out (--include-unobtainable to "
                     "include them)", "1 models without parameter data excluded by the parameter limit"]
    _, notes = apply_limits(MODELS, Limits(paradigms=("supervised", "clip")))
    assert notes[1:] == ["1 models without training paradigm data left out by the training paradigm limit"]


def test_every_spec_has_a_rule_and_json_round_trips():
    assert {s.kind for s in LIMITS} <= set(RULES)
    lim = Limits(max_params_m=30.0, max_img_size=224, paradigms=("clip",), exclude_non_commercial=True,
                 include_unobtainable=True, only_model_ids=("a",), probe_ready_ids=frozenset({"b"}))
    assert limits_from_dict(limits_to_dict(lim)) == lim
    assert [s.describe(getattr(lim, s.name)) for s in LIMITS if s.rule.active(getattr(lim, s.name))] == [
        "Max parameters ≤ 30 M", "Max input size ≤ 224 px", "Training paradigm: clip", "Ignore non-commercial data",
        "Only these models: a", "Only models that can be probed live here (1 models)"]
