"""The presets reproduce the study's advice among its four models."""

from __future__ import annotations

import pytest

from advisor.ranking.data import RankingData
from advisor.ranking.engine import Limits, RankRequest, rank
from advisor.ranking.presets import get_preset, list_presets


@pytest.fixture(scope="module")
def study(store):
    ids = tuple(store.query("SELECT DISTINCT model_id FROM aliases WHERE source_id LIKE 'study%'")["model_id"])
    assert len(ids) == 4
    return RankingData.from_store(store), ids


def top(study, preset: str) -> str:
    data, ids = study
    p = get_preset(preset)
    r = rank(data, RankRequest(p.weights, limits=Limits(only_model_ids=ids), seed=1))
    return r.table["model_id"].iloc[0]


@pytest.mark.parametrize("preset", ["imagenet-like", "calibrated", "invariance"])
def test_supervised_convnext(study, preset):
    assert top(study, preset) == "timm:convnext_base.fb_in22k_ft_in1k"


@pytest.mark.parametrize("preset", ["distribution-shift", "fine-tune"])
def test_clip_model(study, preset):
    assert top(study, preset).startswith("open_clip:")


def test_shape_bias_picks_a_vit(study):
    data, ids = study
    r = rank(data, RankRequest({"shape_bias": 1.0}, limits=Limits(only_model_ids=ids)))
    assert "vit" in r.table["model_id"].iloc[0].lower()


def test_every_preset_ranks_the_store(store):
    data = RankingData.from_store(store)
    for p in list_presets():
        r = rank(data, RankRequest(p.weights, limits=Limits(**p.limits), mode=p.mode, draws=50))
        assert len(r.table) > 10, p.name
