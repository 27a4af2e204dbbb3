"""Meta-tests over the ingester registry: every source has a SOURCE.md, a test and a priority."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from advisor.ids import NAMESPACES, ROUTE_ONLY_NAMESPACES
from advisor.store.build import DEFAULT_SOURCES, _merge_meta
from advisor.store.sources import INGESTERS, MODULES, get_ingester, metadata_priority
from advisor.store.sources.base import Collector

TESTS = Path(__file__).parent


@pytest.mark.parametrize("spec", INGESTERS, ids=lambda s: s.name)
def test_every_source_has_source_md_test_and_priority(spec):
    for folder in spec.folders:
        assert (DEFAULT_SOURCES / folder / "SOURCE.md").is_file(), folder
    assert (TESTS / f"test_source_{spec.name}.py").is_file()
    assert isinstance(spec.priority, int)
    assert callable(get_ingester(spec.name))
    assert get_ingester(spec.name).__module__ == f"advisor.store.sources.{spec.name}"


def test_every_ingester_module_is_registered_once():
    """Mutant: an ingester module imported in the table but left out of INGESTERS (its data never built)."""
    assert sorted(MODULES) == sorted(spec.name for spec in INGESTERS)


def _merged(rows: list[tuple[str, dict, bool]]) -> pd.Series:
    """Merge one model described by (ingester, metadata, computed) rows; returns its models row."""
    out = Collector()
    for ingester, meta, computed in rows:
        out.current = ingester
        out.add_model("timm:x.y", f"src_{ingester}", computed=computed, notes={k: f"from {ingester}" for k in meta},
                      **meta)
    return _merge_meta(out, set()).set_index("model_id").loc["timm:x.y"]


def test_the_lower_priority_number_wins_the_merge():
    """Mutant: sort the merge by descending priority (or read the registry backwards) -> QUBA's value wins."""
    assert metadata_priority("timm") < metadata_priority("quba")
    m = _merged([("quba", {"params_m": 25.6, "paradigm": "supervised"}, False),
                 ("timm", {"params_m": 25.56}, False)])
    assert m["params_m"] == 25.56 and m["params_m_source"] == "src_timm"
    assert m["paradigm"] == "supervised"  # a column only the other source fills still comes through
    assert m["metadata_note"] == "params_m: from timm"


def test_a_published_value_beats_one_computed_here():
    """Mutant: drop `_computed` from the merge's sort keys -> the libraries' count (priority 3) beats QUBA's (4)."""
    m = _merged([("libraries", {"params_m": 25.557, "gmacs": 4.09}, True),
                 ("quba", {"params_m": 25.6}, False)])
    assert (m["params_m"], m["params_m_source"]) == (25.6, "src_quba")
    assert (m["gmacs"], m["gmacs_source"]) == (4.09, "src_libraries")  # nothing published: the count is kept


def test_library_metadata_never_creates_a_model():
    out = Collector()
    out.current = "libraries"
    out.add_model("timm:only.described", "library_metadata", weights_licence="mit")
    out.current = "timm"
    out.add_model("timm:x.y", "timm_results", params_m=1.0)
    assert _merge_meta(out, set())["model_id"].tolist() == ["timm:x.y"]


def test_priorities_and_namespaces_are_unique_and_known():
    prios = [s.priority for s in INGESTERS]
    assert len(set(prios)) == len(prios)
    owned = [ns for s in INGESTERS for ns in s.namespaces]
    assert len(set(owned)) == len(owned), "a namespace created by two ingesters"
    assert set(owned) == set(NAMESPACES) - set(ROUTE_ONLY_NAMESPACES), \
        "every model namespace has exactly one owning ingester"
    assert not set(owned) & set(ROUTE_ONLY_NAMESPACES), "a route-only namespace names store models"


def test_every_source_folder_is_read_by_an_ingester():
    read = {f for s in INGESTERS for f in s.folders} | {"curated"}
    on_disk = {p.name for p in DEFAULT_SOURCES.iterdir() if p.is_dir()}
    assert on_disk == read


def test_unregistered_ingester_is_refused():
    with pytest.raises(KeyError):
        get_ingester("not_a_source")


def test_metadata_priority_follows_the_documented_order():
    """An independent expectation (not the table read twice): the paper's own figures first, then the libraries
    that publish the weights, then computed library metadata, then the benchmark sources.
    Mutant: swap two priorities in INGESTERS (e.g. timm 1 <-> quba 4) -> fails."""
    expected = ["study", "timm", "open_clip", "libraries", "quba", "clip_benchmark", "robustbench",
                "imagenet_testbed"]
    got = sorted(expected, key=metadata_priority)
    assert got == expected
    assert all(metadata_priority(n) < metadata_priority("antialiased_cnns") for n in expected)
