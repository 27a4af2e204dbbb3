"""The loader's reference pass (issue 20) keeps the reliability guarantees of issue 21: a cancel stops it
between batches, the decoded-memory budget is held while it runs and given back however it ends."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from advisor.evaluate import outputs
from advisor.evaluate.budget import DECODED
from advisor.evaluate.data import read_samples
from advisor.evaluate.outputs import TaskSpec, run_task
from advisor.evaluate.progress import EvaluationCancelled

TINY = "timm:test_efficientnet.r160_in1k"


def _task(tmp_path, n: int = 6) -> TaskSpec:
    for i in range(n):
        d = tmp_path / "d" / ("cat" if i % 2 else "dog")
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(d / f"{i}.png")
    return TaskSpec((TINY,), tuple(read_samples(tmp_path / "d")), (), str(tmp_path / "c"), allow_random=True)


def test_a_cancel_stops_the_reference_pass_between_batches(tmp_path, monkeypatch):
    """Mutant caught: no `tick` after each batch in `loader.reference_pass` (the first progress call then comes
    only after the model ran on every image, so a Stop waits for the whole shard)."""
    monkeypatch.setattr(outputs, "BATCH", 2)
    calls: list[tuple[int, str]] = []
    seen_held: list[int] = []

    def progress(n: int, where: str) -> None:
        calls.append((n, where))
        seen_held.append(DECODED.used)
        raise EvaluationCancelled("stopped")

    with pytest.raises(EvaluationCancelled):
        run_task(_task(tmp_path), progress)
    assert calls == [(0, f"{TINY}: batch 1/3")]
    assert seen_held[0] >= 6 * 20 * 20 * 3  # the budget is held for every image while the pass runs
    assert DECODED.used == 0  # and given back when it is stopped
