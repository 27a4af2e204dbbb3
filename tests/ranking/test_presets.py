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


THIN_SHARE = 0.10  # a need measured for fewer than this share of the candidates is "thin"


def test_no_preset_leans_silently_on_a_thin_need(store):
    """A weighted need that under 10 % of a preset's candidates have published data for is declared `thin` and
    its rationale names how few models back it (mutant: drop `thin=("transfer",)` from fine-tune -> fails)."""
    from advisor.ranking.engine import need_evidence
    from advisor.ranking.needs import get_need
    from advisor.ranking.request import apply_limits

    data = RankingData.from_store(store)
    for p in list_presets():
        if p.mode != "advisor":
            continue
        lim = Limits(**p.limits)
        cand, _ = apply_limits(data.models, lim)
        ev = need_evidence(data, cand, list(p.weights), lim, "percentile", predict=False)
        for need in p.weights:
            share = float(ev.scores[need].notna().mean())
            if share < THIN_SHARE:
                assert need in p.thin, (p.name, need, share)
                assert any(ch.isdigit() for ch in p.rationale), p.name
            else:
                assert need not in p.thin, (p.name, need, share)
        assert get_need(next(iter(p.weights))).label  # every weighted need is a known need


def test_invariance_and_video_stability_are_separate_needs():
    from advisor.ranking.needs import get_need

    geo = {f.property_id for f in get_need("invariance").features}
    video = {f.property_id for f in get_need("video_stability").features}
    assert "frame_consistency_ratio" in video and "frame_consistency_ratio" not in geo
    assert {"invariance_scale_top1", "shift_consistency"} <= geo
    assert "video" in get_preset("invariance").rationale.lower()
