"""The model backend table: every backend implements the whole interface, and every consumer reads the table.

A fake third backend (under the `hf` namespace) is registered for a test to show that one registry entry is
all it takes: ids parse, weights are found, the how-to-get message, the download plan and model loading
all go through it.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pandas as pd
import pytest
import torch

from advisor.errors import UnknownNameError, WeightsUnavailableError
from advisor.ids import NAMESPACES
from advisor.models.interface import (
    Backend,
    Built,
    HubFiles,
    ModelSpec,
    ViewConfig,
    WeightsSource,
    ZeroShotBackend,
    ZeroShotHead,
)
from advisor.models.registry import BACKENDS

INTERFACE = {"parse", "find", "build", "outputs", "how_to_get", "hub_files"}
CAPABILITIES = (ZeroShotBackend,)
ADVISOR = Path(__file__).resolve().parents[2] / "advisor"
# Where a library's name may be switched on: its own backend module, and the store, whose ingesters read
# published data that names libraries (that is data, not a choice of code path).
SWITCH_ALLOWED = (ADVISOR / "models" / "backends", ADVISOR / "store")


def _methods(cls) -> dict[str, inspect.Signature]:
    return {n: inspect.signature(v) for n, v in vars(cls).items() if callable(v) and not n.startswith("_")}


def test_the_interface_is_what_the_consumers_call():
    assert set(_methods(Backend)) == INTERFACE


@pytest.mark.parametrize("key", sorted(BACKENDS))
def test_every_backend_implements_the_whole_interface(key):
    backend = BACKENDS[key]
    assert backend.name == key and key in NAMESPACES  # its ids parse with advisor.ids
    assert isinstance(backend, Backend)
    for name, sig in _methods(Backend).items():
        own = inspect.signature(getattr(backend, name))
        assert list(own.parameters) == [p for p in sig.parameters if p != "self"], (key, name)
        assert getattr(type(backend), name).__doc__, (key, name)  # says why, like every public function
    for capability in CAPABILITIES:
        if isinstance(backend, capability):
            for name, sig in _methods(capability).items():
                own = inspect.signature(getattr(backend, name))
                assert list(own.parameters) == [p for p in sig.parameters if p != "self"], (key, name)


def test_capabilities_are_declared_by_the_backends_that_have_them():
    """Mutant caught: the open_clip backend without `zero_shot_head` (evaluate then has no zero-shot path)."""
    assert isinstance(BACKENDS["open_clip"], ZeroShotBackend)  # CLIP classifies by class names
    assert not isinstance(BACKENDS["timm"], ZeroShotBackend)


class FakeBackend:
    """A third model library: weights 'present' for `hf:present`, none for anything else."""

    name = "hf"

    def __init__(self):
        self.hub_asked = []

    def parse(self, name):
        if name == "unknown":
            raise UnknownNameError("fake model", f"hf:{name}", ["hf:present"])
        return ModelSpec(f"hf:{name}", "hf", name, "", False)

    def find(self, spec):
        return WeightsSource("file", "fake:weights") if spec.arch == "present" else None

    def build(self, spec, src, templates="", progress=None):
        module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 4)).eval()
        return Built(module, ViewConfig(input_size=(8, 8)), ("a", "b", "c", "d"))

    def outputs(self, built, x):
        return built.module(x), x.mean(dim=(2, 3))

    def how_to_get(self, spec):
        return "ask the fake hub"

    def hub_files(self, spec):
        self.hub_asked.append(spec.model_id)
        return HubFiles("org/fake", ("model.safetensors",), "MIT")


@pytest.fixture
def fake(monkeypatch):
    from advisor.models.loaded import clear_model_cache

    backend = FakeBackend()
    monkeypatch.setitem(BACKENDS, "hf", backend)
    clear_model_cache()
    yield backend
    clear_model_cache()


def test_an_unregistered_namespace_names_the_registered_backends():
    from advisor.models.registry import parse_model_id

    with pytest.raises(UnknownNameError) as e:
        parse_model_id("hf:present")
    assert e.value.kind == "model backend" and e.value.suggestions == list(BACKENDS)


def test_a_third_backend_is_one_registry_entry(fake, monkeypatch):
    from advisor.models.download import plan_download
    from advisor.models.loaded import load_model
    from advisor.models.registry import parse_model_id
    from advisor.models.weights import find_weights, probe_readiness

    assert isinstance(fake, Backend)
    spec = parse_model_id("hf:present")
    assert spec.backend == "hf" and find_weights(spec).label == "fake:weights"
    with pytest.raises(UnknownNameError, match="fake model"):
        parse_model_id("hf:unknown")
    with pytest.raises(WeightsUnavailableError, match="How to get them: ask the fake hub"):
        find_weights(parse_model_id("hf:absent"))
    assert probe_readiness("hf:present") == (True, "hf:present: real weights from fake:weights")

    with pytest.raises(WeightsUnavailableError, match="HF_HUB_OFFLINE is set"):
        plan_download("hf:absent")
    assert fake.hub_asked == ["hf:absent"]

    m = load_model("hf:present")
    assert (m.backend, m.weights, m.num_classes, m.view.input_size) == ("hf", "fake:weights", 4, (8, 8))
    logits, emb = m.forward(torch.rand(2, 3, 8, 8))
    assert logits.shape == (2, 4) and emb.shape == (2, 3)


class FakeZeroShotBackend(FakeBackend):
    """The fake library, whose models also classify by class names: a head that reads the embedding."""

    def __init__(self):
        super().__init__()
        self.heads_asked = []

    def zero_shot_head(self, spec, built, src, classnames, templates="", progress=None):
        self.heads_asked.append(tuple(classnames))
        return ZeroShotHead(torch.eye(3)[:, :len(classnames)], 10.0, tuple(classnames), ("{}",))


def test_evaluate_asks_the_registry_which_models_classify_by_class_names(monkeypatch, imagenet_samples, tmp_path):
    """A third backend that declares `zero_shot_head` gets the zero-shot path in evaluate; one that does not,
    the transfer path. Mutant caught: evaluate choosing by id prefix (`startswith("open_clip:")`)."""
    from advisor.errors import InvalidRequestError
    from advisor.evaluate.run import evaluate
    from advisor.models.loaded import clear_model_cache, load_model

    from .test_clip import _own_class_folders

    data = _own_class_folders(tmp_path / "data", imagenet_samples)
    plain = FakeBackend()
    monkeypatch.setitem(BACKENDS, "hf", plain)
    clear_model_cache()
    r = evaluate(data, ["hf:present"], label_set="own", cache_root="")
    assert r.models[0].task == "transfer" and "top1" not in r.models[0].metrics
    with pytest.raises(InvalidRequestError, match="cannot classify by class names"):
        load_model("hf:present").zero_shot_head(["fish", "bird"])

    zero_shot = FakeZeroShotBackend()
    monkeypatch.setitem(BACKENDS, "hf", zero_shot)
    clear_model_cache()
    r = evaluate(data, ["hf:present"], label_set="own", cache_root="")
    assert r.models[0].task == "zero-shot" and "top1" in r.models[0].metrics
    assert zero_shot.heads_asked == [r.classes]
    clear_model_cache()


def test_loadable_model_ids_are_the_registry_keys(monkeypatch):
    from advisor.models.registry import loadable_model_ids

    models = pd.DataFrame({
        "model_id": ["timm:a.x", "open_clip:B.y", "torchvision:c.W", "quba:d", "timm:e", "quba:ViT-s-14-dinoV2-LP"],
        "obtainable": [True, True, True, True, False, True],
    })
    # obtainable, in a backend's namespace or routed to one (quba:d has neither; timm:e has no public weights)
    assert loadable_model_ids(models) == ["open_clip:B.y", "quba:ViT-s-14-dinoV2-LP", "timm:a.x", "torchvision:c.W"]
    monkeypatch.delitem(BACKENDS, "torchvision")
    assert loadable_model_ids(models) == ["open_clip:B.y", "quba:ViT-s-14-dinoV2-LP", "timm:a.x"]
    monkeypatch.delitem(BACKENDS, "open_clip")
    assert loadable_model_ids(models) == ["quba:ViT-s-14-dinoV2-LP", "timm:a.x"]


SWITCH = re.compile(r"""(==|!=|\bin\s*[(\[{]|isin\(\s*\[)\s*["'](timm|open_clip)["']"""
                    r"""|["'](timm|open_clip)["']\s*(==|!=)|startswith\(\s*\(?\s*["'](timm|open_clip)[:"']""")


def test_no_backend_switch_outside_the_backend_modules():
    """Probes, evaluate, the CLI and the UI reach a library's behaviour only through the registry.

    Mutant caught: evaluate choosing the CLIP zero-shot path by `model_id.startswith("open_clip:")` (as it
    did) instead of asking the registry whether the backend declares `zero_shot_head`."""
    assert SWITCH.search('if spec.kind == "timm":') and SWITCH.search('isin(["timm", "open_clip"])')
    assert SWITCH.search('elif model_id.startswith("open_clip:"):')
    hits = [f"{p.relative_to(ADVISOR)}:{i}: {line.strip()}"
            for p in sorted(ADVISOR.rglob("*.py")) if not any(p.is_relative_to(a) for a in SWITCH_ALLOWED)
            for i, line in enumerate(p.read_text().splitlines(), 1) if SWITCH.search(line)]
    assert hits == []
