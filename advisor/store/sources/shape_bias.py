"""Shape bias computed from raw cue-conflict trials, plus the biases-vs-generalization benchmark table.

Sources (each its own source_id, so one model may carry a value from each):
- beyond_inet/ (Beyond-INet, 9 models) and model_vs_human/ (9 models), model-vs-human trial format
  (`object_response`, `category` = shape, `imagename`);
- vlm_shapebias/ (Gavrikov et al. 2024): CLIP zero-shot (7 models x 3 prompts) and 7 ImageNet
  classifiers (`pred_label`, `image`);
- biases_vs_generalization/raw-data/benchmark.csv (Gavrikov & Keuper 2024, 70 models): published
  `shape-bias` and top-1 (percent) on ImageNet, -A, -R, -V2, -Sketch, ImageNet-C (mean) and PGD-40.

Computation (the model-vs-human rule): shape and texture class come from the image name
`<shape><n>-<texture><m>`; trials with shape == texture are dropped (1200 of 1280 remain);
shape bias = shape decisions / (shape + texture decisions). Stored with precision 'computed-from-raw'.

Curation decisions:
- Human subject files are not used (none are kept in the copy).
- vlm_shapebias CLIP prompts: the 80-template OpenAI ensemble (`_None` files) is item '', the
  standard CLIP zero-shot protocol (as in QUBA and the Beyond-INet study); the single-prompt runs are
  items `prompt: CLS` and `prompt: a photo of a CLS.`.
- Names map through curated/aliases_shape_bias.csv (checkpoint identity checked in each repo's
  loader code); otherwise timm `arch.tag` names known to timm map to `timm:`, the rest keep the
  source namespace (`study:`, `mvh:`, `vlm:`, `bvg:`).
- benchmark.csv's ImageNet-ReaL column is not used: it is scored on a 326-image subset.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from advisor.errors import SourceFileError
from advisor.ids import make_id
from advisor.store.sources.base import BuildContext, Collector, SourceRecord, csv_line, read_csv, to_float

N_TRIALS = 1280
BEYOND = SourceRecord(
    "beyond_inet_cue_conflict", "Beyond-INet cue-conflict trials (model-vs-human format)",
    "Vishniakov, Shen, Liu. ConvNet vs Transformer, Supervised vs CLIP: Beyond ImageNet Accuracy. ICML 2024",
    "https://github.com/kirill-vish/Beyond-INet", "inference/modelvshuman/raw-data/cue-conflict/*.csv",
    "44b4738bd7bac7a077160ee668823bcf0c668850", "MIT")
MVH = SourceRecord(
    "model_vs_human_cue_conflict", "model-vs-human cue-conflict trials (branch swag)",
    "Geirhos et al. Partial success in closing the gap between human and machine vision. NeurIPS 2021",
    "https://github.com/bethgelab/model-vs-human", "raw-data/cue-conflict/cue-conflict_<model>_session-1.csv",
    "93ee6766db71bc99de23a16cf5216acff181b470", "MIT (code); cue-conflict stimuli CC BY 4.0")
VLM = SourceRecord(
    "vlm_shapebias", "Are Vision Language Models Texture or Shape Biased? cue-conflict predictions",
    "Gavrikov, Lukasik, Jung, Geirhos, Mirza, Keuper, Keuper. arXiv 2403.09193 (2024)",
    "https://github.com/paulgavrikov/vlm_shapebias", "raw-data/clip/*.csv, raw-data/inet_classifier/*.csv",
    "459198f81c7d64584ed57bf3fd27c392d425478a", "CC BY-SA 4.0")
BVG = SourceRecord(
    "biases_vs_generalization", "Can Biases in ImageNet Models Explain Generalization? benchmark table",
    "Gavrikov, Keuper. CVPR 2024", "https://github.com/paulgavrikov/biases_vs_generalization",
    "raw-data/benchmark.csv, raw-data/r50_categories.json", "9168ac87bdf671ff711f6a19e29d0749ab2aad27",
    "CC BY-SA 4.0")

PROMPTS = {"_None": "", "_CLS": "prompt: CLS", "_a_photo_of_a_CLS.": "prompt: a photo of a CLS."}
BVG_COLUMNS = {  # benchmark.csv column -> (property, item); accuracies are percent
    "top1_acc/imagenet": ("imagenet_top1", ""), "top1_acc/imagenet-a": ("shift_top1", "imagenet-a"),
    "top1_acc/imagenet-r": ("shift_top1", "imagenet-r"), "top1_acc/imagenet-v2": ("shift_top1", "imagenet-v2"),
    "top1_acc/imagenet-sketch": ("shift_top1", "imagenet-sketch"), "top1_acc/imagenet-c": ("imagenet_c_top1", ""),
    "top1_acc/PGD-40/low": ("pgd_top1", "linf-pgd40-low-eps"),
    "top1_acc/PGD-40/high": ("pgd_top1", "linf-pgd40-high-eps"), "shape-bias": ("shape_bias", ""),
}
BVG_PARADIGM = {"adversarial_training": "adversarial", "contrastive": "self-supervised"}
BVG_OTHER_PARADIGM = {"vit_base_patch16_224.mae_in1k": "self-supervised",
                      "vit_base_patch16_224.dino_in1k": "self-supervised",
                      "swsl_resnet50": "semi-supervised", "ssl_resnet50": "semi-supervised", "resnet50_untrained": None}


_DIGITS = str.maketrans("", "", "0123456789")


def _classes(name: str) -> tuple[str, str] | None:
    """(shape, texture) from `[<prefix>_]<shape><n>-<texture><m>[.png]`; None if the name has another form."""
    halves = name.removesuffix(".png").split("-")
    if len(halves) != 2:
        return None
    shape, texture = (h.rsplit("_", 1)[-1].translate(_DIGITS) for h in halves)
    return (shape, texture) if shape and texture else None


def shape_bias_from_trials(df: pd.DataFrame, path: Path, response: str, image: str,
                           shape_col: str | None = None) -> tuple[float, int, int, int]:
    """(shape bias, shape decisions, texture decisions, conflict trials) of one decision maker."""
    if len(df) != N_TRIALS:
        raise SourceFileError(path, f"expected {N_TRIALS} cue-conflict trials, found {len(df)}")
    responses, images = df[response].tolist(), df[image].astype(str).tolist()
    stated = df[shape_col].tolist() if shape_col else [None] * len(images)
    n_shape = n_texture = n_conflict = 0
    for i, (resp, img, cat) in enumerate(zip(responses, images, stated, strict=True)):
        classes = _classes(img)
        if classes is None:
            raise SourceFileError(path, f"image name {img!r} is not <shape><n>-<texture><m>", csv_line(i))
        shape, texture = classes
        if cat is not None and cat != shape:
            raise SourceFileError(path, f"{shape_col}={cat!r} but the image name says shape {shape!r}", csv_line(i))
        if shape != texture:
            n_conflict += 1
            n_shape += resp == shape
            n_texture += resp == texture
    if n_shape + n_texture == 0:
        raise SourceFileError(path, "no shape or texture decisions")
    return n_shape / (n_shape + n_texture), n_shape, n_texture, n_conflict


def _add_computed(out: Collector, src: str, model_id: str, path: Path, result: tuple, item: str = "") -> None:
    bias, s, t, n = result
    note = f"{s} shape / {t} texture decisions on {n} cue-conflict trials ({path.name})"
    out.add_score(model_id, "shape_bias", bias, src, item=item, precision="computed-from-raw", note=note)


def _mvh_format(ctx: BuildContext, out: Collector, rec: SourceRecord, folder: str, rel: str,
                default_ns: str) -> None:
    src = out.add_source(rec)
    files = sorted(p for p in ctx.dir(folder).joinpath(rel).glob("cue-conflict_*_session-1.csv")
                   if not p.name.startswith("cue-conflict_subject-"))
    if not files:
        raise SourceFileError(ctx.dir(folder) / rel, "no cue-conflict model files")
    for path in files:
        name = path.name.removeprefix("cue-conflict_").removesuffix("_session-1.csv")
        df = read_csv(path, ("object_response", "category", "imagename"), dtype=str, keep_default_na=False)
        result = shape_bias_from_trials(df, path, "object_response", "imagename", "category")
        model_id, conf = ctx.resolver.resolve(src, name, make_id(default_ns, name))
        out.add_model(model_id, src)
        out.add_alias(src, name, model_id, conf)
        _add_computed(out, src, model_id, path, result)


def _vlm(ctx: BuildContext, out: Collector) -> None:
    src = out.add_source(VLM)
    root = ctx.dir("vlm_shapebias") / "raw-data"
    timm_names = ctx.resolver.timm_names
    clip_files = sorted((root / "clip").glob("*.csv"))
    clf_files = sorted((root / "inet_classifier").glob("*.csv"))
    if not clip_files or not clf_files:
        raise SourceFileError(root, "expected raw-data/clip/*.csv and raw-data/inet_classifier/*.csv")
    for path in clip_files:
        stem = path.name.removesuffix(".csv")
        suffix = next((s for s in PROMPTS if stem.endswith(s)), None)
        if suffix is None:
            raise SourceFileError(path, f"unknown prompt variant (expected a suffix in {sorted(PROMPTS)})")
        name = stem.removesuffix(suffix)
        df = read_csv(path, ("image", "pred_label"), dtype=str, keep_default_na=False)
        model_id, conf = ctx.resolver.resolve(src, name, make_id("vlm", name))
        out.add_model(model_id, src, arch_type="vision-language", paradigm="clip")
        out.add_alias(src, name, model_id, conf)
        _add_computed(out, src, model_id, path, shape_bias_from_trials(df, path, "pred_label", "image"),
                      PROMPTS[suffix])
    for path in clf_files:
        name = path.name.removesuffix(".csv")
        df = read_csv(path, ("image", "pred_label"), dtype=str, keep_default_na=False)
        default = make_id("timm" if name in timm_names else "vlm", name)
        model_id, conf = ctx.resolver.resolve(src, name, default)
        out.add_model(model_id, src)
        out.add_alias(src, name, model_id, conf)
        _add_computed(out, src, model_id, path, shape_bias_from_trials(df, path, "pred_label", "image"))


def _bvg_paradigms(path: Path) -> dict[str, str | None]:
    try:
        cats = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceFileError(path, f"cannot read JSON: {exc}") from None
    out: dict[str, str | None] = dict(BVG_OTHER_PARADIGM)
    for cat, names in cats.items():
        for n in names:
            out[n] = BVG_PARADIGM.get(cat, "supervised")
    out["robust_resnet50_l2_eps0"] = "supervised"  # listed with the adversarial sweep, but eps = 0
    return out


def _bvg(ctx: BuildContext, out: Collector) -> None:
    src = out.add_source(BVG)
    path = ctx.file("biases_vs_generalization", "raw-data/benchmark.csv")
    paradigms = _bvg_paradigms(ctx.file("biases_vs_generalization", "raw-data/r50_categories.json"))
    df = read_csv(path, ("model", *BVG_COLUMNS), usecols=["model", *BVG_COLUMNS], keep_default_na=False)
    if df["model"].duplicated().any():
        raise SourceFileError(path, "duplicate model name", csv_line(df.index[df["model"].duplicated()][0]))
    for i, r in df.iterrows():
        line, name = csv_line(i), str(r["model"])
        default = make_id("timm" if name in ctx.resolver.timm_names else "bvg", name)
        model_id, conf = ctx.resolver.resolve(src, name, default)
        arch = "Transformer" if name.startswith("vit_") else "CNN" if "resnet" in name else None
        out.add_model(model_id, src, arch_type=arch, paradigm=paradigms.get(name, "supervised"))
        out.add_alias(src, name, model_id, conf)
        for col, (prop, item) in BVG_COLUMNS.items():
            v = to_float(r[col], path, line, col)
            if v is None:
                continue
            if not 0.0 <= v <= (1.0 if prop == "shape_bias" else 100.0):
                raise SourceFileError(path, f"column {col!r}: {v} is out of range", line)
            out.add_score(model_id, prop, v, src, item=item,
                          note="eps of the low/high budgets not stated in the data" if prop == "pgd_top1" else "")


# One entry per data set (its folder), in build order; each can run alone (tests use that).
PARTS = {
    "beyond_inet": lambda ctx, out: _mvh_format(ctx, out, BEYOND, "beyond_inet",
                                                "inference/modelvshuman/raw-data/cue-conflict", "study"),
    "model_vs_human": lambda ctx, out: _mvh_format(ctx, out, MVH, "model_vs_human", "raw-data/cue-conflict", "mvh"),
    "vlm_shapebias": _vlm,
    "biases_vs_generalization": _bvg,
}


def ingest(ctx: BuildContext, out: Collector) -> None:
    for part in PARTS.values():
        part(ctx, out)
