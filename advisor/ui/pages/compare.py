"""Compare: 2-4 models side by side, per-need bars and the study's detail views where data exists."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from advisor.ui import cache, components, state, views

COMPARE_INIT = "_compare_init"


def facts(ids: list[str]) -> pd.DataFrame:
    m = cache.model_table().set_index("model_id").reindex(ids)
    return pd.DataFrame({
        "model": ids, "paradigm": m["paradigm"].fillna("–").to_numpy(),
        "architecture": m["arch_type"].fillna("–").to_numpy(),
        "pretraining data": m["pretrain_data"].fillna("–").to_numpy(),
        "params": [components.fmt_num(v, "M") for v in m["params_m"]],
        "GMACs": [components.fmt_num(v, "", 2) for v in m["gmacs"]],
        "weights licence": m["weights_licence"].fillna("–").to_numpy(),
    })


def render() -> None:
    st.title("Compare")
    s = st.session_state
    study = cache.study_model_ids()
    if COMPARE_INIT not in s:
        s[COMPARE_INIT] = True
        if not s[state.COMPARE]:
            s[state.COMPARE] = study[:4]
    all_ids = cache.model_table()["model_id"].tolist()
    s[state.COMPARE] = [m for m in s[state.COMPARE] if m in set(all_ids)]
    st.multiselect("Models (2–4)", all_ids, key=state.COMPARE, max_selections=4,
                   help="Defaults to the four models of Vishniakov et al. 2024 (ConvNeXt and ViT, supervised "
                        "and CLIP).")
    ids = list(s[state.COMPARE])
    if len(ids) < 2:
        st.info("Pick at least two models to compare.")
        if st.button("Reset to the study's four models") and study:
            s[state.COMPARE] = study[:4]
            st.rerun()
        return
    st.dataframe(facts(ids), hide_index=True, width="stretch", column_config=components.FACT_COLUMNS)
    page = views.compare_specs(tuple(ids))
    st.subheader("Per need")
    st.caption("Need scores among all models in the store (0 worst – 1 best); a missing bar means no data. "
               "Each model keeps its colour in every chart on this page.")
    views.show(page["need"])
    st.subheader("Detail views")
    if page["figure_kinds"]:
        st.caption(f"Faded bars and dashed lines are values read off published figures "
                   f"({', '.join(page['figure_kinds'])}); the tooltip gives each value's precision and source.")
    shown = 0
    for key, title, chart in page["details"]:
        shown += 1
        st.markdown(f"**{title}**")
        views.show(chart, stretch=key != "invariance")
    if not shown:
        st.info("None of these models has data for the study's detail views (ImageNet-X, robustness per "
                "data set, VTAB, PUG, invariance, shape bias).")


render()
