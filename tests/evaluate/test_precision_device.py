"""Precision and device for `evaluate`: fp32 by default, reduced precision recorded with its agreement to fp32,
the cache keyed by precision (never by device), device choice with monkeypatched availability (no GPU here),
and the speed-ups that must not change fp32 results (channels-last, folded batch norms, worker decoding)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from advisor.errors import InvalidRequestError
from advisor.evaluate import loader
from advisor.evaluate.outputs import REF, _cache_dir, _weights_key
from advisor.evaluate.result import EvaluationResult
from advisor.evaluate.run import evaluate
from advisor.models import device as dev
from advisor.models import precision

TEST_MODEL = "timm:test_efficientnet.r160_in1k"  # a timm test architecture: random weights, 160 px, batch norms


def _synthetic(root, per_class: int = 4, classes=("reds", "blues")):
    """Own-label class folders of small random-noise photos tinted per class (deterministic)."""
    rng = np.random.default_rng(0)
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            px = rng.integers(0, 120, (96 + 8 * i, 128, 3), dtype=np.uint8)
            px[..., c % 3] += 120
            Image.fromarray(px).save(root / name / f"{name}{i}.png")
    return root


# --- device -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("cuda", "mps", "want"), [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_device_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, want):
    """Mutant caught: 'auto' checking MPS before CUDA, or always returning 'cpu'."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert dev.resolve_device("auto") == want
    assert dev.resolve_device("cpu") == "cpu"  # an explicit CPU is never overridden


def test_an_absent_device_is_a_clear_error_not_a_silent_fallback(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(InvalidRequestError, match="no CUDA GPU"):
        dev.resolve_device("cuda")
    with pytest.raises(InvalidRequestError, match="MPS"):
        dev.resolve_device("mps")
    with pytest.raises(InvalidRequestError, match="device must be one of"):
        dev.resolve_device("tpu")


def test_accelerators_get_pinned_memory_and_more_workers(monkeypatch):
    monkeypatch.delenv("VISION_ADVISOR_LOADER_WORKERS", raising=False)
    monkeypatch.setattr(dev.os, "sched_getaffinity", lambda _: set(range(16)), raising=False)
    assert dev.pin_memory("cuda") and not dev.pin_memory("cpu") and not dev.pin_memory("mps")
    import torch

    monkeypatch.setattr(torch, "get_num_threads", lambda: 8)
    assert dev.loader_workers("cuda", 800) == 8 and dev.loader_workers("cpu", 800) == 1
    assert dev.loader_workers("cuda", 4) == 0  # a handful of images: decoding here is cheaper than workers
    monkeypatch.setattr(torch, "get_num_threads", lambda: 16)
    assert dev.loader_workers("cpu", 800) == 0  # no core left beside torch's threads: no worker competing
    assert dev.loader_workers("cuda", 800) == 8
    monkeypatch.setenv("VISION_ADVISOR_LOADER_WORKERS", "3")
    assert dev.loader_workers("cpu", 800) == 3


def test_ray_tasks_ask_for_a_gpu_only_when_the_cluster_has_one():
    assert dev.ray_gpus_per_task("auto", 4.0) == 1 and dev.ray_gpus_per_task("cuda", 1.0) == 1
    assert dev.ray_gpus_per_task("auto", 0) == 0
    assert dev.ray_gpus_per_task("cpu", 4.0) == 0  # the user asked for the CPU


# --- precision --------------------------------------------------------------------------------------
def test_precision_is_fp32_unless_asked_and_auto_follows_the_device(monkeypatch):
    import torch

    assert precision.DEFAULT_PRECISION == "fp32"
    assert precision.resolve_precision("fp16") == "fp16" and precision.resolve_precision("bf16", "cuda") == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert precision.resolve_precision("auto", "cuda") == "fp16"
    assert precision.resolve_precision("auto", "mps") == "fp16"
    with pytest.raises(InvalidRequestError, match="precision must be one of"):
        loader.resolve_run("cpu", "int8")
    assert precision.autocast_dtype("fp32") is None and precision.autocast_dtype("bf16") == torch.bfloat16


def test_top1_agreement_counts_rows_with_the_same_argmax():
    a = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    b = np.array([[0.2, 0.8], [0.4, 0.6], [0.1, 0.9]])
    assert precision.top1_agreement(a, b) == pytest.approx(2 / 3)
    got = loader.fp32_agreement({"x": a[0], "y": a[1], "only-fast": a[2]}, {"x": b[0], "y": b[1]})
    assert got.tolist() == [1.0, 0.0]  # images missing from the fp32 sample are not counted


# --- layout and fusion keep fp32 results ------------------------------------------------------------
def _conv_net(reuse: bool = False):
    """conv-BN-ReLU, conv-BN, pool, linear; `reuse`: the raw second conv output is read again (a residual)."""
    import torch

    class ConvNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.b1 = torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8)
            self.c2, self.b2 = torch.nn.Conv2d(8, 8, 3, padding=1, bias=False), torch.nn.BatchNorm2d(8)
            self.fc = torch.nn.Linear(8, 5)

        def forward(self, x):
            y = torch.relu(self.b1(self.c1(x)))
            z = self.c2(y)
            y = self.b2(z) + (z if reuse else 0)
            return self.fc(y.mean((2, 3)))

        def forward_features(self, x):  # the timm backend's entry points
            return self(x)

        def forward_head(self, f, pre_logits=False):
            return f

    return _with_random_stats(ConvNet())


def _with_random_stats(m):
    import torch

    g = torch.Generator().manual_seed(1)
    for bn in (m.b1, m.b2):
        bn.running_mean.copy_(torch.randn(8, generator=g))
        bn.running_var.copy_(torch.rand(8, generator=g) + 0.5)
        bn.weight.data.copy_(torch.randn(8, generator=g))
        bn.bias.data.copy_(torch.randn(8, generator=g))
    return m.eval()


def test_folding_batch_norms_keeps_the_outputs():
    """Mutant caught: folding without the running mean (shift = beta), or leaving the norm in place too
    (normalised twice): both move the logits far beyond float error."""
    import torch

    net = _conv_net()
    x = torch.randn(4, 3, 16, 16)
    with torch.inference_mode():
        want = net(x)
    assert loader.fold_batchnorm(net, x) == 2
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    with torch.inference_mode():
        assert torch.allclose(net(x), want, atol=1e-5, rtol=1e-4)


def test_a_fold_that_would_change_results_is_not_used(monkeypatch):
    """A conv output read again beside its norm (invisible to the layer hooks) must not be folded: the
    check on a fixed input makes `fast_model` keep the exact layers.
    Mutant caught: `fast_model` without its output check (`_close` always True)."""
    from dataclasses import replace

    import torch

    from advisor.models.loaded import LoadedModel, clear_model_cache, load_model

    clear_model_cache()
    m = load_model(TEST_MODEL)
    net = _conv_net(reuse=True)

    model = LoadedModel(m.spec, m.source, replace(m.built, module=net))
    x = torch.rand(2, 3, *m.view.input_size)
    want = model.forward(x)[0]
    fast = loader.fast_model(model)
    got = fast.forward(x)[0]
    assert torch.allclose(got, want, atol=1e-5, rtol=1e-4)
    assert any(isinstance(mod, torch.nn.BatchNorm2d) for mod in fast.module.modules())
    clear_model_cache()


def test_channels_last_and_folded_fp32_match_a_plain_nchw_model(monkeypatch):
    """The fast path (channels-last, folded batch norms) of a timm EfficientNet vs the same weights run the
    plain way (NCHW, unfolded): logits within float tolerance and the same predictions."""
    import timm
    import torch

    from advisor.models.loaded import clear_model_cache, load_model

    clear_model_cache()
    m = load_model(TEST_MODEL)
    with torch.no_grad():  # non-trivial batch-norm statistics, so the fold has something to do
        g = torch.Generator().manual_seed(2)
        for mod in m.module.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.copy_(0.1 * torch.randn(mod.num_features, generator=g))
                mod.running_var.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
    plain = timm.create_model("test_efficientnet", pretrained=False).eval()
    plain.load_state_dict(m.module.state_dict())
    x01 = torch.rand(6, 3, *m.view.input_size, generator=torch.Generator().manual_seed(3))
    mean, std = torch.tensor(m.view.mean).view(1, -1, 1, 1), torch.tensor(m.view.std).view(1, -1, 1, 1)
    with torch.inference_mode():
        want = plain((x01 - mean) / std)
    fast = loader.fast_model(m)
    assert sum(isinstance(mod, torch.nn.BatchNorm2d) for mod in fast.module.modules()) < \
        sum(isinstance(mod, torch.nn.BatchNorm2d) for mod in plain.modules())  # something was folded
    got = fast.forward(x01)[0]
    assert m.module.conv_stem.weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(got, want, atol=1e-4, rtol=1e-3)
    assert torch.equal(got.argmax(-1), want.argmax(-1))
    clear_model_cache()


# --- evaluate ---------------------------------------------------------------------------------------
def test_reduced_precision_is_recorded_with_its_agreement_and_cached_apart(tmp_path):
    """Mutant caught: the cache key without the precision (the bf16 run then reads the fp32 outputs back and
    its figures are fp32's); a bf16 result that does not say so."""
    data = _synthetic(tmp_path / "data")
    cache = tmp_path / "cache"
    exact = evaluate(data, [TEST_MODEL], cache_root=cache, device="cpu")
    fast = evaluate(data, [TEST_MODEL], cache_root=cache, device="cpu", precision="bf16")
    assert (exact.precision, fast.precision, fast.device) == ("fp32", "bf16", "cpu")
    assert loader.AGREEMENT_METRIC not in exact.model(TEST_MODEL).metrics
    agree = fast.model(TEST_MODEL).metrics[loader.AGREEMENT_METRIC]
    assert agree.n == 8 and 0.0 <= agree.ci_low <= agree.value <= agree.ci_high <= 1.0
    assert any("agrees with fp32" in n for n in fast.model(TEST_MODEL).notes)
    w = _weights_key(TEST_MODEL, False)[1]  # the cache key: the label and the weights file's identity
    dirs = {p: _cache_dir(str(cache), TEST_MODEL, w, p, REF) for p in ("fp32", "bf16")}
    assert dirs["fp32"] != dirs["bf16"] and all(any(d.glob("*.npz")) for d in dirs.values())
    ex, fa = exact.model(TEST_MODEL).metrics, fast.model(TEST_MODEL).metrics
    assert ex["knn_top1"].n == fa["knn_top1"].n == 8
    back = EvaluationResult.from_json(fast.to_json())
    assert back.precision == "bf16" and back.model(TEST_MODEL).metrics[loader.AGREEMENT_METRIC] == agree


def test_the_agreement_check_decodes_nothing_again_and_matches_an_fp32_run(tmp_path, monkeypatch):
    """The fp32 side of the agreement runs on the main pass's decoded batches: each image is decoded once in
    a bf16 run, and the fp32 predictions it compares with are an fp32 run's. A cached rerun reads both back.
    Mutant caught: the sample sent to a second fp32 task (`exact=()` in the TaskSpecs, as it was), which
    decoded the sample a second time; fp32 logits taken from the bf16 pass (agreement 100 % by construction
    is not caught here, but the equality with the fp32 run's predictions is)."""
    import advisor.probes.images as images

    decoded: list[str] = []
    real = images.load_image
    monkeypatch.setattr(images, "load_image", lambda data, name, *a, **k: decoded.append(name) or
                        real(data, name, *a, **k))
    data = _synthetic(tmp_path / "data")
    cache = tmp_path / "cache"
    fast = evaluate(data, [TEST_MODEL], cache_root=cache, device="cpu", precision="bf16")
    assert sorted(decoded) == sorted(p.relative_to(data).as_posix() for p in data.rglob("*.png"))  # once each
    import hashlib

    from advisor.models.loaded import load_model

    items = [loader.Item(hashlib.sha256(b).hexdigest(), p.name, b)
             for p in sorted(data.rglob("*.png")) for b in [p.read_bytes()]]
    need = {TEST_MODEL: {it.sha for it in items}}
    logits = {prec: {h: o[0] for h, o in loader.reference_pass(items, load_model, need, prec, workers=0)
                     .outputs[TEST_MODEL].items()} for prec in ("fp32", "bf16")}
    want = loader.fp32_agreement(logits["bf16"], logits["fp32"])
    agree = fast.model(TEST_MODEL).metrics[loader.AGREEMENT_METRIC]
    assert agree.n == 8 and agree.value == pytest.approx(want.mean())
    decoded.clear()
    again = evaluate(data, [TEST_MODEL], cache_root=cache, device="cpu", precision="bf16")
    assert decoded == [] and again.model(TEST_MODEL).metrics[loader.AGREEMENT_METRIC] == agree


def test_the_agreement_interval_does_not_collapse_when_every_prediction_agrees():
    """Mutant caught: the bootstrap interval of the mean (as it was), [100 %, 100 %] for 32 of 32."""
    from advisor.evaluate import stats

    full = stats.share_figure(np.ones(32))
    assert full.value == 1.0 and full.ci_high == 1.0 and 0.88 < full.ci_low < 0.90 and full.n == 32
    half = stats.share_figure(np.array([1.0, 0.0] * 16))
    assert half.ci_low < 0.5 < half.ci_high
    assert stats.share_figure(np.zeros(0)).n == 0


def test_the_agreement_sample_is_spread_over_the_data():
    """Mutant caught: the first N names (with data listed class by class, one class only)."""
    names = [f"c{i // 100}/{i}" for i in range(1000)]
    got = loader.agreement_sample(names, 32)
    assert len(got) == len(set(got)) == 32 and got[0] == names[0]
    assert {n.split("/")[0] for n in got} == {f"c{i}" for i in range(10)}
    assert loader.agreement_sample(names[:5], 32) == names[:5]
    assert loader.agreement_sample([], 32) == []


def test_results_do_not_depend_on_how_the_images_are_decoded(tmp_path, monkeypatch):
    """Worker processes vs this process, and one batch vs many: the same outputs bit for bit (the device
    path differs only in where the same fp32 ops run)."""
    from advisor.evaluate.loader import Item, reference_pass
    from advisor.models.loaded import clear_model_cache, load_model

    data = _synthetic(tmp_path / "data", per_class=5)
    import hashlib

    items = []
    for p in sorted(data.rglob("*.png")):
        b = p.read_bytes()
        items.append(Item(hashlib.sha256(b).hexdigest(), p.name, b))
    items.append(Item("0" * 64, "broken.png", b"not an image"))
    clear_model_cache()
    need = {TEST_MODEL: {it.sha for it in items}}
    a = reference_pass(items, lambda m: load_model(m), need, workers=0, batch=16)
    b = reference_pass(items, lambda m: load_model(m), need, workers=2, batch=3)
    assert set(a.rejected) == set(b.rejected) == {"0" * 64} and "broken.png" in a.rejected["0" * 64]
    assert a.outputs[TEST_MODEL].keys() == b.outputs[TEST_MODEL].keys() and len(a.outputs[TEST_MODEL]) == 10
    for sha, (lg, em) in a.outputs[TEST_MODEL].items():
        np.testing.assert_allclose(b.outputs[TEST_MODEL][sha][0], lg, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(b.outputs[TEST_MODEL][sha][1], em, rtol=1e-5, atol=1e-6)
    clear_model_cache()


def test_cli_precision_and_device_options(tmp_path, capsys, monkeypatch):
    import torch

    from advisor.cli import main

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    data = _synthetic(tmp_path / "data")
    assert main(["evaluate", str(data), "-m", TEST_MODEL, "--device", "cuda"]) != 0
    assert "no CUDA GPU" in capsys.readouterr().err
    assert main(["evaluate", str(data), "-m", TEST_MODEL, "--precision", "bf16", "--device", "auto",
                 "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert "(local, cpu, bf16)" in out and "fp32_top1_agreement" in out
