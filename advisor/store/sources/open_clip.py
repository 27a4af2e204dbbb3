"""OpenCLIP's zero-shot results table (DataComp's 38-data-set suite) -> `open_clip:<name>.<pretrained>`.

- Values are fractions in the file; stored x100 (the note says so).
- ImageNet-1k goes to `imagenet_top1` (zero-shot), ImageNet v2/Sketch/A/R and ObjectNet to `shift_top1`,
  everything else (ImageNet-O, VTAB-style, WILDS, fairness, retrieval, WinoGAViL) to `zero_shot_top1`
  with item = `slug(column)`. The suite's main metric is not top-1 for every set (DataComp's
  tasklist.yml, `METRIC_NOTES`): the note names it, so a reader never mistakes it for top-1.
- The published "Average perf. on 38 datasets" is not stored: it is a mean of stored items.
- `model_profile.csv` (per architecture) gives the input size and the image-tower-only params and
  GFLOPs (item 'image-tower'); its whole-model params/GFLOPs equal the results table's, so only the
  results table's are stored (item '').
- `load_name` is 'name/pretrained' (open_clip.create_model_and_transforms(name, pretrained=...)).
"""

from __future__ import annotations

import re

from advisor.errors import SourceFileError
from advisor.ids import make_id
from advisor.store.sources.base import BuildContext, Collector, SourceRecord, csv_line, read_csv, to_float

FOLDER = "open_clip"
RESULTS = "openclip_results.csv"
PROFILE = "model_profile.csv"
REPO = "https://github.com/mlfoundations/open_clip"
COMMIT = "89fb801f1e6087880e951fc8354b8a2077b79c6d"

NON_SCORE = ("name", "pretrained", "params (M)", "FLOPs (B)", "Average perf. on 38 datasets")
SHIFT_ITEMS = {"ImageNet v2": "imagenet-v2", "ImageNet Sketch": "imagenet-sketch", "ImageNet-A": "imagenet-a",
               "ImageNet-R": "imagenet-r", "ObjectNet": "objectnet"}
# Main metric per data set where it is not top-1 accuracy (DataComp tasklist.yml, the suite's spec).
METRIC_NOTES = {
    "caltech-101": "mean per-class recall", "fgvc-aircraft": "mean per-class recall",
    "oxford-flowers-102": "mean per-class recall", "oxford-iiit-pet": "mean per-class recall",
    "flickr": "retrieval: mean of image and text recall@1", "mscoco": "retrieval: mean of image and text recall@1",
    "winogavil": "Jaccard score", "iwildcam": "macro F1", "fmow": "worst-region accuracy",
    "dollar-street": "worst-group top-5 accuracy", "geode": "worst-group accuracy",
}


def slug(column: str) -> str:
    """'Oxford Flowers-102' -> 'oxford-flowers-102' (the item name other sources map onto)."""
    return re.sub(r"[^a-z0-9]+", "-", column.lower()).strip("-")


def pretrain_of(pretrained: str) -> tuple[str | None, str | None]:
    """(pretrain_data, finetune_data) from a pretrained tag: 'laion2b_s34b_b79k' -> ('laion2b', None)."""
    tag = pretrained
    fine = None
    if tag.startswith("mscoco_finetuned_"):
        tag, fine = tag.removeprefix("mscoco_finetuned_"), "mscoco"
    tag = tag.removeprefix("frozen_")  # frozen image tower; the name still gives the text data
    data = re.split(r"_(?:s\d+[mb]|e\d+)(?:_|$)", tag)[0]
    if data == "v1":  # nllb-clip's version tag says nothing about data
        return None, fine
    return data.replace("_", "-"), fine


def family_of(name: str) -> str:
    low = name.lower()
    for key, fam in (("convnext", "convnext"), ("eva02", "eva02"), ("eva01", "eva"), ("coca", "coca"),
                     ("nllb-clip", "nllb-clip")):
        if key in low:
            return fam
    if re.match(r"rn\d", low):
        return "resnet"
    return "vit"


def clip_meta(name: str, pretrained: str) -> dict[str, object]:
    """The metadata any source may state for an open_clip model."""
    pre, fine = pretrain_of(pretrained)
    return dict(family=family_of(name), arch_type="vision-language", paradigm="clip", pretrain_data=pre,
                finetune_data=fine, loader="open_clip", load_name=f"{name}/{pretrained}")


def _profile(ctx: BuildContext) -> dict[str, dict[str, float | None]]:
    path = ctx.file(FOLDER, PROFILE)
    cols = ["model", "image_size", "image_mparams", "image_gflops"]
    df = read_csv(path, cols, dtype=str, keep_default_na=False)
    out = {}
    for i, r in enumerate(df.itertuples(index=False)):
        line = csv_line(i)
        if r.model in out:
            raise SourceFileError(path, f"model {r.model!r} listed twice", line)
        out[r.model] = {c: to_float(getattr(r, c), path, line, c) for c in cols[1:]}
    return out


def ingest(ctx: BuildContext, out: Collector) -> None:
    base = dict(citation="Ilharco et al. OpenCLIP (2021); Gadre et al. DataComp (2023) evaluation suite.",
                repo=REPO, commit=COMMIT, licence="MIT")
    src = out.add_source(SourceRecord("open_clip_results", "OpenCLIP zero-shot results (38 data sets)",
                                      file=f"docs/{RESULTS}", **base))
    prof_src = out.add_source(SourceRecord("open_clip_profile", "OpenCLIP model profile",
                                           file=f"docs/{PROFILE}", **base))
    profile = _profile(ctx)
    path = ctx.file(FOLDER, RESULTS)
    df = read_csv(path, ["name", "pretrained", "params (M)", "FLOPs (B)", "ImageNet 1k", *SHIFT_ITEMS],
                  dtype=str, keep_default_na=False)
    seen: set[str] = set()
    for i, row in enumerate(df.to_dict("records")):
        line = csv_line(i)
        name, pretrained = row["name"].strip(), row["pretrained"].strip()
        mid = make_id("open_clip", f"{name}.{pretrained}")
        if mid in seen:
            raise SourceFileError(path, f"{name} {pretrained} listed twice", line)
        seen.add(mid)
        twin = ctx.resolver.curated(src, f"{name} {pretrained}")
        if twin is not None and twin[0] != mid:  # same checkpoint under another open_clip name (curated)
            out.add_alias(src, f"{name} {pretrained}", twin[0], twin[1])
            continue
        prof = profile.get(name, {})
        params = to_float(row["params (M)"], path, line, "params (M)")
        size = prof.get("image_size")
        out.add_model(mid, src, params_m=params, img_size=int(size) if size else None, **clip_meta(name, pretrained))
        out.add_alias(src, f"{name} {pretrained}", mid)
        if params is not None:
            out.add_score(mid, "params_m", params, src, note="image + text towers")
        flops = to_float(row["FLOPs (B)"], path, line, "FLOPs (B)")
        if flops is not None:
            out.add_score(mid, "gflops", flops, src, note="image + text towers")
        if prof.get("image_mparams") is not None:
            out.add_score(mid, "params_m", prof["image_mparams"], prof_src, item="image-tower",
                          note="image tower only (per architecture)")
        if prof.get("image_gflops") is not None:
            out.add_score(mid, "gflops", prof["image_gflops"], prof_src, item="image-tower",
                          note="image tower only (per architecture)")
        for col, raw in row.items():
            if col in NON_SCORE:
                continue
            v = to_float(raw, path, line, col)
            if v is None:
                continue
            if not 0.0 <= v <= 1.0:
                raise SourceFileError(path, f"column {col!r}: {v} is not a fraction in [0, 1]", line)
            if col == "ImageNet 1k":
                prop, item = "imagenet_top1", ""
            elif col in SHIFT_ITEMS:
                prop, item = "shift_top1", SHIFT_ITEMS[col]
            else:
                prop, item = "zero_shot_top1", slug(col)
            metric = METRIC_NOTES.get(item)
            note = "zero-shot; fraction x100" + (f"; metric: {metric}" if metric else "")
            out.add_score(mid, prop, v * 100, src, item=item, note=note)
