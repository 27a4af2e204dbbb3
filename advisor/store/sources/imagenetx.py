"""ImageNet-X error ratios (Idrissi et al., ICLR 2023) computed from the published per-factor accuracies.

Source: precomputed/sources/imagenetx/results/val/top_factor/{imagenet_testbed,modelvshuman,base}/
class/accuracies_per_factor.csv — the paper's main setting: each validation image is assigned its
top (most salient) factor, and correctness is standard 1000-class top-1 (`class`).

Computed here: error ratio per factor = (1 - accuracy on images with that factor) / (1 - overall
accuracy `average`) (imagenet_x/aggregate.py:error_ratio); item = factor name; precision
'computed-from-raw'. 1 means the factor costs as much as the average image; lower is better.

Curation decisions:
- The three model groups are separate evaluations (nine names appear in two groups with different
  numbers), so each group is its own source_id.
- Names: imagenet-testbed rows use the testbed's curated aliases (source 'imagenet_testbed'), else
  `testbed:<name>`, the testbed ingester's default; model-vs-human rows use
  curated/aliases_imagenetx.csv where the checkpoint is certain, else `mvh:<name>`; the four `base`
  models are not identified in the repo: `imagenetx:<name>`.
- Rows whose overall accuracy is below 1% (untrained checkpoints, and two model-vs-human runs of
  selecsls42/84 without weights) are skipped: their errors are ~100% everywhere and the ratio is ~1
  by construction, which would read as "average mistakes".
- Licence CC BY-NC 4.0: the source records are flagged non-commercial.
"""

from __future__ import annotations

from advisor.errors import SourceFileError
from advisor.ids import make_id
from advisor.store.sources.base import BuildContext, Collector, SourceRecord, csv_line, read_csv, to_float

FOLDER = "imagenetx"
FACTORS = ("pose", "background", "pattern", "color", "smaller", "shape", "partial_view", "subcategory", "texture",
           "larger", "darker", "object_blocking", "person_blocking", "style", "brighter", "multiple_objects")
MIN_AVERAGE = 0.01  # overall top-1 (fraction) below which a row is an untrained / broken run
# group folder -> (source_id, curated-alias key, default namespace)
GROUPS = {
    "imagenet_testbed": ("imagenetx_testbed", "imagenet_testbed", "testbed"),
    "modelvshuman": ("imagenetx_mvh", "imagenetx_mvh", "mvh"),
    "base": ("imagenetx_base", "imagenetx_base", "imagenetx"),
}


def _record(group: str, source_id: str) -> SourceRecord:
    return SourceRecord(
        source_id=source_id,
        title=f"ImageNet-X per-factor accuracies ({group} models; top factor, class labels)",
        citation="Idrissi, Bouchacourt, Balestriero, Evtimov, Hazirbas, Ballas, Vincent, Drozdzal, Lopez-Paz, "
                 "Ibrahim. ImageNet-X: Understanding Model Mistakes with Factor of Variation Annotations. ICLR 2023",
        repo="https://github.com/facebookresearch/imagenetx",
        file=f"results/val/top_factor/{group}/class/accuracies_per_factor.csv",
        commit="6403d41a5cc435543a63060e336bc2452e3ad223",
        licence="CC BY-NC 4.0",
        non_commercial=True,
    )


def ingest(ctx: BuildContext, out: Collector) -> None:
    for group, (source_id, alias_key, namespace) in GROUPS.items():
        path = ctx.file(FOLDER, f"results/val/top_factor/{group}/class/accuracies_per_factor.csv")
        df = read_csv(path, ("model", *FACTORS, "average"), dtype=str, keep_default_na=False)
        if df["model"].duplicated().any():
            raise SourceFileError(path, "duplicate model name", csv_line(df.index[df["model"].duplicated()][0]))
        src = out.add_source(_record(group, source_id))
        seen: dict[str, str] = {}
        for i, r in df.iterrows():
            line, name = csv_line(i), r["model"].strip()
            accs = {c: to_float(r[c], path, line, c) for c in (*FACTORS, "average")}
            bad = [c for c, v in accs.items() if v is not None and not 0.0 <= v <= 1.0]
            if bad:
                raise SourceFileError(path, f"accuracy outside [0, 1] in {bad}", line)
            average = accs.pop("average")
            if average is None or average >= 1.0:
                raise SourceFileError(path, "column 'average' must be an accuracy below 1", line)
            if average < MIN_AVERAGE:
                continue
            curated = ctx.resolver.curated(alias_key, name)
            model_id, conf = curated or (make_id(namespace, name), "exact")
            if model_id in seen:
                raise SourceFileError(path, f"{name!r} and {seen[model_id]!r} both resolve to {model_id}", line)
            seen[model_id] = name
            out.add_model(model_id, src)
            out.add_alias(src, name, model_id, conf)
            for factor, acc in accs.items():
                if acc is not None:
                    out.add_score(model_id, "imagenet_x_error_ratio", (1.0 - acc) / (1.0 - average), src,
                                  item=factor, precision="computed-from-raw")
