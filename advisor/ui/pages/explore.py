"""Explore: any two properties over all models, Pareto front highlighted, with filters and search."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from advisor.store.properties import get_property
from advisor.ui import cache, components, state, views


def axis_label(prop: str, item: str) -> str:
    """Unambiguous axis title: property, item and unit ('ImageNet top-1 (%)', 'Top-1 under shift: a (%)')."""
    p = get_property(prop)
    return f"{p.label}{': ' + item if item else ''} ({p.unit})"


def axis_picker(col, prop_key: str, item_key: str, label: str, options: pd.DataFrame) -> None:
    """Property and item selectboxes; an item that does not exist for the property falls back to the first."""
    props = sorted(options["property_id"].unique(), key=lambda p: get_property(p).label.lower())
    s = st.session_state
    if s.get(prop_key) not in props:
        s[prop_key] = props[0]
    col.selectbox(label, props, key=prop_key, format_func=lambda p: f"{get_property(p).label} ({p})")
    items = options.loc[options["property_id"] == s[prop_key]].sort_values("n_models", ascending=False)
    names = items["item"].tolist()
    if s.get(item_key) not in names:
        s[item_key] = names[0]
    counts = dict(zip(items["item"], items["n_models"], strict=True))
    col.selectbox(f"{label}: data set / factor", names, key=item_key,
                  format_func=lambda i: f"{i or 'summary'} ({counts[i]} models)")


def render() -> None:
    st.title("Explore")
    st.caption("Any two properties over every model with data for both. Points on the red line are on the "
               "Pareto front: no other model is better on both axes (direction per property). Hover for the "
               "model, source and precision of each value.")
    options = cache.property_items()
    options = options[options["property_id"].map(_known)]
    if options.empty:
        st.info("The store holds no scores yet. Run `advisor build`.")
        return
    c1, c2, c3 = st.columns([1, 1, 1])
    axis_picker(c1, state.X_PROP, state.X_ITEM, "x axis", options)
    axis_picker(c2, state.Y_PROP, state.Y_ITEM, "y axis", options)
    models = cache.model_table()
    c3.text_input("Search models", key=state.SEARCH, placeholder="e.g. convnext, laion, deit3")
    c3.multiselect("Paradigm", sorted(models["paradigm"].dropna().unique()), key=state.EX_PARADIGMS,
                   placeholder="any")
    l1, l2 = c3.columns(2)
    l1.toggle("log x", key=state.LOG_X)
    l2.toggle("log y", key=state.LOG_Y)
    s = st.session_state
    keep = models
    if s[state.EX_PARADIGMS]:
        keep = keep[keep["paradigm"].isin(s[state.EX_PARADIGMS])]
    if s[state.SEARCH].strip():
        keep = keep[keep["model_id"].str.contains(s[state.SEARCH].strip(), case=False, regex=False)
                    | keep["display_name"].str.contains(s[state.SEARCH].strip(), case=False, regex=False)]
    filtered = bool(s[state.EX_PARADIGMS] or s[state.SEARCH].strip())
    x, y = (s[state.X_PROP], s[state.X_ITEM]), (s[state.Y_PROP], s[state.Y_ITEM])
    with components.user_errors():
        df, chart = views.explore_view(x, y, tuple(keep["model_id"]) if filtered else None, axis_label(*x),
                                       axis_label(*y), bool(s[state.LOG_X]), bool(s[state.LOG_Y]))
        if chart is None:
            st.info("No model has data for both properties with these filters. Try another pair or clear the "
                    "search.")
            return
        views.show(chart)
        front = df[df["on_front"]].reset_index(drop=True)
        st.caption(f"{len(df)} models with both values · {len(front)} on the Pareto front")
        # One number format per column (fixed decimals), never a mix of 66.008 and 77.81.
        st.dataframe(front[["model_id", "value_x", "value_y", "source_id_x", "source_id_y", "paradigm"]].rename(
            columns={"value_x": axis_label(*x), "value_y": axis_label(*y), "source_id_x": "x source",
                     "source_id_y": "y source", "model_id": "model"}), hide_index=True, width="stretch",
            placeholder="—",
            column_config={k: st.column_config.NumberColumn(format=_fmt(df, v)) for k, v in
                           ((axis_label(*x), "value_x"), (axis_label(*y), "value_y"))})


def _fmt(df: pd.DataFrame, col: str) -> str:
    """Fixed decimals for a column: 3 for values below 10 (ratios, ECE), else 1 (percentages, counts)."""
    return "%.3f" if df[col].abs().max() < 10 else "%.1f"


def _known(prop: str) -> bool:
    try:
        get_property(prop)
    except KeyError:
        return False
    return True


render()
