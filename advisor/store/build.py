"""`advisor build`: curated sources -> precomputed/advisor.duckdb (idempotent, offline)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from dataclasses import asdict
from pathlib import Path

import duckdb
import pandas as pd

from advisor import __version__
from advisor.errors import SourceFileError, StoreError
from advisor.ids import bare_name, split_id
from advisor.store.duplicates import duplicate_candidates, read_review
from advisor.store.links import fit_links
from advisor.store.obtain import WEIGHTS_FROM, obtainability
from advisor.store.properties import PROPERTIES, get_property
from advisor.store.protocols import assign_protocols, protocols_table
from advisor.store.sources import BY_NAME, INGESTERS, IngesterSpec, metadata_priority
from advisor.store.sources.base import (
    MODEL_COLUMNS,
    PROVENANCE_COLUMNS,
    BuildContext,
    Collector,
    Resolver,
    csv_line,
    read_csv,
)
from advisor.store.sources.quba import quba_normalization

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCES = PROJECT_ROOT / "precomputed" / "sources"
DEFAULT_DB = PROJECT_ROOT / "precomputed" / "advisor.duckdb"
SCHEMA = Path(__file__).with_name("schema.sql")

# Two sources disagree when |a - b| exceeds this, by unit.
TOLERANCE = {"%": 0.5, "fraction": 0.01, "ratio": 0.02, "unitless": 0.001, "M": 0.5, "GMACs": 0.1,
             "GFLOPs": 0.2, "img/s": float("inf")}


# One spelling for data-set labels across sources (timm tag words -> names QUBA and the study use).
DATA_LABELS = {"in1k": "ImageNet-1k", "in21k": "ImageNet-21k", "in22k": "ImageNet-22k", "in12k": "ImageNet-12k",
               "laion2b": "LAION-2B", "laion400m": "LAION-400M", "laion5b": "LAION-5B", "openai": "OpenAI WIT",
               "ig1b": "Instagram-1B", "ig3.6b": "Instagram-3.6B", "webli": "WebLI", "jft300m": "JFT-300M",
               "yfcc100m": "YFCC-100M", "yfcc15m": "YFCC-15M", "cc12m": "CC12M", "mscoco": "MS-COCO",
               "datacomp1b": "DataComp-1B", "dfn2b": "DFN-2B", "dfn5b": "DFN-5B", "lvd142m": "LVD-142M",
               "datacompdr": "DataCompDR-1B", "datacompdr-lt": "DataCompDR-1B"}


def data_label(value: object) -> object:
    """Readable data-set label; unknown words are kept as the source wrote them."""
    if not isinstance(value, str):
        return value
    return " + ".join(DATA_LABELS.get(part.strip(), part.strip()) for part in value.split("+"))


def make_context(sources_dir: Path = DEFAULT_SOURCES) -> BuildContext:
    """The shared context: curated aliases and the names timm and open_clip publish."""
    curated_dir = sources_dir / "curated"
    frames = [read_csv(p, ["source_id", "name_in_source", "model_id", "confidence"], dtype=str,
                       keep_default_na=False)
              for p in sorted(curated_dir.glob("aliases_*.csv"))]
    curated = (pd.concat(frames, ignore_index=True) if frames
               else pd.DataFrame(columns=["source_id", "name_in_source", "model_id", "confidence"]))
    dup = curated[curated.duplicated(["source_id", "name_in_source"], keep=False)]
    if len(dup):
        raise SourceFileError(curated_dir, f"curated alias listed twice: {dup.iloc[0].to_dict()}")
    timm = read_csv(sources_dir / "timm" / "results-imagenet.csv", ["model"])
    oc = read_csv(sources_dir / "open_clip" / "openclip_results.csv", ["name", "pretrained"])
    oc_names = (oc["name"].astype(str) + "." + oc["pretrained"].astype(str)).tolist()
    return BuildContext(sources_dir, Resolver(curated, timm["model"].astype(str), oc_names))


ROUTES_FILE = "curated/weights_routes.csv"
ROUTE_COLUMNS = ("model_id", "weights_from", "load_call", "weights_url", "weights_sha256", "note")


def read_routes(sources_dir: Path = DEFAULT_SOURCES) -> dict[str, dict[str, str]]:
    """model_id -> route (or reason there is none) reviewed by this project (curated/weights_routes.csv);
    it wins over what a source states. Empty when the file is absent."""
    path = sources_dir / ROUTES_FILE
    if not path.is_file():
        return {}
    df = read_csv(path, ROUTE_COLUMNS, dtype=str, keep_default_na=False)
    out: dict[str, dict[str, str]] = {}
    for i, r in df.iterrows():
        line, mid = csv_line(i), r["model_id"]
        try:
            split_id(mid)
        except ValueError as exc:
            raise SourceFileError(path, str(exc), line) from None
        public = r["weights_from"] != "none known"
        if r["weights_from"] not in WEIGHTS_FROM or not r["note"].strip() or public != bool(r["load_call"].strip()):
            raise SourceFileError(path, f"weights_from must be one of {WEIGHTS_FROM}, with a note, and a load call "
                                  "exactly when a route is given", line)
        if mid in out:
            raise SourceFileError(path, f"{mid} listed twice", line)
        out[mid] = {k: r[k] for k in ROUTE_COLUMNS[1:]}
    return out


def sources_fingerprint(sources_dir: Path = DEFAULT_SOURCES) -> str:
    """Hash of every source file and of the build code, so a stale store is detected."""
    h = hashlib.sha256(__version__.encode())
    code_dir = Path(__file__).parent
    for base in (sources_dir, code_dir):
        pattern = "*" if base is sources_dir else "*.py"
        for p in sorted(q for q in base.rglob(pattern) if q.is_file() and "__pycache__" not in q.parts):
            h.update(p.relative_to(base).as_posix().encode())
            h.update(p.read_bytes())
    h.update(SCHEMA.read_bytes())
    return h.hexdigest()[:16]


def collect(ctx: BuildContext, ingesters: tuple[IngesterSpec | str, ...] = INGESTERS) -> Collector:
    """Run registered ingesters (specs or names) into one Collector; metadata ranks by each spec's priority."""
    out = Collector()
    for spec in (BY_NAME[i] if isinstance(i, str) else i for i in ingesters):
        out.current = spec.name
        spec.ingest()(ctx, out)
    return out


def quba_constants_table(ctx: BuildContext) -> pd.DataFrame:
    """QUBA's fixed constants, one row per dimension, with the need its property serves (stored, so the
    ranking never reads source files)."""
    df = quba_normalization(ctx)
    return df.assign(need=df["property_id"].map(lambda p: get_property(p).need))


def _merge_models(out: Collector, score_models: set[str], routes: dict[str, dict[str, str]]) -> pd.DataFrame:
    """One row per model: metadata by ingester priority, plus where its weights can be had."""
    merged = _merge_meta(out, score_models)
    return pd.concat([merged, obtainability(merged["model_id"], out.obtain, routes, out.weights_files)], axis=1)


def _merge_meta(out: Collector, score_models: set[str]) -> pd.DataFrame:
    """First non-null value per column: published before computed, then by ingester priority; for the
    PROVENANCE_COLUMNS the winning source (`<column>_source`) and its detail (`metadata_note`) are kept."""
    rows = pd.DataFrame(out.models)
    if rows.empty:
        rows = pd.DataFrame(columns=["model_id", "source_id", "ingester", "_computed", "_notes", *MODEL_COLUMNS])
    for c in MODEL_COLUMNS:
        if c not in rows:
            rows[c] = None
    describe_only = {s.name for s in INGESTERS if not s.creates_models}
    named = set(rows.loc[~rows["ingester"].isin(describe_only), "model_id"])
    rows = rows[rows["model_id"].isin(named)]  # library metadata never creates a model
    rows["_prio"] = rows["ingester"].map(metadata_priority)
    rows["_computed"] = rows["_computed"].fillna(False).astype(bool)
    rows = rows.sort_values(["model_id", "_computed", "_prio"], kind="stable")
    merged = rows.groupby("model_id", sort=True)[list(MODEL_COLUMNS)].first()
    merged["meta_source_id"] = rows.groupby("model_id", sort=True)["source_id"].first()
    notes = pd.Series([[] for _ in range(len(merged))], index=merged.index, dtype=object)
    for col in PROVENANCE_COLUMNS:
        win = rows.dropna(subset=[col]).drop_duplicates("model_id").set_index("model_id")
        merged[f"{col}_source"] = win["source_id"]
        for mid, d in win["_notes"].items():
            detail = d.get(col) if isinstance(d, dict) else None
            if isinstance(detail, str) and detail:
                notes[mid].append(f"{col}: {detail}")
    merged["metadata_note"] = notes.map(lambda parts: "; ".join(parts) or None)
    missing = sorted(score_models - set(merged.index))
    if missing:
        raise StoreError(f"scores for models without metadata, e.g. {missing[:5]}")
    for col in ("pretrain_data", "finetune_data"):
        merged[col] = merged[col].map(data_label)
    merged = merged.reset_index()
    merged["display_name"] = merged["display_name"].fillna(merged["model_id"].map(bare_name))
    return merged


def _conflicts(scores: pd.DataFrame) -> pd.DataFrame:
    """Pairs of sources whose values for one (model, property, item, protocol) differ beyond TOLERANCE."""
    cols = ["model_id", "property_id", "item", "protocol", "source_a", "value_a", "source_b", "value_b", "abs_diff",
            "tolerance"]
    key = ["model_id", "property_id", "item", "protocol"]
    s = scores[[*key, "source_id", "value"]]
    multi = s[s.duplicated(key, keep=False)]
    if multi.empty:
        return pd.DataFrame(columns=cols)
    pairs = multi.merge(multi, on=key, suffixes=("_a", "_b"))
    pairs = pairs[pairs["source_id_a"] < pairs["source_id_b"]].copy()
    pairs["abs_diff"] = (pairs["value_a"] - pairs["value_b"]).abs()
    pairs["tolerance"] = pairs["property_id"].map(lambda p: TOLERANCE.get(get_property(p).unit, 0.0))
    bad = pairs[pairs["abs_diff"] > pairs["tolerance"]]
    bad = bad.rename(columns={"source_id_a": "source_a", "source_id_b": "source_b"})
    return bad[cols].reset_index(drop=True)


def build_store(db_path: Path = DEFAULT_DB, sources_dir: Path = DEFAULT_SOURCES) -> dict[str, int]:
    """Build the store from scratch into a temp file, then atomically replace `db_path`."""
    t0 = time.perf_counter()
    ctx = make_context(sources_dir)
    out = collect(ctx)
    scores = pd.DataFrame(out.scores)
    dups = scores.duplicated(["model_id", "property_id", "item", "source_id"], keep=False)
    if dups.any():
        ex = scores[dups].head(2).to_dict("records")
        raise StoreError(f"a source gives one (model, property, item) twice: {ex}")
    models = _merge_models(out, set(scores["model_id"]), read_routes(sources_dir))
    scores = assign_protocols(scores, models.set_index("model_id")["paradigm"])
    links = fit_links(scores)
    aliases = pd.DataFrame(out.aliases).drop_duplicates(["source_id", "name_in_source", "model_id"])
    sources = pd.DataFrame([asdict(s) for s in out.sources.values()])
    props = pd.DataFrame([asdict(p) for p in PROPERTIES])
    conflicts = _conflicts(scores)
    quba = quba_constants_table(ctx).reset_index(drop=True)
    quba["position"] = quba.index
    dup_cands = duplicate_candidates(models, scores, read_review(sources_dir))
    info = pd.DataFrame({"key": ["fingerprint", "version", "built_at"],
                         "value": [sources_fingerprint(sources_dir), __version__,
                                   time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())]})
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(db_path.name + f".{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(tmp))
        try:
            con.execute(SCHEMA.read_text())
            for table, df in (("sources", sources), ("properties", props), ("models", models),
                              ("scores", scores), ("aliases", aliases), ("conflicts", conflicts),
                              ("quba_constants", quba), ("duplicate_candidates", dup_cands), ("build_info", info),
                              ("protocols", protocols_table()), ("links", links)):
                cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
                con.register("df_in", df[cols])
                con.execute(f"INSERT INTO {table} SELECT * FROM df_in")
                con.unregister("df_in")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, db_path)
    except BaseException:  # any failure (disk full, bad schema, Ctrl-C): no temp file is left behind
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            with contextlib.suppress(OSError):
                leftover.unlink()
        raise
    return {"models": len(models), "scores": len(scores), "sources": len(sources), "aliases": len(aliases),
            "conflicts": len(conflicts), "links": len(links), "duplicate_candidates": len(dup_cands),
            "unreviewed_duplicates": int((dup_cands["verdict"] == "unreviewed").sum()),
            "seconds": round(time.perf_counter() - t0, 2)}
