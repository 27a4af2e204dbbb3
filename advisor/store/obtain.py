"""Where a model's weights can be had, and the exact call that loads them (models.obtainable & co).

A model is obtainable when its id names a loader (timm hub tag, open_clip pretrained tag, torchvision
weights enum) or when a source states another public route (torch.hub entry, pip package, release
file) and its ingester declared it with `Collector.add_obtain`. Everything else is "none known" with
the reason; nothing here is guessed from a name.
"""

from __future__ import annotations

import pandas as pd

from advisor.ids import split_id, split_load_name

WEIGHTS_FROM = ("timm", "open_clip", "torchvision", "torch.hub", "pip", "release file", "none known")
OBTAIN_COLUMNS = ("obtainable", "weights_from", "load_call", "obtain_note")

# Why a model in a namespace without a loader has no known weights (the default note).
NONE_KNOWN = {
    "quba": "no public loader mapped for this QUBA entry",
    "testbed": "imagenet-testbed's own checkpoint; no public loader mapped",
    "mvh": "model-vs-human registry entry; no public loader mapped",
    "bvg": "biases-vs-generalization checkpoint; no public loader mapped",
    "vlm": "vision-language model from vlm_shapebias; no image-classifier loader mapped",
    "study": "the Beyond-INet study's own checkpoint; no public loader mapped",
    "imagenetx": "ImageNet-X base model; no public loader mapped",
    "robustbench": "RobustBench entry; no loader mapped",
    "hf": "Hugging Face hub model; no classifier loader mapped",
    "antialiased": "no loader mapped",
}


def loader_call(model_id: str) -> tuple[str, str] | None:
    """(weights_from, exact load call) for an id in a loader namespace, else None."""
    ns, name = split_id(model_id)
    arch, tag = split_load_name(name)
    if ns == "timm":
        return "timm", f'timm.create_model("{name}", pretrained=True)'
    if ns == "open_clip":
        return "open_clip", f'open_clip.create_model_and_transforms("{arch}", pretrained="{tag}")'
    if ns == "torchvision":
        return "torchvision", f'torchvision.models.get_model("{arch}", weights="{tag}")'
    return None


def obtainability(model_ids: pd.Series, declared: dict[str, dict[str, str]]) -> pd.DataFrame:
    """OBTAIN_COLUMNS for each id: loader ids first, then what an ingester declared, else none known."""
    rows = []
    for mid in model_ids:
        hit = loader_call(mid)
        if hit is not None:
            rows.append({"obtainable": True, "weights_from": hit[0], "load_call": hit[1],
                         "obtain_note": f"public weights via {hit[0]}"})
        elif mid in declared:
            d = declared[mid]
            ok = d["weights_from"] != "none known"
            rows.append({"obtainable": ok, "weights_from": d["weights_from"],
                         "load_call": d.get("load_call") if ok else None, "obtain_note": d["note"]})
        else:
            rows.append({"obtainable": False, "weights_from": "none known", "load_call": None,
                         "obtain_note": NONE_KNOWN.get(split_id(mid)[0], "no public loader mapped")})
    return pd.DataFrame(rows, index=model_ids.index)
