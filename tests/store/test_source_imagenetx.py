from __future__ import annotations

import csv
import shutil
from collections import Counter

import pytest

from advisor.errors import SourceFileError
from advisor.store.build import DEFAULT_SOURCES
from advisor.store.sources import imagenetx
from advisor.store.sources.base import BuildContext, Collector

RAW = DEFAULT_SOURCES / "imagenetx"


def raw(group: str) -> dict[str, dict[str, str]]:
    path = RAW / "results" / "val" / "top_factor" / group / "class" / "accuracies_per_factor.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        return {r["model"]: r for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def out(ingest):
    return ingest("imagenetx")


def alias(out, source_id, name):
    hits = [a["model_id"] for a in out.aliases if (a["source_id"], a["name_in_source"]) == (source_id, name)]
    assert len(hits) == 1, (source_id, name, hits)
    return hits[0]


def ratio(out, model_id, source_id, factor):
    hits = [s for s in out.scores if (s["model_id"], s["source_id"], s["item"]) == (model_id, source_id, factor)]
    assert len(hits) == 1
    return hits[0]


def test_counts_and_skipped_chance_level_rows(out):
    kept = {g: {n for n, r in raw(g).items() if float(r["average"]) >= 0.01}
            for g in ("imagenet_testbed", "modelvshuman", "base")}
    assert (len(kept["imagenet_testbed"]), len(kept["modelvshuman"]), len(kept["base"])) == (331, 52, 4)
    per_source = Counter(s["source_id"] for s in out.scores)
    assert per_source == {"imagenetx_testbed": 331 * 16, "imagenetx_mvh": 52 * 16, "imagenetx_base": 4 * 16}
    names = {a["name_in_source"] for a in out.aliases}
    assert {"selecsls42", "selecsls84", "resnet101_0_epochs"}.isdisjoint(names)
    assert {s["item"] for s in out.scores} == set(imagenetx.FACTORS)
    assert {s["property_id"] for s in out.scores} == {"imagenet_x_error_ratio"}


def test_error_ratio_is_computed_from_raw(out):
    row = raw("modelvshuman")["clip"]
    mid = alias(out, "imagenetx_mvh", "clip")
    assert mid == "open_clip:ViT-B-32.openai"
    for factor in ("pose", "texture", "object_blocking"):
        s = ratio(out, mid, "imagenetx_mvh", factor)
        assert s["value"] == pytest.approx((1 - float(row[factor])) / (1 - float(row["average"])))
        assert s["precision"] == "computed-from-raw"
    base = raw("base")["ViT"]
    s = ratio(out, "imagenetx:ViT", "imagenetx_base", "style")
    assert s["value"] == pytest.approx((1 - float(base["style"])) / (1 - float(base["average"])))


def test_names_follow_aliases_and_defaults(ctx, out):
    for name in raw("imagenet_testbed"):
        if any(a["name_in_source"] == name and a["source_id"] == "imagenetx_testbed" for a in out.aliases):
            curated = ctx.resolver.curated("imagenet_testbed", name)
            assert alias(out, "imagenetx_testbed", name) == (curated[0] if curated else f"testbed:{name}")
    assert alias(out, "imagenetx_mvh", "bagnet33") == "quba:BagNet33"
    assert alias(out, "imagenetx_mvh", "InfoMin") == "mvh:InfoMin"
    assert alias(out, "imagenetx_mvh", "resnet50_l2_eps3") == "mvh:resnet50_l2_eps3"
    assert alias(out, "imagenetx_mvh", "BiTM_resnetv2_50x1").split(":")[1] in ctx.resolver.timm_names


def test_sources_are_flagged_non_commercial(out):
    assert set(out.sources) == {"imagenetx_testbed", "imagenetx_mvh", "imagenetx_base"}
    for rec in out.sources.values():
        assert rec.non_commercial and rec.licence == "CC BY-NC 4.0"
        assert "top_factor" in rec.file and "/class/" in rec.file and "top factor, class labels" in rec.title


def _copy(tmp_path, ctx) -> BuildContext:
    shutil.copytree(RAW, tmp_path / "imagenetx")
    return BuildContext(tmp_path, ctx.resolver)


def _replace_line(path, index, old, new):
    lines = path.read_text(encoding="utf-8").splitlines()
    assert old in lines[index]
    lines[index] = lines[index].replace(old, new, 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_out_of_range_accuracy_names_file_and_line(tmp_path, ctx):
    bad = _copy(tmp_path, ctx)
    f = tmp_path / "imagenetx" / "results" / "val" / "top_factor" / "modelvshuman" / "class" / \
        "accuracies_per_factor.csv"
    _replace_line(f, 3, ",0.", ",7.")
    with pytest.raises(SourceFileError) as e:
        imagenetx.ingest(bad, Collector())
    assert "modelvshuman" in str(e.value) and e.value.line == 4 and "outside [0, 1]" in str(e.value)


def test_non_number_and_missing_column(tmp_path, ctx):
    bad = _copy(tmp_path, ctx)
    f = tmp_path / "imagenetx" / "results" / "val" / "top_factor" / "base" / "class" / "accuracies_per_factor.csv"
    _replace_line(f, 2, ",0.", ",x.")
    with pytest.raises(SourceFileError) as e:
        imagenetx.ingest(bad, Collector())
    assert "base" in str(e.value) and e.value.line == 3
    _replace_line(f, 0, ",average,", ",avg,")
    with pytest.raises(SourceFileError, match="missing columns") as e:
        imagenetx.ingest(bad, Collector())
    assert e.value.line == 1
