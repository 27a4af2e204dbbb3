"""Read result files of this tool's own measurements (live probes, evaluations, speed) as score rows for the ranking.

One reader for the CLI (`--measured FILE`) and the app, so both rank the same measurements the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from advisor.errors import AdvisorError, InvalidRequestError
from advisor.jsonio import loads_bounded, read_capped
from advisor.store.measured import empty_measured
from advisor.store.properties import PROPERTIES

MAX_RESULT_BYTES = 64 * 1024 * 1024
MAX_RESULT_MODELS = 5_000  # models in one result file (a real run has a handful)
EVALUATION_KIND = "vision-advisor-evaluation"
BENCH_KIND = "vision-advisor-bench"
_RANGES = {"%": (0.0, 100.0), "fraction": (0.0, 1.0), "nats": (0.0, float("inf")), "ms": (0.0, float("inf")),
           "img/s": (0.0, float("inf"))}


def _range_problem(df: pd.DataFrame) -> pd.Series:
    """Why each row's value cannot be a measurement of its property ('' when it can)."""
    units = {p.property_id: p.unit for p in PROPERTIES}
    why = pd.Series("", index=df.index, dtype=object)
    values = pd.to_numeric(df["value"], errors="coerce")
    for unit, (lo, hi) in _RANGES.items():
        ids = [pid for pid, u in units.items() if u == unit]
        out = df["property_id"].isin(ids) & ~values.between(lo, hi)
        why[out & (why == "")] = f"a value outside {lo:g}–{hi:g} for its unit ({unit})"
    if "n_images" in df:
        n = pd.to_numeric(df["n_images"], errors="coerce")
        why[(n.notna() & (n <= 0)) & (why == "")] = "an image count of 0 or less"
    return why


def check_rows(df: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[str]]:
    """The rows that can be measurements, and one line per reason rows were ignored (with their count):
    values out of their unit's range, image counts <= 0, unknown model ids, unknown transform families,
    and repeats of the same (model, property, item)."""
    from advisor.models.registry import parse_model_id
    from advisor.probes.transforms import get_family

    if df.empty:
        return df, []
    reasons = _range_problem(df)
    ids = {}
    for mid in df["model_id"].astype(str).unique():
        try:
            ids[mid] = bool(parse_model_id(mid))
        except (AdvisorError, ValueError):
            ids[mid] = False
    reasons[(reasons == "") & ~df["model_id"].astype(str).map(ids)] = "an unknown model id"
    fam_rows = df["property_id"].isin(["measured_invariance", "measured_invariance_top1"])
    fams = {}
    for fam in df.loc[fam_rows, "item"].astype(str).unique():
        try:
            fams[fam] = bool(get_family(fam))
        except (AdvisorError, ValueError):
            fams[fam] = False
    unknown_fam = fam_rows & ~df["item"].astype(str).map(fams).fillna(True).astype(bool)
    reasons[(reasons == "") & unknown_fam] = "an unknown transform family"
    keep = reasons == ""
    dup = keep & df.duplicated(subset=["model_id", "property_id", "item"], keep="first")
    reasons[dup] = "a repeat of an earlier row (the first is kept)"
    counts = reasons[reasons != ""].value_counts()
    notes = [f"{name}: {int(c):,} row(s) ignored: {why}" for why, c in counts.items()]
    return df[reasons == ""].reset_index(drop=True), notes


def measured_from_text(text: str | bytes, name: str = "result") -> pd.DataFrame:
    """Score rows from a probe result, an evaluation result or a speed benchmark (`advisor bench`) document."""
    doc = loads_bounded(text, what=name, max_bytes=MAX_RESULT_BYTES)
    if not isinstance(doc, dict):
        raise InvalidRequestError(f"{name}: not a probe, evaluation or bench result (expected a JSON object)")
    models = doc.get("models")
    if isinstance(models, list) and len(models) > MAX_RESULT_MODELS:
        raise InvalidRequestError(f"{name}: {len(models):,} models; a result file of this tool holds at most "
                                  f"{MAX_RESULT_MODELS:,}")
    try:
        if doc.get("kind") == EVALUATION_KIND:
            from advisor.evaluate.result import EvaluationResult

            return _checked(EvaluationResult.from_json(text).measured_scores(), name)
        if doc.get("kind") == BENCH_KIND:
            from advisor.evaluate.bench_result import BenchResult

            return _checked(BenchResult.from_json(text).measured_scores(), name)
        if "rows" in doc and "models" in doc:
            from advisor.probes.results import ProbeResult

            return _checked(ProbeResult.from_json(text).measured_scores(), name)
    except AdvisorError as exc:
        raise InvalidRequestError(f"{name}: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidRequestError(f"{name}: malformed result file ({type(exc).__name__}: {exc})") from None
    raise InvalidRequestError(f"{name}: not a probe, evaluation or bench result of this tool")


def _checked(df: pd.DataFrame, name: str) -> pd.DataFrame:
    out, notes = check_rows(df, name)
    out.attrs["ignored"] = notes
    return out


def load_measured_files(paths: Iterable[Path]) -> pd.DataFrame:
    """Every file's score rows, concatenated (a later file's rows do not replace an earlier one's);
    `attrs["ignored"]` says how many rows were ignored and why, per file."""
    frames = [measured_from_text(read_capped(Path(p), MAX_RESULT_BYTES, what="measured result"), str(p)) for p in paths]
    notes = [n for f in frames for n in f.attrs.get("ignored", [])]
    frames = [f for f in frames if not f.empty]
    out = pd.concat(frames, ignore_index=True) if frames else empty_measured()
    out.attrs["ignored"] = notes
    return out
