"""Scores measured here (live probes, evaluations): the columns every producer emits and the ranking reads.

They never enter the store file: they are session data added to the ranking's input
(`RankingData.with_extra_scores`), labelled with their own source id so every view can say so.
"""

from __future__ import annotations

import pandas as pd

from advisor.errors import InvalidRequestError
from advisor.store.properties import PROPERTIES

MEASURED_SOURCE = "measured_here"
MEASURED_COLUMNS = ("model_id", "property_id", "item", "value", "source_id", "precision")
OPTIONAL_COLUMNS = ("n_images", "ci_low", "ci_high")


def empty_measured() -> pd.DataFrame:
    return pd.DataFrame(columns=[*MEASURED_COLUMNS, *OPTIONAL_COLUMNS])


def check_measured(df: pd.DataFrame) -> pd.DataFrame:
    """The rows in canonical column order; rows must name known properties and carry finite values."""
    missing = [c for c in ("model_id", "property_id", "value") if c not in df]
    if missing:
        raise InvalidRequestError(f"measured scores lack column(s) {missing}")
    known = {p.property_id for p in PROPERTIES}
    bad = sorted(set(df["property_id"]) - known)
    if bad:
        raise InvalidRequestError(f"measured scores name unknown properties {bad[:5]}")
    out = df.reindex(columns=[*MEASURED_COLUMNS, *OPTIONAL_COLUMNS]).copy()
    out["value"] = pd.to_numeric(out["value"], errors="coerce")
    out = out[out["value"].notna() & out["value"].abs().lt(float("inf"))]
    out["source_id"] = MEASURED_SOURCE
    out["item"] = out["item"].astype(object).fillna("").astype(str)
    out["precision"] = out["precision"].astype(object).fillna("measured here").astype(str)
    return out.reset_index(drop=True)


def measured_key(df: pd.DataFrame) -> tuple[tuple, ...]:
    """Hashable form of the rows, intervals and image counts included (the ranking weighs a measurement by its
    interval, so the app's cached path must carry what the CLI's file path carries)."""
    if df is None or df.empty:
        return ()
    full = df.reindex(columns=[*MEASURED_COLUMNS, *OPTIONAL_COLUMNS]).astype(object)
    full = full.where(full.notna(), None)
    return tuple(full.itertuples(index=False, name=None))


def measured_from_key(key: tuple[tuple, ...]) -> pd.DataFrame:
    """Inverse of `measured_key` (older keys without the optional columns are read too)."""
    cols = [*MEASURED_COLUMNS, *OPTIONAL_COLUMNS]
    rows = [tuple(r) + (None,) * (len(cols) - len(r)) for r in key]
    out = pd.DataFrame(rows, columns=cols)
    for c in OPTIONAL_COLUMNS:
        out[c] = pd.to_numeric(out[c], errors="coerce")
    return out
