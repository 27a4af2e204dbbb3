"""The Beyond-INet study's own results for its four models (Vishniakov, Shen, Liu, ICML 2024).

Source: precomputed/sources/beyond_inet_paper/ — `models.csv` (the exact checkpoints the study's code
loads) and `paper_results.csv` (one number per row, read off the project page figures).

Curation decisions:
- Model ids are the checkpoints' timm / open_clip ids (`loader` + `load_name` in models.csv); the
  study labels (`vit_sup`, ...) and paper names (`ViT-sup`, ...) become aliases.
- `precision` is kept verbatim (figure-text exact, figure-pixel ±x, derived values): these are figure
  reads, not table numbers. The figure file goes into `note`.
- Study properties are mapped onto the registry: `robustness_top1` splits by item into `shift_top1`
  (imagenet-v2/-a/-r/-sketch/-hard, and `average-7-shifts`), `imagenet_c_top1` (mean, item ''),
  `imagenet_real_top1` and `imagenet_top1`; the latter repeats the `imagenet_top1` row, so it must be
  equal and is stored once. ECE items are data-set names (`imagenet-1k`, `imagenet-r`); the figure's
  shape bias is item ''. Invariance items are the magnitudes as text; VTAB / PUG / ImageNet-X items
  are kept as written.
- `params_m` and the table's "GFLOPs" come from models.csv (the study's model table, rounded as
  printed). The GFLOPs are fvcore counts, where a multiply-add counts once, so they are stored as
  `gmacs` (they equal timm's GMACs: 17.5 vs 17.58, 15.4 vs 15.38). For the zero-shot CLIP models the
  table counts the image tower only: item `image-tower` (the open_clip ingester's item for that).
"""

from __future__ import annotations

from advisor.errors import SourceFileError
from advisor.ids import make_id
from advisor.store.properties import get_property
from advisor.store.sources.base import BuildContext, Collector, SourceRecord, csv_line, read_csv, to_float

SOURCE_ID = "study_paper"
FOLDER = "beyond_inet_paper"

RECORD = SourceRecord(
    source_id=SOURCE_ID,
    title="ConvNet vs Transformer, Supervised vs CLIP: Beyond ImageNet Accuracy (project page figures)",
    citation="Vishniakov, Shen, Liu. ICML 2024 (arXiv 2311.09215)",
    repo="https://github.com/kirill-vish/kirill-vish.github.io (figures); code: kirill-vish/Beyond-INet",
    file="assets/img/beyond-imagenet-accuracy/*.png (read into paper_results.csv), model table",
    commit="project page as published (figure reads)",
    licence="MIT",
)
UNITS = {"percent": "%", "fraction": "fraction", "ratio": "ratio"}
# (study property, study item) -> (registry property, item); None item = keep the study's item
ROBUSTNESS = {
    "imagenet_val": ("imagenet_top1", ""), "v2": ("shift_top1", "imagenet-v2"), "a": ("shift_top1", "imagenet-a"),
    "r": ("shift_top1", "imagenet-r"), "sketch": ("shift_top1", "imagenet-sketch"),
    "hard": ("shift_top1", "imagenet-hard"), "c_mean_acc": ("imagenet_c_top1", ""),
    "real": ("imagenet_real_top1", ""), "average_7_shifts": ("shift_top1", "average-7-shifts"),
}
DIRECT = {"imagenet_x_error_ratio", "vtab_linear_probe_top1", "pug_imagenet_top1", "invariance_scale_top1",
          "invariance_shift_top1", "invariance_resolution_top1"}
ECE_ITEMS = {"imagenet_1k": "imagenet-1k", "imagenet_r": "imagenet-r"}
ARCH = {"DeiT3-B/16": ("DeiT-III", "Transformer"), "ConvNeXt-B": ("ConvNeXt", "CNN"),
        "ViT-B/16": ("ViT", "Transformer")}
RESULT_COLUMNS = ("model", "property", "item", "group", "value", "unit", "precision", "source")
MODEL_COLUMNS = ("model", "paper_name", "architecture", "paradigm", "pretraining_data", "finetuning", "loader",
                 "load_name", "img_size", "params_m", "gflops")


def _map(prop: str, item: str) -> tuple[str, str] | None:
    if prop == "robustness_top1":
        return ROBUSTNESS.get(item)
    if prop == "imagenet_top1":
        return ("imagenet_top1", "") if item == "val" else None
    if prop == "shape_bias":
        return ("shape_bias", "") if item == "cue_conflict" else None
    if prop == "ece_15bin":
        return ("ece_15bin", ECE_ITEMS[item]) if item in ECE_ITEMS else None
    if prop in DIRECT:
        return prop, item
    return None


def _models(ctx: BuildContext, out: Collector, src: str) -> dict[str, str]:
    path = ctx.file(FOLDER, "models.csv")
    df = read_csv(path, MODEL_COLUMNS, dtype=str, keep_default_na=False)
    ids: dict[str, str] = {}
    for i, r in df.iterrows():
        line = csv_line(i)
        loader, name = r["loader"].strip(), r["load_name"].strip()
        if loader == "open_clip":  # models.csv writes `Arch/pretrained`; ids and load names use `Arch.pretrained`
            name = name.replace("/", ".", 1)
        known = {"timm": ctx.resolver.timm_names, "open_clip": ctx.resolver.open_clip_names}.get(loader)
        if known is None or name not in known:
            raise SourceFileError(path, f"{loader}:{name} is not a known timm / open_clip name", line)
        if r["architecture"] not in ARCH:
            raise SourceFileError(path, f"unknown architecture {r['architecture']!r}", line)
        family, arch = ARCH[r["architecture"]]
        clip = r["paradigm"] == "clip"
        model_id = make_id(loader, name)
        ids[r["model"]] = model_id
        out.add_model(model_id, src, display_name=f"{r['architecture']} ({r['paper_name']})", family=family,
                      arch_type="vision-language" if clip else arch, paradigm=r["paradigm"],
                      pretrain_data=r["pretraining_data"], finetune_data=None if clip else r["finetuning"],
                      params_m=None if clip else to_float(r["params_m"], path, line, "params_m"),
                      img_size=int(to_float(r["img_size"], path, line, "img_size") or 0) or None,
                      loader=loader, load_name=name)
        for alias in (r["model"], r["paper_name"]):
            out.add_alias(src, alias, model_id, "exact")
        item = "image-tower" if clip else ""  # zero-shot CLIP: the table counts the image tower only
        for col, prop, note in (("params_m", "params_m", "study model table, rounded as printed"),
                                ("gflops", "gmacs", "study model table 'GFLOPs' (fvcore: a multiply-add counts "
                                                    "once, so these are GMACs), rounded as printed")):
            v = to_float(r[col], path, line, col)
            if v is not None:
                out.add_score(model_id, prop, v, src, item=item, note=note)
    return ids


def ingest(ctx: BuildContext, out: Collector) -> None:
    src = out.add_source(RECORD)
    ids = _models(ctx, out, src)
    path = ctx.file(FOLDER, "paper_results.csv")
    df = read_csv(path, RESULT_COLUMNS, dtype=str, keep_default_na=False)
    stored: dict[tuple[str, str, str], float] = {}
    # A property's own rows first, so the `robustness_top1` repeat of top-1 is the one dropped.
    df = df.sort_values("property", key=lambda s: s == "robustness_top1", kind="stable")
    for i, r in df.iterrows():
        line = csv_line(i)
        if r["model"] not in ids:
            raise SourceFileError(path, f"unknown model {r['model']!r}", line)
        target = _map(r["property"], r["item"])
        if target is None:
            raise SourceFileError(path, f"no mapping for {r['property']}/{r['item']}", line)
        prop, item = target
        if UNITS.get(r["unit"]) != get_property(prop).unit:
            raise SourceFileError(path, f"unit {r['unit']!r} does not match {prop} ({get_property(prop).unit})", line)
        value = to_float(r["value"], path, line, "value")
        if value is None:
            continue
        key = (ids[r["model"]], prop, item)
        if key in stored:
            if stored[key] != value:
                raise SourceFileError(path, f"{prop}/{item!r} given twice with different values", line)
            continue
        stored[key] = value
        note = r["source"] + (f"; VTAB group: {r['group']}" if r["group"] else "")
        out.add_score(key[0], prop, value, src, item=item, precision=r["precision"], note=note)
