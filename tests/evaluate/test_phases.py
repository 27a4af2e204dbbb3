"""`evaluate` reports every phase (model outputs, cross-validation, bootstrap, report) and stops on cancel
between steps of any of them (issue 16.3, 21.5: the app sat at 100 % for minutes and could not stop)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from advisor.evaluate.progress import PHASES, CancelToken, EvaluationCancelled
from advisor.evaluate.run import evaluate

TINY = "timm:test_efficientnet.r160_in1k"


@pytest.fixture
def data(tmp_path):
    for i in range(12):
        d = tmp_path / "d" / f"class{i % 3}"
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(d / f"{i}.png")
    return tmp_path / "d"


def test_every_phase_is_reported_in_order(data, tmp_path):
    seen: list[tuple[str, float]] = []
    evaluate(data, [TINY], allow_random=True, cache_root=tmp_path / "c", label_set="own", shard_size=4,
             phases=lambda p, f, t: seen.append((p, f)))
    order = list(dict.fromkeys(p for p, _ in seen))
    assert order == list(PHASES)
    for phase in PHASES:
        fractions = [f for p, f in seen if p == phase]
        assert fractions[-1] == 1.0 and fractions == sorted(fractions), phase


@pytest.mark.parametrize("stop_in", ["cross-validation", "bootstrap"])
def test_cancel_stops_the_statistics(data, tmp_path, stop_in):
    token = CancelToken()
    after = []

    def phase(p, f, t):
        if token.cancelled:
            after.append(p)
        if p == stop_in:
            token.cancel()

    with pytest.raises(EvaluationCancelled):
        evaluate(data, [TINY], allow_random=True, cache_root=tmp_path / "c", label_set="own", phases=phase,
                 cancel=token)
    assert after == []  # the next step checked the token before reporting anything
