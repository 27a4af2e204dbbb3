from __future__ import annotations

import csv
import shutil
from collections import Counter

import pytest

from advisor.errors import SourceFileError
from advisor.store.build import DEFAULT_SOURCES
from advisor.store.sources import quba
from advisor.store.sources.base import BuildContext, Collector

RAW = DEFAULT_SOURCES / "quba"


@pytest.fixture(scope="module")
def out(ingest):
    return ingest("quba")


def raw_rows(name: str) -> list[dict[str, str]]:
    with (RAW / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def score(out, model_id, prop, item=""):
    hits = [s for s in out.scores if (s["model_id"], s["property_id"], s["item"]) == (model_id, prop, item)]
    assert len(hits) == 1, (model_id, prop, item, hits)
    return hits[0]


def alias(out, name):
    return next(a["model_id"] for a in out.aliases if a["name_in_source"] == name)


def test_counts_and_one_id_per_model(out):
    assert len(out.aliases) == 326
    assert len({a["model_id"] for a in out.aliases}) == 326
    assert len(out.scores) == 326 * 9
    per_prop = Counter(s["property_id"] for s in out.scores)
    assert set(per_prop) == {p for p, _ in quba.METRICS.values()} and set(per_prop.values()) == {326}
    assert {s["source_id"] for s in out.scores} == {"quba"}


def test_convnext_b_21k_is_the_timm_checkpoint(out):
    row = next(r for r in raw_rows("quba_models.csv") if r["model_id"] == "ConvNext-B-21k")
    assert row["source_library"] == "timm" and row["weights_ref"] == "convnext_base.fb_in22k_ft_in1k"
    assert alias(out, "ConvNext-B-21k") == "timm:convnext_base.fb_in22k_ft_in1k"


def test_values_match_the_page_record(out):
    page = {r["row"]: r for r in raw_rows("quba_index_html_data.csv")}
    models = raw_rows("quba_models.csv")
    for mid in ("AlexNet", "ConvNext-B-21k", "Salman2020Do-RN50", "bcos-convnext-base"):
        m = next(r for r in models if r["model_id"] == mid)
        p = page[m["html_row"]]
        cid = alias(out, mid)
        assert score(out, cid, "imagenet_top1")["value"] == pytest.approx(float(p["Accuracy"]) * 100)
        assert score(out, cid, "shape_bias")["value"] == float(p["Shape Bias"])
        assert score(out, cid, "calibration_error")["value"] == float(p["Calibration Error"])
        assert score(out, cid, "params_m")["value"] == float(p["Parameters"])
    assert score(out, alias(out, "AlexNet"), "imagenet_top1")["note"] == "published as a fraction; x100"


def test_params_stored_under_size_are_kept(out):
    page = raw_rows("quba_index_html_data.csv")
    size_rows = [r for r in page if r["Size"] and not r["Parameters"]]
    assert len(size_rows) == 22
    models = {r["html_row"]: r["model_id"] for r in raw_rows("quba_models.csv")}
    for r in size_rows:
        s = score(out, alias(out, models[r["row"]]), "params_m")
        assert s["value"] == float(r["Size"]) and "Size" in s["note"]


def test_label_errors_follow_model_id_not_display_name(out):
    # page row 145 is labelled "ViT-l/16" but holds ViT-B/32-21k (88.2 M parameters)
    vit_b32 = alias(out, "ViT-b-32-21k")
    assert vit_b32 == "timm:vit_base_patch32_224.augreg_in21k_ft_in1k"
    assert score(out, vit_b32, "params_m")["value"] == 88.2
    assert score(out, alias(out, "ViT-l-16-21k"), "params_m")["value"] == 304.3
    assert score(out, alias(out, "bcos-convnext-base"), "params_m")["value"] == 88.5


@pytest.mark.parametrize(("qid", "expected"), [
    ("ResNet50", "timm:resnet50.tv_in1k"),  # torchvision V1, republished by timm
    ("AlexNet", "torchvision:alexnet.IMAGENET1K_V1"),  # no timm twin
    ("ResNet50-A1", "timm:resnet50.a1_in1k"),  # RSB weight file = timm pretrained url
    ("EfficientNet-b0-A1", "quba:EfficientNet-b0-A1"),  # RSB file timm does not publish
    ("Salman2020Do-RN50", "robustbench:Salman2020Do_R50"),
    ("CLIP-B16-Laion2B", "open_clip:ViT-B-16.laion2b_s34b_b88k"),
    ("clip-vit-b-32", "open_clip:ViT-B-32.openai"),
    ("ResNet50-ig1B", "timm:resnet50.fb_swsl_ig1b_ft_in1k"),
    ("vit-b-16-mae-ft", "quba:vit-b-16-mae-ft"),
])
def test_canonical_ids(out, qid, expected):
    assert alias(out, qid) == expected


def test_model_metadata(out):
    meta = {m["display_name"]: m for m in out.models}
    assert meta["bcos-simple-vit-b-patch16-224"]["arch_type"] == "Transformer"
    assert meta["bcos-ResNet50"]["arch_type"] == "CNN"
    assert (meta["clip-vit-b-16"]["arch_type"], meta["clip-vit-b-16"]["paradigm"]) == ("vision-language", "clip")
    assert meta["ViT-b-14-dinoV2-LP"]["paradigm"] == "self-supervised"
    assert meta["ResNet50-A1"]["paradigm"] == "supervised"
    assert meta["Salman2020Do-RN50"]["paradigm"] == "adversarial"
    assert meta["NS-EfficientNet-B0"]["paradigm"] == "semi-supervised"
    assert meta["ConvNext-B-21k"]["pretrain_data"] == "ImageNet-21k"
    assert (meta["ConvNext-B-21k"]["loader"], meta["ConvNext-B-21k"]["load_name"]) == (
        "timm", "convnext_base.fb_in22k_ft_in1k")
    assert (meta["CLIP-B16-Laion2B"]["loader"], meta["CLIP-B16-Laion2B"]["load_name"]) == (
        "open_clip", "ViT-B-16.laion2b_s34b_b88k")
    assert meta["BagNet33"]["loader"] is None


def test_normalization_reproduces_quba_z_scores(ctx, out):
    norm = quba.quba_normalization(ctx)
    assert len(norm) == 9 and set(norm["source_id"]) == {"quba"}
    assert norm.set_index("property_id").loc["imagenet_top1", "scale"] == 100
    assert (norm.drop(columns="dimension").set_index("property_id")["scale"].drop("imagenet_top1") == 1).all()
    raw = next(r for r in raw_rows("quba_index_html_data.csv") if r["Model"] == "AlexNet")
    acc = norm.set_index("dimension").loc["Accuracy"]
    stored = score(out, alias(out, "AlexNet"), "imagenet_top1")["value"]
    assert (stored / acc["scale"] - acc["mean"]) / acc["std"] == pytest.approx(
        (float(raw["Accuracy"]) - acc["mean"]) / acc["std"])
    assert (norm["default_weight_signed"] < 0).sum() == 2  # calibration error and parameters
    assert quba.quba_normalization(RAW).equals(norm)


def _copy(tmp_path, ctx) -> BuildContext:
    shutil.copytree(RAW, tmp_path / "quba")
    return BuildContext(tmp_path, ctx.resolver)


def test_ragged_row_names_file_and_line(tmp_path, ctx):
    bad = _copy(tmp_path, ctx)
    f = tmp_path / "quba" / "quba_models.csv"
    lines = f.read_text(encoding="utf-8").splitlines()
    lines[7] += ",extra"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SourceFileError) as e:
        quba.ingest(bad, Collector())
    assert "quba_models.csv" in str(e.value) and e.value.line == 8


def test_value_differing_from_page_is_reported(tmp_path, ctx):
    bad = _copy(tmp_path, ctx)
    f = tmp_path / "quba" / "quba_index_html_data.csv"
    text = f.read_text(encoding="utf-8").replace("0,AlexNet,CNN,ImageNet-1k,■ Supervised learning,,"
                                                 "ImageNet classification with deep convolutional neural networks,"
                                                 "0.5652", "0,AlexNet,CNN,ImageNet-1k,■ Supervised learning,,"
                                                 "ImageNet classification with deep convolutional neural networks,"
                                                 "0.6652", 1)
    f.write_text(text, encoding="utf-8")
    with pytest.raises(SourceFileError) as e:
        quba.ingest(bad, Collector())
    assert "quba_models.csv" in str(e.value) and e.value.line == 2 and "Accuracy" in str(e.value)


def test_non_number_names_file_line_and_column(tmp_path, ctx):
    bad = _copy(tmp_path, ctx)
    f = tmp_path / "quba" / "quba_normalization.csv"
    lines = f.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("0.5298791080592711", "n/a")
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SourceFileError) as e:
        quba.quba_normalization(bad)
    assert "quba_normalization.csv" in str(e.value) and e.value.line == 4 and "'mean'" in str(e.value)


def test_release_files_are_a_url_and_a_checksum(out):
    """Issue 19: `pretrained_cfg_overlay=dict(file=...)` with a bare file name raised FileNotFoundError."""
    routes = {m: d for m, d in out.obtain.items() if d["weights_from"] == "release file"}
    assert len(routes) == 36
    for mid, d in routes.items():
        name = d["weights_url"].rsplit("/", 1)[-1]
        assert d["weights_url"] == quba.RSB_RELEASE + name, mid
        assert name.rsplit("-", 1)[-1] == f"{d['weights_sha256']}.pth" and len(d["weights_sha256"]) == 8
        assert f'url="{d["weights_url"]}", hf_hub_id=None' in d["load_call"] and "file=" not in d["load_call"]


def test_coarse_data_category_is_labelled_as_such(out):
    meta = {m["display_name"]: m for m in out.models}
    assert meta["ViT-l-14-dinoV2-LP"]["pretrain_data"].startswith("large-scale data (QUBA's coarse category")
