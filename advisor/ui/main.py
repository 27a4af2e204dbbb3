"""App entry: page config, URL state, navigation over the page files."""

from __future__ import annotations

import os
import sys
import time

import streamlit as st

from advisor.ui import cache, components, state


def keep_state(page: state.PageSpec | None) -> bool:
    """Before the page draws: the user's values into its widget keys, or its widgets' values into the store.

    Returns whether this run opened the page."""
    file = page.file if page is not None else ""
    opened = st.session_state.get(state.PAGE) != file
    state.keep_state(st.session_state, file, {k: st.query_params.get_all(k) for k in st.query_params})
    return opened


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
    pages = [(st.Page(str(components.PAGE_DIR / p.file), title=p.title, icon=p.icon, default=n == 0), p)
             for n, p in enumerate(state.PAGES)]
    page = st.navigation([pg for pg, _ in pages], position="top")
    opened = keep_state(next((spec for pg, spec in pages if pg.url_path == page.url_path), None))
    # The URL is written from the very state this run renders, before the page draws: a run cut short by a
    # newer widget event (quick slider steps) still leaves the address bar matching the widgets. Written again
    # after the page, for values the page itself settles (defaults on first visit, an invalid axis choice).
    components.write_url_state(force=opened)  # a page switch may have left the browser's address behind
    try:
        with cache.store_errors():  # a damaged store file: a message, and reopened for the next run
            page.run()
    except BaseException:  # a rerun or page switch cuts the run short: its time still goes to the log
        log_run(f"page {page.title} (cut short)", t0)
        raise
    # Always sent at the end: the browser may have dropped the write of an earlier run that a newer widget
    # event cut short, while the server's copy of the query string already matches.
    components.write_url_state(force=True)
    log_run(f"page {page.title}", t0)
