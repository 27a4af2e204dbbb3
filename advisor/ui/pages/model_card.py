"""Model card: every score for one model with source, licence and precision; how to load it; its rank."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from advisor.errors import AdvisorError
from advisor.models.registry import loadable_model_ids
from advisor.ui import bench_panel, cache, components, state, views

# Pixel widths so that all eight columns, the note included, fit the page at 1,280 px.
SCORE_WIDTHS = {"property": 220, "data set / factor": 130, "unit": 70, "source": 100, "data licence": 100,
                "precision": 110}


def rank_line(model_id: str) -> str:
    """Where the model ranks under the needs and limits set on the Advisor page."""
    try:
        r = components.current_ranking()
    except AdvisorError as exc:
        return f"No ranking under the current settings: {exc}"
    row = r.table[r.table["model_id"] == model_id]
    if row.empty:
        return ("Not ranked under your current needs and limits (excluded by a limit, or no data for the "
                "needs you weighted).")
    row = row.iloc[0]
    return (f"Rank **{int(row['rank'])}** of {len(r.table)} under your current needs · score {row['score']:.3f} · "
            f"coverage {row['coverage']:.0%}")


def weights_here(model_id: str) -> None:
    """Whether the weights are on this machine; if not and a backend can build the model, the same download
    (file, size, licence, then a button) as the Probe and Evaluate pages."""
    if cache.model_ready(model_id) or model_id in views.bundled_ready():
        st.caption("Its weights are on this machine: it can be probed and evaluated here.")
    elif model_id in set(loadable_model_ids(cache.model_table())):
        views.weights_offer([model_id], "card", title="Download the weights to probe or evaluate it here")
    if views.added_model("card"):
        st.success("Downloaded: the model can now be probed and evaluated here.", icon=":material/check_circle:")


def render() -> None:
    st.title("Model card")
    s = st.session_state
    ids = cache.model_table()["model_id"].tolist()
    if not ids:
        st.info("The store holds no models yet. Run `advisor build`.")
        return
    if s.get(state.CARD) not in ids:
        try:
            s[state.CARD] = components.current_ranking().table["model_id"].iloc[0]
        except AdvisorError:
            s[state.CARD] = ids[0]
    st.selectbox("Model", ids, key=state.CARD)
    store = cache.get_store()
    weights_slot = None
    with components.user_errors():
        m = store.model(s[state.CARD])
        mid = m["model_id"]
        st.subheader(m.get("display_name") or mid)
        st.markdown(rank_line(mid))
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("Parameters", components.fmt_num(m.get("params_m"), "M"))
        c2.metric("GMACs", components.fmt_num(m.get("gmacs"), "", 2))
        c3.metric("Input size", components.fmt_num(m.get("img_size"), "px", 0))
        c4.metric("Paradigm", str(m.get("paradigm") or "–"))
        meta = {"id": mid, "architecture": m.get("arch_type"), "family": m.get("family"),
                "pretraining data": m.get("pretrain_data"), "fine-tuning data": m.get("finetune_data"),
                "weights licence": m.get("weights_licence"), "derived from": m.get("derived_from")}
        st.markdown("  \n".join(f"**{k}:** {'–' if pd.isna(v) else v}" for k, v in meta.items()))
        st.markdown("**How to get the weights**")
        call = m.get("load_call")
        if isinstance(call, str) and call.strip():
            st.code(call, language="python")
            st.caption(f"Weights from: {m.get('weights_from')}. {m.get('obtain_note') or ''}")
            # Filled last: looking for the weights imports the model's library (seconds on a cold server), so
            # the scores below are drawn first and this place is filled when the check is done.
            weights_slot = st.container()
        else:
            st.warning(f"No public weights are known for this model ({m.get('obtain_note') or 'none known'}); its "
                       "scores come from published tables only.", icon=":material/block:")
        bench_panel.speed_panel([mid], "card")  # latency / throughput / memory measured on this machine
        scores = store.scores([mid])
        st.markdown(f"**Every score** ({len(scores)})")
        cols = {"label": "property", "item": "data set / factor", "value": "value", "unit": "unit",
                "source_id": "source", "licence": "data licence", "precision": "precision", "note": "note"}
        st.dataframe(scores[list(cols)].rename(columns=cols), hide_index=True, placeholder="—", width="stretch",
                     column_config={"value": st.column_config.NumberColumn(format="%.4g", width=70),
                                    **{c: st.column_config.TextColumn(width=w) for c, w in SCORE_WIDTHS.items()}})
        aliases = store.aliases(mid)
        if len(aliases):
            with st.expander(f"Names in the sources ({len(aliases)})"):
                st.dataframe(aliases, hide_index=True, placeholder="—", width="stretch")
        links = store.model_links(mid)
        if len(links):
            with st.expander(f"How its scores are put on one scale ({len(links)} links)", icon=":material/link:"):
                st.dataframe(links, hide_index=True, placeholder="—", width="stretch")
        conflicts = store.conflicts(mid)
        if len(conflicts):
            with st.expander(f"Sources that disagree ({len(conflicts)})", icon=":material/warning:"):
                st.dataframe(conflicts, hide_index=True, placeholder="—", width="stretch")
        if weights_slot is not None:
            with weights_slot:
                weights_here(mid)


render()
