"""Evaluate fixtures: the shared ImageNet sample photos (never copied into the repo), isolated caches."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def samples_dir() -> Path | None:
    """../shared/data/imagenet_samples from the repo root (or from the main checkout of a worktree)."""
    for base in (ROOT.parent, ROOT.parent.parent, Path(os.environ.get("VISION_ADVISOR_SHARED", "/nonexistent"))):
        d = base / "shared" / "data" / "imagenet_samples" if base.name != "shared" else base
        if (d / "labels.csv").is_file():
            return d
    return None


@pytest.fixture(scope="session")
def sample_rows() -> list[dict]:
    d = samples_dir()
    if d is None:
        pytest.skip("the shared ImageNet sample photos (../shared/data/imagenet_samples) are not here")
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
