"""ImageNet robustness testbed (Taori et al. 2020): 338 models x 213 evaluation settings (top-1, %).

- `val` -> `imagenet_top1`; natural shifts -> `shift_top1` (`SHIFTS`; ImageNet-Vid-Robust and
  YTBB-Robust as their pm-0 accuracy, ImageNetV2 as the original matched-frequency files);
  pm-10 columns -> `frame_pm10_top1` and pm-10/pm-0 -> `frame_consistency_ratio` (`VIDEO`, invariance);
  PGD columns -> `pgd_top1` (`PGD`, eps as the testbed's attack configs define them: L-inf in /255).
- ImageNet-C uses the `_on-disk` columns only (the released ImageNet-C JPEGs; `_in-memory` lacks
  glass_blur, so it cannot give the standard mean). Item '' = mean over the 15 standard corruptions x
  5 severities, only when all 75 are present; item '<corruption>' = mean over its 5 severities (also
  for the 4 extra corruptions, which stay out of the '' mean). Both computed-from-raw.
- Names are the testbed's own. Curated aliases (source_id 'imagenet_testbed', file
  precomputed/sources/curated/aliases_testbed.csv, shared with the ImageNet-X ingester) map the
  names whose checkpoint is certain; the rest stay `testbed:<name>`, with the checkpoint's origin where the
  testbed's model code or the releases name it (curated/testbed_origins.csv: name pattern -> origin).
"""

from __future__ import annotations

import re
from pathlib import Path

from advisor.errors import SourceFileError
from advisor.ids import make_id, split_id
from advisor.store.sources.base import BuildContext, Collector, SourceRecord, csv_line, read_csv, to_float

FOLDER = "imagenet_testbed"
FILE = "robustness_top1s.csv"
ORIGINS = "testbed_origins.csv"  # in curated/
SOURCE_ID = "imagenet_testbed"
SHIFTS = {"imagenetv2-matched-frequency": ("imagenet-v2", ""), "imagenet-a": ("imagenet-a", ""),
          "imagenet-r": ("imagenet-r", ""), "imagenet-sketch": ("imagenet-sketch", ""),
          "objectnet-1.0-beta": ("objectnet", "ObjectNet 1.0 beta"),
          "stylized_imagenet": ("stylized-imagenet", ""),
          "imagenet-vid-robust_pm0": ("imagenet-vid-robust", "pm-0 (anchor frames)"),
          "ytbb-robust_pm0": ("ytbb-robust", "pm-0 (anchor frames)")}
# Video robustness (Shankar et al. 2021): pm-0 = anchor-frame accuracy, pm-10 = accuracy when every frame
# within 10 of the anchor must also be right. Stored: pm-10 and the ratio pm-10 / pm-0 (invariance).
VIDEO = {"imagenet-vid-robust": ("imagenet-vid-robust_pm0", "imagenet-vid-robust_pm10"),
         "ytbb-robust": ("ytbb-robust_pm0", "ytbb-robust_pm10")}
PGD = {"pgd.linf.eps0.5": "linf-0.5/255", "pgd.linf.eps2": "linf-2/255", "pgd.l2.eps0.1": "l2-0.1",
       "pgd.l2.eps0.5": "l2-0.5"}
CORRUPTIONS = ("gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur", "motion_blur",
               "zoom_blur", "snow", "frost", "fog", "brightness", "contrast", "elastic_transform", "pixelate",
               "jpeg_compression")
_C_COL = re.compile(r"^imagenet-c\.([a-z_]+)\.([1-5])_on-disk$")

# Testbed-namespace metadata heuristics from the model name (first matching substring wins).
_PARADIGM = (("clip", "clip"), ("simclr", "self-supervised"), ("swav", "self-supervised"),
             ("simsiam", "self-supervised"), ("vtab-rotation", "self-supervised"),
             ("vtab-exemplar", "self-supervised"), ("semi-", "semi-supervised"), ("_ssl", "semi-supervised"),
             ("_swsl", "semi-supervised"), ("noisystudent", "semi-supervised"), ("advprop", "supervised"),
             ("_robust", "adversarial"), ("adv", "adversarial"), ("instagram", "weakly-supervised"))
_FAMILY = (("densenet", "densenet"), ("mnasnet", "mnasnet"), ("pnasnet", "pnasnet"), ("nasnet", "nasnet"),
           ("se_resnext", "seresnext"), ("se_resnet", "seresnet"), ("senet", "senet"), ("resnext", "resnext"),
           ("wide_resnet", "wide_resnet"), ("inceptionresnet", "inception_resnet"), ("resnet", "resnet"),
           ("bit-m", "resnetv2"), ("efficientnet", "efficientnet"), ("vit", "vit"), ("vgg", "vgg"),
           ("dpn", "dpn"), ("inceptionv3", "inception_v3"), ("inceptionv4", "inception_v4"),
           ("bninception", "bninception"), ("googlenet", "googlenet"), ("polynet", "polynet"),
           ("xception", "xception"), ("alexnet", "alexnet"), ("squeezenet", "squeezenet"),
           ("shufflenet", "shufflenet"), ("mobilenet", "mobilenetv2"))


def testbed_origins(ctx: BuildContext) -> list[tuple[re.Pattern[str], str]]:
    """(name pattern, origin) pairs from curated/testbed_origins.csv, in file order (first match wins)."""
    path = ctx.file("curated", ORIGINS)
    df = read_csv(path, ("pattern", "origin"), dtype=str, keep_default_na=False)
    out = []
    for i, r in df.iterrows():
        try:
            pattern = re.compile(r["pattern"])
        except re.error as exc:
            raise SourceFileError(path, f"bad pattern: {exc}", csv_line(i)) from None
        if not r["origin"].strip():
            raise SourceFileError(path, "empty origin", csv_line(i))
        out.append((pattern, r["origin"].strip()))
    return out


def origin_note(name: str, origins: list[tuple[re.Pattern[str], str]]) -> str:
    """Why a testbed checkpoint has no loader here, naming where it comes from when that is known."""
    origin = next((o for p, o in origins if p.fullmatch(name)), None)
    if origin is None:
        return ("imagenet-testbed's copy of the checkpoint; its origin is not recorded here and no public loader "
                "is mapped")
    return f"{origin}; imagenet-testbed serves its copy through its own model code, no public loader is mapped here"


def torchvision_meta(model_id: str) -> dict[str, str]:
    """Loader fields for a `torchvision:<arch>.<WEIGHTS>` id (load_name = the id's name)."""
    ns, name = split_id(model_id)
    return {"loader": "torchvision", "load_name": name} if ns == "torchvision" else {}


def testbed_meta(name: str) -> dict[str, str | None]:
    """Family, arch type and paradigm for a testbed name ('identity32_*' are pixel-space baselines)."""
    low = name.lower()
    fam = next((f for key, f in _FAMILY if key in low), None)
    kind = None if fam is None else ("Transformer" if fam == "vit" else "CNN")
    return {"family": fam, "arch_type": kind, "paradigm": next((p for key, p in _PARADIGM if key in low),
                                                               "supervised")}


class _Row:
    """One model's row: `num(col)` is its value in percent (None if blank) or a SourceFileError."""

    def __init__(self, row: dict, path: Path, line: int) -> None:
        self.row, self.path, self.line = row, path, line

    def num(self, col: str) -> float | None:
        v = to_float(self.row[col], self.path, self.line, col)
        if v is not None and not 0.0 <= v <= 100.0:
            raise SourceFileError(self.path, f"column {col!r}: {v} is not a percentage", self.line)
        return v


def _scores(row: _Row, c_cols: dict[str, list[str]], zero_shot: bool) -> list[tuple[str, str, float, str, str]]:
    """(property, item, value, precision, note) for one model's row."""
    num = row.num
    zs = "zero-shot" if zero_shot else ""
    out: list[tuple[str, str, float, str, str]] = []
    if (v := num("val")) is not None:
        out.append(("imagenet_top1", "", v, "exact", zs))
    for col, (item, what) in SHIFTS.items():
        if (v := num(col)) is not None:
            out.append(("shift_top1", item, v, "exact", "; ".join(x for x in (what, zs) if x)))
    for item, (pm0_col, pm10_col) in VIDEO.items():
        pm0, pm10 = num(pm0_col), num(pm10_col)
        if pm10 is not None:
            out.append(("frame_pm10_top1", item, pm10, "exact", "; ".join(x for x in ("pm-10", zs) if x)))
        if pm0 is not None and pm10 is not None and pm0 > 0:
            out.append(("frame_consistency_ratio", item, pm10 / pm0, "computed-from-raw",
                        "pm-10 / pm-0 accuracy"))
    for col, item in PGD.items():
        if (v := num(col)) is not None:
            out.append(("pgd_top1", item, v, "exact", "PGD, 100 steps"))
    means: dict[str, float] = {}
    for corruption, cols in sorted(c_cols.items()):
        vals = [v for v in map(num, cols) if v is not None]
        if len(vals) == len(cols):
            means[corruption] = sum(vals) / len(vals)
            extra = "" if corruption in CORRUPTIONS else "; extra corruption, not in the 15-corruption mean"
            out.append(("imagenet_c_top1", corruption, means[corruption], "computed-from-raw",
                        f"mean over 5 severities (on-disk){extra}"))
    if all(c in means for c in CORRUPTIONS):
        out.append(("imagenet_c_top1", "", sum(means[c] for c in CORRUPTIONS) / len(CORRUPTIONS),
                    "computed-from-raw", "mean over 15 corruptions x 5 severities (on-disk)"))
    return out


def ingest(ctx: BuildContext, out: Collector) -> None:
    src = out.add_source(SourceRecord(
        SOURCE_ID, "ImageNet robustness testbed (top-1 of every model on every evaluation setting)",
        citation="Taori et al. Measuring Robustness to Natural Distribution Shifts in Image Classification "
                 "(NeurIPS 2020).",
        repo="https://github.com/modestyachts/imagenet-testbed", file=FILE,
        commit="0170eec658d664289d9f61de8f90f967f49abca0", licence="MIT"))
    path = ctx.file(FOLDER, FILE)
    video_cols = [c for cols in VIDEO.values() for c in cols]
    df = read_csv(path, ["model", "val", *SHIFTS, *PGD, *video_cols], dtype=str, keep_default_na=False)
    c_cols: dict[str, list[str]] = {}
    for col in df.columns:
        m = _C_COL.match(col)
        if m:
            c_cols.setdefault(m.group(1), []).append(col)
    missing = [c for c in CORRUPTIONS if len(c_cols.get(c, [])) != 5]
    if missing:
        raise SourceFileError(path, f"ImageNet-C on-disk columns incomplete for {missing}", 1)
    origins = testbed_origins(ctx)
    seen: set[str] = set()
    for i, row in enumerate(df.to_dict("records")):
        line = csv_line(i)
        name = row["model"].strip()
        if not name or name in seen:
            raise SourceFileError(path, f"blank or repeated model name {name!r}", line)
        seen.add(name)

        scores = _scores(_Row(row, path, line), c_cols, zero_shot="clip_zeroshot" in name)
        if not scores:  # e.g. models evaluated only on class-subsampled sets, which are not stored
            continue
        mid, conf = ctx.resolver.resolve(SOURCE_ID, name, make_id("testbed", name))
        out.add_model(mid, src, **testbed_meta(name), **torchvision_meta(mid))
        out.add_alias(src, name, mid, conf)
        if mid.startswith("testbed:"):
            out.add_obtain(mid, "none known", origin_note(name, origins))
        for prop, item, value, precision, note in scores:
            out.add_score(mid, prop, value, src, item=item, precision=precision, note=note)
