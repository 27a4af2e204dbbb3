from __future__ import annotations

import csv
import shutil

import pandas as pd
import pytest

from advisor.errors import SourceFileError
from advisor.store.build import DEFAULT_SOURCES
from advisor.store.sources import imagenet_testbed as ing
from advisor.store.sources.base import BuildContext, Collector

RAW = DEFAULT_SOURCES / "imagenet_testbed"
ALIASES = DEFAULT_SOURCES / "curated" / "aliases_testbed.csv"


@pytest.fixture(scope="module")
def out(ingest) -> Collector:
    return ingest("imagenet_testbed")


@pytest.fixture(scope="module")
def scores(out) -> pd.DataFrame:
    return pd.DataFrame(out.scores)


@pytest.fixture(scope="module")
def raw() -> dict[str, dict]:
    with (RAW / ing.FILE).open(newline="") as fh:
        return {r["model"]: r for r in csv.DictReader(fh)}


def one(scores, mid, prop, item=""):
    hit = scores[(scores.model_id == mid) & (scores.property_id == prop) & (scores.item == item)]
    assert len(hit) == 1, (mid, prop, item, hit)
    return hit.iloc[0]


def test_counts_and_ids(out, scores, raw):
    assert len(raw) == 338
    names = {a["name_in_source"] for a in out.aliases}
    assert len(names) == len(out.models) == 335  # 3 models have only class-subsampled evaluations
    assert all(raw[n]["val"] == "" for n in set(raw) - names)
    conf = pd.DataFrame(out.aliases).confidence.value_counts()
    merges = [r for r in csv.DictReader((ALIASES.parent / "aliases_duplicates.csv").open())
              if r["source_id"] == "imagenet_testbed"]
    assert conf["curated"] == len(list(csv.DictReader(ALIASES.open()))) + len(merges) == 107 + 23
    mids = {a["name_in_source"]: a["model_id"] for a in out.aliases}
    assert mids["resnet50"] == "timm:resnet50.tv_in1k"
    assert mids["FixResNet50"] == "testbed:FixResNet50"
    assert mids["instagram-resnext101_32x48d"] == "testbed:instagram-resnext101_32x48d"  # no timm twin
    assert mids["mnasnet0_5"] == "testbed:mnasnet0_5"  # older weights than torchvision's IMAGENET1K_V1


def test_values_match_raw(scores, raw):
    r = raw["resnet50"]
    mid = "timm:resnet50.tv_in1k"
    assert one(scores, mid, "imagenet_top1").value == float(r["val"])
    assert one(scores, mid, "shift_top1", "imagenet-v2").value == float(r["imagenetv2-matched-frequency"])
    assert one(scores, mid, "shift_top1", "objectnet").value == float(r["objectnet-1.0-beta"])
    assert one(scores, mid, "shift_top1", "ytbb-robust").value == float(r["ytbb-robust_pm0"])
    assert one(scores, mid, "pgd_top1", "linf-0.5/255").value == float(r["pgd.linf.eps0.5"])
    assert one(scores, mid, "pgd_top1", "l2-0.1").value == float(r["pgd.l2.eps0.1"])
    zs = one(scores, "open_clip:ViT-B-32.openai", "imagenet_top1")
    assert zs.value == float(raw["vit_b_32_clip_zeroshot"]["val"]) and zs.note == "zero-shot"


def test_imagenet_c_means_on_disk(scores, raw):
    r = raw["densenet121"]
    cols = [f"imagenet-c.{c}.{s}_on-disk" for c in ing.CORRUPTIONS for s in range(1, 6)]
    mid = "timm:densenet121.tv_in1k"
    s = one(scores, mid, "imagenet_c_top1")
    assert s.value == pytest.approx(sum(float(r[c]) for c in cols) / 75) and s.precision == "computed-from-raw"
    glass = [float(r[f"imagenet-c.glass_blur.{k}_on-disk"]) for k in range(1, 6)]
    assert one(scores, mid, "imagenet_c_top1", "glass_blur").value == pytest.approx(sum(glass) / 5)
    assert "extra" in one(scores, mid, "imagenet_c_top1", "spatter").note
    c = scores[(scores.property_id == "imagenet_c_top1")]
    complete = [n for n, row in raw.items() if all(row[col] != "" for col in cols)]
    assert (c.item == "").sum() == len(complete) == 200
    assert c.item.nunique() == 1 + 19


def test_curated_aliases_are_consistent(ctx, raw):
    timm_top1 = {}
    with (DEFAULT_SOURCES / "timm" / "results-imagenet.csv").open(newline="") as fh:
        for r in csv.DictReader(fh):
            timm_top1.setdefault(r["model"], float(r["top1"]))
    rows = list(csv.DictReader(ALIASES.open(newline="")))
    assert {r["source_id"] for r in rows} == {"imagenet_testbed"}
    for r in rows:
        assert r["name_in_source"] in raw, r
        ns, name = r["model_id"].split(":", 1)
        assert ns in {"timm", "torchvision", "open_clip", "antialiased"}, r
        if ns == "open_clip":
            assert name in ctx.resolver.open_clip_names
        if ns == "timm":  # mapped only where timm publishes that checkpoint, and the accuracies agree
            assert name in ctx.resolver.timm_names, r
            assert abs(float(raw[r["name_in_source"]]["val"]) - timm_top1[name]) < 0.8, r


@pytest.mark.parametrize(("name", "meta"), [
    ("resnet50_linf_eps8_robust", {"family": "resnet", "arch_type": "CNN", "paradigm": "adversarial"}),
    ("densenet121_lpf3", {"family": "densenet", "arch_type": "CNN", "paradigm": "supervised"}),
    ("mnasnet0_5", {"family": "mnasnet", "arch_type": "CNN", "paradigm": "supervised"}),
    ("resnet50_swav", {"family": "resnet", "arch_type": "CNN", "paradigm": "self-supervised"}),
    ("identity32_lstsq", {"family": None, "arch_type": None, "paradigm": "supervised"}),
])
def test_testbed_meta(name, meta):
    assert ing.testbed_meta(name) == meta


def test_bad_cell_names_file_and_line(tmp_path, ctx):
    shutil.copytree(RAW, tmp_path / "imagenet_testbed")
    shutil.copytree(DEFAULT_SOURCES / "curated", tmp_path / "curated")
    path = tmp_path / "imagenet_testbed" / ing.FILE
    rows = list(csv.reader(path.open(newline="")))
    rows[12][rows[0].index("imagenet-c.fog.3_on-disk")] = "?"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with pytest.raises(SourceFileError, match=r"robustness_top1s\.csv, line 13: column 'imagenet-c\.fog\.3_on-disk'"):
        ing.ingest(BuildContext(tmp_path, ctx.resolver), Collector())


def test_video_frame_consistency_is_pm10_over_pm0(ingest):
    import pandas as pd

    from advisor.store.build import DEFAULT_SOURCES

    out = ingest("imagenet_testbed")
    s = pd.DataFrame(out.scores)
    ratio = s[s["property_id"] == "frame_consistency_ratio"]
    assert ratio["model_id"].nunique() >= 300
    raw = pd.read_csv(DEFAULT_SOURCES / "imagenet_testbed" / "robustness_top1s.csv").set_index("model")
    row = raw.loc["resnet50"]
    got = ratio[(ratio["model_id"] == "timm:resnet50.tv_in1k") & (ratio["item"] == "ytbb-robust")]["value"]
    assert got.iloc[0] == row["ytbb-robust_pm10"] / row["ytbb-robust_pm0"]
    assert (ratio["value"] <= 1.0).all() and (ratio["precision"] == "computed-from-raw").all()


@pytest.mark.parametrize("name, origin", [
    ("fbresnet152", "Cadene's pretrainedmodels"),
    ("FixResNet50_v2", "FixRes"),
    ("BiT-M-R50x1-nonfinetuned", "BiT-M"),
    ("resnet50_aws_baseline", "trained by the imagenet-testbed authors"),
    ("resnet50-randomized_smoothing_noise_0.25", "Cohen et al. 2019"),
    ("vit_small_patch16_224", "2020 timm ViT"),
    ("mnasnet0_5", "later replaced by MNASNet0_5_Weights.IMAGENET1K_V1"),  # not today's torchvision weights
])
def test_testbed_notes_name_the_checkpoint_origin(out, name, origin):
    """Issue 19: every testbed id said "imagenet-testbed's own checkpoint", false for Cadene ports, FixRes, BiT..."""
    note = out.obtain[f"testbed:{name}"]["note"]
    assert origin in note and out.obtain[f"testbed:{name}"]["weights_from"] == "none known"


def test_every_testbed_id_has_a_known_origin(out):
    unknown = sorted(m for m, d in out.obtain.items() if m.startswith("testbed:") and "not recorded" in d["note"])
    assert not unknown, unknown


def test_lpf_models_are_the_antialiased_cnns_package_models(out):
    ids = {a["model_id"] for a in out.aliases if a["name_in_source"].endswith(("_lpf2", "_lpf3", "_lpf5"))}
    assert len(ids) == 27 and all(i.startswith("antialiased:") for i in ids)
