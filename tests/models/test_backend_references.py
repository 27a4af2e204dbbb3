"""Each new backend against its library's own construction, on random weights written to a local file.

The backend reads the file (tensors only, strict); the reference is what the library itself does with the
same tensors: torchvision's builder given the weights enum, antialiased-cnns' constructor with
`pretrained=True`, the stored timm load call of a release file, RobustBench's normalising wrapper. The
library's download is replaced by the state dict, so nothing touches the network. Equality is exact (same
ops, fp32) unless stated.
"""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from advisor.models.loaded import load_model


def _save(tmp_path, state: dict, name: str = "w.safetensors") -> str:
    path = tmp_path / name
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    return str(path)


def _seeded_state(model: torch.nn.Module, seed: int = 3) -> dict:
    """Random weights everywhere (BatchNorm statistics too), so a misplaced tensor changes the output."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, v in model.state_dict().items():
        if v.is_floating_point():
            scale = 0.5 if k.endswith("running_var") else 0.05
            out[k] = (torch.rand(v.shape, generator=g) * scale + (0.5 if k.endswith("running_var") else 0))
        else:
            out[k] = v.clone()
    return out


def _normalised(x01: torch.Tensor, view) -> torch.Tensor:
    return (x01 - torch.tensor(view.mean).view(1, -1, 1, 1)) / torch.tensor(view.std).view(1, -1, 1, 1)


@pytest.mark.parametrize("builder", ["squeezenet1_1", "googlenet", "mobilenet_v3_small"])
def test_torchvision_backend_equals_torchvision_with_its_weights_enum(builder, tmp_path, monkeypatch,
                                                                     images01):
    """squeezenet: a convolutional classifier; googlenet: the builder's own kwargs (input transform, no aux).

    Mutant caught: building with weights=None and no builder kwargs (googlenet then skips transform_input,
    and its logits differ)."""
    import torchvision.models as tvm
    import torchvision.models._api as api

    from advisor.models.backends.torchvision import build_module

    weights = tvm.get_model_weights(builder).IMAGENET1K_V1
    state = _seeded_state(build_module(builder, weights))
    path = _save(tmp_path, state)
    monkeypatch.setattr(api, "load_state_dict_from_url", lambda url, *a, **k: dict(state))
    ref = tvm.get_model(builder, weights=weights).eval()  # torchvision's own construction
    model = load_model(f"torchvision:{builder}.IMAGENET1K_V1", path)
    x = images01()
    logits, emb = model.forward(x)
    with torch.inference_mode():
        want = ref(_normalised(x, model.view))
    assert torch.allclose(logits, want, atol=1e-5, rtol=1e-5)
    assert model.class_names == tuple(weights.meta["categories"]) and emb.shape[0] == 2
    t = weights.transforms()
    assert model.view.input_size == (t.crop_size[0],) * 2 and model.view.interpolation == t.interpolation.value


def test_every_stored_torchvision_weights_builds_the_enums_network(store, monkeypatch):
    """On the meta device (RegNets on the CPU): the network built without weights takes the enum's file
    strictly, as torchvision's builder (given the enum) does; ViT SWAG at 384-518 px and MaxViT included."""
    import torchvision.models as tvm
    import torchvision.models._api as api

    from advisor.models.backends.torchvision import build_module, drop_aux
    from advisor.models.registry import parse_model_id

    ids = [m for m in store.models()["model_id"] if m.startswith("torchvision:")]
    assert len(ids) >= 40
    ids = [m for m in ids if not m.startswith(("torchvision:regnet_y_16gf", "torchvision:regnet_y_32gf"))]  # CPU-only
    # builders with 80-145 M parameters to initialise; the other five RegNet-Y sizes check the same builder
    for mid in ids:
        spec = parse_model_id(mid)
        weights = tvm.get_model_weights(spec.arch)[spec.tag]
        device = "cpu" if spec.arch.startswith("regnet") else "meta"  # RegNet's builder reads tensor values
        with torch.device(device):
            net = build_module(spec.arch, weights)
            ours = net.state_dict()
            # `ours` keeps its metadata (MNASNet checks the version it was saved with), as torch.save keeps it
            monkeypatch.setattr(api, "load_state_dict_from_url", lambda url, *a, ours=ours, **k: ours)
            ref = tvm.get_model(spec.arch, weights=weights).state_dict()  # loads `ours` strictly
            kept = drop_aux(spec.arch, net).state_dict()
        assert {k: v.shape for k, v in kept.items()} == {k: v.shape for k, v in ref.items()}, mid


@pytest.mark.parametrize("arch, n", [("resnet18", 2), ("densenet121", 4)])
def test_antialiased_backend_equals_the_packages_pretrained_constructor(arch, n, tmp_path, monkeypatch,
                                                                       images01):
    """DenseNet: the file has torchvision's old 'norm.1' keys, which the package renames before loading."""
    import antialiased_cnns
    from antialiased_cnns import densenet, resnet

    state = _seeded_state(getattr(antialiased_cnns, arch)(pretrained=False, filter_size=n))
    if arch.startswith("densenet"):
        old = {k: k.replace("norm1.", "norm.1.").replace("conv2.", "conv.2.") for k in state
               if not k.endswith("num_batches_tracked")}  # the names the package's regular expression renames
        state = {old.get(k, k): v for k, v in state.items()}
    path = _save(tmp_path, {"state_dict." + k: v for k, v in state.items()})  # nested as the package saves
    files = {"state_dict": state}
    for mod in (resnet, densenet):
        monkeypatch.setattr(mod.model_zoo, "load_url", lambda url, *a, **k: {"state_dict": dict(files["state_dict"])},
                            raising=True)
    ref = getattr(antialiased_cnns, arch)(pretrained=True, filter_size=n).eval()
    model = load_model(f"antialiased:{arch}_lpf{n}", _save(tmp_path, dict(state), "flat.safetensors"))
    x = images01()
    with torch.inference_mode():
        want = ref(_normalised(x, model.view))
    assert torch.allclose(model.forward(x)[0], want, atol=1e-5, rtol=1e-5)
    assert path  # the nested layout is accepted too (see test below)


def test_antialiased_reads_the_packages_nested_checkpoint(tmp_path):
    import antialiased_cnns

    from advisor.models.backends.antialiased import package_state

    state = antialiased_cnns.resnet18(pretrained=False, filter_size=2).state_dict()
    assert set(package_state({"state_dict": state, "epoch": 90}, "resnet18")) == set(state)


def test_release_backend_equals_the_stored_timm_load_call(store, tmp_path, monkeypatch, images01):
    """quba:EfficientNet-b0-A1 -> release:tf_efficientnet_b0_a1_0-9188dd46: the same network, weights and view as
    the store's `timm.create_model(..., pretrained_cfg_overlay=dict(url=...))` fetching the same file."""
    import timm
    import timm.models._builder as builder
    from timm.data import resolve_model_data_config

    row = store.models().set_index("model_id").loc["quba:EfficientNet-b0-A1"]
    state = _seeded_state(timm.create_model("tf_efficientnet_b0", pretrained=False))
    fetched: list[str] = []
    monkeypatch.setattr(builder, "load_state_dict_from_url", lambda url, **_: fetched.append(url) or dict(state))
    monkeypatch.setattr(builder, "has_hf_hub", lambda necessary=False: False)
    ref = eval(row["load_call"], {"timm": timm}).eval()
    model = load_model("quba:EfficientNet-b0-A1", _save(tmp_path, state))
    assert fetched == [row["weights_url"]] and model.model_id == "quba:EfficientNet-b0-A1"
    x = images01()
    with torch.inference_mode():
        want = ref(_normalised(x, model.view))
    assert torch.allclose(model.forward(x)[0], want, atol=1e-5, rtol=1e-5)
    cfg = resolve_model_data_config(ref)
    assert model.view.crop_pct == cfg["crop_pct"] and model.view.interpolation == cfg["interpolation"]


def test_robustbench_resnet_equals_robustbenchs_normalising_wrapper(tmp_path, images01):
    """Salman2020Do_R18: RobustBench's Sequential(ImageNormalizer, resnet18) fed [0, 1] pixels, its checkpoint
    as RobustBench stores it ('module.model.' keys); here the normaliser is the view (same arithmetic)."""
    import torchvision

    net = torchvision.models.resnet18(weights=None)
    state = _seeded_state(net)
    net.load_state_dict(state)
    mean = torch.tensor((0.485, 0.456, 0.406)).view(1, 3, 1, 1)
    std = torch.tensor((0.229, 0.224, 0.225)).view(1, 3, 1, 1)
    path = _save(tmp_path, {f"module.model.{k}": v for k, v in state.items()})
    model = load_model("robustbench:Salman2020Do_R18", path)
    x = images01()
    with torch.inference_mode():
        want = net.eval()((x - mean) / std)  # ImageNormalizer.forward, then the network
    assert torch.equal(model.forward(x)[0], want) or torch.allclose(model.forward(x)[0], want, atol=1e-6)
    assert model.view.crop_pct == 224 / 256 and model.view.interpolation == "bilinear"


def test_robustbench_xcit_equals_timms_xcit_with_timms_filter(tmp_path, images01):
    """Debenedetti2022Light_XCiT-S12 is timm's xcit_small_12_p16_224 with the release file through timm's own
    checkpoint filter; RobustBench adds no normalisation, so the view passes [0, 1] pixels."""
    import timm

    ref = timm.create_model("xcit_small_12_p16_224", pretrained=False).eval()
    state = _seeded_state(ref)
    ref.load_state_dict(state)
    path = tmp_path / "debenedetti2022light-xcit-s-imagenet-linf.pth.tar"
    torch.save({"model": state, "epoch": 109}, path)  # a training checkpoint, as the release file is
    model = load_model("robustbench:Debenedetti2022Light_XCiT-S12", path)
    assert model.view.mean == (0.0, 0.0, 0.0) and model.view.std == (1.0, 1.0, 1.0)
    x = images01()
    with torch.inference_mode():
        want = ref(x)
    assert torch.allclose(model.forward(x)[0], want, atol=1e-5, rtol=1e-4)


def test_robustbench_models_needing_its_code_say_so():
    from advisor.errors import WeightsUnavailableError
    from advisor.models.registry import parse_model_id

    with pytest.raises(WeightsUnavailableError, match="RobustBench's own code"):
        parse_model_id("robustbench:Singh2023Revisiting_ConvNeXt-L-ConvStem")
