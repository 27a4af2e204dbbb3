from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from advisor.ranking.engine import RankRequest

EVIL = "<img src=x onerror=alert(1)>.png"
MODELS = {  # model_id: (params_m, paradigm, arch_type, top1, ece, shift/imagenet-r)
    "timm:a": (80.0, "supervised", "CNN", 85.0, 0.08, 60.0),
    "timm:b": (20.0, "clip", "Transformer", 82.0, 0.03, 70.0),
    "timm:c": (5.0, "supervised", "CNN", 78.0, 0.01, 40.0),
    "timm:d": (10.0, "self-supervised", "hybrid", 80.0, None, 50.0),
}


def _rows() -> list[tuple]:
    rows = []
    for m, (_, _, _, top1, ece, shift) in MODELS.items():
        rows.append((m, "imagenet_top1", "", top1, "src_acc"))
        if ece is not None:
            rows.append((m, "ece_15bin", "imagenet", ece, "src_cal"))
        rows.append((m, "shift_top1", "imagenet-r", shift, "src_nc"))
        rows.append((m, "imagenet_top1", "", top1, "src_nc"))
    return rows


def build_store_db(path) -> None:
    """A tiny store from schema + seeded rows (no ingester involved), via the shared test store builder."""
    builder = load_helper(Path(__file__).parents[1] / "store_builder.py", "tests_store_builder")
    src = [(sid, f"Title of {sid}", "cite", f"github.com/x/{sid}", "data.csv", "0123456789abcdef", lic, nc)
           for sid, lic, nc in (("src_acc", "Apache-2.0", False), ("src_cal", "MIT", False),
                                ("src_nc", "CC BY-NC 4.0", True), ("src_unused", "MIT", False))]
    models = [{"model_id": m, "display_name": m.split(":")[1].upper(), "arch_type": arch, "paradigm": par,
               "params_m": params} for m, (params, par, arch, *_rest) in MODELS.items()]
    builder.write_store(path, sources=src, models=models, scores=_rows(),
                        build_info={"fingerprint": "feedc0ffee123456", "version": "0.1.0",
                                    "built_at": "2026-01-02T03:04:05Z"})


def load_helper(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def tiny_store(tmp_path):
    from advisor.store.store import PropertyStore

    db = tmp_path / "tiny.duckdb"
    build_store_db(db)
    s = PropertyStore(db, tmp_path / "no_sources", auto_build=False)
    yield s
    s.close()


@pytest.fixture
def data():
    from advisor.ranking.data import RankingData

    scores = pd.DataFrame(_rows(), columns=["model_id", "property_id", "item", "value", "source_id"])
    meta = pd.DataFrame([{"model_id": m, "params_m": v[0], "paradigm": v[1], "arch_type": v[2]}
                         for m, v in MODELS.items()])
    return RankingData.from_frames(meta, scores, {"src_nc"})


@pytest.fixture
def request_():
    return RankRequest(weights={"accuracy": 1.0, "calibration": 0.5, "natural_shift": 0.5}, top_k=3, draws=200)


def png_bytes(color=(200, 30, 30), size=(64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def probe_result():
    """A real ProbeResult (the layout `advisor probe --json` writes): two models in the store, one not,
    two families, two images (one with a hostile name); one KL value failed and the probe-only model has no
    embedding cosine (NaN = missing)."""
    from advisor.probes.results import ImageRun, ModelRun, ProbeResult, coerce_rows

    images = ((EVIL, "a" * 64), ("cat.png", "b" * 64))
    grid = {"scale": (1.0, 1.5, 2.0), "shift": (0.0, 8.0, 16.0)}
    rows = []
    for m, keep in (("timm:a", 1.0), ("timm:b", 0.8), ("timm:probe_only", 0.5)):
        for fam, mags in grid.items():
            for step, mag in enumerate(mags):
                for k, (name, sha) in enumerate(images):
                    agree = 1.0 if step == 0 else float(k == 0 or keep == 1.0)
                    kl = 0.0 if step == 0 else (float("nan") if (m, fam, step, k) == ("timm:b", "shift", 2, 1)
                                                else 0.1 * step / keep)
                    rows.append({"model_id": m, "image": name, "image_sha256": sha, "family": fam, "magnitude": mag,
                                 "identity": step == 0, "top1_agreement": agree,
                                 "prob_kept": 0.9 if step == 0 else 0.9 * keep ** step, "kl": kl,
                                 "cosine": float("nan") if m == "timm:probe_only" else 1.0 - 0.05 * step / keep,
                                 "ref_class": 281,
                                 "pred_class": 281 if agree else 7, "ref_prob": 0.9})
    models = tuple(ModelRun(m, "timm", w, "fp32", (224, 224), 1000) for m, w in
                   (("timm:a", "pip:effnet"), ("timm:b", "hf-cache:b"), ("timm:probe_only", "random")))
    return ProbeResult(rows=coerce_rows(pd.DataFrame(rows)), models=models,
                       images=tuple(ImageRun(n, sha, (640, 480)) for n, sha in images),
                       families=tuple(grid.items()), errors=("x.gif: not an image",), seconds=1.5)


PROBE = probe_result().to_json()


FIXED_TIME = "2026-01-01T00:00:00Z"


@pytest.fixture
def evil() -> str:
    return EVIL


@pytest.fixture
def probe() -> str:
    return PROBE


@pytest.fixture
def report(tiny_store, request_):
    """A fixed session: tiny store, three needs, probe results, a hostile image name and a note."""
    from advisor.report.build import build_report

    return build_report(tiny_store, request_, probe_results=PROBE, notes="Shortlist for **team** <b>vision</b>",
                        images={EVIL: png_bytes(), "broken.png": b"not an image"}, created_at=FIXED_TIME)
