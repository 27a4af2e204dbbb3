"""App entry: page config, URL state, navigation over the page files."""

from __future__ import annotations

import os
import sys
import time

import streamlit as st

from advisor.ui import cache, components, state


def load_url_state() -> None:
    """Read the query string into session state once per session; keep persisted keys across pages."""
    s = st.session_state
    if state.URL_LOADED not in s:
        query = {k: st.query_params.get_all(k) for k in st.query_params}
        s.update(state.state_from_query(query))
        s[state.URL_LOADED] = True
    state.ensure_defaults(s)


def keep_other_pages_state(page: state.PageSpec | None) -> None:
    """Re-assign the other pages' keys: Streamlit drops the state of widgets a run does not render."""
    s = st.session_state
    own = set(page.keys if page is not None else ())
    for key in (*state.PERSISTED, *state.KEPT):
        if key not in own and key in s:
            s[key] = s[key]


TIMINGS_ENV = "VISION_ADVISOR_UI_TIMINGS"  # set: each run's page and server time go to stderr (benchmarks)


def log_run(what: str, t0: float) -> None:
    """One line per script run on stderr when TIMINGS_ENV is set: where the server time goes, per page."""
    if os.environ.get(TIMINGS_ENV):
        print(f"[ui-timing] {time.time():.3f} {what} {1000 * (time.perf_counter() - t0):.0f} ms", file=sys.stderr,
              flush=True)


# Streamlit scrolls a multiselect's chosen items sideways on one line, hiding all but the first few (the
# Probe page's Models box showed two of three). Wrapped, every chosen item stays visible.
STYLE = """<style>
[data-testid="stMain"] [data-testid="stMultiSelectTagsContainer"] { flex-wrap: wrap; overflow: visible; height: auto; }
[data-testid="stMain"] [data-testid="stMultiSelect"] div:has([data-testid="stMultiSelectTagsContainer"]) {
  height: auto; max-height: none; }
</style>"""


def main() -> None:
    t0 = time.perf_counter()
    st.set_page_config(page_title="Vision Advisor", page_icon=":material/visibility:", layout="wide")
    st.html(STYLE)  # style only: sent to the page's event container, takes no room
    load_url_state()
    pages = [(st.Page(str(components.PAGE_DIR / p.file), title=p.title, icon=p.icon, default=n == 0), p)
             for n, p in enumerate(state.PAGES)]
    page = st.navigation([pg for pg, _ in pages], position="top")
    keep_other_pages_state(next((spec for pg, spec in pages if pg.url_path == page.url_path), None))
    # The URL is written from the very state this run renders, before the page draws: a run cut short by a
    # newer widget event (quick slider steps) still leaves the address bar matching the widgets. Written again
    # after the page, for values the page itself settles (defaults on first visit, an invalid axis choice).
    components.write_url_state()
    with cache.store_errors():  # a damaged store file: a message, and reopened for the next run
        page.run()
    components.write_url_state()
    log_run(f"page {page.title}", t0)
