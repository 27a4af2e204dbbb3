"""The one parser/formatter of canonical model ids (`namespace:name`)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TypeVar

from advisor.errors import UnknownNameError

T = TypeVar("T")

# Namespaces in preference order: a model known to timm or open_clip is named there.
NAMESPACES = (
    "timm",  # timm `arch.tag` (includes torchvision weights as `*.tv_in1k`)
    "open_clip",  # open_clip `Arch.pretrained`
    "torchvision",  # torchvision weights with no timm twin: `arch.WEIGHTS_ENUM`
    "hf",  # a Hugging Face hub id
    "quba",  # QUBA code identifier with no public loader we map to
    "testbed",  # imagenet-testbed model name with no loader we map to
    "mvh",  # model-vs-human registry name
    "robustbench",  # RobustBench ImageNet model name
    "bvg",  # biases_vs_generalization custom model
    "vlm",  # vlm_shapebias model
    "study",  # the Beyond-INet study's own label
    "imagenetx",  # ImageNet-X base model with no loader we map to
    "antialiased",  # anti-aliased (BlurPool) CNN from the antialiased-cnns package
    "release",  # a timm architecture with a GitHub release file: `release:<file stem with its sha256 prefix>`
    "torchhub",  # a torch.hub linear classifier rebuilt from timm / torchvision: `torchhub:<hub entry>`
)
# Namespaces of weights routes only: a store model's load call may name them, no source names a model in them.
ROUTE_ONLY_NAMESPACES = ("release", "torchhub")


def make_id(namespace: str, name: str) -> str:
    """Format a canonical id; the namespace must be one we know."""
    if namespace not in NAMESPACES:
        raise ValueError(f"unknown id namespace {namespace!r}")
    name = name.strip()
    if not name:
        raise ValueError("empty model name")
    return f"{namespace}:{name}"


def split_id(model_id: str) -> tuple[str, str]:
    """Split `namespace:name`; raises ValueError for a malformed id."""
    ns, sep, name = model_id.partition(":")
    if not sep or ns not in NAMESPACES or not name:
        raise ValueError(f"malformed model id {model_id!r} (expected namespace:name)")
    return ns, name


def bare_name(model_id: str) -> str:
    """The name after the namespace (`timm:resnet50.a1_in1k` -> `resnet50.a1_in1k`); a bare name is returned as is."""
    return model_id.partition(":")[2] if ":" in model_id else model_id


def namespace_of(model_id: str) -> str:
    """The namespace of a canonical id ('' for a bare name)."""
    return model_id.partition(":")[0] if ":" in model_id else ""


def split_load_name(name: str) -> tuple[str, str]:
    """`arch.tag` -> (arch, tag) for timm, open_clip (`Arch.pretrained`) and torchvision (`builder.WEIGHTS`).

    Split on the FIRST dot: timm's own `split_model_name_tag` does (architecture names are Python
    identifiers), and no open_clip architecture or torchvision builder name contains a dot, while a
    tag may in principle (checked against every published name in tests/store/test_ids.py). No dot: tag ''.
    """
    arch, _, tag = name.partition(".")
    return arch, tag


def load_name_of(model_id: str) -> tuple[str, str, str]:
    """(namespace, arch, tag) of a loader id such as `open_clip:ViT-B-32.openai`; ValueError if malformed."""
    ns, name = split_id(model_id)
    arch, tag = split_load_name(name)
    return ns, arch, tag


def suggest(name: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """Close matches for a mistyped name, comparing with and without namespaces."""
    cands = list(candidates)
    lowered = {c.lower(): c for c in cands}
    bare = {}
    for c in cands:
        bare.setdefault(c.split(":", 1)[-1].lower(), c)
    q = name.lower()
    hits = difflib.get_close_matches(q, list(lowered), n=n, cutoff=0.6)
    hits += difflib.get_close_matches(q.split(":", 1)[-1], list(bare), n=n, cutoff=0.6)
    out: list[str] = []
    for h in hits:
        full = lowered.get(h) or bare.get(h)
        if full and full not in out:
            out.append(full)
    if len(out) < n:  # substring matches help for short queries like "convnext_base"
        for c in cands:
            if q in c.lower() and c not in out:
                out.append(c)
            if len(out) >= n:
                break
    return out[:n]


def find_named(items: Iterable[T], name: str, kind: str) -> T:
    """The item whose `.name` is `name` (registries of needs, presets, ...); else raise with suggestions."""
    items = list(items)
    for it in items:
        if it.name == name:
            return it
    raise UnknownNameError(kind, name, suggest(name, [it.name for it in items]))
