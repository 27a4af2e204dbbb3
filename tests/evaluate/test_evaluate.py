"""advisor evaluate on real photos and real weights: equals a plain timm evaluation; transfer; cache."""

from __future__ import annotations

import json

import numpy as np
import pytest

from advisor.errors import InvalidRequestError
from advisor.evaluate.result import SCORE_COLUMNS, EvaluationResult
from advisor.evaluate.run import evaluate
from advisor.models.registry import DEFAULT_MODELS

from .conftest import class_folders


def _need_lite():
    from advisor.models.weights import probe_readiness

    for m in DEFAULT_MODELS:
        ok, msg = probe_readiness(m)
        if not ok:
            pytest.skip(msg)


def _plain_timm(model_id: str, rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """The reference: timm's own data config and eval transform, the same pip weights, fp32."""
    import timm
    import torch
    from PIL import Image
    from timm.data import create_transform, resolve_model_data_config

    from advisor.models.backends.timm import pip_weights_path
    from advisor.models.checkpoints import load_state_in_order
    from advisor.models.registry import parse_model_id

    spec = parse_model_id(model_id)
    model = timm.create_model(spec.arch, pretrained=False).eval()
    load_state_in_order(model, torch.load(pip_weights_path(spec.arch), map_location="cpu", weights_only=True))
    tf = create_transform(**resolve_model_data_config(model))
    with torch.inference_mode():
        x = torch.stack([tf(Image.open(r["path"]).convert("RGB")) for r in rows])
        logits = torch.cat([model(x[i:i + 16]) for i in range(0, len(x), 16)])
    return logits.double().softmax(-1).numpy(), np.array([int(r["class_index"]) for r in rows])


@pytest.mark.slow
def test_imagenet_figures_equal_a_plain_timm_evaluation(sample_rows, tmp_path):
    import torch
    from torchmetrics.functional.classification import multiclass_calibration_error

    _need_lite()
    rows = sample_rows[::25][:32]  # 32 photos of 32 classes
    data = class_folders(tmp_path / "data", rows, lambda r: r["wnid"])
    result = evaluate(data, list(DEFAULT_MODELS))
    assert result.label_set == "imagenet" and len(result.images) == 32
    for mid in DEFAULT_MODELS:
        m = result.model(mid)
        probs, t = _plain_timm(mid, rows)
        correct = probs.argmax(1) == t
        assert m.task == "imagenet" and m.n_images == 32
        assert m.correct == int(correct.sum())
        top5 = (np.argsort(-probs, 1)[:, :5] == t[:, None]).any(1).mean()
        nll = -np.log(probs[np.arange(32), t]).mean()
        ece = float(multiclass_calibration_error(torch.tensor(probs), torch.tensor(t), num_classes=1000,
                                                 n_bins=15, norm="l1"))
        assert abs(m.metrics["top1"].value - correct.mean()) < 1e-3
        assert abs(m.metrics["top5"].value - top5) < 1e-3
        assert abs(m.metrics["nll"].value - nll) < 1e-3
        assert abs(m.metrics["ece"].value - ece) < 1e-3
        for f in m.metrics.values():
            assert f.ci_low <= f.value + 1e-12 and f.value <= f.ci_high + 1e-12 and f.n == 32


@pytest.mark.slow
def test_own_labels_give_knn_linear_probe_and_logme_with_intervals(sample_rows, tmp_path):
    _need_lite()
    # Regrouped under our own names: 15 fish/birds (index < 100), 15 dogs (151-268), 15 man-made things (> 400).
    groups = {"water-or-air": [r for r in sample_rows if int(r["class_index"]) < 100][:15],
              "dog": [r for r in sample_rows if 151 <= int(r["class_index"]) <= 268][:15],
              "thing": [r for r in sample_rows if int(r["class_index"]) > 400][:15]}
    csv_path = tmp_path / "mine.csv"
    csv_path.write_text("path,label\n" + "".join(f"{r['path']},{g}\n" for g, rs in groups.items() for r in rs))
    result = evaluate(csv_path, ["timm:tf_efficientnet_lite0.in1k"],
                      published_top1={"timm:tf_efficientnet_lite0.in1k": 75.5})
    assert result.label_set == "own" and result.classes == ("dog", "thing", "water-or-air")
    m = result.models[0]
    assert m.task == "transfer" and m.published_top1 == 75.5 and "top1" not in m.metrics
    for name in ("knn_top1", "linear_probe_top1", "logme"):
        f = m.metrics[name]
        assert f.n == 45 and f.ci_low <= f.value <= f.ci_high and f.ci_low < f.ci_high
    assert m.metrics["linear_probe_top1"].value > 0.6 and m.metrics["knn_top1"].value > 0.6  # chance is 1/3
    scores = result.measured_scores()
    assert set(scores.property_id) == {"measured_knn_top1", "measured_linear_probe_top1", "measured_logme"}
    assert list(scores.columns) == list(SCORE_COLUMNS) and set(scores.source_id) == {"measured_here"}
    assert scores.precision.str.match(r"measured here on 45 images, 95% CI [-\d.]+–[-\d.]+").all()


def test_logme_prefers_features_that_carry_the_labels():
    from advisor.evaluate.stats import logme

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 30)
    noise = rng.normal(size=(120, 200))  # more dims than images: the SVD path
    informative = noise + 2.0 * np.eye(200)[y * 7]
    assert logme(informative, y) > logme(noise, y) + 0.1


@pytest.mark.slow
def test_rerun_uses_the_cache_bad_files_are_named_and_json_round_trips(sample_rows, tmp_path, monkeypatch):
    _need_lite()
    rows = sample_rows[:6]
    data = class_folders(tmp_path / "data", rows, lambda r: r["wnid"])
    (data / rows[0]["wnid"] / "broken.jpg").write_bytes(b"not an image")
    first = evaluate(data, ["timm:tf_efficientnet_lite0.in1k"], families=["rotation"])
    assert any("broken.jpg" in e for e in first.errors) and len(first.images) == 6

    def no_model(*a, **k):
        raise AssertionError("a rerun must not load the model: everything is cached")
    monkeypatch.setattr("advisor.models.loaded.load_model", no_model)
    second = evaluate(data, ["timm:tf_efficientnet_lite0.in1k"], families=["rotation"])
    assert second.models == first.models
    doc = json.loads(first.to_json())
    assert doc["kind"] == "vision-advisor-evaluation" and doc["version"] == 1
    assert EvaluationResult.from_json(first.to_json()) == first
    inv = first.measured_scores().query("property_id == 'measured_invariance_top1'")
    assert list(inv.item) == ["rotation"] and inv.n_images.tolist() == [6]


def test_bad_data_gets_a_clear_message(tmp_path):
    with pytest.raises(InvalidRequestError, match="no images found"):
        evaluate(tmp_path, ["timm:tf_efficientnet_lite0.in1k"])
    (tmp_path / "x.csv").write_text("file,class\na.jpg,cat\n")
    with pytest.raises(InvalidRequestError, match="path,label"):
        evaluate(tmp_path / "x.csv", ["timm:tf_efficientnet_lite0.in1k"])


def test_cli_reports_bad_data_without_a_traceback(tmp_path, capsys):
    from advisor.cli import main

    assert main(["evaluate", str(tmp_path / "missing"), "-m", "timm:tf_efficientnet_lite0.in1k"]) == 2
    assert "not a folder of class subfolders" in capsys.readouterr().err
