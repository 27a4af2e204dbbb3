"""The store's named queries, its duplicate review, name lookup and obtainability."""

from __future__ import annotations

import pandas as pd
import pytest

from advisor.store.build import DEFAULT_SOURCES
from advisor.store.sources.quba import quba_normalization
from advisor.store.store import PropertyStore, open_store


def test_score_rows_are_every_score(store):
    rows = store.score_rows()
    assert list(rows.columns) == ["model_id", "property_id", "item", "value", "source_id", "precision", "protocol"]
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
    by_score = cands[cands["rule"] != "weights file"]  # one file under two ids may score apart (see its reason)
    assert (by_score["top1_diff"] <= 0.15).all() and (cands["reason"].str.len() > 10).all()
    assert set(cands["rule"]) == {"params", "top1", "weights file"}  # every rule finds pairs in the real data


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


def _pair(ids, families, params, top1, notes=("", ""), urls=(None, None)) -> pd.DataFrame:
    from advisor.store.duplicates import duplicate_candidates

    models = pd.DataFrame({"model_id": ids, "family": families, "params_m": params, "weights_url": urls})
    scores = pd.DataFrame({"model_id": ids, "property_id": "imagenet_top1", "item": "", "note": list(notes),
                           "source_id": ["src_a", "src_b"], "value": top1})
    return duplicate_candidates(models, scores, {})


def test_detector_sees_models_without_a_parameter_count():
    """Mutant: keep the old params-only rule -> the issue's bvg / testbed AugMix pair is never a candidate."""
    got = _pair(["bvg:resnet50_augmix_180ep", "testbed:resnet50_augmix"], [None, "resnet"], [None, None],
                [77.532, 77.538])
    assert got[["rule", "verdict"]].values.tolist() == [["top1", "unreviewed"]]
    assert got["family"].iloc[0] == "resnet"
    # 0.011 apart, another depth, or another protocol: not a candidate
    assert _pair(["bvg:resnet50_x", "testbed:resnet50_y"], [None, "resnet"], [None, None], [77.5, 77.511]).empty
    assert _pair(["bvg:resnet50_x", "testbed:resnet101_y"], [None, "resnet"], [None, None], [77.5, 77.5]).empty
    assert _pair(["bvg:resnet50_x", "testbed:resnet50_y"], [None, "resnet"], [None, None], [77.5, 77.5],
                 notes=("zero-shot", "")).empty
    # two known, different parameter counts are two architectures even when top-1 agrees
    assert _pair(["bvg:resnet50_x", "testbed:resnet50_y"], [None, "resnet"], [25.6, 23.5], [77.5, 77.5]).empty


def test_detector_sees_one_weights_file_under_two_ids():
    """Mutant: drop the weights-file rule -> two ids of one file with 0.8 points between their top-1 pass."""
    urls = ("https://x/rn50_yfcc15m-1f2a3b4c.pt", "https://y/rn50_yfcc15m-1f2a3b4c.pt")
    got = _pair(["open_clip:RN50-quickgelu.yfcc15m", "open_clip:RN50.yfcc15m"], ["resnet", "resnet"],
                [102.0, 110.0], [32.75, 32.38], urls=urls)
    assert got["rule"].tolist() == ["weights file"]


@pytest.mark.parametrize("name, pair", [
    ("quba:Hiera-B", "timm:hiera_base_224.mae_in1k_ft_in1k"),
    ("testbed:senet154", "timm:legacy_senet154.in1k"),
    ("imagenetx:ResNet50", "timm:resnet50.tv_in1k"),
    ("open_clip:ViT-B-32-quickgelu.openai", "open_clip:ViT-B-32.openai"),
    ("timm:levit_conv_256.fb_dist_in1k", "timm:levit_256.fb_dist_in1k"),
    ("mvh:resnet50_trained_on_SIN", "robustbench:Geirhos2018_SIN"),
    ("bvg:resnet50_swav", "testbed:resnet50_swav"),
    ("mvh:dpn92", "timm:dpn92.mx_in1k"),
    # issue 19: routes and missed duplicates
    ("quba:mobileclip-b", "open_clip:MobileCLIP-B.datacompdr"),
    ("quba:mobileclip-blt", "open_clip:MobileCLIP-B.datacompdr_lt"),
    ("quba:mobileclip-s1", "open_clip:MobileCLIP-S1.datacompdr"),
    ("quba:mobileclip-s2", "open_clip:MobileCLIP-S2.datacompdr"),
    ("mvh:cspdarknet53", "timm:cspdarknet53.ra_in1k"),
    ("mvh:selecsls60b", "timm:selecsls60b.in1k"),
    ("testbed:resnet50_lpf2", "antialiased:resnet50_lpf2"),
    ("testbed:vgg16_bn_lpf5", "antialiased:vgg16_bn_lpf5"),
    ("testbed:resnet50_linf_eps4_robust", "robustbench:Engstrom2019Robustness"),
    ("bvg:resnet50_augmix_180ep", "robustbench:Hendrycks2020AugMix"),
    ("testbed:resnet50_augmix", "robustbench:Hendrycks2020AugMix"),
    ("bvg:resnet50_dino", "quba:ResNet50-DINO-LP"),
    ("testbed:resnet50_deepaugment_augmix", "robustbench:Hendrycks2020Many"),
    ("testbed:dpn68", "timm:dpn68.mx_in1k"),
    ("testbed:dpn131", "timm:dpn131.mx_in1k"),
    ("quba:EfficientNet-B0", "timm:efficientnet_b0.ra_in1k"),  # torchvision IMAGENET1K_V1 = port of this
    ("quba:EfficientNet-B4", "timm:efficientnet_b4.ra2_in1k"),
])
def test_issue_10_duplicates_are_one_id(store, name, pair):
    ids = set(store.model_ids())
    assert name not in ids and pair in ids
    names = set(store.aliases(pair)["name_in_source"].str.replace(" ", "."))
    assert name.split(":", 1)[1] in names  # the twin's own name now points at the one id


def test_wrong_merges_of_issue_10_are_undone(store):
    """model-vs-human loads timm's hub weights of its time: its dpn68b and vit_small_patch16_224 are not the
    imagenet-testbed checkpoints (ImageNet-X averages 77.78 vs 75.65 and 80.30 vs 76.52)."""
    for name in ("dpn68b", "vit_small_patch16_224"):
        al = store.query("SELECT model_id FROM aliases WHERE source_id = 'imagenetx_mvh' AND name_in_source = ?",
                         [name])["model_id"].tolist()
        assert al == [f"mvh:{name}"], al
        assert f"testbed:{name}" in store.model_ids() or name == "dpn68b"


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
    # issue 19: the DINO ResNet-50 linear probe loads its released head, not the bare backbone
    dino = m.loc["quba:ResNet50-DINO-LP"]
    assert dino["obtainable"] and "dino_resnet50_linearweights.pth" in dino["load_call"]
    assert dino["weights_url"].endswith("dino_resnet50_linearweights.pth")
    # release files are a URL and a checksum; QUBA's mistyped file name is corrected
    b4 = m.loc["quba:EfficientNet-b4-A1"]
    assert b4["weights_url"].endswith("/v0.1-rsb-weights/tf_efficientnet_b4_a1_0-182bef54.pth")
    assert b4["weights_sha256"] == "182bef54" and "file=" not in b4["load_call"]
    rel = m[m["weights_from"] == "release file"]
    assert len(rel) == 36 and rel["weights_url"].notna().all() and rel["weights_sha256"].str.len().eq(8).all()
    lpf2 = m.loc["antialiased:resnet50_lpf2", "load_call"]
    assert lpf2 == "antialiased_cnns.resnet50(pretrained=True, filter_size=2)"
    assert m.loc["quba:mobileclip-s0", "weights_from"] == "none known"
    assert "open_clip 3.3.0 lists" in m.loc["quba:mobileclip-s0", "obtain_note"]
    assert set(m["weights_from"]) <= {"timm", "open_clip", "torchvision", "torch.hub", "pip", "release file",
                                      "none known"}


def test_invariance_and_video_stability_coverage(store):
    """Geometric invariance (the study, anti-aliased CNNs) and video-frame stability (imagenet-testbed) are
    separate needs, each with the models its sources cover."""
    def n(need: str) -> int:
        return int(store.query("SELECT count(DISTINCT model_id) AS n FROM scores JOIN properties "
                               "USING (property_id) WHERE need = ?", [need])["n"].iloc[0])

    assert n("invariance") >= 50
    assert n("video_stability") >= 300
