from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from advisor.errors import SourceFileError, StoreError, UnknownNameError
from advisor.store.build import DEFAULT_SOURCES, build_store, sources_fingerprint
from advisor.store.store import PropertyStore, ensure_store

STUDY = {
    "convnext_sup": "timm:convnext_base.fb_in22k_ft_in1k",
    "vit_sup": "timm:deit3_base_patch16_224.fb_in22k_ft_in1k",
}
SEVEN = {"imagenet_x_error_ratio", "shape_bias", "ece_15bin", "shift_top1", "vtab_linear_probe_top1",
         "pug_imagenet_top1", "invariance_scale_top1", "invariance_shift_top1", "invariance_resolution_top1"}


def test_store_size_and_provenance(store):
    n = store.query("SELECT count(DISTINCT model_id) AS n FROM models")["n"].iloc[0]
    assert n >= 1200
    orphan = store.query("SELECT count(*) AS n FROM scores s LEFT JOIN sources so USING (source_id) "
                         "WHERE so.source_id IS NULL OR so.licence = ''")["n"].iloc[0]
    assert orphan == 0
    assert store.query("SELECT count(*) AS n FROM scores WHERE model_id NOT IN (SELECT model_id FROM models)"
                       )["n"].iloc[0] == 0


def test_study_models_carry_every_property(store):
    study = store.query("SELECT DISTINCT model_id FROM aliases WHERE source_id LIKE 'study%'")["model_id"]
    assert len(study) == 4
    for mid in study:
        props = set(store.scores([mid])["property_id"])
        assert props >= SEVEN, (mid, SEVEN - props)
        assert {"imagenet_top1", "params_m"} <= props
        assert props & {"gmacs", "gflops"}


def test_alias_join_one_model_one_id(store):
    mid = STUDY["convnext_sup"]
    al = store.aliases(mid)
    sources = set(al["source_id"].str.split("_").str[0])
    assert {"timm", "quba", "study"} <= sources, al
    assert "ConvNext-B-21k" in set(al["name_in_source"])
    assert store.resolve("ConvNext-B-21k") == mid
    srcs = set(store.scores([mid], ["imagenet_top1"])["source_id"])
    assert len(srcs) >= 3


def test_figure_read_values_keep_precision(store):
    s = store.scores([STUDY["convnext_sup"]], ["imagenet_x_error_ratio"])
    assert s["precision"].str.contains("figure").any()


def test_unknown_model_did_you_mean(store):
    with pytest.raises(UnknownNameError) as e:
        store.resolve("convnext_base.fb_in22k_ft_in1")
    assert any("convnext_base.fb_in22k_ft_in1k" in s for s in e.value.suggestions)


def test_build_is_idempotent(tmp_path, store_path):
    db = tmp_path / "a.duckdb"
    s1 = build_store(db)
    s2 = build_store(db)
    assert {k: v for k, v in s1.items() if k != "seconds"} == {k: v for k, v in s2.items() if k != "seconds"}
    assert s2["seconds"] < 30


def _copy_sources(tmp_path: Path) -> Path:
    dst = tmp_path / "sources"
    shutil.copytree(DEFAULT_SOURCES, dst)
    return dst


def test_malformed_source_names_file_and_line(tmp_path):
    src = _copy_sources(tmp_path)
    f = src / "timm" / "results-imagenet.csv"
    lines = f.read_text().splitlines()
    lines[5] = lines[5] + ",extra,fields"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceFileError) as e:
        build_store(tmp_path / "x.duckdb", src)
    assert "results-imagenet.csv" in str(e.value) and "line 6" in str(e.value)


def test_missing_source_file_is_named(tmp_path):
    src = _copy_sources(tmp_path)
    (src / "quba" / "quba_models.csv").unlink()
    with pytest.raises(SourceFileError, match=r"quba_models\.csv"):
        build_store(tmp_path / "x.duckdb", src)


def test_corrupt_db_is_rebuilt(tmp_path):
    db = tmp_path / "c.duckdb"
    db.write_bytes(b"this is not a duckdb file" * 100)
    assert ensure_store(db).startswith("rebuilt (corrupt)")
    s = PropertyStore(db)
    assert len(s.model_ids()) >= 1200
    s.close()


def test_missing_db_is_built_and_stale_db_rebuilt(tmp_path):
    src = _copy_sources(tmp_path)
    db = tmp_path / "m.duckdb"
    assert ensure_store(db, src) == "rebuilt (missing)"
    assert ensure_store(db, src) == "fresh"
    with (src / "curated" / "SOURCE.md").open("a") as fh:
        fh.write("\nchanged\n")
    assert ensure_store(db, src) == "rebuilt (stale)"
    con = duckdb.connect(str(db), read_only=True)
    fp = con.execute("SELECT value FROM build_info WHERE key='fingerprint'").fetchone()[0]
    con.close()
    assert fp == sources_fingerprint(src)


def test_unreadable_store_without_sources_is_reported(tmp_path):
    db = tmp_path / "bad.duckdb"
    db.write_bytes(b"garbage")
    with pytest.raises(StoreError, match="sources folder"):
        ensure_store(db, tmp_path / "nowhere")


def test_import_advisor_is_light():
    code = ("import sys, advisor, advisor.store.store, advisor.ranking.engine, advisor.cli; "
            "bad = [m for m in ('torch', 'streamlit', 'timm', 'open_clip', 'kornia') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
