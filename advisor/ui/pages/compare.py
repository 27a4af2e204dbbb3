"""Compare: 2-4 models side by side, per-need bars and the study's detail views where data exists."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from advisor.ui import bench_panel, cache, components, state, views

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


def _pick_view(views: list[tuple[str, str]]) -> str:
    """The detail view to draw: the user's choice when these models have it, else the first with data."""
    s = st.session_state
    keys = [k for k, _ in views]
    if s.get(state.COMPARE_VIEW) not in keys:
        s[state.COMPARE_VIEW] = keys[0]
    titles = dict(views)
    chosen = st.segmented_control("Detail view", keys, key=state.COMPARE_VIEW, format_func=titles.get,
                                  help="One of the study's detail views at a time, for the models above "
                                       "(only the views they have data for are listed).")
    return chosen or keys[0]


@st.fragment
def compared() -> None:
    """The model picker and everything drawn from the model list: a change reruns only this part.

    Why a fragment: adding a model used to rerun the whole app and redraw every chart; now the browser
    redraws the table and two charts, and the URL is written here from the same state.
    """
    s = st.session_state
    study = cache.study_model_ids()
    all_ids = cache.model_table()["model_id"].tolist()
    known = set(all_ids)
    s[state.COMPARE] = [m for m in s[state.COMPARE] if m in known]
    st.multiselect("Models (2–4)", all_ids, key=state.COMPARE, max_selections=4,
                   help="Defaults to the four models of Vishniakov et al. 2024 (ConvNeXt and ViT, supervised "
                        "and CLIP).")
    components.write_url_state()  # a fragment rerun skips the app's own URL write
    ids = tuple(s[state.COMPARE])
    if len(ids) < 2:
        st.info("Pick at least two models to compare.")
        if st.button("Reset to the study's four models") and study:
            s[state.COMPARE] = study[:4]
            st.rerun()
        return
    # A heading between the picker and the table: the table's toolbar (search, download, full screen) appears
    # above its top edge and covered the picker's clear icons when the two touched.
    st.markdown("**Facts**")
    st.dataframe(facts(list(ids)), hide_index=True, placeholder="—", width="stretch",
                 column_config=components.FACT_COLUMNS)
    bench_panel.speed_panel(ids, "compare")  # latency / throughput / memory of these models, measured here
    st.subheader("Per need")
    st.caption("Need scores among all models in the store (0 worst – 1 best); a missing bar means no data. "
               "Each model keeps its colour in every chart on this page.")
    views.show(views.compare_need_spec(ids))
    st.subheader("Detail views")
    details, figure_kinds = views.compare_details(ids)
    if not details:
        st.info("None of these models has data for the study's detail views (ImageNet-X, robustness per "
                "data set, VTAB, PUG, invariance, shape bias).")
        return
    key = _pick_view(details)
    if figure_kinds:
        st.caption(f"Faded bars and dashed lines are values read off published figures "
                   f"({', '.join(figure_kinds)}); the tooltip gives each value's precision and source.")
    chart = views.detail_spec(key, ids)
    if chart is None:
        st.info("These models have no values this view can draw.")
    else:
        views.show(chart, stretch=key != "invariance")


def render() -> None:
    st.title("Compare")
    s = st.session_state
    if COMPARE_INIT not in s:
        s[COMPARE_INIT] = True
        if not s[state.COMPARE]:
            s[state.COMPARE] = cache.study_model_ids()[:4]
    compared()


render()
