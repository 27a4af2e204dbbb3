"""What every source ingester gets and fills: a build context and a collector.

An ingester is a module in `advisor.store.sources` with
`ingest(ctx: BuildContext, out: Collector) -> None`. It reads only files under
`ctx.dir(<folder>)` (copies in precomputed/sources/), never the network, and raises
`SourceFileError` naming the file and line for anything malformed.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from advisor.errors import SourceFileError
from advisor.ids import split_id
from advisor.store.obtain import WEIGHTS_FROM
from advisor.store.properties import PROPERTY_IDS

MODEL_COLUMNS = (
    "display_name", "family", "arch_type", "paradigm", "pretrain_data", "finetune_data",
    "params_m", "gmacs", "img_size", "loader", "load_name", "weights_licence", "derived_from",
)
# Metadata columns whose winning source is recorded (`<column>_source`) with its detail (`metadata_note`).
PROVENANCE_COLUMNS = ("params_m", "gmacs", "img_size", "weights_licence", "pretrain_data")
ARCH_TYPES = ("CNN", "Transformer", "hybrid", "vision-language")
CONFIDENCES = ("exact", "curated", "ambiguous")


@dataclass(frozen=True)
class SourceRecord:
    source_id: str  # short, stable: 'timm_results', 'quba_index_html', ...
    title: str
    citation: str
    repo: str
    file: str  # path(s) inside the repo
    commit: str
    licence: str  # e.g. 'Apache-2.0', 'CC BY-NC 4.0'
    non_commercial: bool = False


class Resolver:
    """Maps a source's own model name to a canonical id, curated aliases first."""

    def __init__(self, curated: pd.DataFrame, timm_names: Iterable[str], open_clip_names: Iterable[str]):
        self._curated = {
            (r.source_id, r.name_in_source): (r.model_id, r.confidence)
            for r in curated.itertuples(index=False)
        }
        self.timm_names = frozenset(timm_names)  # 'arch.tag' names timm publishes results for
        self.open_clip_names = frozenset(open_clip_names)  # 'Arch.pretrained'

    def curated(self, source_id: str, name: str) -> tuple[str, str] | None:
        """The curated (model_id, confidence) for a source's name, if any."""
        return self._curated.get((source_id, name))

    def resolve(self, source_id: str, name: str, default_id: str, confidence: str = "exact") -> tuple[str, str]:
        """Curated alias if present, else the ingester's own default id."""
        return self.curated(source_id, name) or (default_id, confidence)


@dataclass
class BuildContext:
    sources_dir: Path
    resolver: Resolver

    def dir(self, name: str) -> Path:
        d = self.sources_dir / name
        if not d.is_dir():
            raise SourceFileError(d, "source folder missing")
        return d

    def file(self, name: str, rel: str) -> Path:
        p = self.sources_dir / name / rel
        if not p.is_file():
            raise SourceFileError(p, "source file missing")
        return p


@dataclass
class Collector:
    """Accumulates rows for the store tables; validates as it goes."""

    sources: dict[str, SourceRecord] = field(default_factory=dict)
    models: list[dict] = field(default_factory=list)
    scores: list[dict] = field(default_factory=list)
    aliases: list[dict] = field(default_factory=list)
    obtain: dict[str, dict[str, str]] = field(default_factory=dict)  # model_id -> weights_from, load_call, note
    weights_files: dict[str, str] = field(default_factory=dict)  # model_id -> the weights file a library names
    current: str = ""  # the ingester now running (set by the build; orders metadata priority)

    def add_source(self, rec: SourceRecord) -> str:
        if not rec.licence:
            raise ValueError(f"source {rec.source_id} has no licence")
        self.sources[rec.source_id] = rec
        return rec.source_id

    def add_model(self, model_id: str, source_id: str, *, computed: bool = False,
                  notes: Mapping[str, str] | None = None, **meta: object) -> None:
        """Metadata for a model as one source states it (merged by source priority in the build).

        `computed`: the values were computed here (from the architecture), not published; any published value
        wins over them. `notes`: a detail per column (where exactly the value comes from), kept with the
        winning value in `models.metadata_note`.
        """
        split_id(model_id)
        bad = set(meta) - set(MODEL_COLUMNS) | set(notes or {}) - set(MODEL_COLUMNS)
        if bad:
            raise ValueError(f"unknown model columns {sorted(bad)}")
        if meta.get("arch_type") not in (None, *ARCH_TYPES):
            raise ValueError(f"arch_type {meta['arch_type']!r} not in {ARCH_TYPES}")
        self.models.append({"model_id": model_id, "source_id": source_id, "ingester": self.current,
                            "_computed": computed, "_notes": dict(notes or {}), **meta})

    def add_weights_file(self, model_id: str, url: str) -> None:
        """The weights file (or hub repository) a library names for a loader id (models.weights_url)."""
        split_id(model_id)
        if not url.startswith("https://"):
            raise ValueError(f"{model_id}: weights file {url!r} is not an https URL")
        self.weights_files.setdefault(model_id, url)

    def add_obtain(self, model_id: str, weights_from: str, note: str, load_call: str | None = None,
                   weights_url: str | None = None, weights_sha256: str | None = None) -> None:
        """How to get a model's weights when its id names no loader, as its source states it."""
        split_id(model_id)
        if weights_from not in WEIGHTS_FROM:
            raise ValueError(f"weights_from {weights_from!r} not in {WEIGHTS_FROM}")
        if weights_from != "none known" and not load_call:
            raise ValueError(f"{model_id}: a public route needs its exact load call")
        self.obtain.setdefault(model_id, {"weights_from": weights_from, "load_call": load_call or "",
                                          "note": note, "weights_url": weights_url or "",
                                          "weights_sha256": weights_sha256 or ""})

    def add_alias(self, source_id: str, name_in_source: str, model_id: str, confidence: str = "exact") -> None:
        split_id(model_id)
        if confidence not in CONFIDENCES:
            raise ValueError(f"confidence {confidence!r} not in {CONFIDENCES}")
        self.aliases.append({"source_id": source_id, "name_in_source": name_in_source,
                             "model_id": model_id, "confidence": confidence})

    def add_score(self, model_id: str, property_id: str, value: float, source_id: str, *,
                  item: str = "", precision: str = "exact", note: str = "") -> None:
        """One published (or computed-from-raw) number. NaN/blank values must not be added."""
        if property_id not in PROPERTY_IDS:
            raise ValueError(f"unknown property {property_id!r}")
        if source_id not in self.sources:
            raise ValueError(f"score cites unregistered source {source_id!r}")
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"non-finite value for {model_id} {property_id} {item}")
        self.scores.append({"model_id": model_id, "property_id": property_id, "item": item, "value": v,
                            "source_id": source_id, "precision": precision, "note": note})


def read_csv(path: Path, required: Iterable[str] = (), **kw: object) -> pd.DataFrame:
    """Read a CSV strictly: missing file, ragged rows or missing columns raise with file and line."""
    if not path.is_file():
        raise SourceFileError(path, "source file missing")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), None)
            if header is None:
                raise SourceFileError(path, "empty file", line=1)
            for lineno, row in enumerate(csv.reader(fh), start=2):
                if row and len(row) != len(header):
                    raise SourceFileError(path, f"expected {len(header)} fields, found {len(row)}", lineno)
        df = pd.read_csv(path, **kw)
    except SourceFileError:
        raise
    except (UnicodeDecodeError, csv.Error, pd.errors.ParserError, ValueError) as exc:
        raise SourceFileError(path, f"cannot parse: {exc}") from exc
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise SourceFileError(path, f"missing columns {missing}", line=1)
    return df


def to_float(value: object, path: Path, line: int, column: str) -> float | None:
    """A number, or None for blank; anything else is an error naming file, line and column."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    s = str(value).strip()
    if s == "" or s.lower() in ("nan", "none", "null", "-"):
        return None
    try:
        v = float(s)
    except ValueError:
        raise SourceFileError(path, f"column {column!r}: not a number: {s!r}", line) from None
    if not math.isfinite(v):
        raise SourceFileError(path, f"column {column!r}: not finite: {s!r}", line)
    return v


def csv_line(index: int) -> int:
    """File line of a DataFrame row read with a one-line header."""
    return int(index) + 2
