"""Widgets and views shared by the pages; pages stay short and only wire these together."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import streamlit as st

from advisor.errors import AdvisorError
from advisor.ranking.data import RankingData
from advisor.ranking.engine import Ranking, RankRequest
from advisor.ranking.needs import get_need
from advisor.ranking.pareto import axis_values
from advisor.ranking.presets import get_preset
from advisor.store import measured
from advisor.store.measured import empty_measured
from advisor.ui import cache, state

PAGE_DIR = Path(__file__).parent / "pages"
THIN_COVERAGE = 0.75  # below this share of the requested weight, a pick is "thinly covered"

# Plain-language help for every metric and abbreviation the pages show (column help, captions, glossary).
GLOSSARY: dict[str, str] = {
    "score": "The weighted mean of the need scores you asked for: 0 = worst, 1 = best among the models ranked.",
    "coverage": "Share of your weight this model has data for. A need without data counts as the median "
                "candidate (neither rewarded nor punished), so low coverage means the score rests on less "
                "evidence.",
    "first in": f"Stability: the share of {state.DRAWS:,} slightly perturbed versions of your weights (random "
                "draws around them) in which this model comes first. Near 100 % the pick does not depend on the exact "
                "slider positions. Below 60 % for the top model the first few are a close call: look at them "
                "all. For lower-ranked models a small share is normal.",
    "GMACs": "Giga multiply-accumulate operations: billions of multiply-adds the model needs for one image at "
             "its input size. A measure of compute per image (lower = cheaper).",
    "params": "Number of learned weights, in millions (M): memory and download size.",
    "LP": "Linear probe: a single linear classifier trained on the frozen model's features; its accuracy "
          "measures how well the features transfer to a new task without fine-tuning.",
    "ImageNet top-1": "Share of ImageNet validation images whose most likely predicted class is right (%).",
    "invariance": "Mean top-1 agreement over the transformed variants: how often the model keeps the class it "
                  "predicted for the untransformed image (100 % = never changes its mind).",
    "prob. kept": "Probability the model still gives to the class it predicted for the untransformed image, "
                  "after the transformation, relative to before (1 = fully kept).",
    "KL": "Kullback-Leibler divergence between the class probabilities before and after the transformation: "
          "0 = the prediction did not move; larger = it moved more.",
    "cosine": "Cosine similarity of the model's image embedding before and after the transformation: 1 = the "
              "same direction, lower = the features changed.",
}


def write_url_state(force: bool = False) -> None:
    """Mirror the user's non-default values in the query string, so the address bar is a shareable link.

    Also keeps the store current (values set during this run, or in a fragment rerun)."""
    want = state.query_from_state(state.remember(st.session_state))
    have = {k: (st.query_params.get_all(k) if isinstance(want.get(k), list) else st.query_params.get(k))
            for k in st.query_params}
    if force or have != want:
        st.query_params.from_dict(want)


def glossary(*terms: str) -> None:
    """A short 'what the numbers mean' list (all terms when none are named)."""
    names = terms or tuple(GLOSSARY)
    st.markdown("  \n".join(f"**{t}**: {GLOSSARY[t]}" for t in names))


@contextmanager
def user_errors() -> Iterator[None]:
    """Show AdvisorError as a message instead of a traceback."""
    try:
        yield
    except AdvisorError as exc:
        st.error(str(exc), icon=":material/error:")


def fmt_num(v: object, unit: str = "", digits: int = 1) -> str:
    """A number with its unit, or an en dash when missing."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v):
        return "–"
    text = f"{float(v):,.{digits}f}"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def progress_text(fraction: float, message: str, elapsed_s: float) -> str:
    """'model 2/3 · …: 4/8 images · 40 % · about 1 min 10 s left' (no estimate before 2 % is done)."""
    text = f"{message} · {fraction:.0%}"
    if 0.02 <= fraction < 1.0:
        left = round(elapsed_s * (1.0 - fraction) / fraction)
        text += f" · about {left // 60} min {left % 60} s left" if left >= 60 else f" · about {left} s left"
    return text


# --- Advisor controls ------------------------------------------------------------------------------
def _on_preset() -> None:
    name = st.session_state[state.PRESET]
    if name != state.CUSTOM:
        state.apply_preset(st.session_state, name)


def preset_picker() -> None:
    labels = {p: (get_preset(p).label if p != state.CUSTOM else "Custom mix") for p in state.preset_names()}
    st.selectbox("Start from a preset", state.preset_names(), key=state.PRESET, format_func=labels.get,
                 on_change=_on_preset, help="Sets the sliders and limits below; then adjust them freely.")
    # Sliders do not switch the preset to "custom" from a callback: a fast second key press would arrive with
    # the stale preset value and re-apply the preset. Whether the mix still matches is shown instead.
    name = st.session_state[state.PRESET]
    if name == state.CUSTOM:
        st.caption("Your own mix of weights and limits.")
    else:
        edited = state.preset_values(name).items() - {k: st.session_state.get(k) for k in state.WEIGHTS}.items()
        changed = any(k in state.WEIGHTS for k, _ in edited)
        st.caption(get_preset(name).rationale + (" *Sliders adjusted since.*" if changed else ""))


def need_sliders(disabled: bool = False) -> None:
    """One slider per need (help text from the registry); shape vs texture as one slider + a choice."""
    for need in state.SLIDER_NEEDS:
        n = get_need(need)
        st.slider(n.label, 0.0, 1.0, step=0.05, key=state.weight_key(need), help=n.help,
                  disabled=disabled)
    shape_help = get_need("shape_bias").help + " / " + get_need("texture_bias").help
    st.slider("Shape or texture bias", 0.0, 1.0, step=0.05, key=state.SHAPE_WEIGHT, disabled=disabled,
              help=shape_help)
    st.radio("Prefer decisions that lean on", ["shape", "texture"], key=state.SHAPE_DIR, horizontal=True,
             disabled=disabled, label_visibility="collapsed")


def limit_controls(models: pd.DataFrame) -> None:
    """Hard limits, one widget per LIMITS entry: a model outside them is not ranked at all."""
    numeric = [sp for sp in state.UI_LIMITS if sp.rule.widget == "number"]
    cols = st.columns(2)
    for i, sp in enumerate(numeric):
        zero, step = (0, int(sp.step)) if sp.integer else (0.0, sp.step)
        cols[i % 2].number_input(f"{sp.label} ({sp.unit})", min_value=zero, step=step, key=sp.url,
                                 placeholder="no limit", help=sp.help)
    for sp in state.UI_LIMITS:
        if sp.rule.widget == "multiselect":
            options = sorted(models[sp.column].dropna().astype(str).unique()) if sp.column in models else []
            st.multiselect(sp.label, options, key=sp.url, placeholder="any", help=sp.help)
        elif sp.rule.widget == "checkbox":
            st.checkbox(sp.label, key=sp.url, help=sp.help)
    st.slider("Minimum data coverage", 0.0, 1.0, step=0.05, key=state.MIN_COVERAGE,
              help="Share of your weight a model must have data for to be ranked.")


def current_request() -> RankRequest:
    """The user's request from the store, on whatever page asks (the Advisor page's widgets may not be drawn)."""
    ready = cache.probe_ready_ids() if state.user_state(st.session_state).get(state.PROBE_READY) else None
    return state.request_from_state(state.user_state(st.session_state), ready)


def current_ranking() -> Ranking:
    """The ranking for the current needs, limits and measured-here scores; AdvisorError propagates."""
    return cache.cached_rank(current_request(), measured=measured_key())


# --- measured here (live probes and evaluations feed the ranking for this session) ----------------------------------


def session_measured() -> pd.DataFrame:
    """Every score measured here this session (the last probe run and the last evaluation), as the
    ranking reads them."""
    frames = [r.measured_scores() for r in (st.session_state.get(state.PROBE_RESULT),
                                            st.session_state.get(state.EVAL_RESULT),
                                            st.session_state.get(state.BENCH_RESULT)) if r is not None]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else empty_measured()


def measured_key() -> tuple[tuple, ...]:
    """The session's measured-here rows as a hashable key for the ranking cache (() when none)."""
    return measured.measured_key(session_measured())


def _measured_what(property_id: str, item: str) -> str:
    from advisor.store.properties import PROPERTIES

    label = next((p.label for p in PROPERTIES if p.property_id == property_id), property_id)
    label = label.replace(" measured here", "")
    return f"{label} {item}".strip() if property_id != "measured_invariance" else item


def measured_labels(key: tuple[tuple, ...]) -> dict[str, str]:
    """model_id -> 'scale, rotation (measured here on 1 image)' or 'Top-1 (measured here on 32 images,
    95% CI 60.1–88.0); ECE (...)' for the ranked table: what was measured, on how many images, how sure."""
    out: dict[str, dict[str, list[str]]] = {}
    for mid, pid, item, _, _, precision, *_ in key:  # measured_key rows (optional columns at the end)
        out.setdefault(mid, {}).setdefault(precision, []).append(_measured_what(pid, item))
    return {m: "; ".join(f"{', '.join(w)} ({p})" for p, w in v.items()) for m, v in out.items()}


def measured_summary() -> str:
    """Where this session's measured-here scores come from, e.g. 'your probe run on 2 images and your
    evaluation on 32 images'."""
    parts = []
    for key, what in ((state.PROBE_RESULT, "probe run"), (state.EVAL_RESULT, "evaluation")):
        r = st.session_state.get(key)
        if r is not None and not r.measured_scores().empty:
            n = len(r.images)
            parts.append(f"your {what} on {n} image{'s' * (n != 1)}")
    bench = st.session_state.get(state.BENCH_RESULT)
    if bench is not None and not bench.measured_scores().empty:
        parts.append(f"your speed measurement on {bench.setting()}")
    return " and ".join(parts)


def restore_request(data: bytes) -> list[str]:
    """Apply a JSON report's needs and limits to the session; returns notes on what could not be shown.

    Raises InvalidRequestError (a user-facing message) for a file that is not a valid report.
    """
    from advisor.ranking.engine import validate_weights
    from advisor.ranking.request import mode_uses_weights
    from advisor.report.model import request_from_json

    request = request_from_json(data)
    if mode_uses_weights(request.mode):
        validate_weights(request.weights)  # unknown needs, all zero, shape and texture both weighted
    values, notes = state.state_from_request(request)
    state.remember(st.session_state, values)
    return notes


# --- ranking views ---------------------------------------------------------------------------------
def ranked_table(ranking: Ranking, data: RankingData, top: int = 25,
                 measured: dict[str, str] | None = None) -> pd.DataFrame:
    """Display frame: rank, model, score, coverage, stability, size and key numbers (+ measured here)."""
    t = ranking.table.head(top)
    acc = axis_values(data, "imagenet_top1", "", pd.Index(t["model_id"])).set_index("model_id")["value"]
    extra = {"measured here": t["model_id"].map(measured).fillna("")} if measured else {}
    weights = t["weights_from"] if "weights_from" in t else pd.Series("", index=t.index)
    # Shares as whole percentages, the way the captions print them (44 % in both, never 44.44 % here).
    return pd.DataFrame({
        "rank": t["rank"], "model": t["model_id"], **extra, "weights": weights.fillna("none known"),
        "score": t["score"],
        "coverage": (t["coverage"] * 100).round(0), "first in": (t["top1_share"] * 100).round(0),
        "ImageNet top-1": t["model_id"].map(acc), "params": t["params_m"], "GMACs": t["gmacs"],
        "paradigm": t["paradigm"],
    })


def ranked_table_config() -> dict:
    return {
        "rank": st.column_config.NumberColumn("rank", format="%d", width="small"),
        "model": st.column_config.TextColumn("model", width="large"),
        "weights": st.column_config.TextColumn("weights", help="Where the weights can be had (timm, open_clip, "
                                               "torchvision, torch.hub, pip); 'none known' = not public"),
        "score": st.column_config.NumberColumn("score", format="%.3f", help=GLOSSARY["score"]),
        "coverage": st.column_config.ProgressColumn("coverage", format="%d %%", min_value=0, max_value=100,
                                                    help=GLOSSARY["coverage"]),
        "first in": st.column_config.ProgressColumn("first in", format="%d %%", min_value=0, max_value=100,
                                                    help=GLOSSARY["first in"]),
        "ImageNet top-1": st.column_config.NumberColumn(format="%.1f %%", help=GLOSSARY["ImageNet top-1"]),
        "params": st.column_config.NumberColumn(format="%.1f M", help=GLOSSARY["params"]),
        "GMACs": st.column_config.NumberColumn(format="%.2f", help=GLOSSARY["GMACs"]),
    }


FACT_COLUMNS = {"params": st.column_config.TextColumn(help=GLOSSARY["params"]),
                "GMACs": st.column_config.TextColumn(help=GLOSSARY["GMACs"])}


def ranking_notices(ranking: Ranking) -> None:
    """Warn where the top pick is unstable or thinly covered; pass the engine's notes on."""
    top = ranking.table.iloc[0]
    if ranking.request.draws > 0 and not bool(top["stable"]):
        st.warning(f"A close call: the top pick comes first in only {top['top1_share']:.0%} of "
                   f"{ranking.request.draws:,} slightly perturbed versions of your weights (below 60 % counts as a "
                   "close call). Small changes to the sliders can reorder the first few: compare them before choosing.",
                   icon=":material/balance:")
    if float(top["coverage"]) < THIN_COVERAGE:
        st.warning(f"The top pick is thinly covered: data exists for only {top['coverage']:.0%} of the weight "
                   "you set; missing needs count as average.", icon=":material/data_alert:")
    for note in ranking.notes:
        st.caption(f"Note: {note}")


def page_path(file: str) -> Path:
    """Path of a page file, as st.switch_page and st.page_link want it."""
    return PAGE_DIR / file
