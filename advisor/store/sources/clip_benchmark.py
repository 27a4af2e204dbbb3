"""LAION CLIP_benchmark: full-data linear probes and zero-shot results for open_clip models.

- Linear probe (`probe_benchmark/scaling_experiment_data2.json`, `fewshot_k == -1`): each (model,
  pretrained, data set) was run over a 3 lr x 3 epochs sweep with one seed; the stored value is the
  best `lp_acc1` over the sweep, the repo's own convention (`probe_benchmark/generate_table.py` and
  `process_vtab.py` take `lp_acc1.max()`). The evaluated model is the record's `model_short`
  (e.g. 'ViT-B-32-quickgelu laion400m_e32' where `model` says 'ViT-B-32').
- Zero-shot (`benchmark/benchmark.csv`): each data set is stored with the metric the OpenCLIP/DataComp
  table reports for it (mean per-class recall for Caltech-101, FGVC Aircraft, Flowers, Pets; top-1
  otherwise), under the same property and item as the open_clip ingester, so the build can compare
  the two sources. Retrieval rows (only recall@5 here; OpenCLIP reports recall@1) are not stored.
- Ids: `open_clip:<name>.<pretrained>` when that pair is in open_clip's results (all of them are);
  otherwise the same id form with confidence 'ambiguous'.
"""

from __future__ import annotations

import json
from pathlib import Path

from advisor.errors import SourceFileError
from advisor.ids import make_id
from advisor.store.sources.base import BuildContext, Collector, SourceRecord, csv_line, read_csv, to_float
from advisor.store.sources.open_clip import clip_meta

FOLDER = "clip_benchmark"
ZS_FILE = "benchmark/benchmark.csv"
LP_FILE = "probe_benchmark/scaling_experiment_data2.json"
REPO = "https://github.com/LAION-AI/CLIP_benchmark"
COMMIT = "48de38c1689fa6d8b4dd53e3370c669c3bb18117"

# CLIP_benchmark data set id -> item (the open_clip slug where OpenCLIP has the set).
ITEMS = {
    "cars": "stanford-cars", "country211": "country211", "fer2013": "fer2013", "fgvc_aircraft": "fgvc-aircraft",
    "gtsrb": "gtsrb", "mnist": "mnist", "renderedsst2": "rendered-sst2", "stl10": "stl-10", "sun397": "sun397",
    "voc2007": "pascal-voc-2007", "voc2007_multilabel": "pascal-voc-2007-multilabel",
    "imagenet-o": "imagenet-o", "cifar10": "cifar-10", "cifar100": "cifar-100-torchvision",
    "vtab/caltech101": "caltech-101", "vtab/cifar10": "cifar-10", "vtab/cifar100": "cifar-100",
    "vtab/clevr_closest_object_distance": "clevr-distance", "vtab/clevr_count_all": "clevr-counts",
    "vtab/diabetic_retinopathy": "diabetic-retinopathy", "vtab/dmlab": "dmlab",
    "vtab/dsprites_label_orientation": "dsprites-orientation",
    "vtab/dsprites_label_x_position": "dsprites-x-position",
    "vtab/dsprites_label_y_position": "dsprites-y-position", "vtab/dtd": "describable-textures",
    "vtab/eurosat": "eurosat", "vtab/flowers": "oxford-flowers-102",
    "vtab/kitti_closest_vehicle_distance": "kitti-vehicle-distance", "vtab/pcam": "patchcamelyon",
    "vtab/pets": "oxford-iiit-pet", "vtab/resisc45": "resisc45",
    "vtab/smallnorb_label_azimuth": "smallnorb-azimuth", "vtab/smallnorb_label_elevation": "smallnorb-elevation",
    "vtab/svhn": "svhn", "vtab_svhn": "svhn",  # the probe file spells it 'vtab_svhn'
    "imagenet1k": "imagenet-1k", "imagenet1k-unverified": "imagenet-1k",
}
SHIFTS = {"imagenetv2": "imagenet-v2", "imagenet_sketch": "imagenet-sketch", "imagenet-a": "imagenet-a",
          "imagenet-r": "imagenet-r", "objectnet": "objectnet"}
PER_CLASS = frozenset({"vtab/caltech101", "fgvc_aircraft", "vtab/flowers", "vtab/pets"})
RETRIEVAL = frozenset({"flickr8k", "flickr30k", "mscoco_captions"})


def _read_json(path: Path) -> list[dict]:
    if not path.is_file():
        raise SourceFileError(path, "source file missing")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SourceFileError(path, f"invalid JSON: {exc.msg}", exc.lineno) from exc
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise SourceFileError(path, "expected a list of records", 1)
    return data


def _fraction(v: float, path: Path, line: int | None, what: str) -> float:
    """A fraction in [0, 1] as percent."""
    if not 0.0 <= v <= 1.0:
        raise SourceFileError(path, f"{what}: {v} is not a fraction in [0, 1]", line)
    return v * 100


def _model_id(ctx: BuildContext, name: str, pretrained: str) -> tuple[str, str]:
    key = f"{name}.{pretrained}"
    return make_id("open_clip", key), "exact" if key in ctx.resolver.open_clip_names else "ambiguous"


def _item(path: Path, dataset: str, where: int) -> str:
    if dataset not in ITEMS:
        raise SourceFileError(path, f"unknown data set {dataset!r} (add it to ITEMS)", where)
    return ITEMS[dataset]


def _linear_probe(ctx: BuildContext, out: Collector, src: str) -> None:
    path = ctx.file(FOLDER, LP_FILE)
    recs = _read_json(path)
    need = ("model_short", "dataset", "fewshot_k", "lp_acc1")
    best: dict[tuple[str, str], float] = {}
    runs: dict[tuple[str, str], int] = {}
    for n, r in enumerate(recs, start=1):
        missing = [k for k in need if k not in r]
        if missing:
            raise SourceFileError(path, f"record {n}: missing keys {missing}")
        if r["fewshot_k"] != -1:
            continue
        v = to_float(r["lp_acc1"], path, 1, f"record {n} lp_acc1")
        name, _, pretrained = str(r["model_short"]).partition(" ")
        if v is None or not pretrained:
            raise SourceFileError(path, f"record {n}: bad lp_acc1 or model_short {r['model_short']!r}")
        key = (f"{name} {pretrained}", str(r["dataset"]))
        best[key] = max(best.get(key, v), v)
        runs[key] = runs.get(key, 0) + 1
    for (model, dataset), v in sorted(best.items()):
        name, pretrained = model.split(" ")
        mid, conf = _model_id(ctx, name, pretrained)
        out.add_model(mid, src, **clip_meta(name, pretrained))
        out.add_alias(src, model, mid, conf)
        note = f"best lp_acc1 over the {runs[(model, dataset)]}-run lr x epochs sweep ({dataset}); fraction x100"
        out.add_score(mid, "linear_probe_top1", _fraction(v, path, 1, f"{model} {dataset}"), src,
                      item=_item(path, dataset, 1), precision="computed-from-raw", note=note)


def _zero_shot(ctx: BuildContext, out: Collector, src: str) -> None:
    path = ctx.file(FOLDER, ZS_FILE)
    df = read_csv(path, ["acc1", "mean_per_class_recall", "mean_average_precision", "dataset", "model",
                         "pretrained", "task"], dtype=str, keep_default_na=False)
    seen: set[tuple[str, str, str]] = set()
    for i, r in enumerate(df.itertuples(index=False)):
        line = csv_line(i)
        if r.dataset in RETRIEVAL or r.task == "zeroshot_retrieval":
            continue
        key = (r.model, r.pretrained, r.dataset)
        if key in seen:
            raise SourceFileError(path, f"{' '.join(key)} listed twice", line)
        seen.add(key)
        if r.dataset == "voc2007_multilabel":
            col, metric = "mean_average_precision", "mean average precision"
        elif r.dataset in PER_CLASS:
            col, metric = "mean_per_class_recall", "mean per-class recall"
        else:
            col, metric = "acc1", ""
        v = to_float(getattr(r, col), path, line, col)
        if v is None:
            continue
        if r.dataset == "imagenet1k":
            prop, item = "imagenet_top1", ""
        elif r.dataset in SHIFTS:
            prop, item = "shift_top1", SHIFTS[r.dataset]
        else:
            prop, item = "zero_shot_top1", _item(path, r.dataset, line)
        mid, conf = _model_id(ctx, r.model, r.pretrained)
        out.add_model(mid, src, **clip_meta(r.model, r.pretrained))
        out.add_alias(src, f"{r.model} {r.pretrained}", mid, conf)
        note = "zero-shot; fraction x100" + (f"; metric: {metric}" if metric else "")
        out.add_score(mid, prop, _fraction(v, path, line, col), src, item=item, note=note)


def ingest(ctx: BuildContext, out: Collector) -> None:
    base = dict(citation="LAION CLIP_benchmark; Cherti et al. 2023, Reproducible scaling laws for "
                         "contrastive language-image learning.", repo=REPO, commit=COMMIT, licence="MIT")
    lp = out.add_source(SourceRecord("clip_benchmark_linear_probe", "CLIP_benchmark linear probes (full data)",
                                     file=LP_FILE, **base))
    zs = out.add_source(SourceRecord("clip_benchmark_zeroshot", "CLIP_benchmark zero-shot classification",
                                     file=ZS_FILE, **base))
    _linear_probe(ctx, out, lp)
    _zero_shot(ctx, out, zs)

