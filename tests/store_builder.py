"""The one builder of small hand-seeded stores for tests (schema from the package; rows given by each test module).

Models are dicts of any `models` columns; the NOT NULL bookkeeping columns get neutral defaults.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb
import pandas as pd

from advisor.store.build import SCHEMA
from advisor.store.properties import PROPERTIES
from advisor.store.protocols import assign_protocols

MODEL_DEFAULTS = {"obtainable": True, "weights_from": "timm", "obtain_note": ""}


def write_store(path: Path, *, sources: Iterable[tuple], models: Iterable[Mapping], scores: Iterable[tuple],
                aliases: Iterable[tuple] = (), build_info: Mapping[str, str] | None = None) -> Path:
    """sources: (source_id, title, citation, repo, file, commit, licence, non_commercial);
    scores: (model_id, property_id, item, value, source_id[, precision]); aliases: (source_id, name, model_id)."""
    con = duckdb.connect(str(path))
    try:
        con.execute(SCHEMA.read_text())
        con.executemany("INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?)", list(sources))
        con.executemany("INSERT INTO properties VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [(p.property_id, p.need, p.label, p.unit, p.higher_is_better, p.description, p.reference)
                         for p in PROPERTIES])
        m = pd.DataFrame([{**MODEL_DEFAULTS, "display_name": d["model_id"].split(":", 1)[-1], **d} for d in models])
        con.register("seed_models", m)
        con.execute("INSERT INTO models BY NAME SELECT * FROM seed_models")
        rows = [(*r, "exact") if len(r) == 5 else tuple(r) for r in scores]
        s = pd.DataFrame(rows, columns=["model_id", "property_id", "item", "value", "source_id", "precision"])
        s["note"] = ""
        s = assign_protocols(s, m.set_index("model_id")["paradigm"] if "paradigm" in m else None)
        con.register("seed_scores", s)
        con.execute("INSERT INTO scores BY NAME SELECT * FROM seed_scores")
        for a in aliases:
            con.execute("INSERT INTO aliases VALUES (?, ?, ?, 'curated')", list(a))
        for k, v in (build_info or {"fingerprint": "fixture"}).items():
            con.execute("INSERT INTO build_info VALUES (?, ?)", [k, v])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return Path(path)
