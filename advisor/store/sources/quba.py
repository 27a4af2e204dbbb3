"""QUBA ("Beyond Accuracy", Hesse et al. 2025): nine published metrics for 326 ImageNet models.

Source: precomputed/sources/quba/ (visinf/beyond-accuracy). The per-model numbers are the
`sampleData` records of the project page `index.html`; `quba_models.csv` keys each record by the
QUBA code identifier (`model_id`) and adds the loader / weights reference. Both files are read and
every number is checked to be identical in the two (the verbatim extraction is the authority).

Curation decisions:
- Models are keyed by `model_id`, never by the page's display names (several are wrong, see
  SOURCE.md), and `model_id` is also the display name.
- Canonical ids: timm `arch.tag` -> `timm:`; torchvision weights -> the timm re-publication
  (`.tv_in1k` / `.tv2_in1k`) if timm has it, else `torchvision:<builder>.<WEIGHTS_MEMBER>`;
  RobustBench models -> `robustbench:<name>`; open_clip hf-hub ids -> `hf:<hub id>` unless a curated
  alias names the open_clip tag; everything else `quba:<model_id>`. Curated aliases
  (curated/aliases_quba.csv: RSB weight files matched to timm tags, open_clip hub ids, OpenAI CLIP)
  override the default.
- Accuracy is published as a fraction; it is stored x100 as `imagenet_top1` (%). The other eight
  metrics are stored as published. The 22 records that carry the parameter count under the key
  `Size` (not `Parameters`) are stored as `params_m` too, with a note.
- `quba_normalization()` exposes QUBA's fixed z-score constants for the QUBA-compatible ranking.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from advisor.errors import SourceFileError
from advisor.ids import make_id, split_id
from advisor.store.sources.base import BuildContext, Collector, SourceRecord, csv_line, read_csv, to_float

SOURCE_ID = "quba"
FOLDER = "quba"

# QUBA column -> (property_id, multiplier to the store's unit)
METRICS = {
    "Accuracy": ("imagenet_top1", 100.0),
    "Adversarial Robustness": ("adversarial_robustness_ratio", 1.0),
    "Corruption Robustness": ("corruption_robustness_ratio", 1.0),
    "OOD Robustness": ("ood_robustness_ratio", 1.0),
    "Calibration Error": ("calibration_error", 1.0),
    "Class Balance": ("class_balance", 1.0),
    "Object Focus": ("object_focus", 1.0),
    "Shape Bias": ("shape_bias", 1.0),
    "Parameters": ("params_m", 1.0),
}
PARADIGMS = {"SL": "supervised", "AT": "adversarial", "SelfSL": "self-supervised", "SemiSL": "semi-supervised",
             "RSB-A1/A2/A3": "supervised"}
PRETRAIN = {"IN1k": "ImageNet-1k", "IN21k": "ImageNet-21k",
            "LargeData": "large-scale data (QUBA's coarse category: LAION, JFT, IG-1B, ...)"}
# timm's GitHub release of the 'ResNet strikes back' weights (the URL timm's own pretrained_cfg uses for
# resnet50.a1_in1k); every file is named `<arch>_<recipe>_0-<sha256 prefix>.pth`.
RSB_RELEASE = "https://github.com/huggingface/pytorch-image-models/releases/download/v0.1-rsb-weights/"
ARCH = {"CNN": "CNN", "Transformer": "Transformer", "Vision-language models": "vision-language"}
MODEL_COLUMNS = ("model_id", "html_row", "architecture_class", "dataset_code", "setup_code", "source_library",
                 "trained_by_quba_authors",
                 "weights_ref", *METRICS)
NORM_COLUMNS = ("dimension", "mean", "std", "default_weight_signed", "better")

RECORD = SourceRecord(
    source_id=SOURCE_ID,
    title="Beyond Accuracy: What Matters in Designing Well-Behaved Models? (QUBA)",
    citation="Hesse, Bağcı, Schiele, Schaub-Meyer, Roth. arXiv 2503.17110 / TMLR 2026",
    repo="https://github.com/visinf/beyond-accuracy",
    file="index.html (sampleData; extracted to quba_index_html_data.csv), quba_constants.py, data_utils.py",
    commit="f330d7c3252d2d3d1849cbb14de158455b56bdda",
    licence="Apache-2.0",
)


def _default_id(row: pd.Series, timm_names: frozenset[str]) -> tuple[str, str | None, str | None]:
    """(canonical id, loader, load_name) from QUBA's own loader reference."""
    lib, ref = str(row["source_library"]), str(row["weights_ref"]).strip()
    if lib == "timm" and ref in timm_names:
        return make_id("timm", ref), "timm", ref
    if lib == "torchvision":
        builder, _, enum = (p.strip() for p in ref.partition("|"))
        member = enum.rsplit(".", 1)[-1]
        tag = {"IMAGENET1K_V1": "tv_in1k", "IMAGENET1K_V2": "tv2_in1k"}.get(member)
        if tag and f"{builder}.{tag}" in timm_names:
            return make_id("timm", f"{builder}.{tag}"), "timm", f"{builder}.{tag}"
        return make_id("torchvision", f"{builder}.{member}"), "torchvision", f"{builder}.{member}"
    if lib == "robustbench":
        return make_id("robustbench", ref), None, None
    if lib == "open_clip (hf-hub)":
        return make_id("hf", ref.removeprefix("hf-hub:")), None, None
    return make_id("quba", str(row["model_id"])), ("timm" if lib == "timm" else None), (ref if lib == "timm" else None)


def declare_obtain(out: Collector, model_id: str, row: pd.Series) -> None:
    """Where QUBA says a non-loader entry's weights come from (weights_ref), or that its authors trained it."""
    if not model_id.startswith("quba:"):
        return
    lib, ref = str(row["source_library"]), str(row["weights_ref"]).strip()
    parts = [p.strip() for p in ref.split("|")]
    if str(row["trained_by_quba_authors"]).strip().lower() == "true":
        out.add_obtain(model_id, "none known", "trained by the QUBA authors (linear probe / fine-tune of a public "
                       "backbone); weights not released")
    elif lib == "torch.hub" and len(parts) == 2:
        repo, entry = parts
        out.add_obtain(model_id, "torch.hub", f"torch.hub entry {entry} of {repo} (quba_models.csv weights_ref)",
                       f'torch.hub.load("{repo}", "{entry}")')
    elif lib.startswith("timm RSB") and len(parts) == 3:
        note, call, url, sha = rsb_route(parts[0].split(".")[0], parts[1])
        out.add_obtain(model_id, "release file", note, call, weights_url=url, weights_sha256=sha)
    elif lib == "timm" and ref:
        out.add_obtain(model_id, "timm", "timm model named by QUBA (quba_models.csv weights_ref)",
                       f'timm.create_model("{ref}", pretrained=True)')


def rsb_route(arch: str, filename: str) -> tuple[str, str, str, str]:
    """(note, load call, URL, sha256 prefix) of a file of timm's v0.1-rsb-weights release.

    The call downloads the file from the URL (the overlay's `hf_hub_id=None` keeps timm from fetching the
    default tag's hub weights instead); `timm.models.set_pretrained_check_hash(True)` first makes torch check
    the sha256 prefix in the file name.
    """
    url = RSB_RELEASE + filename
    sha = filename.rsplit("-", 1)[-1].split(".")[0]
    note = (f"weights file {filename} of timm's GitHub release v0.1-rsb-weights (quba_models.csv weights_ref); "
            f"sha256 starts with {sha}")
    call = (f'timm.create_model("{arch}", pretrained=True, '
            f'pretrained_cfg_overlay=dict(url="{url}", hf_hub_id=None))')
    return note, call, url, sha


def _arch_type(row: pd.Series) -> str:
    cls = str(row["architecture_class"])
    if cls == "Bcos models":  # B-cos variants of CNNs and one simple ViT
        return "Transformer" if "vit" in str(row["model_id"]).lower() else "CNN"
    if cls not in ARCH:
        raise ValueError(cls)
    return ARCH[cls]


def _check_against_page(models: pd.DataFrame, page: pd.DataFrame, models_path: Path, page_path: Path) -> set[int]:
    """Every number in quba_models.csv must equal the verbatim page record; returns rows using `Size`."""
    page = page.set_index("row")
    size_rows: set[int] = set()
    for i, r in models.iterrows():
        hr = int(r["html_row"])
        if hr not in page.index:
            raise SourceFileError(models_path, f"html_row {hr} not in {page_path.name}", csv_line(i))
        p = page.loc[hr]
        for col in METRICS:
            a = to_float(r[col], models_path, csv_line(i), col)
            src_col = col
            if col == "Parameters" and to_float(p["Parameters"], page_path, hr + 2, "Parameters") is None:
                src_col = "Size"
                size_rows.add(hr)
            b = to_float(p[src_col], page_path, hr + 2, src_col)
            if a != b:
                raise SourceFileError(models_path, f"{col}={a} differs from {page_path.name} {src_col}={b}",
                                      csv_line(i))
    return size_rows


def ingest(ctx: BuildContext, out: Collector) -> None:
    models_path = ctx.file(FOLDER, "quba_models.csv")
    page_path = ctx.file(FOLDER, "quba_index_html_data.csv")
    models = read_csv(models_path, MODEL_COLUMNS, keep_default_na=False)
    page = read_csv(page_path, ("row", "Model", *[c for c in METRICS if c != "Parameters"], "Parameters", "Size"),
                    keep_default_na=False)
    if models["model_id"].duplicated().any():
        dup = models.index[models["model_id"].duplicated()][0]
        raise SourceFileError(models_path, f"duplicate model_id {models.at[dup, 'model_id']!r}", csv_line(dup))
    size_rows = _check_against_page(models, page, models_path, page_path)
    src = out.add_source(RECORD)
    seen: dict[str, str] = {}
    for i, r in models.iterrows():
        line = csv_line(i)
        qid = str(r["model_id"])
        default, loader, load_name = _default_id(r, ctx.resolver.timm_names)
        model_id, conf = ctx.resolver.resolve(SOURCE_ID, qid, default)
        if model_id in seen:
            raise SourceFileError(models_path, f"{qid!r} and {seen[model_id]!r} both map to {model_id}", line)
        seen[model_id] = qid
        ns, name = split_id(model_id)
        if ns in ("timm", "open_clip", "torchvision"):
            loader, load_name = ns, name
        try:
            arch = _arch_type(r)
            paradigm = PARADIGMS[str(r["setup_code"])]
            pretrain = PRETRAIN[str(r["dataset_code"])]
        except (KeyError, ValueError) as exc:
            raise SourceFileError(models_path, f"unknown category {exc}", line) from None
        if paradigm == "self-supervised" and arch == "vision-language":
            paradigm = "clip"
        params = to_float(r["Parameters"], models_path, line, "Parameters")
        out.add_model(model_id, src, display_name=qid, arch_type=arch, paradigm=paradigm, pretrain_data=pretrain,
                      params_m=params, loader=loader, load_name=load_name)
        out.add_alias(src, qid, model_id, conf)
        declare_obtain(out, model_id, r)
        for col, (prop, scale) in METRICS.items():
            v = to_float(r[col], models_path, line, col)
            if v is None:
                continue
            note = ""
            if scale != 1.0:
                note = "published as a fraction; x100"
            elif col == "Parameters" and int(r["html_row"]) in size_rows:
                note = "index.html stores this under key 'Size' (the site's QUBA score is NaN for it)"
            out.add_score(model_id, prop, round(v * scale, 10), src, note=note)


def quba_normalization(ctx_or_path: BuildContext | Path | str | None = None) -> pd.DataFrame:
    """QUBA's fixed constants: one row per dimension with property_id, mean, std, signed weight, scale.

    `mean`/`std` are on QUBA's own scale; divide the store value by `scale` first (accuracy is stored
    in percent, QUBA uses fractions). The QUBA score is sum(w * (x/scale - mean) / std) / sum(|w|) over
    the `source_id` == 'quba' values.
    """
    if isinstance(ctx_or_path, BuildContext):
        path = ctx_or_path.file(FOLDER, "quba_normalization.csv")
    elif ctx_or_path is None:
        path = Path(__file__).resolve().parents[3] / "precomputed" / "sources" / FOLDER / "quba_normalization.csv"
    else:
        path = Path(ctx_or_path)
        if path.is_dir():
            path = path / "quba_normalization.csv"
    df = read_csv(path, NORM_COLUMNS, keep_default_na=False)
    rows = []
    for i, r in df.iterrows():
        line, dim = csv_line(i), str(r["dimension"])
        if dim not in METRICS:
            raise SourceFileError(path, f"unknown QUBA dimension {dim!r}", line)
        vals = {c: to_float(r[c], path, line, c) for c in ("mean", "std", "default_weight_signed")}
        if None in vals.values() or vals["std"] <= 0:
            raise SourceFileError(path, "mean, std (> 0) and default_weight_signed are required", line)
        if (r["better"] == "lower") != (vals["default_weight_signed"] < 0):
            raise SourceFileError(path, f"sign of default_weight_signed contradicts better={r['better']!r}", line)
        prop, scale = METRICS[dim]
        rows.append({"dimension": dim, "property_id": prop, "source_id": SOURCE_ID, "mean": vals["mean"],
                     "std": vals["std"], "default_weight_signed": vals["default_weight_signed"],
                     "higher_is_better": r["better"] == "higher", "scale": scale})
    if {r["dimension"] for r in rows} != set(METRICS):
        raise SourceFileError(path, f"expected the {len(METRICS)} QUBA dimensions, found {len(rows)}")
    return pd.DataFrame(rows)
