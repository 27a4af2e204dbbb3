"""Evaluate fixtures: the shared ImageNet sample photos (never copied into the repo), isolated caches."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]




@pytest.fixture(scope="session")
def sample_rows(imagenet_samples) -> list[dict]:
    d = imagenet_samples
    with (d / "labels.csv").open(newline="") as fh:
        return [{**r, "path": str(d / "images" / r["file"])} for r in csv.DictReader(fh)]


def class_folders(root: Path, rows: list[dict], label) -> Path:
    """A folder with one subfolder per label, holding symlinks to the photos."""
    for r in rows:
        sub = root / label(r)
        sub.mkdir(parents=True, exist_ok=True)
        (sub / r["file"]).symlink_to(r["path"])
    return root


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory, monkeypatch):
    root = tmp_path_factory.mktemp("caches")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(root / "hf"))
    monkeypatch.setenv("VISION_ADVISOR_CACHE", str(root / "advisor"))
