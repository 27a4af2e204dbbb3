"""The libraries' metadata ingester: parsing, provenance, and which value wins a merge."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from advisor.errors import SourceFileError
from advisor.store.build import DEFAULT_SOURCES
from advisor.store.sources import libraries
from advisor.store.sources.base import BuildContext, Collector

RAW = DEFAULT_SOURCES / "libraries"


def test_every_row_becomes_metadata_of_its_kind(ingest):
    out = ingest("libraries")
    raw = pd.read_csv(RAW / "model_metadata.csv", dtype=str, keep_default_na=False)
    assert set(raw["kind"]) == {"published", "computed"}
    rows = pd.DataFrame(out.models)
    assert set(rows["source_id"]) == {"library_metadata", "computed_metadata"}
    assert (rows["_computed"] == (rows["source_id"] == "computed_metadata")).all()
    n_fields = rows[list(libraries.FIELDS.keys() - {"weights_url"})].notna().sum().sum()
    assert n_fields + len(out.weights_files) == len(raw)
    assert not out.scores  # metadata only: it never adds a score
    for s in out.sources.values():
        assert "timm 1.0" in s.title and "torch" in s.title  # the versions the values were made with


def test_values_and_their_detail(ingest):
    out = ingest("libraries")
    rows = {(m["model_id"], m["source_id"]): m for m in out.models}
    tv = rows[("torchvision:mnasnet0_5.IMAGENET1K_V1", "library_metadata")]
    assert tv["params_m"] == pytest.approx(2.218512) and tv["gmacs"] == pytest.approx(0.104)
    assert tv["img_size"] == 224 and tv["weights_licence"] == "bsd-3-clause"
    assert "num_params" in tv["_notes"]["params_m"] and "_ops" in tv["_notes"]["gmacs"]
    lpf = rows[("antialiased:resnet50_lpf2", "computed_metadata")]
    assert lpf["params_m"] == pytest.approx(25.557, abs=1e-3) and "meta device" in lpf["_notes"]["gmacs"]
    clip = rows[("open_clip:ViT-B-32.openai", "library_metadata")]
    assert clip["weights_licence"] == "mit" and clip["img_size"] == 224
    assert out.weights_files["timm:resnet50.tv_in1k"] == "https://download.pytorch.org/models/resnet50-0676ba61.pth"


def test_published_beats_computed_and_priority_orders_sources(store):
    """The merge rule, read off the store: a model covered by several sources takes the first published value
    by ingester priority, and a value computed here only fills what no source publishes (issue 17: the old test
    compared the priority table with itself)."""
    m = store.models().set_index("model_id")
    # timm's results table (priority 1) beats QUBA (4) for a model both publish a parameter count for
    assert m.loc["timm:resnet50.a1_in1k", "params_m"] == 25.56
    assert m.loc["timm:resnet50.a1_in1k", "params_m_source"] == "timm_results"
    # the libraries' published metadata (3) beats QUBA (4): torchvision's own num_params, not QUBA's 2.2
    assert m.loc["torchvision:mnasnet0_5.IMAGENET1K_V1", "params_m_source"] == "library_metadata"
    assert m.loc["torchvision:mnasnet0_5.IMAGENET1K_V1", "params_m"] == pytest.approx(2.218512)
    # a published value from a low-priority source (QUBA) beats a count made here (libraries, computed)
    salman = m.loc["robustbench:Salman2020Do_R50"]
    assert salman["params_m_source"] == "quba" and salman["params_m"] == 25.6
    assert salman["gmacs_source"] == "computed_metadata" and "FLOPs / 2" in salman["metadata_note"]
    # the study (0) beats everything for its own models
    assert m.loc["timm:convnext_base.fb_in22k_ft_in1k", "meta_source_id"] == "study_paper"


def test_library_rows_never_create_a_model(store):
    ids = set(store.model_ids())
    raw = pd.read_csv(RAW / "model_metadata.csv", dtype=str, keep_default_na=False)
    stale = sorted(set(raw["model_id"]) - ids)
    assert not stale, f"re-run precomputed/compute_metadata.py: rows for ids the store no longer has: {stale[:5]}"


def _copy(tmp_path) -> BuildContext:
    shutil.copytree(RAW, tmp_path / "libraries")
    return BuildContext(tmp_path, None)


@pytest.mark.parametrize("bad, message", [
    ("timm:resnet50.tv_in1k,params_m,-3,published,x", "positive"),
    ("timm:resnet50.tv_in1k,flops,3,published,x", "field must be one of"),
    ("timm:resnet50.tv_in1k,params_m,3,guessed,x", "kind one of"),
    ("timm:resnet50.tv_in1k,params_m,3,published,", "with a value and a detail"),
    ("nonsense,params_m,3,published,x", "malformed model id"),
    ("timm:resnet50.tv_in1k,weights_url,https://x/y.pth,computed,x", "never computed"),
])
def test_bad_row_names_file_and_line(tmp_path, bad, message):
    ctx = _copy(tmp_path)
    f = tmp_path / "libraries" / "model_metadata.csv"
    lines = f.read_text().splitlines()
    lines.insert(3, bad)
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceFileError, match=message) as e:
        libraries.ingest(ctx, Collector())
    assert "model_metadata.csv" in str(e.value) and e.value.line == 4


def test_every_obtainable_model_is_described(store):
    """Issue 19's bar: licence for >= 95 % of obtainable models, parameters for >= 99 %, MACs and input size for
    >= 95 % of the obtainable timm / open_clip / torchvision ones; every value names its source."""
    m = store.query("SELECT * FROM models WHERE obtainable")
    assert m["weights_licence"].notna().mean() >= 0.95
    assert m["params_m"].notna().mean() >= 0.99
    lib = m[m["weights_from"].isin(["timm", "open_clip", "torchvision"])]
    assert lib["gmacs"].notna().mean() >= 0.95 and lib["img_size"].notna().mean() >= 0.95
    for col in ("params_m", "gmacs", "img_size", "weights_licence", "pretrain_data"):
        assert (m[col].isna() == m[f"{col}_source"].isna()).all(), col
    no_licence = m.loc[m["weights_licence"].isna(), "model_id"]
    assert no_licence.str.match(r"robustbench:|timm:(dla60_)?res2ne").all(), no_licence.tolist()
