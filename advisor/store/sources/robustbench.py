"""RobustBench ImageNet leaderboards: L-inf AutoAttack and common corruptions (ImageNet-C / 3DCC).

- `Linf/*.json`: `autoattack_acc` -> `autoattack_top1` (item 'linf-<eps>'), `clean_acc` -> `imagenet_top1`.
- `corruptions/*.json`: `corruptions_acc` -> `imagenet_c_top1` (item ''), `corruptions_mce` ->
  `imagenet_c_mce`, `corruptions_acc_3d` -> `imagenet_3dcc_top1` (item ''); the unaggregated CSVs
  (fractions, corruption x severity) give per-corruption items (mean over the 5 severities,
  computed-from-raw; their overall mean equals the JSON's, checked in the tests). `corruptions_mce_3d`
  has no property and is not stored.
- The two leaderboards are separate sources (each reports its own clean accuracy).
- Ids `robustbench:<name>` unless a curated alias says otherwise (Standard_R50 is torchvision's
  ResNet-50 V1 weights; see precomputed/sources/curated/aliases_robustbench.csv).
"""

from __future__ import annotations

import json
from pathlib import Path

from advisor.errors import SourceFileError
from advisor.ids import make_id
from advisor.store.sources.base import BuildContext, Collector, SourceRecord, read_csv, to_float
from advisor.store.sources.imagenet_testbed import torchvision_meta

FOLDER = "robustbench"
LINF_DIR = "model_info/imagenet/Linf"
CORR_DIR = "model_info/imagenet/corruptions"
CSV_2D = "unaggregated_results.csv"
CSV_3D = "unaggregated_results_3d.csv"
REPO = "https://github.com/RobustBench/robustbench"
COMMIT = "78fcc9e48a07a861268f295a777b975f25155964"

# (substring of the lower-cased `architecture`, family, arch_type); first match wins.
ARCHS = (
    ("vit-b + convstem", "vit", "hybrid"), ("vit-s + convstem", "vit", "hybrid"),
    ("convnext", "convnext", "CNN"), ("swin", "swin", "Transformer"), ("xcit", "xcit", "Transformer"),
    ("deit", "deit", "Transformer"), ("vit", "vit", "Transformer"), ("wideresnet", "wide_resnet", "CNN"),
    ("resnet", "resnet", "CNN"), ("alexnet", "alexnet", "CNN"),
)
LINF_NEED = ("name", "architecture", "eps", "clean_acc", "autoattack_acc")
CORR_NEED = ("name", "architecture", "clean_acc", "corruptions_acc", "corruptions_mce", "corruptions_acc_3d")


def _read_json(path: Path, need: tuple[str, ...]) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SourceFileError(path, f"invalid JSON: {exc.msg}", exc.lineno) from exc
    if not isinstance(data, dict):
        raise SourceFileError(path, "expected a JSON object", 1)
    missing = [k for k in need if k not in data]
    if missing:
        raise SourceFileError(path, f"missing keys {missing}")
    return data


def _files(ctx: BuildContext, rel: str) -> list[Path]:
    d = ctx.dir(FOLDER) / rel
    files = sorted(d.glob("*.json"))
    if not files:
        raise SourceFileError(d, "no model JSON files")
    return files


def arch_meta(architecture: str) -> dict[str, str | None]:
    """Family and arch type from RobustBench's free-text architecture; ensembles get neither."""
    low = architecture.lower()
    if "+" in low and "convstem" not in low:
        return {"family": None, "arch_type": None}
    for key, fam, kind in ARCHS:
        if key in low:
            return {"family": fam, "arch_type": kind}
    return {"family": None, "arch_type": None}


def _num(d: dict, key: str, path: Path) -> float | None:
    return to_float(d.get(key), path, None, key)


def _per_corruption(ctx: BuildContext, rel: str) -> tuple[Path, dict[str, dict[str, float]]]:
    """Mean over severities per (model, corruption), in percent, from a corruption x severity CSV."""
    path = ctx.file(FOLDER, f"{CORR_DIR}/{rel}")
    df = read_csv(path, header=[0, 1], index_col=0, dtype=str, keep_default_na=False)
    out: dict[str, dict[str, float]] = {}
    for lineno, (model, row) in enumerate(df.iterrows(), start=3):  # two header lines
        vals: dict[str, list[float]] = {}
        for (corruption, severity), raw in row.items():
            v = to_float(raw, path, lineno, f"{corruption}/{severity}")
            if v is None or not 0.0 <= v <= 1.0:
                raise SourceFileError(path, f"{corruption}/{severity}: expected a fraction, got {raw!r}", lineno)
            vals.setdefault(str(corruption), []).append(v)
        bad = [c for c, vs in vals.items() if len(vs) != 5]
        if bad:
            raise SourceFileError(path, f"expected 5 severities for {bad}", lineno)
        out[str(model)] = {c: 100 * sum(vs) / len(vs) for c, vs in vals.items()}
    return path, out


def _obtain(out: Collector, model_id: str, name: str, threat_model: str) -> None:
    """RobustBench ids load through the `robustbench` pip package's model zoo."""
    if model_id.startswith("robustbench:"):
        out.add_obtain(model_id, "pip", "pip package robustbench (RobustBench model zoo)",
                       f'robustbench.utils.load_model(model_name="{name}", dataset="imagenet", '
                       f'threat_model="{threat_model}")')


def ingest(ctx: BuildContext, out: Collector) -> None:
    base = dict(citation="Croce et al. RobustBench: a standardized adversarial robustness benchmark (2021).",
                repo=REPO, commit=COMMIT, licence="MIT")
    linf = out.add_source(SourceRecord("robustbench_linf", "RobustBench ImageNet L-inf leaderboard",
                                       file=f"{LINF_DIR}/*.json", **base))
    corr = out.add_source(SourceRecord("robustbench_corruptions", "RobustBench ImageNet corruptions leaderboard",
                                       file=f"{CORR_DIR}/*.json, {CORR_DIR}/{CSV_2D}, {CORR_DIR}/{CSV_3D}",
                                       **base))
    for path in _files(ctx, LINF_DIR):
        d = _read_json(path, LINF_NEED)
        name = path.stem
        mid, conf = ctx.resolver.resolve(linf, name, make_id("robustbench", name))
        paradigm = "supervised" if name == "Standard_R50" else "adversarial"
        out.add_model(mid, linf, paradigm=paradigm, **arch_meta(str(d["architecture"])), **torchvision_meta(mid))
        out.add_alias(linf, name, mid, conf)
        _obtain(out, mid, name, "Linf")
        clean = _num(d, "clean_acc", path)
        if clean is not None:
            out.add_score(mid, "imagenet_top1", clean, linf, note="RobustBench clean")
        aa = _num(d, "autoattack_acc", path)
        if aa is not None:
            note = "AutoAttack (standard)"
            ext = _num(d, "external", path)
            if ext is not None and ext < aa:
                note += f"; a stronger external attack reports {ext:g}"
            if d.get("unreliable"):
                note += "; flagged unreliable by RobustBench"
            out.add_score(mid, "autoattack_top1", aa, linf, item=f"linf-{d['eps']}", note=note)

    path2d, per2d = _per_corruption(ctx, CSV_2D)
    path3d, per3d = _per_corruption(ctx, CSV_3D)
    for path in _files(ctx, CORR_DIR):
        d = _read_json(path, CORR_NEED)
        name = path.stem
        mid, conf = ctx.resolver.resolve(corr, name, make_id("robustbench", name))
        paradigm = "adversarial" if "_Linf" in name else "supervised"
        out.add_model(mid, corr, paradigm=paradigm, **arch_meta(str(d["architecture"])), **torchvision_meta(mid))
        out.add_alias(corr, name, mid, conf)
        _obtain(out, mid, name, "corruptions")
        for key, prop, note in (("clean_acc", "imagenet_top1", "RobustBench clean"),
                                ("corruptions_acc", "imagenet_c_top1", "15 corruptions x 5 severities"),
                                ("corruptions_mce", "imagenet_c_mce", "relative to AlexNet"),
                                ("corruptions_acc_3d", "imagenet_3dcc_top1", "")):
            v = _num(d, key, path)
            if v is not None:
                out.add_score(mid, prop, v, corr, note=note)
        for prop, per, p in (("imagenet_c_top1", per2d, path2d), ("imagenet_3dcc_top1", per3d, path3d)):
            for corruption, v in sorted(per.get(name, {}).items()):
                out.add_score(mid, prop, v, corr, item=corruption, precision="computed-from-raw",
                              note=f"mean over 5 severities of {p.name}")

