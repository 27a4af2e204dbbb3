"""Duplicate detector: model pairs that may be one checkpoint under two ids (table duplicate_candidates).

A pair of models from different sources is a candidate by any of three rules (`rule`):
- `params`: equal parameter counts (within PARAMS_TOL M: sources round to 0.1 M), ImageNet top-1 within
  TOP1_WINDOW points, and the same architecture family where both families are known;
- `top1`: ImageNet top-1 on the same protocol within TOP1_EXACT points and the same architecture family
  (the family named by a source, else read from the id, and the size where both ids name one: see
  `arch_key`), when a parameter count is missing on one side at least: models without a parameter count
  are seen too;
- `weights file`: the same weights file (models.weights_url, compared by file name).
A source that names both models is taken to know they differ, so pairs that share a top-1 source are not
candidates by the first two rules. Every candidate must be reviewed in
precomputed/sources/curated/duplicates_review.csv: merged (then it disappears, since the curated alias maps
both names to one id) or kept "distinct" with a reason; tests fail on an unreviewed one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from advisor.errors import SourceFileError
from advisor.ids import bare_name
from advisor.store.sources.base import csv_line, read_csv

TOP1_WINDOW = 0.15  # percentage points, with equal parameter counts
TOP1_EXACT = 0.01  # percentage points, same protocol and family, parameters unknown or not
PARAMS_TOL = 0.051  # millions: equal at the 0.1 M precision QUBA publishes
REVIEW_FILE = "curated/duplicates_review.csv"
REVIEW_COLUMNS = ("model_a", "model_b", "verdict", "reason")
VERDICTS = ("distinct",)
COLUMNS = ["model_a", "model_b", "rule", "family", "params_m_a", "params_m_b", "top1_a", "source_a", "top1_b",
           "source_b", "top1_diff", "verdict", "reason"]
# Architecture family read from a model name when no source states one (first matching substring wins).
FAMILY_HINTS = (("wide_resnet", "wideresnet"), ("wrn", "wideresnet"), ("resnext", "resnext"),
                ("seresnet", "seresnet"), ("se_resnet", "seresnet"), ("resnet", "resnet"),
                ("efficientnet", "efficientnet"),
                ("convnext", "convnext"), ("deit", "deit"), ("swin", "swin"), ("vit", "vit"), ("densenet", "densenet"),
                ("mobilenet", "mobilenet"), ("mnasnet", "mnasnet"), ("regnet", "regnet"), ("dpn", "dpn"),
                ("vgg", "vgg"), ("alexnet", "alexnet"), ("inception", "inception"), ("xception", "xception"),
                ("shufflenet", "shufflenet"), ("squeezenet", "squeezenet"), ("bagnet", "bagnet"), ("hiera", "hiera"))


def family_key(model_id: str, family: object, infer: bool = True) -> str | None:
    """A comparable family: the stated one (letters and digits only, lower case), else one read from the id."""
    if isinstance(family, str) and family.strip():
        return re.sub(r"[^a-z0-9]", "", family.lower())
    if not infer:
        return None
    name = bare_name(model_id).lower()
    return next((fam for key, fam in FAMILY_HINTS if key in name), None)


def arch_key(model_id: str, family: object) -> tuple[str, str] | None:
    """(family, size) for the `top1` rule: the size is the number after the family word in the id
    (`resnet50`, `EfficientNet-B0` -> `b0`), '' when the id names none (then any size of the family matches)."""
    fam = family_key(model_id, family)
    if fam is None:
        return None
    name = bare_name(model_id).lower()
    word = next((key for key, f in FAMILY_HINTS if f == fam and key in name), fam)
    m = re.search(re.escape(word) + r"[_-]?([a-z]?\d+)", name) if word in name else None
    return fam, m.group(1) if m else ""


def _same_arch(a: tuple[str, str] | None, b: tuple[str, str] | None) -> bool:
    return a is not None and b is not None and a[0] == b[0] and (a[1] == b[1] or not a[1] or not b[1])


def protocol_of(scores: pd.DataFrame) -> pd.Series:
    """How each top-1 was measured: the scores' `protocol` column where the store has one, else zero-shot
    (the note says so) or classifier."""
    if "protocol" in scores:
        return scores["protocol"].fillna("").astype(str)
    notes = scores["note"] if "note" in scores else pd.Series("", index=scores.index)
    return notes.fillna("").str.contains("zero-shot").map({True: "zero-shot", False: "classifier"})


def read_review(sources_dir: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """(model_a, model_b) sorted -> (verdict, reason) from the curated review file (empty if absent)."""
    path = sources_dir / REVIEW_FILE
    if not path.is_file():
        return {}
    df = read_csv(path, REVIEW_COLUMNS, dtype=str, keep_default_na=False)
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for i, r in df.iterrows():
        key = tuple(sorted((r["model_a"], r["model_b"])))
        if r["verdict"] not in VERDICTS or not r["reason"].strip():
            raise SourceFileError(path, f"verdict must be one of {VERDICTS} with a reason", csv_line(i))
        if key in out:
            raise SourceFileError(path, f"pair {key} reviewed twice", csv_line(i))
        out[key] = (r["verdict"], r["reason"])
    return out


def _pairs(models: pd.DataFrame, top1: pd.DataFrame) -> dict[tuple[str, str], str]:
    """(a, b) -> the first rule that makes the pair a candidate."""
    pairs = list(zip(models["model_id"], models["family"], strict=True))
    fam = {m: family_key(m, f, infer=False) for m, f in pairs}  # `params` rule: stated families only
    arch = {m: arch_key(m, f) for m, f in pairs}
    params = models.set_index("model_id")["params_m"].to_dict()
    srcs = top1.groupby("model_id")["source_id"].agg(set).to_dict()
    out: dict[tuple[str, str], str] = {}
    t = top1[top1["model_id"].isin(fam)].sort_values("value").reset_index(drop=True)
    ids, vals, prot, src = (t[c].tolist() for c in ("model_id", "value", "protocol", "source_id"))
    for i in range(len(t)):
        j = i + 1
        while j < len(t) and vals[j] - vals[i] <= TOP1_WINDOW:
            a, b = sorted((ids[i], ids[j]))
            if a != b and (a, b) not in out and src[i] != src[j] and not (srcs[a] & srcs[b]):
                fa, fb = fam[a], fam[b]
                pa, pb = params.get(a), params.get(b)
                both = pd.notna(pa) and pd.notna(pb)
                if both and abs(pa - pb) <= PARAMS_TOL and (fa is None or fb is None or fa == fb):
                    out[(a, b)] = "params"
                elif (vals[j] - vals[i] <= TOP1_EXACT and prot[i] == prot[j] and _same_arch(arch[a], arch[b])
                      and not both):  # two known, different parameter counts are two architectures
                    out[(a, b)] = "top1"
            j += 1
    files = models.dropna(subset=["weights_url"])
    names = files["weights_url"].str.rsplit("/", n=1).str[-1]
    for _, group in files.groupby(names)["model_id"]:
        same = sorted(group)
        for k, a in enumerate(same):
            for b in same[k + 1:]:
                out.setdefault((a, b), "weights file")
    return out


def duplicate_candidates(models: pd.DataFrame, scores: pd.DataFrame,
                         review: dict[tuple[str, str], tuple[str, str]]) -> pd.DataFrame:
    """COLUMNS for every candidate pair, with its review verdict ('unreviewed' when none)."""
    top1 = scores[(scores["property_id"] == "imagenet_top1") & (scores["item"] == "")]
    top1 = top1.assign(protocol=protocol_of(top1))[["model_id", "source_id", "value", "protocol"]]
    models = models.copy()
    for col in ("family", "params_m", "weights_url"):
        if col not in models:
            models[col] = None
    vals = {k: list(zip(g["source_id"], g["value"], strict=True)) for k, g in top1.groupby("model_id")}
    info = models.set_index("model_id")
    rows = []
    for (a, b), rule in sorted(_pairs(models, top1).items()):
        best = min(((abs(va - vb), sa, va, sb, vb) for sa, va in vals.get(a, []) for sb, vb in vals.get(b, [])),
                   default=(None, None, None, None, None))
        family = family_key(a, info.at[a, "family"]) or family_key(b, info.at[b, "family"])
        verdict, reason = review.get((a, b), ("unreviewed", ""))
        rows.append([a, b, rule, family, info.at[a, "params_m"], info.at[b, "params_m"], best[2], best[1], best[4],
                     best[3], None if best[0] is None else round(best[0], 6), verdict, reason])
    return pd.DataFrame(rows, columns=COLUMNS)
