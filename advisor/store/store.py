"""Read-only, typed queries over the DuckDB store; builds it on first use when missing or stale."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pandas as pd

from advisor.errors import StoreError, UnknownNameError
from advisor.ids import NAMESPACES, bare_name, namespace_of, suggest
from advisor.store.build import DEFAULT_DB, DEFAULT_SOURCES, build_store, sources_fingerprint
from advisor.store.links import links_for_model

TABLES = ("sources", "properties", "models", "scores", "aliases", "conflicts", "quba_constants",
          "duplicate_candidates", "build_info", "protocols", "links")
_LOCK = threading.Lock()


def _read_fingerprint(db_path: Path) -> str | None:
    """The stored fingerprint, or None if the file is not a readable store."""
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except (duckdb.Error, OSError):
        return None
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not set(TABLES) <= tables:
            return None
        row = con.execute("SELECT value FROM build_info WHERE key = 'fingerprint'").fetchone()
        return row[0] if row else None
    except duckdb.Error:
        return None
    finally:
        con.close()


def ensure_store(db_path: Path = DEFAULT_DB, sources_dir: Path = DEFAULT_SOURCES) -> str:
    """Build the store if it is missing, corrupt or older than its sources; returns what happened."""
    with _LOCK:
        have = _read_fingerprint(db_path) if db_path.exists() else None
        if have is not None and (not sources_dir.is_dir() or have == sources_fingerprint(sources_dir)):
            return "fresh"
        reason = "missing" if not db_path.exists() else ("corrupt" if have is None else "stale")
        _build(db_path, sources_dir, reason)
        return f"rebuilt ({reason})"


def _build(db_path: Path, sources_dir: Path, reason: str) -> None:
    """Build the store (caller holds _LOCK); failures become a StoreError that says why it was built."""
    if not sources_dir.is_dir():
        raise StoreError(f"store {db_path} is {reason} and the sources folder {sources_dir} is missing")
    try:
        build_store(db_path, sources_dir)
    except (OSError, duckdb.Error) as exc:
        raise StoreError(f"store {db_path} is {reason} and could not be rebuilt: {exc}") from exc


def open_store(db: Path | str | None = None, sources: Path | str | None = None) -> PropertyStore:
    """The store at `db` (default precomputed/advisor.duckdb), built from `sources` when missing or stale."""
    return PropertyStore(Path(db) if db else DEFAULT_DB, Path(sources) if sources else DEFAULT_SOURCES)


def rebuild_store(db_path: Path = DEFAULT_DB, sources_dir: Path = DEFAULT_SOURCES) -> None:
    """Rebuild a store whose file failed while in use (its fingerprint may still read as fresh)."""
    with _LOCK:
        _build(db_path, sources_dir, "damaged")


class PropertyStore:
    """Query API over the store. Everything returns DataFrames or plain dicts."""

    def __init__(self, db_path: Path = DEFAULT_DB, sources_dir: Path = DEFAULT_SOURCES, auto_build: bool = True):
        self.db_path = Path(db_path)
        self.status = ensure_store(self.db_path, Path(sources_dir)) if auto_build else "unchecked"
        try:
            self._con = duckdb.connect(str(self.db_path), read_only=True)
            self._con.execute("SELECT 1 FROM scores LIMIT 1")
        except duckdb.Error as exc:
            raise StoreError(f"cannot read the store {self.db_path}: {exc}. Run `advisor build`.") from exc
        self._model_ids: list[str] | None = None
        self.failed = False  # set when a query hit a damaged file: the app reopens the store (see ui.cache)

    def close(self) -> None:
        self._con.close()

    def query(self, sql: str, params: list | tuple = ()) -> pd.DataFrame:
        """Run a read-only query (cursor per call, so threads can share the store)."""
        try:
            cur = self._con.cursor()
            try:
                return cur.execute(sql, list(params)).df()
            finally:
                cur.close()
        except (duckdb.ParserException, duckdb.BinderException, duckdb.InvalidInputException):
            raise  # a mistake in the query, not in the file
        except duckdb.Error as exc:
            self.failed = True
            first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise StoreError(f"the property store {self.db_path} could not be read ({first}); it is reopened "
                             f"(and rebuilt if needed) for the next request, or run `advisor build`") from exc

    # --- tables -------------------------------------------------------------------------------
    def models(self, search: str | None = None, paradigm: str | None = None) -> pd.DataFrame:
        """Models with their metadata and score counts; `search` matches ids, names and aliases."""
        where, params = [], []
        if search:
            where.append("(m.model_id ILIKE ? OR m.display_name ILIKE ? OR m.model_id IN "
                         "(SELECT model_id FROM aliases WHERE name_in_source ILIKE ?))")
            params += [f"%{search}%"] * 3
        if paradigm:
            where.append("m.paradigm = ?")
            params.append(paradigm)
        sql = ("SELECT m.*, coalesce(c.n_scores, 0) AS n_scores, coalesce(c.n_properties, 0) AS n_properties "
               "FROM models m LEFT JOIN (SELECT model_id, count(*) AS n_scores, "
               "count(DISTINCT property_id) AS n_properties FROM scores GROUP BY model_id) c USING (model_id)")
        if where:
            sql += " WHERE " + " AND ".join(where)
        return self.query(sql + " ORDER BY m.model_id", params)

    def model_ids(self) -> list[str]:
        if self._model_ids is None:
            self._model_ids = self.query("SELECT model_id FROM models ORDER BY model_id")["model_id"].tolist()
        return self._model_ids

    def model(self, model_id: str) -> dict:
        """One model's metadata; unknown ids raise with suggestions."""
        mid = self.resolve(model_id)
        return self.query("SELECT * FROM models WHERE model_id = ?", [mid]).iloc[0].to_dict()

    def scores(self, model_ids: list[str] | None = None, property_ids: list[str] | None = None) -> pd.DataFrame:
        """Long-form scores joined with property and source provenance."""
        sql = ("SELECT s.*, p.need, p.label, p.unit, p.higher_is_better, so.title AS source_title, "
               "so.licence, so.non_commercial FROM scores s JOIN properties p USING (property_id) "
               "JOIN sources so USING (source_id)")
        where, params = [], []
        if model_ids is not None:
            where.append("s.model_id IN (SELECT unnest(?))")
            params.append(list(model_ids))
        if property_ids is not None:
            where.append("s.property_id IN (SELECT unnest(?))")
            params.append(list(property_ids))
        if where:
            sql += " WHERE " + " AND ".join(where)
        return self.query(sql + " ORDER BY s.model_id, s.property_id, s.item, s.source_id", params)

    def properties(self) -> pd.DataFrame:
        return self.query("SELECT * FROM properties ORDER BY need, property_id")

    def sources(self) -> pd.DataFrame:
        return self.query("SELECT * FROM sources ORDER BY source_id")

    def aliases(self, model_id: str | None = None) -> pd.DataFrame:
        if model_id is None:
            return self.query("SELECT * FROM aliases ORDER BY source_id, name_in_source")
        return self.query("SELECT * FROM aliases WHERE model_id = ? ORDER BY source_id", [model_id])

    def conflicts(self, model_id: str | None = None) -> pd.DataFrame:
        if model_id is None:
            return self.query("SELECT * FROM conflicts ORDER BY model_id, property_id, item")
        return self.query("SELECT * FROM conflicts WHERE model_id = ? ORDER BY property_id, item", [model_id])

    def score_rows(self) -> pd.DataFrame:
        """Every score as the ranking reads it: model_id, property_id, item, value, source_id, precision,
        protocol."""
        return self.query('SELECT model_id, property_id, item, value, source_id, "precision", protocol FROM scores')

    def links(self, property_id: str | None = None) -> pd.DataFrame:
        """Every link between protocols (and between sources under one protocol): shared models, map, spread."""
        if property_id is None:
            return self.query("SELECT * FROM links ORDER BY property_id, item, protocol, source_id")
        return self.query("SELECT * FROM links WHERE property_id = ? ORDER BY item, protocol, source_id",
                          [property_id])

    def protocols(self) -> pd.DataFrame:
        """The protocol registry: test set, labels, classifier, resolution per protocol id."""
        return self.query("SELECT * FROM protocols ORDER BY protocol_id")

    def model_links(self, model_id: str) -> pd.DataFrame:
        """The cross-protocol links behind one model's scores (its model card shows them)."""
        return links_for_model(self.links(), self.scores([model_id]), model_id)

    def non_commercial_sources(self) -> set[str]:
        """Ids of the sources whose licence forbids commercial use (flagged, excludable)."""
        return set(self.query("SELECT source_id FROM sources WHERE non_commercial")["source_id"])

    def study_model_ids(self) -> list[str]:
        """The Beyond-INet study's models (aliases from a `study*` source), in a stable order."""
        return self.query("SELECT DISTINCT model_id FROM aliases WHERE source_id LIKE 'study%' "
                          "ORDER BY model_id")["model_id"].tolist()

    def property_items(self) -> pd.DataFrame:
        """property_id, item, n_models: every (metric, item) the store holds and how many models have it."""
        return self.query("SELECT property_id, item, count(DISTINCT model_id) AS n_models FROM scores "
                          "GROUP BY property_id, item ORDER BY property_id, item")

    def quba_constants(self) -> pd.DataFrame:
        """QUBA's fixed constants per dimension (mean, std, signed default weight, property_id, source_id,
        scale, higher_is_better), indexed by need, as loaded at build time from quba_normalization.csv."""
        df = self.query("SELECT need, dimension, property_id, source_id, mean, std, default_weight_signed, "
                        "higher_is_better, scale FROM quba_constants ORDER BY position")
        return df.set_index("need")

    def duplicate_candidates(self, verdict: str | None = None) -> pd.DataFrame:
        """Model pairs that may be one checkpoint under two ids, with their review verdict."""
        if verdict is None:
            return self.query("SELECT * FROM duplicate_candidates ORDER BY model_a, model_b")
        return self.query("SELECT * FROM duplicate_candidates WHERE verdict = ? ORDER BY model_a, model_b",
                          [verdict])

    def build_info(self) -> dict[str, str]:
        return dict(self.query("SELECT key, value FROM build_info").itertuples(index=False, name=None))

    # --- names --------------------------------------------------------------------------------
    def resolve(self, name: str) -> str:
        """Canonical id for an id, a source's own name or a unique bare name; else 'did you mean'."""
        return self.resolve_name(name)[0]

    def resolve_name(self, name: str) -> tuple[str, str]:
        """(canonical id, note): an exact id first, then a source's own name (alias), then a bare name.

        A source's exact alias beats a bare-name match in another namespace (`ResNet50` is QUBA's
        ResNet-50, not `imagenetx:ResNet50`). When a name fits several models, the model most sources
        mean by it wins (then exact over curated aliases, then the namespace order of `ids.NAMESPACES`),
        and the note says which was chosen; otherwise the note is ''.
        """
        ids = self.model_ids()
        if name in set(ids):
            return name, ""
        hits = self.query("SELECT model_id, source_id, confidence FROM aliases WHERE name_in_source = ?", [name])
        bare = [m for m in ids if bare_name(m) == name]
        if not hits.empty:
            rank = {c: i for i, c in enumerate(("exact", "curated", "ambiguous"))}
            order = {ns: i for i, ns in enumerate(NAMESPACES)}
            n_src = hits.groupby("model_id")["source_id"].transform("nunique")
            hits = hits.assign(n=-n_src, r=hits["confidence"].map(rank),
                               o=hits["model_id"].map(lambda m: order.get(namespace_of(m), 99)))
            hits = hits.sort_values(["n", "r", "o", "model_id", "source_id"], kind="stable")
            best = hits.iloc[0]
            others = sorted((set(hits["model_id"]) | set(bare)) - {best["model_id"]})
            note = ""
            if others:
                note = (f"{name!r} also names {', '.join(others[:5])}; chose {best['model_id']} "
                        f"(the name as source {best['source_id']} writes it)")
            return str(best["model_id"]), note
        if len(bare) == 1:
            return bare[0], ""
        cands = bare or suggest(name, ids)
        raise UnknownNameError("model id", name, cands[:5])
