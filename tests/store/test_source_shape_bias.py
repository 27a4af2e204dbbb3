from __future__ import annotations

import csv
import re
import shutil
from collections import Counter

import pytest

from advisor.errors import SourceFileError
from advisor.store.build import DEFAULT_SOURCES
from advisor.store.sources import shape_bias
from advisor.store.sources.base import BuildContext, Collector

MVH = DEFAULT_SOURCES / "model_vs_human" / "raw-data" / "cue-conflict"
BEYOND = DEFAULT_SOURCES / "beyond_inet" / "inference" / "modelvshuman" / "raw-data" / "cue-conflict"
BVG = DEFAULT_SOURCES / "biases_vs_generalization" / "raw-data" / "benchmark.csv"
FOLDERS = ("beyond_inet", "model_vs_human", "vlm_shapebias", "biases_vs_generalization")


@pytest.fixture(scope="module")
def out(ingest):
    return ingest("shape_bias")


def get(out, model_id, source_id, prop="shape_bias", item=""):
    hits = [s for s in out.scores if (s["model_id"], s["source_id"], s["property_id"], s["item"])
            == (model_id, source_id, prop, item)]
    assert len(hits) == 1, (model_id, source_id, prop, item, hits)
    return hits[0]


def alias(out, source_id, name):
    return next(a["model_id"] for a in out.aliases if (a["source_id"], a["name_in_source"]) == (source_id, name))


def independent_shape_bias(path, response="object_response", image="imagename"):
    """The model-vs-human rule, written out again from the raw CSV."""
    shape = texture = 0
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            s, t = (re.sub(r"\d", "", p) for p in row[image].removesuffix(".png").split("-"))
            if s != t:
                shape += row[response] == s
                texture += row[response] == t
    return shape / (shape + texture)


def test_torchvision_resnet50_matches_model_vs_human(out):
    rid = alias(out, "model_vs_human_cue_conflict", "resnet50")
    assert rid == "timm:resnet50.tv_in1k"
    s = get(out, rid, "model_vs_human_cue_conflict")
    assert s["value"] == pytest.approx(0.22, abs=0.01)  # published: ResNet-50 shape bias ~0.22
    assert s["value"] == pytest.approx(independent_shape_bias(MVH / "cue-conflict_resnet50_session-1.csv"))
    assert s["precision"] == "computed-from-raw" and "1200 cue-conflict trials" in s["note"]


@pytest.mark.parametrize(("name", "expected"), [
    ("convnext-base-21k", "timm:convnext_base.fb_in22k_ft_in1k"),
    ("deit3-21k", "timm:deit3_base_patch16_224.fb_in22k_ft_in1k"),
    ("convnext-clip", "open_clip:convnext_base.laion400m_s13b_b51k"),
    ("vit-clip", "open_clip:ViT-B-16.laion400m_e31"),
    ("convnext-base", "timm:convnext_base.fb_in1k"),
    ("deit3", "timm:deit3_base_patch16_224.fb_in1k"),
    ("tv-resnet50", "timm:resnet50.tv_in1k"),
    ("mae", "study:mae"),
])
def test_beyond_inet_names(out, ctx, name, expected):
    mid = alias(out, "beyond_inet_cue_conflict", name)
    assert mid == expected
    ns, bare = mid.split(":", 1)
    assert ns != "timm" or bare in ctx.resolver.timm_names
    value = get(out, mid, "beyond_inet_cue_conflict")["value"]
    assert value == pytest.approx(independent_shape_bias(BEYOND / f"cue-conflict_{name}_session-1.csv"))


def test_counts_per_source(out):
    sb = Counter(s["source_id"] for s in out.scores if s["property_id"] == "shape_bias")
    assert sb == {"beyond_inet_cue_conflict": 9, "model_vs_human_cue_conflict": 9, "vlm_shapebias": 7 * 3 + 7,
                  "biases_vs_generalization": 70}
    keys = Counter((s["model_id"], s["property_id"], s["item"], s["source_id"]) for s in out.scores)
    assert max(keys.values()) == 1
    assert not any(m["model_id"].startswith("mvh:subject") for m in out.models)


def test_vlm_prompt_variants_are_items(out):
    mid = alias(out, "vlm_shapebias", "clip_RN50_openai")
    assert mid == "open_clip:RN50.openai"
    items = {s["item"] for s in out.scores if s["model_id"] == mid and s["source_id"] == "vlm_shapebias"}
    assert items == {"", "prompt: CLS", "prompt: a photo of a CLS."}
    raw = DEFAULT_SOURCES / "vlm_shapebias" / "raw-data" / "clip" / "clip_RN50_openai_None.csv"
    assert get(out, mid, "vlm_shapebias")["value"] == pytest.approx(
        independent_shape_bias(raw, "pred_label", "image"))
    assert alias(out, "vlm_shapebias", "tv_resnet50") == "timm:resnet50.tv_in1k"
    assert alias(out, "vlm_shapebias", "vit_base_patch16_224.orig_in21k_ft_in1k") == (
        "timm:vit_base_patch16_224.orig_in21k_ft_in1k")


def test_benchmark_table_values_and_ids(out, ctx):
    with BVG.open(newline="", encoding="utf-8") as fh:
        rows = {r["model"]: r for r in csv.DictReader(fh)}
    assert len(rows) == 70 and len({a["name_in_source"] for a in out.aliases
                                    if a["source_id"] == "biases_vs_generalization"}) == 70
    sin = alias(out, "biases_vs_generalization", "resnet50_trained_on_SIN")
    assert sin == "robustbench:Geirhos2018_SIN"  # curated: the texture-vs-shape release = RobustBench's
    assert get(out, sin, "biases_vs_generalization")["value"] == float(rows["resnet50_trained_on_SIN"]["shape-bias"])
    assert get(out, sin, "biases_vs_generalization", "imagenet_top1")["value"] == float(
        rows["resnet50_trained_on_SIN"]["top1_acc/imagenet"])  # percent, as published
    a1 = alias(out, "biases_vs_generalization", "resnet50.a1_in1k")
    assert a1 == "timm:resnet50.a1_in1k" and a1.split(":")[1] in ctx.resolver.timm_names
    assert get(out, a1, "biases_vs_generalization", "shift_top1", "imagenet-sketch")["value"] == float(
        rows["resnet50.a1_in1k"]["top1_acc/imagenet-sketch"])
    assert get(out, a1, "biases_vs_generalization", "imagenet_c_top1")["value"] == float(
        rows["resnet50.a1_in1k"]["top1_acc/imagenet-c"])
    eps3 = alias(out, "biases_vs_generalization", "robust_resnet50_l2_eps3")
    assert get(out, eps3, "biases_vs_generalization", "pgd_top1", "linf-pgd40-high-eps")["value"] == float(
        rows["robust_resnet50_l2_eps3"]["top1_acc/PGD-40/high"])
    assert alias(out, "biases_vs_generalization", "resnet50_untrained") == "bvg:resnet50_untrained"
    assert alias(out, "biases_vs_generalization", "tv_resnet50") == "timm:resnet50.tv_in1k"
    lpmix = alias(out, "biases_vs_generalization", "resnet50_lpmix")  # blank ImageNet-C stays missing
    assert not [s for s in out.scores if s["model_id"] == lpmix and s["property_id"] == "imagenet_c_top1"]
    paradigm = {m["model_id"]: m["paradigm"] for m in out.models if m["source_id"] == "biases_vs_generalization"}
    assert paradigm[eps3] == "adversarial" and paradigm[alias(out, "biases_vs_generalization",
                                                                "resnet50_swav")] == "self-supervised"


def _copy(tmp_path, ctx, folder) -> BuildContext:
    shutil.copytree(DEFAULT_SOURCES / folder, tmp_path / folder)
    return BuildContext(tmp_path, ctx.resolver)


def test_each_data_set_is_one_part():
    assert tuple(shape_bias.PARTS) == FOLDERS


def test_malformed_image_name_names_file_and_line(tmp_path, ctx):
    bad = _copy(tmp_path, ctx, "model_vs_human")
    f = tmp_path / "model_vs_human" / "raw-data" / "cue-conflict" / "cue-conflict_resnet50_session-1.csv"
    lines = f.read_text(encoding="utf-8").splitlines()
    lines[10] = lines[10].rsplit(",", 1)[0] + ",airplane1_bicycle2.png"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SourceFileError) as e:
        shape_bias.PARTS["model_vs_human"](bad, Collector())
    assert "cue-conflict_resnet50_session-1.csv" in str(e.value) and e.value.line == 11


def test_truncated_trial_file_is_rejected(tmp_path, ctx):
    bad = _copy(tmp_path, ctx, "vlm_shapebias")
    f = tmp_path / "vlm_shapebias" / "raw-data" / "inet_classifier" / "resnet50.csv"
    f.write_text("\n".join(f.read_text(encoding="utf-8").splitlines()[:-5]) + "\n", encoding="utf-8")
    with pytest.raises(SourceFileError, match="expected 1280 cue-conflict trials") as e:
        shape_bias.PARTS["vlm_shapebias"](bad, Collector())
    assert "resnet50.csv" in str(e.value)


def test_bad_benchmark_value_names_line_and_column(tmp_path, ctx):
    bad = _copy(tmp_path, ctx, "biases_vs_generalization")
    f = tmp_path / "biases_vs_generalization" / "raw-data" / "benchmark.csv"
    text = f.read_text(encoding="utf-8")
    f.write_text(text.replace("resnet50_trained_on_SIN,60.18000000366211,", "resnet50_trained_on_SIN,sixty,", 1),
                 encoding="utf-8")
    with pytest.raises(SourceFileError) as e:
        shape_bias.PARTS["biases_vs_generalization"](bad, Collector())
    assert "benchmark.csv" in str(e.value) and e.value.line == 43 and "top1_acc/imagenet" in str(e.value)
