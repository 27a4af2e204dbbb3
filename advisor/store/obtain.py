"""Where a model's weights can be had, and the exact call that loads them (models.obtainable & co).

A model is obtainable when its id names a loader (timm hub tag, open_clip pretrained tag, torchvision
weights enum, an antialiased-cnns model) or when a public route is stated: by its source (its ingester
calls `Collector.add_obtain`: a torch.hub entry, a pip package, a release file) or by this project's
review (`curated/weights_routes.csv`, which wins: it corrects routes a source states wrongly).
Everything else is "none known" with the reason; nothing here is guessed from a name.
"""

from __future__ import annotations

import re

import pandas as pd

from advisor.ids import split_id, split_load_name

WEIGHTS_FROM = ("timm", "open_clip", "torchvision", "torch.hub", "pip", "release file", "none known")
OBTAIN_COLUMNS = ("obtainable", "weights_from", "load_call", "obtain_note", "weights_url", "weights_sha256")

# Why a model in a namespace without a loader has no known weights (the default note).
NONE_KNOWN = {
    "quba": "no public loader mapped for this QUBA entry",
    "testbed": "imagenet-testbed's copy of the checkpoint; its origin is not recorded here and no public loader "
               "is mapped",
    "mvh": "model-vs-human registry entry; no public loader mapped",
    "bvg": "biases-vs-generalization checkpoint; no public loader mapped",
    "vlm": "vision-language model from vlm_shapebias; no image-classifier loader mapped",
    "study": "the Beyond-INet study's own checkpoint; no public loader mapped",
    "imagenetx": "ImageNet-X base model; no public loader mapped",
    "robustbench": "RobustBench entry; no loader mapped",
    "hf": "Hugging Face hub model; no classifier loader mapped",
    "antialiased": "no loader mapped",
}
_LPF = re.compile(r"([a-z0-9_]+?)_lpf([2-5])")
# The torch.hub convention `name-<first hex digits of the file's sha256>.ext` (checked with check_hash=True).
_HASHED_FILE = re.compile(r"-([0-9a-f]{8,64})\.[A-Za-z.]+$")


def sha256_prefix(url: str) -> str | None:
    """The sha256 prefix a torch.hub-style file name carries (`resnet50-0676ba61.pth` -> `0676ba61`)."""
    m = _HASHED_FILE.search(url.rsplit("/", 1)[-1]) if url else None
    return m.group(1) if m else None


def loader_call(model_id: str) -> tuple[str, str, str] | None:
    """(weights_from, exact load call, note) for an id in a loader namespace, else None."""
    ns, name = split_id(model_id)
    arch, tag = split_load_name(name)
    if ns == "timm":
        return "timm", f'timm.create_model("{name}", pretrained=True)', "public weights via timm"
    if ns == "open_clip":
        return ("open_clip", f'open_clip.create_model_and_transforms("{arch}", pretrained="{tag}")',
                "public weights via open_clip")
    if ns == "torchvision":
        return ("torchvision", f'torchvision.models.get_model("{arch}", weights="{tag}")',
                "public weights via torchvision")
    if ns == "antialiased" and (m := _LPF.fullmatch(name)):
        return ("pip", f"antialiased_cnns.{m.group(1)}(pretrained=True, filter_size={m.group(2)})",
                "pip package antialiased-cnns (weights from the authors' server; filter size 4 loads the "
                "fine-tuned `_lpf4_finetune` file, 2, 3 and 5 the original ones)")
    return None


def obtainability(model_ids: pd.Series, declared: dict[str, dict[str, str]],
                  curated: dict[str, dict[str, str]] | None = None,
                  files: dict[str, str] | None = None) -> pd.DataFrame:
    """OBTAIN_COLUMNS for each id: loader ids first, then the curated route, then what an ingester declared,
    else none known. `files` maps ids to the weights file a library names (for loader ids)."""
    curated, files = curated or {}, files or {}
    rows = []
    for mid in model_ids:
        hit = loader_call(mid)
        if hit is not None:
            url = files.get(mid) or None
            rows.append({"obtainable": True, "weights_from": hit[0], "load_call": hit[1], "obtain_note": hit[2],
                         "weights_url": url, "weights_sha256": sha256_prefix(url) if url else None})
            continue
        d = curated.get(mid) or declared.get(mid)
        if d is not None:
            ok = d["weights_from"] != "none known"
            url = d.get("weights_url") or None
            rows.append({"obtainable": ok, "weights_from": d["weights_from"],
                         "load_call": d.get("load_call") if ok else None, "obtain_note": d["note"],
                         "weights_url": url if ok else None,
                         "weights_sha256": (d.get("weights_sha256") or sha256_prefix(url)) if ok and url else None})
        else:
            rows.append({"obtainable": False, "weights_from": "none known", "load_call": None,
                         "obtain_note": NONE_KNOWN.get(split_id(mid)[0], "no public loader mapped"),
                         "weights_url": None, "weights_sha256": None})
    return pd.DataFrame(rows, index=model_ids.index, columns=list(OBTAIN_COLUMNS))
