"""Every stored load call checked against the libraries' own lists, offline (issue 19).

timm, open_clip, torchvision and antialiased-cnns are installed and asked directly; RobustBench cannot be
installed next to this timm (it pins timm==1.0.9) and torch.hub needs the network, so their lists are
vendored with their origin (precomputed/sources/libraries/SOURCE.md).
"""

from __future__ import annotations

import csv
import importlib
import re
from functools import cache

import pytest

from advisor.store.build import DEFAULT_SOURCES
from advisor.store.sources.quba import RSB_RELEASE

LIB = DEFAULT_SOURCES / "libraries"
AA_MODULES = ("alexnet", "densenet", "mobilenet", "resnet", "vgg")
CALLS = {  # weights_from -> the call's form; anything else is a wrong call
    "timm": re.compile(r'timm\.create_model\("([^"]+)", pretrained=True\)'),
    "open_clip": re.compile(r'open_clip\.create_model_and_transforms\("([^"]+)", pretrained="([^"]+)"\)'),
    "torchvision": re.compile(r'torchvision\.models\.get_model\("(\w+)", weights="(\w+)"\)'),
    "antialiased": re.compile(r"antialiased_cnns\.(\w+)\(pretrained=True, filter_size=(\d)\)"),
    "robustbench": re.compile(r'robustbench\.utils\.load_model\(model_name="([^"]+)", dataset="imagenet", '
                              r'threat_model="(\w+)"\)'),
    "release file": re.compile(r'timm\.create_model\("(\w+)", pretrained=True, pretrained_cfg_overlay=dict\('
                               r'url="([^"]+)", hf_hub_id=None\)\)'),
    "torch.hub": re.compile(r'torch\.hub\.load\("([^"]+)", "(\w+)"\)'),
}
RSB_FILE = re.compile(r"(\w+)_a[123]_0-([0-9a-f]{8})\.pth")


@cache
def lists() -> dict[str, object]:
    timm = pytest.importorskip("timm")
    open_clip = pytest.importorskip("open_clip")
    tv = pytest.importorskip("torchvision.models")
    pytest.importorskip("antialiased_cnns")
    from timm.models import get_deprecated_models

    urls: dict[str, str] = {}
    for mod in AA_MODULES:
        urls.update(importlib.import_module(f"antialiased_cnns.{mod}").model_urls)
    with (LIB / "robustbench_imagenet_models.csv").open() as fh:
        robustbench = {(r["threat_model"], r["name"]) for r in csv.DictReader(fh)}
    with (LIB / "torch_hub_entries.csv").open() as fh:
        hub = {(r["repo"], r["entry"]) for r in csv.DictReader(fh)}
    return {"timm": set(timm.list_pretrained()), "timm_archs": set(timm.list_models()),
            "timm_renamed": get_deprecated_models(), "open_clip": set(open_clip.list_pretrained()),
            "torchvision": tv, "aa_urls": urls, "robustbench": robustbench, "hub": hub}


def check(model_id: str, weights_from: str, call: str, url: str | None, sha: str | None) -> str:
    """'' when the call names what the library lists, else what is wrong."""
    lib = lists()
    kind = ("antialiased" if call.startswith("antialiased_cnns.") else "robustbench") if weights_from == "pip" \
        else weights_from
    if kind == "torch.hub" and "load_state_dict_from_url" in call:  # backbone entry + a released head file
        m = re.match(r'm = torch\.hub\.load\("([^"]+)", "(\w+)"\); ', call)
        return "" if m and m.groups() in lib["hub"] and url and url in call else "unknown hub entry or head file"
    m = CALLS[kind].fullmatch(call)
    if m is None:
        return f"not a {kind} call of the stored form"
    if kind == "timm":
        return "" if m.group(1) in lib["timm"] else "not in timm.list_pretrained()"
    if kind == "open_clip":
        return "" if m.groups() in lib["open_clip"] else "not in open_clip.list_pretrained()"
    if kind == "torchvision":
        builder, enum = m.groups()
        if builder not in lib["torchvision"].list_models():
            return "no such torchvision builder"
        weights = lib["torchvision"].get_model_weights(builder)
        if enum not in weights.__members__:
            return "no such weights enum member"
        return "" if url == weights[enum].url else f"weights_url {url} is not the enum's {weights[enum].url}"
    if kind == "antialiased":
        fn, n = m.group(1), int(m.group(2))
        key = f"{fn}_lpf4_finetune" if n == 4 else f"{fn}_lpf{n}"  # the package's own rule (pretrained=True)
        if key not in lib["aa_urls"]:
            return f"antialiased-cnns has no weights {key}"
        return "" if url == lib["aa_urls"][key] else f"weights_url is not model_urls[{key!r}]"
    if kind == "robustbench":
        name, threat = m.groups()
        return "" if (threat, name) in lib["robustbench"] else "not in RobustBench's ImageNet model zoo"
    if kind == "release file":
        arch, file_url = m.groups()
        f = RSB_FILE.fullmatch(file_url.removeprefix(RSB_RELEASE))
        if arch not in lib["timm_archs"] or not file_url.startswith(RSB_RELEASE) or f is None:
            return "not a timm architecture with a file of the v0.1-rsb-weights release"
        named = lib["timm_renamed"].get(f.group(1), f.group(1)).split(".")[0]  # gluon_senet154 -> senet154
        if named != arch:
            return f"file {f.group(1)}_* is not a {arch} file"
        return "" if url == file_url and sha == f.group(2) else "weights_url / weights_sha256 differ from the call"
    return "" if m.groups() in lib["hub"] else "not an entry of the repository's hubconf.py"


@pytest.fixture(scope="module")
def obtainable(store):
    return store.query("SELECT model_id, weights_from, load_call, weights_url, weights_sha256 FROM models "
                       "WHERE obtainable ORDER BY model_id")


def test_every_stored_load_call_is_in_the_libraries_lists(obtainable):
    """0 wrong among all obtainable models; there is no 'unverifiable' class: every route kind is checked."""
    wrong = {r.model_id: why for r in obtainable.itertuples(index=False)
             if (why := check(r.model_id, r.weights_from, r.load_call, r.weights_url, r.weights_sha256))}
    assert not wrong, wrong
    assert len(obtainable) >= 1500 and set(obtainable["weights_from"]) == {
        "timm", "open_clip", "torchvision", "pip", "release file", "torch.hub"}


@pytest.mark.parametrize("weights_from, call, why", [
    ("timm", 'timm.create_model("resnet50.no_such_tag", pretrained=True)', "list_pretrained"),
    ("release file", 'timm.create_model("tf_efficientnet_b4", pretrained=True, pretrained_cfg_overlay=dict(url='
                     f'"{RSB_RELEASE}f_efficientnet_b4_a1_0-182bef54.pth", hf_hub_id=None))',
     "not a tf_efficientnet_b4"),
    ("release file", 'timm.create_model("resnet50", pretrained=True, pretrained_cfg_overlay=dict(file="r.pth"))',
     "stored form"),
    ("pip", "antialiased_cnns.resnet152(pretrained=True, filter_size=2)", "no weights resnet152_lpf2"),
    ("pip", 'robustbench.utils.load_model(model_name="Engstrom2019Robustness", dataset="imagenet", '
            'threat_model="corruptions")', "model zoo"),
    ("torch.hub", 'torch.hub.load("facebookresearch/dino:main", "dino_resnet50_linear")', "hubconf"),
    ("open_clip", 'open_clip.create_model_and_transforms("MobileCLIP-S0", pretrained="datacompdr")', "list_pretrained"),
])
def test_the_check_catches_wrong_calls(weights_from, call, why):
    """The calls the issue found wrong (a local file, a mistyped file name, a backbone without its head) fail."""
    url = re.search(r'url="([^"]+)"', call)
    assert why in check("quba:x", weights_from, call, url.group(1) if url else None, "182bef54")


def test_a_release_file_call_runs_offline(store, monkeypatch):
    """The stored call itself runs: timm fetches exactly the stored URL (the download is replaced by the model's
    own state dict), not the default tag's hub weights."""
    timm = pytest.importorskip("timm")
    import timm.models._builder as builder

    row = store.models().set_index("model_id").loc["quba:EfficientNet-b0-A1"]
    fetched: list[str] = []

    def fake_download(url, **_):
        fetched.append(url)
        return timm.create_model("tf_efficientnet_b0", pretrained=False).state_dict()

    monkeypatch.setattr(builder, "load_state_dict_from_url", fake_download)
    monkeypatch.setattr(builder, "has_hf_hub", lambda necessary=False: False)
    model = eval(row["load_call"], {"timm": timm})  # the exact stored text
    assert fetched == [row["weights_url"]] and model.num_classes == 1000


def test_an_antialiased_call_fetches_the_stored_file(store, monkeypatch):
    aa = pytest.importorskip("antialiased_cnns")
    resnet = importlib.import_module("antialiased_cnns.resnet")
    row = store.models().set_index("model_id").loc["antialiased:resnet18_lpf2"]
    fetched: list[str] = []

    def fake_load_url(url, **_):
        fetched.append(url)
        return {"state_dict": aa.resnet18(pretrained=False, filter_size=2).state_dict()}

    monkeypatch.setattr(resnet.model_zoo, "load_url", fake_load_url)
    eval(row["load_call"], {"antialiased_cnns": aa})
    assert fetched == [row["weights_url"]] and row["weights_sha256"] == "6e2ee76f"
