"""Read-only, typed queries over the DuckDB store; builds it on first use when missing or stale."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pandas as pd

from advisor.errors import StoreError, UnknownNameError
from advisor.ids import suggest
from advisor.store.build import DEFAULT_DB, DEFAULT_SOURCES, build_store, sources_fingerprint

TABLES = ("sources", "properties", "models", "scores", "aliases", "conflicts", "build_info")
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
        if not sources_dir.is_dir():
            raise StoreError(f"store {db_path} is {reason} and the sources folder {sources_dir} is missing")
        try:
            build_store(db_path, sources_dir)
        except (OSError, duckdb.Error) as exc:
            raise StoreError(f"store {db_path} is {reason} and could not be rebuilt: {exc}") from exc
        return f"rebuilt ({reason})"


def rebuild_store(db_path: Path = DEFAULT_DB, sources_dir: Path = DEFAULT_SOURCES) -> None:
    """Rebuild a store whose file failed while in use (its fingerprint may still read as fresh)."""
    with _LOCK:
        if not sources_dir.is_dir():
            raise StoreError(f"store {db_path} is damaged and the sources folder {sources_dir} is missing")
        try:
            build_store(db_path, sources_dir)
        except (OSError, duckdb.Error) as exc:
            raise StoreError(f"store {db_path} is damaged and could not be rebuilt: {exc}") from exc


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

    def build_info(self) -> dict[str, str]:
        return dict(self.query("SELECT key, value FROM build_info").itertuples(index=False, name=None))

    # --- names --------------------------------------------------------------------------------
    def resolve(self, name: str) -> str:
        """Canonical id for an id, a unique bare name or a source's alias; else 'did you mean'."""
        ids = self.model_ids()
        if name in set(ids):
            return name
        bare = [m for m in ids if m.split(":", 1)[1] == name]
        if len(bare) == 1:
            return bare[0]
        hits = self.query("SELECT DISTINCT model_id FROM aliases WHERE name_in_source = ?", [name])["model_id"]
        if len(hits) == 1:
            return str(hits.iloc[0])
        cands = bare or hits.tolist() or suggest(name, ids)
        raise UnknownNameError("model id", name, cands[:5])
