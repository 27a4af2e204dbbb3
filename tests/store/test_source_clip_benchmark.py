from __future__ import annotations

import csv
import json
import shutil

import pandas as pd
import pytest

from advisor.errors import SourceFileError
from advisor.store.build import DEFAULT_SOURCES, collect, make_context
from advisor.store.sources import clip_benchmark as ing
from advisor.store.sources.base import BuildContext, Collector

RAW = DEFAULT_SOURCES / "clip_benchmark"


@pytest.fixture(scope="module")
def ctx():
    return make_context()


@pytest.fixture(scope="module")
def both(ctx) -> pd.DataFrame:
    return pd.DataFrame(collect(ctx, ("open_clip", "clip_benchmark")).scores)


@pytest.fixture(scope="module")
def scores(both) -> pd.DataFrame:
    return both[both.source_id.str.startswith("clip_benchmark")]


def one(scores, mid, prop, item=""):
    hit = scores[(scores.model_id == mid) & (scores.property_id == prop) & (scores.item == item)]
    assert len(hit) == 1, (mid, prop, item, hit)
    return hit.iloc[0]


def test_linear_probe_is_best_of_sweep(scores):
    recs = json.loads((RAW / ing.LP_FILE).read_text())
    runs = [r for r in recs if r["fewshot_k"] == -1 and r["model_short"] == "ViT-B-32-quickgelu laion400m_e32"
            and r["dataset"] == "cifar100"]
    assert len(runs) == 9 and len({r["lp_acc1"] for r in runs}) > 1
    s = one(scores, "open_clip:ViT-B-32-quickgelu.laion400m_e32", "linear_probe_top1", "cifar-100-torchvision")
    assert s.value == pytest.approx(100 * max(r["lp_acc1"] for r in runs))
    assert "9-run" in s.note and s.precision == "computed-from-raw"
    lp = scores[scores.property_id == "linear_probe_top1"]
    assert len(lp) == 12 * 21 and lp.model_id.nunique() == 12
    svhn = [r["lp_acc1"] for r in recs if r["fewshot_k"] == -1 and r["dataset"] == "vtab_svhn"
            and r["model_short"] == "ViT-L-14 openai"]
    assert one(scores, "open_clip:ViT-L-14.openai", "linear_probe_top1", "svhn").value == pytest.approx(
        100 * max(svhn))


def test_zero_shot_uses_the_openclip_metric(scores):
    rows = list(csv.DictReader((RAW / ing.ZS_FILE).open(newline="")))
    get = {(r["model"], r["pretrained"], r["dataset"]): r for r in rows}
    mid = "open_clip:ViT-L-14.openai"
    r = get[("ViT-L-14", "openai", "imagenet1k")]
    assert one(scores, mid, "imagenet_top1").value == pytest.approx(100 * float(r["acc1"]))
    r = get[("ViT-L-14", "openai", "vtab/caltech101")]
    s = one(scores, mid, "zero_shot_top1", "caltech-101")
    assert s.value == pytest.approx(100 * float(r["mean_per_class_recall"])) and "per-class" in s.note
    r = get[("ViT-L-14", "openai", "cars")]
    assert one(scores, mid, "zero_shot_top1", "stanford-cars").value == pytest.approx(100 * float(r["acc1"]))
    r = get[("ViT-L-14", "openai", "imagenet_sketch")]
    assert one(scores, mid, "shift_top1", "imagenet-sketch").value == pytest.approx(100 * float(r["acc1"]))
    zs = scores[scores.source_id == "clip_benchmark_zeroshot"]
    assert zs.model_id.nunique() == 13
    assert not zs.item.isin(["flickr8k", "flickr30k", "mscoco_captions", "flickr", "mscoco"]).any()
    assert len(zs) == 13 * 36  # 39 data sets less the 3 retrieval ones


def test_items_align_with_open_clip(both):
    oc_items = set(both[both.source_id == "open_clip_results"].item)
    cb = both[both.source_id == "clip_benchmark_zeroshot"]
    cb_only = {"fer2013", "pascal-voc-2007-multilabel", "diabetic-retinopathy", "dmlab", "dsprites-orientation",
               "dsprites-x-position", "smallnorb-azimuth", "smallnorb-elevation"}
    assert set(cb.item) - oc_items == cb_only
    # same model, same item: the two sources agree closely on ImageNet and its shifts
    key = ["model_id", "property_id", "item"]
    m = cb.merge(both[both.source_id == "open_clip_results"], on=key, suffixes=("_cb", "_oc"))
    inet = m[m.property_id.isin(["imagenet_top1", "shift_top1"])]
    assert len(inet) == 13 * 6
    assert (inet.value_cb - inet.value_oc).abs().max() < 0.5


def _copy(tmp_path, ctx) -> BuildContext:
    shutil.copytree(RAW, tmp_path / "clip_benchmark")
    return BuildContext(tmp_path, ctx.resolver)


def test_broken_json_names_file_and_line(tmp_path, ctx):
    bad = _copy(tmp_path, ctx)
    path = tmp_path / "clip_benchmark" / ing.LP_FILE
    path.write_text('[\n{"model": "ViT-B-32",\n "lp_acc1": }\n]')
    with pytest.raises(SourceFileError, match=r"scaling_experiment_data2\.json, line 3: invalid JSON"):
        ing.ingest(bad, Collector())


def test_bad_number_in_zero_shot_csv(tmp_path, ctx):
    bad = _copy(tmp_path, ctx)
    path = tmp_path / "clip_benchmark" / ing.ZS_FILE
    rows = list(csv.reader(path.open(newline="")))
    i = next(n for n, r in enumerate(rows) if r[3] == "cars")
    rows[i][0] = "high"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with pytest.raises(SourceFileError, match=rf"benchmark\.csv, line {i + 1}: column 'acc1'"):
        ing.ingest(bad, Collector())
