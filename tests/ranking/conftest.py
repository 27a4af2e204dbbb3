from __future__ import annotations

import pandas as pd
import pytest

from advisor.ranking.data import RankingData


def make_data(rows: list[tuple], models: dict[str, dict] | None = None, nc: set[str] = frozenset()) -> RankingData:
    """rows: (model_id, property_id, item, value, source_id)."""
    scores = pd.DataFrame(rows, columns=["model_id", "property_id", "item", "value", "source_id"])
    ids = sorted(set(scores["model_id"]) | set(models or {}))
    meta = pd.DataFrame([{"model_id": m, **(models or {}).get(m, {})} for m in ids])
    return RankingData.from_frames(meta, scores, nc)


@pytest.fixture(name="make_data")
def make_data_fixture():
    return make_data


@pytest.fixture
def small() -> RankingData:
    rows = []
    # A: best accuracy, poor calibration; B: balanced; C: best calibration; D: only accuracy data
    acc = {"t:a": 85, "t:b": 82, "t:c": 78}
    ece = {"t:a": 0.08, "t:b": 0.03, "t:c": 0.01}
    for m, v in acc.items():
        rows.append((m, "imagenet_top1", "", v, "src1"))
    for m, v in ece.items():
        rows.append((m, "ece_15bin", "imagenet", v, "src1"))
    rows.append(("t:d", "imagenet_top1", "", 99.0, "src2"))
    models = {"t:a": {"params_m": 80, "paradigm": "supervised"}, "t:b": {"params_m": 20, "paradigm": "clip"},
              "t:c": {"params_m": 5, "paradigm": "supervised"}, "t:d": {"params_m": 10, "paradigm": "supervised"}}
    return make_data([(m.replace("t:", "timm:"), p, i, v, s) for m, p, i, v, s in rows],
                     {k.replace("t:", "timm:"): v for k, v in models.items()})
