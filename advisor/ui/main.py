"""App entry: page config, URL state, navigation over the page files."""

from __future__ import annotations

import streamlit as st

from advisor.ui import cache, state
from advisor.ui.components import PAGE_DIR

# (file, title, icon). Adding a page is one line here; the first is the landing page.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("advisor.py", "Advisor", ":material/recommend:"),
    ("explore.py", "Explore", ":material/scatter_plot:"),
    ("compare.py", "Compare", ":material/compare:"),
    ("model_card.py", "Model card", ":material/description:"),
    ("probe.py", "Probe", ":material/science:"),
    ("report.py", "Report", ":material/summarize:"),
)


def load_url_state() -> None:
    """Read the query string into session state once per session; keep persisted keys across pages."""
    s = st.session_state
    if state.URL_LOADED not in s:
        query = {k: st.query_params.get_all(k) for k in st.query_params}
        s.update(state.state_from_query(query))
        s[state.URL_LOADED] = True
    state.ensure_defaults(s)


def keep_other_pages_state(page_file: str) -> None:
    """Re-assign the other pages' keys: Streamlit drops the state of widgets a run does not render."""
    s = st.session_state
    own = set(state.PAGE_KEYS.get(page_file, ()))
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
    pages = [st.Page(str(PAGE_DIR / f), title=t, icon=i, default=n == 0) for n, (f, t, i) in enumerate(PAGES)]
    page = st.navigation(pages, position="top")
    keep_other_pages_state(next((f for f, t, _ in PAGES if t == page.title), ""))
    with cache.store_errors():  # a damaged store file: a message, and reopened for the next run
        page.run()
    write_url_state()
