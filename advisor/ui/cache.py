"""Every cache the UI uses, in one place (tests clear them with `clear_caches`)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import streamlit as st

from advisor.errors import StoreError
from advisor.ranking.data import RankingData
from advisor.ranking.engine import Limits, Ranking, RankRequest, rank
from advisor.ranking.needs import EXCLUSIVE, list_needs
from advisor.store.build import DEFAULT_DB
from advisor.store.measured import measured_from_key
from advisor.store.store import PropertyStore, rebuild_store
from advisor.textsafe import md_escape

DB_ENV = "VISION_ADVISOR_DB"  # point the app at another store (tests, benchmarks)


def db_path() -> Path:
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


@st.cache_resource(show_spinner="Opening the property store…")
def _open_store(path: str | None = None) -> PropertyStore:
    p = Path(path) if path else db_path()
    return PropertyStore(p, auto_build=p == DEFAULT_DB)


def get_store(path: str | None = None) -> PropertyStore:
    """The store (built on first use for the default path; a store named by the env var is used as is).

    A store whose file failed a query (damaged while the app runs) is dropped with everything derived
    from it and reopened, so the next request heals instead of failing until a restart.
    """
    store = _open_store(path)
    if store.failed:
        reset_store()
        with contextlib.suppress(Exception):  # other sessions may still hold it; they heal the same way
            store.close()
        if store.db_path == DEFAULT_DB:
            rebuild_store(store.db_path)
        store = _open_store(path)
    return store


def reset_store() -> None:
    """Forget the open store and every cache derived from it (the next call reopens / rebuilds it)."""
    for fn in (_open_store, get_data, get_measured_data):
        fn.clear()
    st.cache_data.clear()


@contextlib.contextmanager
def store_errors() -> Iterator[None]:
    """Around a page: a store failure becomes a message (not Streamlit's generic error) and a reopen."""
    try:
        yield
    except StoreError as exc:
        reset_store()
        st.error(f"The model data could not be read: {md_escape(str(exc))}. It has been reopened; "
                 "interact again or reload the page.", icon=":material/database:")


@st.cache_resource(show_spinner="Preparing the ranking data…")
def get_data(path: str | None = None) -> RankingData:
    return RankingData.from_store(get_store(path))


@st.cache_resource(max_entries=4, show_spinner="Adding the scores measured here…")
def get_measured_data(measured: tuple[tuple, ...], path: str | None = None) -> RankingData:
    """The store's ranking data plus this session's measured-here rows (MEASURED_COLUMNS tuples)."""
    return get_data(path).with_extra_scores(measured_from_key(measured))


@st.cache_data(max_entries=128, show_spinner=False)
def cached_rank(request: RankRequest, path: str | None = None, measured: tuple[tuple, ...] = ()) -> Ranking:
    """Rank once per distinct (request, measured-here scores); reruns that touch other widgets cost nothing."""
    return rank(get_measured_data(measured, path) if measured else get_data(path), request)


@st.cache_data(show_spinner=False)
def model_table(path: str | None = None) -> pd.DataFrame:
    return get_store(path).models()


@st.cache_data(show_spinner=False)
def study_model_ids(path: str | None = None) -> list[str]:
    """The study's models (aliases from a `study*` source), in a stable order."""
    return list(get_store(path).study_model_ids())


@st.cache_data(ttl=600, show_spinner="Checking which models have weights on this machine…")
def readiness(model_ids: tuple[str, ...]) -> dict[str, tuple[bool, str]]:
    """probe_readiness per model: real weights present here? Looks for files only (re-checked every 10 min)."""
    from advisor.models.weights import probe_readiness

    return {mid: probe_readiness(mid) for mid in model_ids}


@st.cache_data(ttl=600, show_spinner=False)
def model_ready(model_id: str) -> bool:
    """One model's real weights here (the Model card): one file lookup, not the whole store's (~1.3 s)."""
    from advisor.models.weights import ready_model_ids

    return model_id in ready_model_ids([model_id])


@st.cache_data(ttl=600, show_spinner=False)
def probe_ready_ids(path: str | None = None) -> frozenset[str]:
    """Models that can be probed live on this machine: a timm / open_clip loader and real weights here."""
    from advisor.runnable import ready_here

    return ready_here(model_table(path))  # the rule `advisor rank --probe-ready` uses


@st.cache_data(max_entries=16, show_spinner="Writing the report (charts rendered offline)…")
def cached_report(request: RankRequest, measured: tuple[tuple, ...], notes: str, probe_json: str | None,
                  images: tuple[tuple[str, bytes], ...], path: str | None = None) -> dict[str, tuple]:
    """The report in every registered format: name -> (download file name, bytes, mime).

    A lazy format (PDF) maps to (file name, None, mime): the page renders it with `lazy_format_bytes` only when
    the user clicks its download button. '_report' holds the Report itself."""
    from advisor.report.build import build_report
    from advisor.report.formats import FORMATS

    data = get_measured_data(measured, path) if measured else get_data(path)
    report = build_report(get_store(path), ranking=cached_rank(request, path, measured), probe_results=probe_json,
                          notes=notes, images=list(images), data=data)
    out: dict = {"_report": report}
    for name, fmt in FORMATS.items():
        out[name] = (f"vision-advisor-report{fmt.extension}", None, fmt.mime) if fmt.lazy else fmt.download(report)
    return out


def lazy_format_bytes(report, name: str) -> bytes:  # report: advisor.report.model.Report
    """The bytes of a slow format, rendered on a download click (Streamlit runs this in its own thread)."""
    from advisor.report.formats import FORMATS

    return FORMATS[name].download(report)[1]


@st.cache_data(show_spinner=False)
def property_items(path: str | None = None) -> pd.DataFrame:
    """property_id, item, n_models: what the Explore page can plot."""
    return get_store(path).property_items()


@st.cache_data(show_spinner=False)
def model_scores(model_ids: tuple[str, ...], path: str | None = None) -> pd.DataFrame:
    return get_store(path).scores(list(model_ids))


@st.cache_data(show_spinner=False)
def reference_need_scores(path: str | None = None) -> pd.DataFrame:
    """Every need's 0-1 score for every model, among all models, no limits (the Compare page's bars)."""
    skip = {b for _, b in EXCLUSIVE}
    weights = {n.name: 1.0 for n in list_needs() if n.name not in skip}
    r = rank(get_data(path), RankRequest(weights=weights, limits=Limits(), draws=0))
    return r.contributions[["model_id", "need", "need_score"]]


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()
