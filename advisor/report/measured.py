"""The report's 'Measured here' table: the models measured on the user's own images, side by side, with intervals.

Issue 18: a figure measured on the user's data is evidence about the user's task for the models measured; it
updates their need scores in the ranking (ranking.update), and the report also shows those figures as their own
table, compared only among themselves. Read from the measured-here score rows, so the CLI's `--measured` and the
app's session give the same table. Speed figures have their own section (report.speed).
"""

from __future__ import annotations

import math

import pandas as pd

from advisor.evaluate.bench_result import BENCH_PROPERTIES
from advisor.report.model import ReportTable
from advisor.store.measured import MEASURED_SOURCE
from advisor.store.properties import get_property

TITLE = "Measured here on your data"
COLUMNS = ("figure", "model", "value", "95 % low", "95 % high", "images")
NOTE = ("Figures measured on your own images, one row per model and figure, best first within each figure, with "
        "their 95 % intervals. They update the measured models' need scores in the ranking (only where a "
        "difference lies beyond its interval); here they are compared only among themselves.")


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def measured_tables(scores: pd.DataFrame) -> tuple[ReportTable, ...]:
    """One table of every measured-here figure except speed; () when nothing was measured here."""
    if scores is None or scores.empty or "source_id" not in scores:
        return ()
    rows = scores[(scores["source_id"] == MEASURED_SOURCE) & ~scores["property_id"].isin(BENCH_PROPERTIES)]
    if rows.empty:
        return ()
    rows = rows.reindex(columns=[*rows.columns.union(["ci_low", "ci_high", "n_images"], sort=False)])
    out = []
    for (prop, item), g in rows.groupby(["property_id", "item"], sort=True):
        p = get_property(prop)
        figure = p.label + (f" [{item}]" if item else "") + (f" ({p.unit})" if p.unit else "")
        g = g.drop_duplicates("model_id").sort_values(["value", "model_id"], ascending=[not p.higher_is_better,
                                                                                          True])
        for r in g.itertuples(index=False):
            n = _num(r.n_images)
            out.append((figure, str(r.model_id), _num(r.value), _num(r.ci_low), _num(r.ci_high),
                        None if n is None else int(n)))
    return (ReportTable(TITLE, COLUMNS, tuple(out)),)
