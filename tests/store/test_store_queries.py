"""The store's named queries, its duplicate review, name lookup and obtainability."""

from __future__ import annotations

import pandas as pd
import pytest

from advisor.store.build import DEFAULT_SOURCES
from advisor.store.sources.quba import quba_normalization
from advisor.store.store import PropertyStore, open_store


def test_score_rows_are_every_score(store):
    rows = store.score_rows()
    assert list(rows.columns) == ["model_id", "property_id", "item", "value", "source_id", "precision"]
    assert len(rows) == store.query("SELECT count(*) AS n FROM scores")["n"].iloc[0]


def test_named_queries(store):
    assert "imagenetx_base" in store.non_commercial_sources() and "antialiased_cnns" in store.non_commercial_sources()
    assert "timm_results" not in store.non_commercial_sources()
    assert len(store.study_model_ids()) == 4
    items = store.property_items()
    n = items.set_index(["property_id", "item"])["n_models"]
    assert n[("frame_consistency_ratio", "imagenet-vid-robust")] >= 300


def test_quba_constants_equal_the_source_file(store):
    got = store.quba_constants()
    want = quba_normalization(DEFAULT_SOURCES / "quba")
    assert list(got["dimension"]) == list(want["dimension"])
    for col in ("mean", "std", "default_weight_signed", "scale", "property_id"):
        assert list(got[col]) == list(want[col]), col
    assert got.loc["calibration", "default_weight_signed"] < 0
    assert got.loc["efficiency", "property_id"] == "params_m"


def test_open_store_uses_the_given_db(store_path):
    s = open_store(store_path)
    assert isinstance(s, PropertyStore) and s.db_path == store_path
    s.close()


def test_every_duplicate_candidate_is_reviewed(store):
    cands = store.duplicate_candidates()
    assert len(cands) > 0  # the detector runs
    unreviewed = cands[cands["verdict"] == "unreviewed"]
    assert unreviewed.empty, unreviewed[["model_a", "model_b", "top1_a", "top1_b"]].to_string()
    assert (cands["top1_diff"] <= 0.15).all() and (cands["reason"].str.len() > 10).all()


def test_review_file_has_no_stale_pairs(store):
    review = pd.read_csv(DEFAULT_SOURCES / "curated" / "duplicates_review.csv")
    cands = {tuple(sorted(p)) for p in store.duplicate_candidates()[["model_a", "model_b"]].itertuples(index=False)}
    stale = [p for p in review[["model_a", "model_b"]].itertuples(index=False) if tuple(sorted(p)) not in cands]
    assert not stale


def test_detector_flags_an_unreviewed_pair():
    from advisor.store.duplicates import duplicate_candidates

    models = pd.DataFrame({"model_id": ["timm:a.x", "testbed:a"], "family": ["a", None], "params_m": [25.56, 25.6]})
    scores = pd.DataFrame({"model_id": ["timm:a.x", "testbed:a"], "property_id": "imagenet_top1", "item": "",
                           "source_id": ["timm_results", "imagenet_testbed"], "value": [76.13, 76.20]})
    got = duplicate_candidates(models, scores, {})
    assert got[["model_a", "model_b", "verdict"]].values.tolist() == [["testbed:a", "timm:a.x", "unreviewed"]]
    scores.loc[1, "value"] = 76.30  # 0.17 points apart: not a candidate
    assert duplicate_candidates(models, scores, {}).empty
    scores.loc[1, ["value", "source_id"]] = [76.20, "timm_results"]  # one source lists both: distinct
    assert duplicate_candidates(models, scores, {}).empty


@pytest.mark.parametrize("name, pair", [
    ("quba:Hiera-B", "timm:hiera_base_224.mae_in1k_ft_in1k"),
    ("testbed:senet154", "timm:legacy_senet154.in1k"),
    ("imagenetx:ResNet50", "timm:resnet50.tv_in1k"),
    ("open_clip:ViT-B-32-quickgelu.openai", "open_clip:ViT-B-32.openai"),
    ("timm:levit_conv_256.fb_dist_in1k", "timm:levit_256.fb_dist_in1k"),
    ("mvh:resnet50_trained_on_SIN", "robustbench:Geirhos2018_SIN"),
    ("bvg:resnet50_swav", "testbed:resnet50_swav"),
    ("mvh:dpn92", "testbed:dpn92"),
])
def test_issue_10_duplicates_are_one_id(store, name, pair):
    ids = set(store.model_ids())
    assert name not in ids and pair in ids
    names = set(store.aliases(pair)["name_in_source"].str.replace(" ", "."))
    assert name.split(":", 1)[1] in names  # the twin's own name now points at the one id


def test_source_alias_beats_bare_name_in_another_namespace(store):
    assert store.resolve("ResNet50") == "timm:resnet50.tv_in1k"
    mid, note = store.resolve_name("resnet50")
    assert mid == "timm:resnet50.tv_in1k" and "chose timm:resnet50.tv_in1k" in note
    assert store.resolve_name("ConvNext-B-21k") == ("timm:convnext_base.fb_in22k_ft_in1k", "")


def test_obtainability(store):
    m = store.models().set_index("model_id")
    assert m.loc["timm:resnet50.tv_in1k", "load_call"] == 'timm.create_model("resnet50.tv_in1k", pretrained=True)'
    assert m.loc["open_clip:ViT-B-32.openai", "load_call"] == (
        'open_clip.create_model_and_transforms("ViT-B-32", pretrained="openai")')
    ft = m.loc["quba:ViT-l-14-dinoV2-FT-Reg"]
    assert not ft["obtainable"] and ft["weights_from"] == "none known" and "QUBA authors" in ft["obtain_note"]
    assert m.loc["quba:ViT-l-14-dinov2-reg-LP", "load_call"] == (
        'torch.hub.load("facebookresearch/dinov2", "dinov2_vitl14_reg_lc")')
    assert m.loc["robustbench:Geirhos2018_SIN", "weights_from"] == "pip"
    assert (m["obtainable"] == m["load_call"].notna()).all()
    assert set(m["weights_from"]) <= {"timm", "open_clip", "torchvision", "torch.hub", "pip", "release file",
                                      "none known"}


def test_invariance_coverage(store):
    n = store.query("SELECT count(DISTINCT model_id) AS n FROM scores JOIN properties USING (property_id) "
                    "WHERE need = 'invariance'")["n"].iloc[0]
    assert n >= 300
