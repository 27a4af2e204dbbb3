"""Report: the current recommendation in every format of advisor.report.formats (Markdown, HTML, PDF, JSON);
load a JSON report back."""

from __future__ import annotations

from functools import partial

import streamlit as st

from advisor.errors import AdvisorError
from advisor.report.formats import FORMATS
from advisor.textsafe import md_escape, md_name, visible_text
from advisor.ui import cache, components, state

PREVIEW_HEIGHT = 900


def restore_section() -> None:
    """Upload a JSON report: its needs and limits replace the Advisor page's (once per uploaded file)."""
    s = st.session_state
    with st.expander("Load a saved report (JSON)", icon=":material/upload_file:",
                     expanded=s.get(state.REPORT_RESTORED) is not None):
        up = st.file_uploader("A JSON report written by this tool", type=["json"], key=state.REPORT_UPLOAD)
        if up is None:
            return
        file_id = f"{up.file_id}:{up.name}:{up.size}"
        if s.get(state.REPORT_RESTORED) == file_id:
            st.success(f"Needs and limits from {md_name(up.name)} are in use.", icon=":material/check_circle:")
            return
        try:
            notes = components.restore_request(up.getvalue())
        except AdvisorError as exc:
            st.error(f"{md_name(up.name)} was not loaded: {md_escape(visible_text(str(exc)))}", icon=":material/error:")
            return
        s[state.REPORT_RESTORED] = file_id
        st.success(f"Needs and limits restored from {md_name(up.name)}; the Advisor page now shows that ranking.",
                   icon=":material/check_circle:")
        for note in notes:
            st.caption(f"Note: {note}")
        st.page_link(str(components.page_path("advisor.py")), label="See the ranking", icon=":material/recommend:")


def render() -> None:
    st.title("Report")
    st.markdown("Everything behind the recommendation, ready to send on: your needs and limits, the shortlist "
                "with scores, coverage and stability, the reasons, the trade-off charts, probe results where "
                "you ran them, and every data source with its licence.")
    restore_section()
    s = st.session_state
    st.text_area("Notes for the reader", key=state.REPORT_NOTES, placeholder="Context, decisions, caveats…",
                 help="Shown at the top of the report, as plain text.")
    try:
        ranking = components.current_ranking()
    except AdvisorError as exc:
        st.warning(f"No ranking to report under the current settings: {exc}", icon=":material/warning:")
        return
    result = s.get(state.PROBE_RESULT)
    if result is not None:
        st.caption(f"Includes the probe results on {len(result.images)} image(s) from the Probe page.")
    with components.user_errors():
        out = cache.cached_report(ranking.request, components.measured_key(), s.get(state.REPORT_NOTES) or "",
                                  None if result is None else result.to_json(), s.get(state.PROBE_THUMBS) or ())
        for col, (name, fmt) in zip(st.columns(len(FORMATS)), FORMATS.items(), strict=True):
            file_name, blob, mime = out[name]
            if blob is None:  # a slow format: rendered when clicked
                blob = partial(cache.lazy_format_bytes, out["_report"], name)
            col.download_button(fmt.label, blob, file_name, mime, key=f"dl_{name}", icon=":material/download:",
                                width="stretch", on_click="ignore")
        st.markdown("**Preview** (the HTML report)")
        # Our own HTML (every user text in it is escaped by advisor.report), so an iframe is safe here.
        st.iframe(out["html"][1].decode(), height=PREVIEW_HEIGHT)


render()
