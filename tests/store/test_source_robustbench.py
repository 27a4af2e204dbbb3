from __future__ import annotations

import csv
import json
import shutil

import pandas as pd
import pytest

from advisor.errors import SourceFileError
from advisor.store.build import DEFAULT_SOURCES
from advisor.store.sources import robustbench as ing
from advisor.store.sources.base import BuildContext, Collector

RAW = DEFAULT_SOURCES / "robustbench"
LINF = RAW / ing.LINF_DIR
CORR = RAW / ing.CORR_DIR


@pytest.fixture(scope="module")
def out(ingest) -> Collector:
    return ingest("robustbench")


@pytest.fixture(scope="module")
def scores(out) -> pd.DataFrame:
    return pd.DataFrame(out.scores)


def one(scores, mid, prop, item="", source=None):
    hit = scores[(scores.model_id == mid) & (scores.property_id == prop) & (scores.item == item)]
    if source:
        hit = hit[hit.source_id == source]
    assert len(hit) == 1, (mid, prop, item, hit)
    return hit.iloc[0]


def test_counts_and_curated_ids(out, scores):
    assert (scores.property_id == "autoattack_top1").sum() == len(list(LINF.glob("*.json"))) == 30
    assert (scores[scores.item == ""].property_id == "imagenet_c_mce").sum() == len(list(CORR.glob("*.json"))) == 12
    ids = {m["model_id"] for m in out.models}
    assert len(ids) == 30 + 12 - 2  # Standard_R50 and the WRN-50-2 L-inf checkpoint are on both boards
    assert {"timm:resnet50.tv_in1k", "torchvision:alexnet.IMAGENET1K_V1", "robustbench:Salman2020Do_50_2"} <= ids
    aliases = {(a["source_id"], a["name_in_source"]): (a["model_id"], a["confidence"]) for a in out.aliases}
    assert aliases[("robustbench_linf", "Standard_R50")] == ("timm:resnet50.tv_in1k", "curated")
    assert aliases[("robustbench_corruptions", "Salman2020Do_50_2_Linf")][0] == "robustbench:Salman2020Do_50_2"
    assert aliases[("robustbench_linf", "Wong2020Fast")] == ("robustbench:Wong2020Fast", "exact")
    paradigms = {m["model_id"]: m["paradigm"] for m in out.models}
    assert paradigms["robustbench:Wong2020Fast"] == "adversarial"
    assert paradigms["timm:resnet50.tv_in1k"] == "supervised"
    alex = next(m for m in out.models if m["model_id"].startswith("torchvision:alexnet"))
    assert (alex["loader"], alex["load_name"]) == ("torchvision", "alexnet.IMAGENET1K_V1")


def test_linf_values_match_json(scores):
    d = json.loads((LINF / "Liu2023Comprehensive_Swin-L.json").read_text())
    mid = "robustbench:Liu2023Comprehensive_Swin-L"
    assert one(scores, mid, "autoattack_top1", "linf-4/255").value == float(d["autoattack_acc"])
    clean = one(scores, mid, "imagenet_top1")
    assert clean.value == float(d["clean_acc"]) and clean.note == "RobustBench clean"
    d = json.loads((LINF / "Amini2024MeanSparse_ConvNeXt-L.json").read_text())
    s = one(scores, "robustbench:Amini2024MeanSparse_ConvNeXt-L", "autoattack_top1", "linf-4/255")
    assert s.value == float(d["autoattack_acc"]) and d["external"] in s.note
    # Standard_R50's clean accuracy is stated by both leaderboards, each as its own source
    r50 = scores[(scores.model_id == "timm:resnet50.tv_in1k") & (scores.property_id == "imagenet_top1")]
    assert set(r50.source_id) == {"robustbench_linf", "robustbench_corruptions"}
    assert all(75 < v < 78 for v in r50.value)  # torchvision V1 weights (76.1 on full val), not V2 (80.9)


def test_corruptions_from_json_and_unaggregated_csv(scores):
    d = json.loads((CORR / "Hendrycks2020AugMix.json").read_text())
    mid = "robustbench:Hendrycks2020AugMix"
    assert one(scores, mid, "imagenet_c_top1").value == float(d["corruptions_acc"])
    assert one(scores, mid, "imagenet_c_mce").value == float(d["corruptions_mce"])
    assert one(scores, mid, "imagenet_3dcc_top1").value == float(d["corruptions_acc_3d"])
    with (CORR / ing.CSV_2D).open(newline="") as fh:
        rows = list(csv.reader(fh))
    header, row = rows[0], next(r for r in rows if r[0] == "Hendrycks2020AugMix")
    fog = [float(v) for h, v in zip(header[1:], row[1:], strict=True) if h == "fog"]
    assert len(fog) == 5
    s = one(scores, mid, "imagenet_c_top1", "fog")
    assert s.value == pytest.approx(100 * sum(fog) / 5) and s.precision == "computed-from-raw"
    per = scores[(scores.model_id == mid) & (scores.property_id == "imagenet_c_top1") & (scores.item != "")]
    assert len(per) == 15
    assert per.value.mean() == pytest.approx(float(d["corruptions_acc"]), abs=0.006)  # JSON is rounded to 0.01
    per3d = scores[(scores.model_id == mid) & (scores.property_id == "imagenet_3dcc_top1") & (scores.item != "")]
    assert len(per3d) == 12


@pytest.mark.parametrize(("arch", "family", "kind"), [
    ("ViT-B + ConvStem", "vit", "hybrid"), ("ConvNeXt-L + ConvStem", "convnext", "CNN"), ("XCiT-M12", "xcit",
     "Transformer"), ("ConvNeXtV2-L + Swin-L", None, None), ("RaWideResNet-101-2", "wide_resnet", "CNN"),
])
def test_arch_meta(arch, family, kind):
    assert ing.arch_meta(arch) == {"family": family, "arch_type": kind}


def _copy(tmp_path, ctx) -> BuildContext:
    shutil.copytree(RAW, tmp_path / "robustbench")
    return BuildContext(tmp_path, ctx.resolver)


def test_broken_json_names_file_and_line(tmp_path, ctx):
    bad = _copy(tmp_path, ctx)
    path = tmp_path / "robustbench" / ing.LINF_DIR / "Wong2020Fast.json"
    path.write_text(path.read_text().replace('"clean_acc": "55.62",', '"clean_acc": 55.62,,'))
    with pytest.raises(SourceFileError, match=r"Wong2020Fast\.json, line \d+: invalid JSON"):
        ing.ingest(bad, Collector())


def test_bad_cell_in_unaggregated_csv(tmp_path, ctx):
    bad = _copy(tmp_path, ctx)
    path = tmp_path / "robustbench" / ing.CORR_DIR / ing.CSV_2D
    lines = path.read_text().splitlines(keepends=True)
    lines[5] = lines[5].replace(",", ",x", 1)
    path.write_text("".join(lines))
    with pytest.raises(SourceFileError, match=r"unaggregated_results\.csv, line 6"):
        ing.ingest(bad, Collector())
