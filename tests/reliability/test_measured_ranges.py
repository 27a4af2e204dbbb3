"""Measured result files are range-checked; ignored rows are counted with their reason (issue 21.11).

Before: top-1 5.0 (500 %), ECE -2, n -40, unknown ids, repeats and free-text families were ranked."""

from __future__ import annotations

import json

import pytest

from advisor.errors import InvalidRequestError
from advisor.evaluate.result import EvaluationResult, InvariancePoint, ModelEvaluation
from advisor.evaluate.stats import Figure
from advisor.measured import MAX_RESULT_MODELS, load_measured_files, measured_from_text

LITE = "timm:tf_efficientnet_lite0.in1k"
OTHER = "timm:resnet50.a1_in1k"


def fig(v: float, n: int = 40) -> Figure:
    return Figure(v, v, v, n)


def doc(models) -> str:
    return EvaluationResult("d", "imagenet", ("a",), (), tuple(models)).to_json()


def test_out_of_range_unknown_and_repeated_rows_are_ignored_and_counted(tmp_path):
    good = ModelEvaluation(LITE, "pip", "imagenet", 40, metrics={"top1": fig(0.8), "ece": fig(0.05)},
                           invariance=(InvariancePoint("rotation", 10.0, False, fig(0.7), fig(0.9)),))
    bad = ModelEvaluation(OTHER, "pip", "imagenet", 40,
                          metrics={"top1": fig(5.0), "ece": fig(-2.0), "nll": fig(1.0, n=-40)},
                          invariance=(InvariancePoint("my favourite blur", 1.0, False, fig(0.5), fig(0.5)),))
    unknown = ModelEvaluation("nosuchlib:model", "pip", "imagenet", 40, metrics={"top1": fig(0.5)})
    text = doc([good, bad, unknown, good])
    path = tmp_path / "r.json"
    path.write_text(text)
    rows = load_measured_files([path])
    assert sorted(rows.property_id) == ["measured_ece", "measured_invariance_top1", "measured_top1"]
    assert set(rows.model_id) == {LITE}
    notes = "\n".join(rows.attrs["ignored"])
    assert "1 row(s) ignored: a value outside 0–100 for its unit (%)" in notes
    assert "1 row(s) ignored: a value outside 0–1 for its unit (fraction)" in notes
    assert "an image count of 0 or less" in notes
    assert "1 row(s) ignored: an unknown model id" in notes
    assert "1 row(s) ignored: an unknown transform family" in notes
    assert "3 row(s) ignored: a repeat of an earlier row" in notes


def test_too_many_models_are_refused_before_parsing():
    """Before: 190,000 unknown ids took 12.5 s and 2 GB."""
    models = [{"model_id": f"x{i}"} for i in range(MAX_RESULT_MODELS + 1)]
    text = json.dumps({"kind": "vision-advisor-evaluation", "version": 1, "models": models})
    with pytest.raises(InvalidRequestError, match="at most"):
        measured_from_text(text, "big.json")
