"""What several pages draw: cached chart specs, the "models that can run here" picker, the weights download.

Chart specs are built once per distinct input instead of on every rerun.

Why: a rerun that only moved an unrelated widget used to rebuild every Altair chart and re-validate it
against the Vega-Lite schema (0.1-0.25 s a chart on a busy 2-core machine). These functions return plain
Vega-Lite dicts, keyed on what the chart depends on (the rank request, the compared models), so a rerun
with the same inputs costs a dictionary lookup, and `st.vega_lite_chart` ships the dict as is.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from advisor import runnable
from advisor.charts import DETAIL_VIEWS, compare_need_chart, contribution_chart, detail_chart, scatter_chart
from advisor.charts.detail import read_kind
from advisor.errors import AdvisorError
from advisor.models.download import download_weights, plan_download
from advisor.models.registry import loadable_model_ids
from advisor.ranking.engine import RankRequest
from advisor.ranking.explain import explain_top
from advisor.ranking.pareto import axis_values, pareto_front
from advisor.textsafe import md_escape, md_name, visible_text
from advisor.ui import cache, components


def spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite dict, data inline, without a second schema validation."""
    with alt.data_transformers.disable_max_rows():
        return chart.to_dict(validate=False)


def show(chart_spec: dict, stretch: bool = True) -> None:
    """Draw a cached spec (stretch: as wide as the column; else at the chart's own width)."""
    st.vega_lite_chart(chart_spec, width="stretch" if stretch else "content")


@st.cache_data(max_entries=64, show_spinner=False)
def contribution_spec(request: RankRequest, measured: tuple[tuple, ...] = (), top: int = 10,
                      path: str | None = None) -> dict:
    """The Advisor page's per-need contribution chart for one request (the ranking itself is cached too)."""
    return spec(contribution_chart(cache.cached_rank(request, path, measured), top=top))


ALWAYS_SHOWN = ("rank", "model", "measured here", "score", "coverage", "first in")
CALIBRATION = "calibration error"
# Calibration figures by preference: the study's ECE on ImageNet-1k, else QUBA's calibration error.
CALIBRATION_FIGURES = (("ece_15bin", "imagenet-1k", "ECE"), ("calibration_error", "", "QUBA"))
CALIBRATION_HELP = ("Published calibration error, lower is better: 'ECE' = expected calibration error (15 bins) "
                    "on ImageNet-1k (the study); 'QUBA' = QUBA's calibration error (geometric mean of ACE and "
                    "ECE). A dash: no published figure.")


def calibration_column(data, model_ids: pd.Series) -> list[str]:
    """Each model's published calibration error with what it is ('0.028 ECE', '0.0123 QUBA'), or a dash."""
    out = pd.Series("—", index=pd.Index(model_ids))
    for prop, item, tag in reversed(CALIBRATION_FIGURES):  # preferred figures written last, so they win
        vals = axis_values(data, prop, item, pd.Index(model_ids)).dropna(subset=["value"])
        for mid, v in zip(vals["model_id"], vals["value"], strict=True):
            out[mid] = f"{v:.3g} {tag}"
    return out.tolist()


def advisor_columns(request: RankRequest, columns) -> list[str]:
    """The Advisor table's visible columns: always rank, model, score, coverage and "first in"; then what the
    request decides by (size limits or efficiency: params and GMACs; calibration: its error; accuracy:
    ImageNet top-1). Everything else is in the details view."""
    w = request.weights
    lim = request.limits
    extra = []
    if w.get("accuracy", 0) > 0:
        extra.append("ImageNet top-1")
    if w.get("calibration", 0) > 0:
        extra.append(CALIBRATION)
    if lim.max_params_m is not None or lim.max_gmacs is not None or w.get("efficiency", 0) > 0:
        extra += ["params", "GMACs"]
    return [c for c in (*ALWAYS_SHOWN, *extra) if c in columns]


# Pixel widths that fit the results column at 1,280 px (about 760 px) with every need-chosen column shown.
NARROW = {"rank": 45, "score": 60, "coverage": 80, "first in": 80, "ImageNet top-1": 80, CALIBRATION: 100,
          "params": 75, "GMACs": 65}


def advisor_table_config(config: dict, shown: list[str]) -> dict:
    """The ranked table's column settings with widths that fit: the model column gets what the shown figures
    leave (a longer id ends in '…' in its cell; the full id is in the tooltip and the details view)."""
    out = dict(config)
    out[CALIBRATION] = st.column_config.TextColumn("calib. error", help=CALIBRATION_HELP)
    for col, width in NARROW.items():
        if col in out and hasattr(out[col], "get"):
            out[col] = {**out[col], "width": width}
    if "ImageNet top-1" in out:  # a short header that fits its narrow column; the help names it in full
        out["ImageNet top-1"] = {**out["ImageNet top-1"], "label": "top-1"}
    model_px = max(200, 740 - sum(NARROW.get(c, 110) for c in shown if c != "model"))  # ~750 px at 1,280
    if "model" in out:
        out["model"] = {**out["model"], "width": model_px}
    return out


@st.cache_data(max_entries=64, show_spinner=False)
def ranked_view(request: RankRequest, measured: tuple[tuple, ...] = (), path: str | None = None
                ) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """(the ranked table with every column, the columns shown at once, the top three's explanations) for one
    request: a page switch back to the Advisor, or a rerun from an unrelated widget, reuses them instead of
    rebuilding ~0.1 s of frames."""
    ranking = cache.cached_rank(request, path, measured)
    data = cache.get_data(path)
    frame = components.ranked_table(ranking, data, measured=components.measured_labels(measured))
    at = list(frame.columns).index("ImageNet top-1") + 1 if "ImageNet top-1" in frame else len(frame.columns)
    frame.insert(at, CALIBRATION, calibration_column(data, frame["model"]))
    return frame, advisor_columns(request, frame.columns), explain_top(ranking, 3)


@st.cache_data(max_entries=64, show_spinner=False)
def compare_need_spec(ids: tuple[str, ...], path: str | None = None) -> dict:
    """The Compare page's per-need bars for these models (their order fixes their colours on the page)."""
    ns = cache.reference_need_scores(path)
    return spec(compare_need_chart(ns[ns["model_id"].isin(ids)], models=ids))


@st.cache_data(max_entries=64, show_spinner=False)
def compare_details(ids: tuple[str, ...], path: str | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """([(view key, title)] of the detail views these models have data for, the figure-read precisions).

    Cheap (no chart is built): the page lists the views and builds only the one shown.
    """
    scores = cache.model_scores(ids, path)
    if not len(scores):
        return [], []
    present = set(scores["property_id"])
    views = [(v.key, v.title) for v in DETAIL_VIEWS if present & set(v.property_ids)]
    figure = scores["precision"].map(read_kind) == "figure-read"
    return views, sorted(scores.loc[figure, "precision"].unique()) if figure.any() else []


@st.cache_data(max_entries=128, show_spinner=False)
def detail_spec(key: str, ids: tuple[str, ...], path: str | None = None) -> dict | None:
    """One detail view's spec for these models (None: nothing to draw), built when it is first shown."""
    chart = detail_chart(key, cache.model_scores(ids, path), models=ids)
    return None if chart is None else spec(chart)


@st.cache_data(max_entries=64, show_spinner=False)
def explore_view(x: tuple[str, str], y: tuple[str, str], keep: tuple[str, ...] | None, x_label: str, y_label: str,
                 log_x: bool, log_y: bool, path: str | None = None) -> tuple[pd.DataFrame, dict | None]:
    """(the Pareto frame, the scatter spec) for two properties over the kept models (None: all)."""
    models = cache.model_table(path)
    ids = pd.Index(keep) if keep is not None else pd.Index(models["model_id"])
    df = pareto_front(cache.get_data(path), x, y, ids)
    if df.empty:
        return df, None
    df = df.merge(models[["model_id", "paradigm", "arch_type"]], on="model_id", how="left")
    chart = scatter_chart(df, x_label, y_label, log_x=log_x, log_y=log_y)
    # SVG even for many points, so the axis labels stay inspectable text (the layout test reads them).
    return df, {**spec(chart), "usermeta": {"embedOptions": {"renderer": "svg"}}}


# --- models that can run here (Probe, Evaluate) and their weights ---------------------------------------
PLANS_KEY = "_weights_plans"  # model id -> DownloadPlan or the message why it cannot be had (this session)


@st.cache_data(ttl=600, show_spinner=False)
def bundled_ready() -> frozenset[str]:
    """The pip-bundled models whose weights are installed (looked up at most every 10 min)."""
    return runnable.bundled_ready()


def runnable_choices() -> runnable.RunnableModels:
    """The Probe and Evaluate pages' model choices under the user's current ranking (one rule for both)."""
    try:
        ranked = components.current_ranking().table["model_id"].tolist()
    except AdvisorError:
        ranked = []
    return runnable.runnable_models(ranked, loadable_model_ids(cache.model_table()), cache.probe_ready_ids(),
                                    bundled_ready())


def forget_readiness() -> None:
    """After a download: the next run looks for weights again."""
    cache.probe_ready_ids.clear()
    cache.model_ready.clear()
    cache.readiness.clear()
    bundled_ready.clear()


def added_model(prefix: str) -> str | None:
    """A model the last run made ready (downloaded) or asked for by id, to add to the page's selection once."""
    return st.session_state.pop(f"_{prefix}_add", None)


def _on_model_typed(prefix: str, selected_key: str) -> None:
    """Resolve the typed id against the store: a model that can run joins the selection; an obtainable one
    without weights here is offered for download; anything else gets a message with suggestions."""
    s = st.session_state
    text = str(s.get(f"{prefix}_model_id") or "").strip()
    s[f"_{prefix}_typed"] = None
    if not text:
        return
    try:
        mid = cache.get_store().resolve(text)
    except AdvisorError as exc:
        s[f"_{prefix}_typed"] = ("error", str(exc))
        return
    choices = runnable_choices()
    if mid in choices.options:
        s[selected_key] = list(dict.fromkeys([*s.get(selected_key, []), mid]))
        s[f"_{prefix}_typed"] = ("ok", f"{mid} added.")
    elif mid in set(loadable_model_ids(cache.model_table())):
        s[f"_{prefix}_typed"] = ("offer", mid)
        s[f"{prefix}_get_weights"] = mid  # the download offer shows this model
    else:
        row = cache.model_table().set_index("model_id").loc[mid]
        why = row.get("obtain_note") if "obtain_note" in row else None
        s[f"_{prefix}_typed"] = ("error", f"{mid} cannot run here: no backend builds it with public weights"
                                          + (f" ({why})." if isinstance(why, str) and why else "."))
    s[f"{prefix}_model_id"] = ""


def model_id_input(prefix: str, selected_key: str) -> str | None:
    """A text box for any model id of the store (ids, a source's own name, 'did you mean' on typos).

    Returns an obtainable model the user asked for whose weights are not here (for `weights_offer`)."""
    st.text_input("Or type a model id", key=f"{prefix}_model_id", placeholder="timm:convnext_tiny.fb_in1k",
                  on_change=_on_model_typed, args=(prefix, selected_key),
                  help="Any model of the store: `namespace:name`, or a source's own name. A model whose weights "
                       "are not here is offered for download.")
    typed = st.session_state.get(f"_{prefix}_typed")
    if not typed:
        return None
    kind, text = typed
    if kind == "error":
        st.warning(md_escape(visible_text(text)), icon=":material/help:")
    elif kind == "ok":
        st.caption(md_escape(text))
    return text if kind == "offer" else None


def plan_for(model_id: str):  # -> DownloadPlan | str
    """Size, source and licence of a model's weights (asked once per session), or why they cannot be had."""
    plans = st.session_state.setdefault(PLANS_KEY, {})
    if model_id not in plans:
        try:
            plans[model_id] = plan_download(model_id)
        except AdvisorError as exc:
            plans[model_id] = str(exc)
    return plans[model_id]


def weights_offer(model_ids: list[str], prefix: str, title: str | None = None, expanded: bool = False) -> None:
    """The one weights download of the app (Evaluate, Probe, Model card): the file's name, size, source and
    licence first, then a Download button; nothing is fetched unless the user clicks it. The model then
    joins the page's selection (`added_model`)."""
    if not model_ids:
        return
    label = title or f"Get weights ({len(model_ids)} model{'s' * (len(model_ids) != 1)} without weights here)"
    with st.expander(label, icon=":material/download:", expanded=expanded):
        if len(model_ids) > 1:
            mid = st.selectbox("Model", model_ids, key=f"{prefix}_get_weights")
        else:
            mid = model_ids[0]
            st.markdown(f"Model: {md_name(mid)}")
        plan = plan_for(mid)
        if isinstance(plan, str):
            st.warning(md_escape(visible_text(plan)), icon=":material/cloud_off:")
            return
        size = f"{plan.size_bytes / 2**20:,.1f} MiB" if plan.size_bytes else "size unknown"
        st.markdown(f"**{md_escape(plan.filename)}** · {size} · licence: {md_escape(plan.licence)}  \n"
                    f"from {md_escape(plan.url)}")
        if st.button("Download", key=f"{prefix}_download", icon=":material/download:",
                     help="Fetches only this file, into the Hugging Face cache; by clicking you accept its licence."):
            bar = st.progress(0.0, text=f"downloading {plan.filename}…")
            with components.user_errors():
                download_weights(mid, lambda f, msg: bar.progress(min(max(f, 0.0), 1.0), text=msg), plan=plan)
                forget_readiness()
                st.session_state[f"_{prefix}_add"] = mid
                st.rerun()
