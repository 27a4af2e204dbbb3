from __future__ import annotations

import csv
import shutil

import pytest

from advisor.errors import SourceFileError
from advisor.store.build import DEFAULT_SOURCES
from advisor.store.sources import study
from advisor.store.sources.base import BuildContext, Collector

RAW = DEFAULT_SOURCES / "beyond_inet_paper"
IDS = {
    "vit_sup": "timm:deit3_base_patch16_224.fb_in22k_ft_in1k",
    "convnext_sup": "timm:convnext_base.fb_in22k_ft_in1k",
    "vit_clip": "open_clip:ViT-B-16.laion400m_e31",
    "convnext_clip": "open_clip:convnext_base.laion400m_s13b_b51k",
}
# what the study must bring for each model: need -> properties (any one suffices)
NEEDS = {
    "mistakes": {"imagenet_x_error_ratio"}, "shape bias": {"shape_bias"}, "calibration": {"ece_15bin"},
    "robustness": {"shift_top1", "imagenet_c_top1"}, "transfer": {"vtab_linear_probe_top1"},
    "synthetic": {"pug_imagenet_top1"},
    "invariance": {"invariance_scale_top1", "invariance_shift_top1", "invariance_resolution_top1"},
    "accuracy": {"imagenet_top1"}, "compute": {"params_m", "gmacs"},
}


@pytest.fixture(scope="module")
def out(ingest):
    return ingest("study")


def raw_results() -> list[dict[str, str]]:
    with (RAW / "paper_results.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def get(out, model_id, prop, item=""):
    hits = [s for s in out.scores if (s["model_id"], s["property_id"], s["item"]) == (model_id, prop, item)]
    assert len(hits) == 1, (model_id, prop, item, hits)
    return hits[0]


def test_four_checkpoint_ids_and_aliases(out):
    assert {s["model_id"] for s in out.scores} == set(IDS.values())
    names = {(a["name_in_source"], a["model_id"]) for a in out.aliases}
    assert {(k, v) for k, v in IDS.items()} <= names
    assert ("ConvNeXt-clip", IDS["convnext_clip"]) in names
    meta = {m["model_id"]: m for m in out.models}
    assert meta[IDS["vit_clip"]]["load_name"] == "ViT-B-16.laion400m_e31"
    assert meta[IDS["vit_clip"]]["paradigm"] == "clip" and meta[IDS["vit_sup"]]["arch_type"] == "Transformer"


@pytest.mark.parametrize("label", sorted(IDS))
def test_every_model_carries_every_need(out, label):
    props = {s["property_id"] for s in out.scores if s["model_id"] == IDS[label]}
    missing = [need for need, ps in NEEDS.items() if not ps <= props]
    assert not missing


def test_values_and_precision_are_verbatim(out):
    raw = raw_results()
    row = next(r for r in raw if (r["model"], r["property"], r["item"]) == ("convnext_sup", "pug_imagenet_top1",
                                                                             "camera_yaw"))
    s = get(out, IDS["convnext_sup"], "pug_imagenet_top1", "camera_yaw")
    assert s["value"] == float(row["value"]) and s["precision"] == row["precision"] == "figure-pixel ±0.3"
    sun = next(r for r in raw if r["model"] == "vit_clip" and r["item"] == "sun397")
    s = get(out, IDS["vit_clip"], "vtab_linear_probe_top1", "sun397")
    assert s["precision"] == sun["precision"] and "Sun397" in s["precision"]
    sb = get(out, IDS["vit_sup"], "shape_bias")
    assert sb["precision"] == "figure-pixel ±0.02" and sb["value"] == 0.4


def test_robustness_items_are_mapped(out):
    cx = IDS["convnext_sup"]
    assert get(out, cx, "shift_top1", "imagenet-a")["value"] == 52.9
    assert get(out, cx, "shift_top1", "average-7-shifts")["value"] == 60.7
    assert get(out, cx, "imagenet_c_top1")["value"] == 66.8
    assert get(out, cx, "imagenet_real_top1")["value"] == 89.5
    top1 = get(out, cx, "imagenet_top1")  # the robustness figure repeats it: stored once, exact read
    assert top1["value"] == 85.5 and top1["precision"] == "figure-text exact"
    assert get(out, IDS["vit_clip"], "ece_15bin", "imagenet-r")["value"] == 0.073
    assert get(out, IDS["vit_sup"], "invariance_scale_top1", "1.25")["value"] == 83.3
    assert not [s for s in out.scores if s["property_id"] == "robustness_top1"]


def test_compute_from_model_table(out):
    assert get(out, IDS["convnext_sup"], "gmacs")["value"] == 15.4
    assert get(out, IDS["vit_sup"], "params_m")["value"] == 87
    clip = get(out, IDS["vit_clip"], "params_m", "image-tower")
    assert clip["value"] == 87 and get(out, IDS["vit_clip"], "gmacs", "image-tower")["value"] == 17.5
    meta = {m["model_id"]: m for m in out.models}
    assert meta[IDS["vit_clip"]]["params_m"] is None  # the table counts the image tower only


def _copy(tmp_path, ctx) -> BuildContext:
    shutil.copytree(RAW, tmp_path / "beyond_inet_paper")
    return BuildContext(tmp_path, ctx.resolver)


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_malformed_value_names_file_and_line(tmp_path, ctx):
    bad = _copy(tmp_path, ctx)
    _edit(tmp_path / "beyond_inet_paper" / "paper_results.csv", "vit_sup,imagenet_x_error_ratio,color,,1.18,",
          "vit_sup,imagenet_x_error_ratio,color,,1.1.8,")
    with pytest.raises(SourceFileError) as e:
        study.ingest(bad, Collector())
    assert "paper_results.csv" in str(e.value) and e.value.line == 2


def test_unknown_property_and_conflicting_repeat_are_errors(tmp_path, ctx):
    bad = _copy(tmp_path, ctx)
    f = tmp_path / "beyond_inet_paper" / "paper_results.csv"
    _edit(f, "vit_sup,robustness_top1,imagenet_val,,85.5,", "vit_sup,robustness_top1,imagenet_val,,84.5,")
    with pytest.raises(SourceFileError, match="different values") as e:
        study.ingest(bad, Collector())
    assert e.value.line == 78
    _edit(f, "vit_sup,robustness_top1,imagenet_val,,84.5,", "vit_sup,robustness_top2,imagenet_val,,85.5,")
    with pytest.raises(SourceFileError, match="no mapping") as e:
        study.ingest(bad, Collector())
    assert e.value.line == 78


def test_unknown_checkpoint_is_rejected(tmp_path, ctx):
    bad = _copy(tmp_path, ctx)
    _edit(tmp_path / "beyond_inet_paper" / "models.csv", "convnext_base.fb_in22k_ft_in1k",
          "convnext_base.fb_in22k_ft_in1k_typo")
    with pytest.raises(SourceFileError) as e:
        study.ingest(bad, Collector())
    assert "models.csv" in str(e.value) and e.value.line == 3
