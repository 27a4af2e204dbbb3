from __future__ import annotations

import csv
import shutil

import pandas as pd
import pytest

from advisor.errors import SourceFileError
from advisor.store.build import DEFAULT_SOURCES
from advisor.store.sources import open_clip as ing
from advisor.store.sources.base import BuildContext, Collector

RAW = DEFAULT_SOURCES / "open_clip"


@pytest.fixture(scope="module")
def out(ingest) -> Collector:
    return ingest("open_clip")


@pytest.fixture(scope="module")
def scores(out) -> pd.DataFrame:
    return pd.DataFrame(out.scores)


def raw(name: str) -> list[dict]:
    with (RAW / name).open(newline="") as fh:
        return list(csv.DictReader(fh))


def one(scores, mid, prop, item=""):
    hit = scores[(scores.model_id == mid) & (scores.property_id == prop) & (scores.item == item)]
    assert len(hit) == 1, (mid, prop, item, hit)
    return hit.iloc[0]


def test_every_pair_is_a_model(out, ctx):
    pairs = {f"open_clip:{r['name']}.{r['pretrained']}" for r in raw(ing.RESULTS)}
    assert len(pairs) == 121
    twins = {f"open_clip:{a}-quickgelu.openai" for a in ("RN50", "RN101", "ViT-B-32")}  # curated: same weights
    assert {m["model_id"] for m in out.models} == pairs - twins
    assert {f"open_clip:{m}" for m in ctx.resolver.open_clip_names} == pairs
    m = next(m for m in out.models if m["model_id"] == "open_clip:ViT-B-32.laion2b_s34b_b79k")
    assert (m["loader"], m["load_name"], m["paradigm"], m["arch_type"]) == (
        "open_clip", "ViT-B-32/laion2b_s34b_b79k", "clip", "vision-language")
    assert m["pretrain_data"] == "laion2b" and m["img_size"] == 224 and m["family"] == "vit"


def test_values_are_percent_and_routed_by_column(scores):
    row = next(r for r in raw(ing.RESULTS) if (r["name"], r["pretrained"]) == ("ViT-L-14", "openai"))
    mid = "open_clip:ViT-L-14.openai"
    assert one(scores, mid, "imagenet_top1").value == pytest.approx(100 * float(row["ImageNet 1k"]))
    assert "zero-shot" in one(scores, mid, "imagenet_top1").note
    assert one(scores, mid, "shift_top1", "objectnet").value == pytest.approx(100 * float(row["ObjectNet"]))
    assert one(scores, mid, "shift_top1", "imagenet-v2").value == pytest.approx(100 * float(row["ImageNet v2"]))
    assert one(scores, mid, "zero_shot_top1", "imagenet-o").value == pytest.approx(100 * float(row["ImageNet-O"]))
    assert one(scores, mid, "zero_shot_top1", "dollar-street").value == pytest.approx(
        100 * float(row["Dollar Street"]))
    assert "mean per-class recall" in one(scores, mid, "zero_shot_top1", "caltech-101").note
    assert one(scores, mid, "params_m").value == float(row["params (M)"])
    assert one(scores, mid, "gflops").value == float(row["FLOPs (B)"])
    per_model = scores[scores.model_id == mid]
    # 38 data sets + params, GFLOPs (whole model) + image-tower params, GFLOPs; no published average
    assert len(per_model) == 38 + 4
    assert set(scores[scores.property_id == "shift_top1"].item) == set(ing.SHIFT_ITEMS.values())


def test_profile_is_per_architecture_and_consistent(scores):
    prof = {r["model"]: r for r in raw(ing.PROFILE)}
    for r in raw(ing.RESULTS)[::10]:
        p = prof[r["name"]]
        assert float(p["mparams"]) == pytest.approx(float(r["params (M)"]), abs=0.5)
        assert float(p["gflops"]) == pytest.approx(float(r["FLOPs (B)"]), abs=0.5)
        mid = f"open_clip:{r['name']}.{r['pretrained']}"
        assert one(scores, mid, "gflops", "image-tower").value == float(p["image_gflops"])
        assert one(scores, mid, "params_m", "image-tower").value == float(p["image_mparams"])


@pytest.mark.parametrize(("tag", "data"), [
    ("laion2b_s34b_b79k", ("laion2b", None)), ("openai", ("openai", None)),
    ("datacomp_xl_s13b_b90k", ("datacomp-xl", None)), ("laion400m_e32", ("laion400m", None)),
    ("mscoco_finetuned_laion2b_s13b_b90k", ("laion2b", "mscoco")), ("frozen_laion5b_s13b_b90k", ("laion5b", None)),
    ("laion_aesthetic_s13b_b82k_augreg", ("laion-aesthetic", None)), ("v1", (None, None)),
])
def test_pretrain_data_from_tag(tag, data):
    assert ing.pretrain_of(tag) == data


def _broken(tmp_path, ctx, line_no: int, column: str, value: str) -> BuildContext:
    shutil.copytree(RAW, tmp_path / "open_clip")
    path = tmp_path / "open_clip" / ing.RESULTS
    rows = list(csv.reader(path.open(newline="")))
    rows[line_no - 1][rows[0].index(column)] = value
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return BuildContext(tmp_path, ctx.resolver)


def test_bad_value_names_file_and_line(tmp_path, ctx):
    bad = _broken(tmp_path, ctx, 9, "GTSRB", "n/a")
    with pytest.raises(SourceFileError, match=r"openclip_results\.csv, line 9: column 'GTSRB'"):
        ing.ingest(bad, Collector())


def test_percent_where_a_fraction_belongs_is_rejected(tmp_path, ctx):
    bad = _broken(tmp_path, ctx, 4, "MNIST", "83.5")
    with pytest.raises(SourceFileError, match=r"line 4: column 'MNIST'.*fraction"):
        ing.ingest(bad, Collector())
