"""Every hard limit that drops models for missing data says how many (issue 19)."""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd
import pytest

from advisor.ranking.request import LIMITS, Limits, apply_limits

# Limits that compare a models column with a value: a model without the value cannot pass them.
VALUE_LIMITS = [s for s in LIMITS if s.kind in ("max", "min", "in")]


def _models(column: str, known: object) -> pd.DataFrame:
    """Five models, two of them without a value in `column`."""
    return pd.DataFrame({"model_id": [f"m{i}" for i in range(5)], "obtainable": True,
                         column: [known, known, known, None, None]})


@pytest.mark.parametrize("spec", VALUE_LIMITS, ids=lambda s: s.name)
def test_models_without_the_value_are_counted_in_a_note(spec):
    """Mutant: drop the note of the 'in' branch of apply_limits (a licence filter then drops models silently)."""
    known = "apache-2.0" if spec.kind == "in" else 10
    value = (known,) if spec.kind == "in" else (100 if spec.kind == "max" else 1)
    kept, notes = apply_limits(_models(spec.column, known), replace(Limits(), **{spec.name: value}))
    assert len(kept) == 3
    said = [n for n in notes if re.match(r"^2 models without .+ left out|^2 models without .+ excluded", n)]
    assert len(said) == 1, notes


def test_licence_filter_names_the_missing_licences():
    models = pd.DataFrame({"model_id": ["a", "b", "c"], "obtainable": True,
                           "weights_licence": ["mit", None, "cc-by-nc-4.0"]})
    kept, notes = apply_limits(models, Limits(weights_licences=("mit",)))
    assert kept["model_id"].tolist() == ["a"]
    assert notes == ["1 models without weights licence data left out by the weights licence limit"]


def test_no_note_when_every_model_has_the_value():
    models = pd.DataFrame({"model_id": ["a", "b"], "obtainable": True, "weights_licence": ["mit", "apache-2.0"]})
    assert apply_limits(models, Limits(weights_licences=("mit",)))[1] == []


def test_missing_data_notes_count_only_models_that_could_be_ranked():
    """Mutant: apply the obtainability switch last -> the GMACs note also counts models without public weights."""
    models = pd.DataFrame({"model_id": ["a", "b", "c"], "obtainable": [True, True, False],
                           "gmacs": [1.0, None, None]})
    kept, notes = apply_limits(models, Limits(max_gmacs=5))
    assert kept["model_id"].tolist() == ["a"]
    assert "1 models without GMACs data excluded by the GMACs limit" in notes
    assert any(n.startswith("1 models without public weights") for n in notes)
