"""The probe backend table: every backend implements the whole interface, and every consumer reads the table.

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
from advisor.probes.kinds import BACKENDS
from advisor.probes.kinds.base import Backend, Built, HubFiles, ModelSpec, WeightsSource
from advisor.probes.transforms import ViewConfig

INTERFACE = {"parse", "find", "build", "outputs", "how_to_get", "hub_files"}
PROBES = Path(__file__).resolve().parents[2] / "advisor" / "probes"


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

    def outputs(self, model, x):
        return model.module(x), x.mean(dim=(2, 3))

    def how_to_get(self, spec):
        return "ask the fake hub"

    def hub_files(self, spec):
        self.hub_asked.append(spec.model_id)
        return HubFiles("org/fake", ("model.safetensors",), "MIT")


@pytest.fixture
def fake(monkeypatch):
    from advisor.probes.backends import clear_model_cache

    backend = FakeBackend()
    monkeypatch.setitem(BACKENDS, "hf", backend)
    clear_model_cache()
    yield backend
    clear_model_cache()


def test_an_unregistered_namespace_names_the_registered_backends():
    from advisor.probes.weights import parse_model_id

    with pytest.raises(UnknownNameError) as e:
        parse_model_id("hf:present")
    assert e.value.kind == "probe backend" and e.value.suggestions == list(BACKENDS)


def test_a_third_backend_is_one_registry_entry(fake, monkeypatch):
    from advisor.probes.backends import load_model, probe_readiness
    from advisor.probes.download import plan_download
    from advisor.probes.weights import find_weights, parse_model_id

    assert isinstance(fake, Backend)
    spec = parse_model_id("hf:present")
    assert spec.kind == "hf" and find_weights(spec).label == "fake:weights"
    with pytest.raises(UnknownNameError, match="fake model"):
        parse_model_id("hf:unknown")
    with pytest.raises(WeightsUnavailableError, match="How to get them: ask the fake hub"):
        find_weights(parse_model_id("hf:absent"))
    assert probe_readiness("hf:present") == (True, "hf:present: real weights from fake:weights")

    with pytest.raises(WeightsUnavailableError, match="HF_HUB_OFFLINE is set"):
        plan_download("hf:absent")
    assert fake.hub_asked == ["hf:absent"]

    m = load_model("hf:present")
    assert (m.kind, m.weights, m.num_classes, m.view.input_size) == ("hf", "fake:weights", 4, (8, 8))
    logits, emb = m.forward(torch.rand(2, 3, 8, 8))
    assert logits.shape == (2, 4) and emb.shape == (2, 3)


def test_loadable_model_ids_are_the_registry_keys(monkeypatch):
    from advisor.probes.weights import loadable_model_ids

    models = pd.DataFrame({
        "model_id": ["timm:a.x", "open_clip:B.y", "torchvision:c.W", "quba:d", "timm:e"],
        "loader": ["timm", "open_clip", "torchvision", None, "timm"],
        "load_name": ["a.x", "B.y", "c.W", None, None],
    })
    assert loadable_model_ids(models) == ["open_clip:B.y", "timm:a.x"]
    monkeypatch.setitem(BACKENDS, "torchvision", FakeBackend())
    assert loadable_model_ids(models) == ["open_clip:B.y", "timm:a.x", "torchvision:c.W"]
    monkeypatch.delitem(BACKENDS, "open_clip")
    assert loadable_model_ids(models) == ["timm:a.x", "torchvision:c.W"]


SWITCH = re.compile(r"""(==|!=|\bin\s*[(\[{]|isin\(\s*\[)\s*["'](timm|open_clip)["']"""
                    r"""|["'](timm|open_clip)["']\s*(==|!=)""")


def test_no_backend_switch_outside_the_backend_modules():
    assert SWITCH.search('if spec.kind == "timm":') and SWITCH.search('isin(["timm", "open_clip"])')
    hits = [f"{p.relative_to(PROBES)}:{i}: {line.strip()}"
            for p in sorted(PROBES.rglob("*.py")) if "kinds" not in p.relative_to(PROBES).parts
            for i, line in enumerate(p.read_text().splitlines(), 1) if SWITCH.search(line)]
    assert hits == []
