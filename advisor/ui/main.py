"""App entry: page config, URL state, navigation over the page files."""

from __future__ import annotations

import streamlit as st

from advisor.ui import cache, state
from advisor.ui.components import PAGE_DIR


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


def write_url_state() -> None:
    """Mirror the non-default state in the query string, so the address bar is a shareable link."""
    want = state.query_from_state(st.session_state)
    have = {k: (st.query_params.get_all(k) if isinstance(want.get(k), list) else st.query_params.get(k))
            for k in st.query_params}
    if have != want:
        st.query_params.from_dict(want)


def main() -> None:
    st.set_page_config(page_title="Vision Advisor", page_icon=":material/visibility:", layout="wide")
    load_url_state()
    pages = [(st.Page(str(PAGE_DIR / p.file), title=p.title, icon=p.icon, default=n == 0), p)
             for n, p in enumerate(state.PAGES)]
    page = st.navigation([pg for pg, _ in pages], position="top")
    keep_other_pages_state(next((spec for pg, spec in pages if pg.url_path == page.url_path), None))
    # The URL is written from the very state this run renders, before the page draws: a run cut short by a
    # newer widget event (quick slider steps) still leaves the address bar matching the widgets. Written again
    # after the page, for values the page itself settles (defaults on first visit, an invalid axis choice).
    write_url_state()
    with cache.store_errors():  # a damaged store file: a message, and reopened for the next run
        page.run()
    write_url_state()
