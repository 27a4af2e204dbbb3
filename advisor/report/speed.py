"""The report's 'Speed measured here' section: the `advisor bench` figures among the ranking's input scores.

Read from the measured-here score rows (so the CLI's `--measured bench.json` and the app's session give the
same section); one table per setting, titled with the device, threads and precision they were measured on.
"""

from __future__ import annotations

import pandas as pd

from advisor.evaluate.bench_result import BENCH_PROPERTIES, LATENCY_PROPERTY, SOURCE_ID
from advisor.report.model import ReportTable

_IQR = r"(IQR [^,]+)"
COLUMNS = ("model", "latency, batch 1 (ms)", "throughput (img/s)", "throughput batch", "how measured")


def speed_tables(scores: pd.DataFrame) -> tuple[ReportTable, ...]:
    """One table per setting; () when no speed was measured."""
    if scores is None or scores.empty:
        return ()
    rows = scores[scores["property_id"].isin(BENCH_PROPERTIES) & (scores["source_id"] == SOURCE_ID)]
    if rows.empty:
        return ()
    parts = rows["item"].astype(str).str.partition(", ")
    rows = rows.assign(batch=parts[0].str.removeprefix("batch "), setting=parts[2])
    out = []
    for setting, g in rows.groupby("setting", sort=True):
        table = []
        for mid, m in g.groupby("model_id", sort=True):
            lat = m[m["property_id"] == LATENCY_PROPERTY]
            thr = m[m["property_id"] != LATENCY_PROPERTY]
            how = "; ".join([*lat["precision"].astype(str).head(1),
                             *("throughput " + m for m in thr["precision"].astype(str).str.extract(_IQR)[0].dropna())])
            table.append((mid, _first(lat, "value"), _first(thr, "value"), _first(thr, "batch"), how))
        out.append(ReportTable(f"Speed measured here on {setting}", COLUMNS, tuple(table)))
    return tuple(out)


def _first(df: pd.DataFrame, col: str):
    if df.empty:
        return None
    v = df[col].iloc[0]
    return float(v) if col == "value" else str(v)
