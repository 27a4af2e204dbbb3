"""The model libraries' own metadata, and what was computed from the architectures, for the models others score.

Source: precomputed/sources/libraries/ — written by `precomputed/compute_metadata.py` (run by hand with
torch, timm, open_clip, torchvision and antialiased-cnns installed; the build needs none of them):
- `model_metadata.csv`: one row per (model_id, field): `value`, `kind` (`published`: stated by a library's
  metadata, e.g. timm's `pretrained_cfg['license']`, torchvision's weights `meta`; `computed`: counted here
  from the architecture on the meta device) and `detail` (exactly where the value comes from).
- `versions.csv`: the package versions the file was made with (named in the two source records).

Fields: params_m, gmacs, img_size, weights_licence, pretrain_data (model metadata) and weights_url (the
weights file a library names; `models.weights_url`). Published values outrank every source but the study
and the libraries' results tables (see INGESTERS); computed ones lose to any published value. This ingester
never creates a model: rows for ids no other source scores are dropped by the build (and flagged by a test).
"""

from __future__ import annotations

from advisor.errors import SourceFileError
from advisor.ids import split_id
from advisor.store.sources.base import BuildContext, Collector, SourceRecord, csv_line, read_csv, to_float

FOLDER = "libraries"
FILE = "model_metadata.csv"
VERSIONS = "versions.csv"
KINDS = ("published", "computed")
FIELDS = {"params_m": float, "gmacs": float, "img_size": int, "weights_licence": str, "pretrain_data": str,
          "weights_url": str}
PUBLISHED_ID = "library_metadata"
COMPUTED_ID = "computed_metadata"


def _versions(ctx: BuildContext) -> str:
    path = ctx.file(FOLDER, VERSIONS)
    df = read_csv(path, ("package", "version"), dtype=str, keep_default_na=False)
    return ", ".join(f"{r.package} {r.version}" for r in df.itertuples(index=False))


def _records(versions: str) -> tuple[SourceRecord, SourceRecord]:
    base = dict(citation="Wightman, R. PyTorch Image Models (timm); Ilharco et al. OpenCLIP; TorchVision; "
                         "Zhang, R. antialiased-cnns; Croce et al. RobustBench.",
                repo="the installed packages (see precomputed/sources/libraries/SOURCE.md)",
                file=f"precomputed/sources/libraries/{FILE}", commit=f"package versions: {versions}")
    published = SourceRecord(PUBLISHED_ID, f"Model metadata published by the libraries ({versions})",
                             licence="facts from the packages' metadata (Apache-2.0, MIT, BSD-3-Clause code)", **base)
    computed = SourceRecord(COMPUTED_ID, f"Parameters and MACs computed here from the architectures, without "
                            f"weights (meta device; torch FlopCounterMode, MACs = FLOPs / 2; {versions})",
                            licence="MIT (this project)", **base)
    return published, computed


def ingest(ctx: BuildContext, out: Collector) -> None:
    published, computed = (out.add_source(r) for r in _records(_versions(ctx)))
    path = ctx.file(FOLDER, FILE)
    df = read_csv(path, ("model_id", "field", "value", "kind", "detail"), dtype=str, keep_default_na=False)
    rows: dict[tuple[str, str], dict[str, object]] = {}
    notes: dict[tuple[str, str], dict[str, str]] = {}
    for i, r in df.iterrows():
        line, mid, fld, kind = csv_line(i), r["model_id"].strip(), r["field"].strip(), r["kind"].strip()
        try:
            split_id(mid)
        except ValueError as exc:
            raise SourceFileError(path, str(exc), line) from None
        if fld not in FIELDS or kind not in KINDS or not r["detail"].strip() or not r["value"].strip():
            raise SourceFileError(path, f"field must be one of {sorted(FIELDS)}, kind one of {KINDS}, with a value "
                                  "and a detail", line)
        if FIELDS[fld] is str:
            value: object = r["value"].strip()
        else:
            num = to_float(r["value"], path, line, "value")
            if num is None or num <= 0:
                raise SourceFileError(path, f"{fld} must be a positive number", line)
            value = int(num) if FIELDS[fld] is int else num
        if fld == "weights_url":
            if kind != "published":
                raise SourceFileError(path, "a weights file is published, never computed", line)
            out.add_weights_file(mid, str(value))
            continue
        key = (mid, kind)
        if fld in rows.setdefault(key, {}):
            raise SourceFileError(path, f"{mid} {fld} ({kind}) given twice", line)
        rows[key][fld] = value
        notes.setdefault(key, {})[fld] = r["detail"].strip()
    for (mid, kind), meta in rows.items():
        src = published if kind == "published" else computed
        out.add_model(mid, src, computed=kind == "computed", notes=notes[(mid, kind)], **meta)
