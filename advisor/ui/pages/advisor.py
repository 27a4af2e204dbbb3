"""Advisor (landing page): needs and limits in, a ranked, explained recommendation out."""

from __future__ import annotations

import streamlit as st

from advisor.errors import AdvisorError
from advisor.ranking.update import measured_table
from advisor.ui import cache, components, state, views

INTRO = ("Pick a pretrained vision model by more than ImageNet accuracy. Say what matters for your use with "
         "the sliders; the advisor ranks the {n:,} models in its store on published robustness, calibration, "
         "transfer, invariance and efficiency data, shows how much of your weighting each model has data for, "
         "and tells you when the top pick is a close call.")


def controls() -> None:
    components.preset_picker()
    quba = st.session_state[state.PRESET] == "quba"
    with st.container():  # keeps the sliders' place in the page fixed whether or not the notice shows
        if quba:
            st.info("QUBA mode reproduces QUBA's own score with its fixed weights; the sliders are ignored. "
                    "Pick another preset to use them.", icon=":material/info:")
    # Hard limits first and always open: they decide which models are ranked at all.
    with st.container(border=True):
        st.markdown(":material/filter_alt: **Hard limits** (a model outside them is not ranked)")
        components.limit_controls(cache.model_table())
    st.markdown("**What matters for you** (0 = ignore, 1 = most)")
    components.need_sliders(disabled=quba)
    st.toggle("Predict needs without data", key=state.PREDICT, disabled=quba,
              help="On: a model without data for a need gets a score predicted from its ImageNet top-1 and "
                   "training paradigm, with an 80 % interval, marked *predicted*. Off: it counts as the median "
                   "candidate (`advisor rank --no-predict`).")


def results() -> None:
    try:
        ranking = components.current_ranking()
    except AdvisorError as exc:
        st.warning(str(exc), icon=":material/warning:")
        return
    top = ranking.table.iloc[0]
    st.subheader(f"Top pick: {top['model_id']}")
    st.caption(f"{len(ranking.table)} models ranked of {ranking.n_candidates} passing the limits · "
               f"score {top['score']:.3f} · coverage {top['coverage']:.0%} · "
               f"first in {top['top1_share']:.0%} of perturbed weightings",
               help=components.GLOSSARY["first in"])
    components.ranking_notices(ranking)
    key = components.measured_key()
    measured = components.measured_labels(key)
    if measured:
        where = ranking.table.set_index("model_id")["rank"]
        ranks = "; ".join(f"{m} ranks {int(where[m])}" if m in where.index else f"{m} is not ranked"
                          for m in measured)
        st.info(f"The ranking includes scores **measured here** by {components.measured_summary()} "
                f"(this session only, never stored): {ranks}. See the 'measured here' column.",
                icon=":material/science:")
    frame, shown, explained = views.ranked_view(ranking.request, key)
    config = views.advisor_table_config(components.ranked_table_config(), shown)
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config, column_order=shown,
                 placeholder="—", key="ranked_table")
    with st.expander("All columns (weights source, paradigm, size, accuracy, calibration)",
                     icon=":material/table:"):
        st.dataframe(frame, hide_index=True, width="stretch", column_config=config, placeholder="—")
    if measured:  # issue 18: the measured models also side by side on the user's data, as their own table
        with st.expander("Measured here: the measured models side by side (values with 95 % intervals)",
                         icon=":material/science:"):
            st.dataframe(measured_table(components.session_measured()), hide_index=True, placeholder="—",
                         width="stretch", key="measured_table")
    with st.expander("What the numbers mean", icon=":material/help:"):
        components.glossary(*[t for t in ("score", "coverage", "first in", "ImageNet top-1", "params", "GMACs")
                              if t in shown])
    st.markdown("**What each need adds to the score** (top 10)")
    views.show(views.contribution_spec(ranking.request, key))
    st.markdown("**Why these models**")
    for mid, text in explained.items():
        with st.expander(mid, expanded=mid == top["model_id"]):
            st.write(text)
            if mid in measured:
                st.caption(f"Its scores include measured-here ones: {measured[mid]}.")
            # A link, not a button: the browser opens the card at once (one run of the card page), where a
            # button would first re-run this whole page only to switch away from it.
            st.page_link(str(components.page_path("model_card.py")), label="Open model card",
                         icon=":material/description:", query_params={state.CARD: mid})


def render() -> None:
    st.title("Vision Advisor")
    with components.user_errors():
        st.markdown(INTRO.format(n=len(cache.model_table())))
    left, right = st.columns([1, 2.3], gap="large")
    # Results first: the widgets' values are already in session state when a run starts, so the ranking
    # can be drawn before the controls; the browser then shows what changed before it redraws ~30 controls.
    with right, components.user_errors():
        results()
    with left, components.user_errors():
        controls()


render()
