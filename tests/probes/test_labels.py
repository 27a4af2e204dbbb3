"""Predictions are shown by class name ("tiger cat -> Egyptian cat at scale 1.25"), read without importing torch."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from advisor.probes.labels import class_name, imagenet_class_names
from advisor.probes.results import ImageRun, ModelRun, ProbeResult, coerce_rows


def test_imagenet_names_match_timm():
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    names = imagenet_class_names()
    assert len(names) == 1000
    for i in (0, 281, 282, 999):
        assert names[i] == info.index_to_description(i).split(",")[0].strip()
    assert class_name(282) == "tiger cat" and class_name(5, num_classes=10) == "class 5"


def test_names_load_without_torch():
    code = "import sys; from advisor.probes.labels import class_name; class_name(1); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_changes_name_the_classes():
    rows = pd.DataFrame([
        {"model_id": "timm:m", "image": "cat.png", "image_sha256": "ab" * 32, "family": "scale", "magnitude": m,
         "identity": m == 1.0, "top1_agreement": float(p == 282), "prob_kept": 0.5, "kl": 0.1, "cosine": 0.9,
         "ref_class": 282, "pred_class": p, "ref_prob": 0.6} for m, p in ((1.0, 282), (1.25, 285), (2.0, 285))])
    r = ProbeResult(rows=coerce_rows(rows), models=(ModelRun("timm:m", "timm", "pip:x", "fp32", (224, 224), 1000),),
                    images=(ImageRun("cat.png", "ab" * 32, (300, 200)),), families=(("scale", (1.0, 1.25, 2.0)),))
    assert r.changes() == ["cat.png: tiger cat -> Egyptian cat at scale 1.25 (timm:m, 2 variants)"]
