"""The evaluation cache: keyed on the weights' content, read once per run, every shard checked.

Issue 21 items 8 and 10 and the cache cases of item 7; each test failed before the fix."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from advisor.evaluate import outputs
from advisor.evaluate.outputs import REF, TaskSpec, run_task
from advisor.evaluate.run import evaluate
from advisor.models.interface import WeightsSource

TINY = "timm:test_efficientnet.r160_in1k"


def _data(root: Path, n: int = 6) -> Path:
    for i in range(n):
        d = root / ("cat" if i % 2 else "dog")
        d.mkdir(parents=True, exist_ok=True)
        arr = np.random.default_rng(i).integers(0, 255, (20, 20, 3), dtype=np.uint8)
        Image.fromarray(arr).save(d / f"{i}.png")
    return root


def _task(root: Path, cache: Path) -> TaskSpec:
    from advisor.evaluate.data import read_samples

    return TaskSpec((TINY,), tuple(read_samples(root)), (), str(cache), allow_random=True)


def _shards(cache: Path) -> list[Path]:
    return sorted(cache.rglob("ref/*.npz"))


def test_edited_values_and_malformed_shards_are_recomputed(tmp_path):
    """Before: a logit edited in the cache was trusted; shards with other shapes, string dtype or a zip
    bomb member raised. Mutant caught: dropping the checksum comparison in `_read_shard`."""
    data, cache = _data(tmp_path / "d"), tmp_path / "c"
    first = run_task(_task(data, cache))
    assert first.computed == 6 and run_task(_task(data, cache)).computed == 0
    (shard,) = _shards(cache)
    with np.load(shard) as z:
        saved = {k: z[k] for k in z.files}
    edited = dict(saved, logits=saved["logits"].copy())
    edited["logits"][0, 0] = 100.0
    bads = {"edited": edited,
            "shape": dict(saved, emb=saved["emb"][:3]),
            "string": dict(saved, logits=saved["logits"].astype(str)),
            "pickle-free extra member": dict(saved, extra=np.zeros(3))}
    for what, arrays in bads.items():
        np.savez(shard, **arrays)
        again = run_task(_task(data, cache))
        assert again.computed == 6, what
        assert not again.errors, what
        for sha, rec in again.records[(TINY, REF)].items():
            assert np.array_equal(rec[0], first.records[(TINY, REF)][sha][0]), what
        for stale in _shards(cache):
            if stale != shard:
                stale.unlink()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for k in ("sha", "logits", "emb", "check"):
            zf.writestr(f"{k}.npy", b"\0" * (outputs.MAX_SHARD_BYTES // 2))  # 512 MiB from about 1 MB
    shard.write_bytes(buf.getvalue())
    assert outputs._read_shard(shard) is None


def test_cache_is_read_once_per_run_not_once_per_shard(tmp_path, monkeypatch):
    """Before: every shard read every cache file (quadratic). Mutant caught: a CacheIndex per task."""
    data, cache = _data(tmp_path / "d", 8), tmp_path / "c"
    evaluate(data, [TINY], allow_random=True, cache_root=cache, shard_size=2, label_set="own")
    calls = []
    real = outputs.read_cache
    monkeypatch.setattr(outputs, "read_cache", lambda folder: calls.append(folder) or real(folder))
    again = evaluate(data, [TINY], allow_random=True, cache_root=cache, shard_size=2, label_set="own")
    assert len(again.images) == 8 and len(calls) == 1


def test_cache_key_follows_the_weights_file_not_its_label(tmp_path, monkeypatch):
    """Before: switching the hub snapshot returned the old numbers (same label). The key follows the
    resolved file (a snapshot links to a blob), its size and mtime. Mutant caught: keying on the label."""
    import advisor.models.weights as weights

    blobs = tmp_path / "blobs"
    blobs.mkdir()
    (blobs / "aaa").write_bytes(b"old weights")
    (blobs / "bbb").write_bytes(b"new weights!")
    link = tmp_path / "snapshot" / "model.safetensors"
    link.parent.mkdir()
    link.symlink_to(blobs / "aaa")
    src = WeightsSource("hf-cache", "hf-hub:org/model", str(link))
    monkeypatch.setattr(weights, "find_weights", lambda *a, **k: src)
    label, key_old = outputs._weights_key(TINY, False)
    link.unlink()
    link.symlink_to(blobs / "bbb")
    label2, key_new = outputs._weights_key(TINY, False)
    assert label == label2 == "hf-hub:org/model" and key_old != key_new
    assert outputs._cache_dir("r", TINY, key_old, "fp32", REF) != outputs._cache_dir("r", TINY, key_new, "fp32", REF)


def test_nan_outputs_are_a_failure_and_the_json_stays_valid(tmp_path, monkeypatch):
    """Before: NaN outputs made the JSON refuse NaN and every result was lost."""
    import torch

    import advisor.models.loaded as loaded

    real = loaded.LoadedModel.forward

    def nan_forward(self, x, precision="fp32"):
        lg, em = real(self, x, precision)
        lg = lg.clone()
        lg[::2] = float("nan")
        return lg, em

    # on the class: the reference pass runs a folded copy of the loaded model (loader.fast_model)
    monkeypatch.setattr(loaded.LoadedModel, "forward", nan_forward)
    data, cache = _data(tmp_path / "d", 8), tmp_path / "c"
    result = evaluate(data, [TINY], allow_random=True, cache_root=cache, label_set="own")
    assert any("non-finite outputs" in e and "4 image(s)" in e for e in result.errors)
    doc = json.loads(result.to_json())
    assert doc["models"][0]["n_images"] == 4
    assert torch.isfinite(torch.tensor(0.0))  # torch stays importable alongside the patch
    (shard,) = _shards(cache)
    with np.load(shard) as z:
        assert len(z["sha"]) == 4 and np.isfinite(z["logits"]).all()


def test_a_cache_from_the_old_layout_is_not_trusted(tmp_path):
    """A shard without a checksum (written before version 2) is recomputed."""
    data, cache = _data(tmp_path / "d"), tmp_path / "c"
    run_task(_task(data, cache))
    (shard,) = _shards(cache)
    with np.load(shard) as z:
        saved = {k: z[k] for k in z.files if k != "check"}
    np.savez(shard, **saved)
    assert outputs._read_shard(shard) is None


@pytest.mark.parametrize("n_images", [4])
def test_decode_budget_refuses_with_a_message(tmp_path, monkeypatch, n_images):
    """A server-wide decoded-memory budget: a task over it names the budget instead of growing."""
    monkeypatch.setenv("VISION_ADVISOR_DECODE_BUDGET_MB", "0.001")
    data = _data(tmp_path / "d", n_images)
    out = run_task(_task(data, tmp_path / "c"))
    assert not out.records.get((TINY, REF)) and len(out.errors) == n_images
    assert all("VISION_ADVISOR_DECODE_BUDGET_MB" in e for e in out.errors)
    from advisor.evaluate.budget import DECODED

    assert DECODED.used == 0
