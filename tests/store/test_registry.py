"""Meta-tests over the ingester registry: every source has a SOURCE.md, a test and a priority."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.ids import NAMESPACES
from advisor.store.build import DEFAULT_SOURCES
from advisor.store.sources import INGESTERS, get_ingester, metadata_priority

TESTS = Path(__file__).parent


@pytest.mark.parametrize("spec", INGESTERS, ids=lambda s: s.name)
def test_every_source_has_source_md_test_and_priority(spec):
    for folder in spec.folders:
        assert (DEFAULT_SOURCES / folder / "SOURCE.md").is_file(), folder
    assert (TESTS / f"test_source_{spec.name}.py").is_file()
    assert isinstance(spec.priority, int) and metadata_priority(spec.name) == spec.priority
    assert callable(get_ingester(spec.name))


def test_priorities_and_namespaces_are_unique_and_known():
    prios = [s.priority for s in INGESTERS]
    assert len(set(prios)) == len(prios)
    owned = [ns for s in INGESTERS for ns in s.namespaces]
    assert len(set(owned)) == len(owned), "a namespace created by two ingesters"
    assert set(owned) == set(NAMESPACES), "every namespace has exactly one owning ingester"


def test_every_source_folder_is_read_by_an_ingester():
    read = {f for s in INGESTERS for f in s.folders} | {"curated"}
    on_disk = {p.name for p in DEFAULT_SOURCES.iterdir() if p.is_dir()}
    assert on_disk == read


def test_unregistered_ingester_is_refused():
    with pytest.raises(KeyError):
        get_ingester("not_a_source")
