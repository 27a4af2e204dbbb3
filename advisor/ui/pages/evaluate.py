"""Evaluate: measure the shortlisted models on the user's own labelled images; the results feed the ranking."""

from __future__ import annotations

import hashlib
import math
import tempfile
import time
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from advisor.errors import AdvisorError
from advisor.textsafe import md_escape, md_name, visible_text
from advisor.ui import cache, components, state, zero_shot_panel

TOP_N = 10  # the obtainable top of the ranking offered as candidates
N_DEFAULT_MODELS = 2
ZIP_KEY = "_eval_zip"  # (upload digest, TemporaryDirectory, data root or error message)
PLANS_KEY = "_eval_plans"  # model id -> DownloadPlan or the message why it cannot be had
ADD_KEY = "_eval_add"  # a model just downloaded: added to the selection on the next run (before the widget)
RUNNING_KEY = "_eval_running"  # set while an evaluation runs; still set on the next run = it was stopped
SOURCES = {"zip": "Upload a zip", "folder": "Folder on this server"}
PCT, PLAIN = 100.0, 1.0
CLASSIFICATION = {"top1": ("top-1 %", PCT), "top5": ("top-5 %", PCT), "ece": ("ECE", PLAIN), "nll": ("NLL", PLAIN),
                  "brier": ("Brier", PLAIN), "aurc": ("AURC", PLAIN)}
TRANSFER = {"knn_top1": ("k-NN top-1 %", PCT), "linear_probe_top1": ("linear probe top-1 %", PCT),
            "logme": ("LogME", PLAIN)}
HELP = ("ECE: expected calibration error, 15 equal-width bins on the top probability (0 = confidence matches "
        "accuracy). NLL: mean negative log-likelihood of the true class. Brier: mean squared error of the "
        "probabilities. AURC: area under the risk-coverage curve (lower = the model knows when it is wrong). "
        "Brackets: 95 % bootstrap interval over the images.")


def fig_text(fig, scale: float) -> str:
    """'72.4 [65.0–79.1]' (value and 95 % interval), or an en dash when not measured."""
    if fig is None or not math.isfinite(fig.value):
        return "–"
    d = 1 if scale == PCT else 3
    return f"{fig.value * scale:.{d}f} [{fig.ci_low * scale:.{d}f}–{fig.ci_high * scale:.{d}f}]"


# --- data ---------------------------------------------------------------------------------------------
def zip_data(upload) -> Path | None:
    """The uploaded zip unpacked (once per upload, into this session's temporary folder) and resolved."""
    from advisor.evaluate.intake import extract_zip

    s = st.session_state
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    held = s.get(ZIP_KEY)
    if held is None or held[0] != digest:
        if held is not None:
            held[1].cleanup()
        tmp = tempfile.TemporaryDirectory(prefix="advisor-eval-")
        try:
            got: Path | str = extract_zip(data, Path(tmp.name) / "data")
        except AdvisorError as exc:
            got = str(exc)
        s[ZIP_KEY] = held = (digest, tmp, got)
    if isinstance(held[2], str):
        st.error(md_escape(visible_text(held[2])), icon=":material/folder_zip:")
        return None
    return held[2]


def choose_data() -> Path | None:
    """A zip upload or a server folder: returns the resolved data (folder or CSV), or None with a message."""
    from advisor.evaluate.intake import MAX_ZIP_BYTES, MAX_ZIP_FILES, server_folder

    s = st.session_state
    s.setdefault(state.EVAL_SOURCE, "zip")
    st.radio("Your labelled images", list(SOURCES), format_func=SOURCES.get, key=state.EVAL_SOURCE, horizontal=True)
    if s[state.EVAL_SOURCE] == "zip":
        upload = st.file_uploader("A zip: one folder per class, or images and a labels CSV (path,label)",
                                  type=["zip"], key=state.EVAL_UPLOAD,
                                  help=f"At most {MAX_ZIP_FILES:,} files and {MAX_ZIP_BYTES / 2**30:.0f} GiB "
                                       "unpacked.")
        return zip_data(upload) if upload is not None else None
    s.setdefault(state.EVAL_FOLDER, "")
    st.text_input("Folder on this server", key=state.EVAL_FOLDER, placeholder="/data/my_photos",
                  help="A folder with one subfolder per class, or with images and one CSV with columns path,label.")
    if not s[state.EVAL_FOLDER].strip():
        return None
    try:
        return server_folder(s[state.EVAL_FOLDER])
    except AdvisorError as exc:
        st.error(md_escape(visible_text(str(exc))), icon=":material/folder_off:")
        return None


def describe_data(root: Path) -> int:
    """A caption with the number of images and classes; returns the image count (0 when unreadable)."""
    from advisor.evaluate.data import load_labelled

    try:
        labelled = load_labelled(root)
    except AdvisorError as exc:
        st.error(md_escape(visible_text(str(exc))), icon=":material/error:")
        return 0
    how = "ImageNet classes" if labelled.imagenet is not None else "your own label set (transfer of features)"
    st.caption(f"{len(labelled.samples):,} image(s) in {len(labelled.classes):,} class(es): {md_escape(how)}.")
    return len(labelled.samples)


# --- models -------------------------------------------------------------------------------------------
def model_choices() -> tuple[list[str], list[str], list[str]]:
    """(options, default, missing): models with weights here in ranking order, the top ready ones by
    default, and the obtainable top-ranked models whose weights are missing (offered for download)."""
    from advisor.models.registry import DEFAULT_MODELS, loadable_model_ids
    from advisor.models.weights import ready_model_ids

    try:
        ranked = components.current_ranking().table["model_id"].tolist()
    except AdvisorError:
        ranked = []
    loadable = set(loadable_model_ids(cache.model_table()))
    top = [m for m in ranked if m in loadable][:TOP_N]
    ready = set(cache.probe_ready_ids()) | set(ready_model_ids(DEFAULT_MODELS))
    options = list(dict.fromkeys([*(m for m in ranked if m in ready), *(m for m in DEFAULT_MODELS if m in ready),
                                  *sorted(ready)]))
    default = [m for m in top if m in ready][:N_DEFAULT_MODELS] or [m for m in DEFAULT_MODELS if m in ready][:1]
    return options, default, [m for m in top if m not in ready]


def plan_for(model_id: str):  # -> DownloadPlan | str
    """Size, source and licence of a model's weights (asked once per session), or why they cannot be had."""
    from advisor.models.download import plan_download

    plans = st.session_state.setdefault(PLANS_KEY, {})
    if model_id not in plans:
        try:
            plans[model_id] = plan_download(model_id)
        except AdvisorError as exc:
            plans[model_id] = str(exc)
    return plans[model_id]


def weights_offer(missing: list[str]) -> None:
    """For a top-ranked model without weights here: what a download is, and a button to do it."""
    from advisor.models.download import download_weights

    if not missing:
        return
    with st.expander(f"Get weights for top-ranked models ({len(missing)} without weights here)",
                     icon=":material/download:"):
        mid = st.selectbox("Model", missing, key=state.EVAL_GET)
        plan = plan_for(mid)
        if isinstance(plan, str):
            st.warning(md_escape(visible_text(plan)), icon=":material/cloud_off:")
            return
        size = f"{plan.size_bytes / 2**20:,.1f} MiB" if plan.size_bytes else "size unknown"
        st.markdown(f"**{md_escape(plan.filename)}** · {size} · licence: {md_escape(plan.licence)}  \n"
                    f"from {md_escape(plan.url)}")
        if st.button("Download", key=state.EVAL_DOWNLOAD, icon=":material/download:"):
            bar = st.progress(0.0, text=f"downloading {plan.filename}…")
            with components.user_errors():
                download_weights(mid, lambda f, msg: bar.progress(min(max(f, 0.0), 1.0), text=msg), plan=plan)
                cache.probe_ready_ids.clear()
                cache.readiness.clear()
                st.session_state[ADD_KEY] = mid
                st.rerun()


def published_top1(model_ids: list[str]) -> dict[str, float]:
    """The store's published ImageNet top-1 (%) per model, where it has one (shown next to transfer)."""
    from advisor.ranking.pareto import axis_values

    try:
        vals = axis_values(cache.get_data(), "imagenet_top1", "", pd.Index(model_ids))
    except (AdvisorError, KeyError):
        return {}
    return {r.model_id: float(r.value) for r in vals.itertuples() if pd.notna(r.value)}


# --- run ----------------------------------------------------------------------------------------------
def run(root: Path, models: list[str], families: list[str], cancel_slot) -> None:
    """Evaluate with a progress bar (model, shard, ETA) and a Cancel button; keep the result in the session.

    Clicking Cancel (or any widget) makes Streamlit stop this run at the next progress update; finished
    batches stay in the evaluation cache, so running again resumes."""
    from advisor.evaluate.run import evaluate

    s = st.session_state
    cancel_slot.button("Cancel", key=state.EVAL_CANCEL, icon=":material/stop:")
    bar = st.progress(0.0, text="Starting…")
    t0 = time.monotonic()

    def progress(f: float, msg: str) -> None:
        elapsed = time.monotonic() - t0
        eta = f" · about {elapsed * (1 - f) / f:,.0f} s left" if 0 < f < 1 else ""
        bar.progress(min(max(f, 0.0), 1.0), text=f"{msg} · {elapsed:,.0f} s{eta}")

    s[RUNNING_KEY] = True
    result = evaluate(root, models, families=families, published_top1=published_top1(models), progress=progress,
                      **zero_shot_panel.run_options())
    s[RUNNING_KEY] = False
    bar.empty()
    cancel_slot.empty()
    s[state.EVAL_RESULT] = result


# --- results ------------------------------------------------------------------------------------------
def reliability_chart(result) -> alt.Chart | None:
    rows = [{"model": m.model_id, "confidence": b["confidence"], "accuracy": b["accuracy"], "images": b["count"]}
            for m in result.models for b in m.reliability if b["count"]]
    if not rows:
        return None
    d = pd.DataFrame(rows)
    diag = alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})).mark_line(
        color="#999", strokeDash=[4, 4]).encode(x="x:Q", y="y:Q")
    scale = alt.Scale(domain=[0, 1])
    colour = alt.Color("model:N", scale=components_colours(result),
                       legend=alt.Legend(orient="bottom", columns=1, title=None, labelLimit=320))
    base = alt.Chart(d).encode(x=alt.X("confidence:Q", scale=scale, title="mean confidence in the bin"),
                               y=alt.Y("accuracy:Q", scale=scale, title="accuracy in the bin"), color=colour)
    line = base.mark_line(strokeWidth=1.5, opacity=0.7)
    pts = base.mark_circle(opacity=0.9).encode(
        size=alt.Size("images:Q", title="images in the bin", scale=alt.Scale(range=[40, 400]),
                      legend=alt.Legend(format="d", tickMinStep=1)),
        tooltip=["model", alt.Tooltip("confidence:Q", format=".3f"), alt.Tooltip("accuracy:Q", format=".3f"),
                 "images"])
    return (diag + line + pts).properties(height=320, title="Reliability (15 equal-width bins)")


def components_colours(result) -> alt.Scale:
    from advisor.charts.core import model_colour_scale

    return model_colour_scale([m.model_id for m in result.models])


def summary_frame(result) -> pd.DataFrame:
    rows = []
    for m in result.models:
        row = {"model": m.model_id, "task": m.task, "images": m.n_images,
               "correct": m.correct if m.correct is not None else None}
        metrics = CLASSIFICATION if m.task != "transfer" else {}
        row.update({label: fig_text(m.metrics.get(k), sc) for k, (label, sc) in metrics.items()})
        row.update({label: fig_text(m.metrics.get(k), sc) for k, (label, sc) in TRANSFER.items()})
        row["published ImageNet top-1 %"] = components.fmt_num(m.published_top1)
        rows.append(row)
    return pd.DataFrame(rows)


def show_model(m) -> None:
    """One model's detail: per-class accuracy, confusions by class name, invariance with labels, notes."""
    st.caption(f"weights: {m.weights} · {m.n_images} image(s) · task: {m.task}")
    if m.per_class:
        left, right = st.columns(2)
        pc = pd.DataFrame(m.per_class).sort_values(["accuracy", "class"])[["class", "n", "correct", "accuracy"]]
        left.markdown("**Per-class accuracy** (worst first)")
        left.dataframe(pc, hide_index=True, width="stretch", height=260, column_config={
            "accuracy": st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0)})
        right.markdown("**Most common confusions**")
        if m.confusions:
            right.dataframe(pd.DataFrame(m.confusions).rename(columns={"count": "images"}), hide_index=True,
                            width="stretch", height=260)
        else:
            right.caption("None: every image was classified right.")
    if m.invariance:
        st.markdown("**Invariance with labels** (accuracy kept under each transformation, and agreement with "
                    "the untransformed prediction)")
        inv = pd.DataFrame([{"family": p.family, "magnitude": f"{p.magnitude:g}" + (" (untransformed)" if p.identity
                                                                                    else ""),
                             "top-1 %": fig_text(p.top1, PCT), "agreement %": fig_text(p.agreement, PCT),
                             "images": p.agreement.n} for p in m.invariance])
        st.dataframe(inv, hide_index=True, width="stretch")
    for note in m.notes:
        st.caption(f"Note: {md_escape(note)}")


def show_result(result) -> None:
    notes = [e for e in result.errors if e.startswith("note:")]
    bad = [e for e in result.errors if not e.startswith("note:")]
    for msg in notes:
        st.caption(md_escape(visible_text(msg)))
    if bad:
        with st.expander(f"Files or models that could not be used ({len(bad)})", expanded=len(bad) <= 5,
                         icon=":material/warning:"):
            st.markdown("\n".join(f"- {md_escape(visible_text(e))}" for e in bad))
    if not result.models:
        st.info("Nothing was measured.")
        return
    n = len(result.images)
    st.subheader(f"Results on {n:,} image{'s' * (n != 1)} · {len(result.classes):,} classes · "
                 f"{result.seconds:,.1f} s")
    st.dataframe(summary_frame(result), hide_index=True, width="stretch")
    zero_shot_panel.show_run(result)
    st.caption(md_escape(HELP) + (" Transfer: out-of-fold accuracy of frozen features (k-NN, logistic "
                                  "regression) and LogME, next to the published ImageNet top-1, a strong "
                                  "baseline for transferability." if result.label_set == "own" else ""))
    chart = reliability_chart(result)
    if chart is not None:
        st.altair_chart(chart, width="stretch")
        st.caption("The dashed line is perfect calibration: points below it are overconfident bins.")
    tabs = st.tabs([m.model_id for m in result.models])
    for tab, m in zip(tabs, result.models, strict=True):
        with tab:
            show_model(m)
    st.download_button("Download the result (JSON)", result.to_json(), file_name="evaluation.json",
                       mime="application/json", icon=":material/download:",
                       help="Rank with it from the command line: advisor rank --measured evaluation.json")
    if not result.measured_scores().empty:
        st.success(f"These figures now feed the Advisor ranking as **measured here** (on {n:,} "
                   f"image{'s' * (n != 1)}, with their intervals; this session only).", icon=":material/recommend:")
        st.page_link(str(components.page_path("advisor.py")), label="See the ranking", icon=":material/recommend:")


def render() -> None:
    from advisor.probes.transforms import list_families

    st.title("Evaluate on your labelled images")
    st.markdown("Measure the shortlisted models on your own photos: accuracy and calibration when your labels "
                "are ImageNet classes, how well the features transfer to your own label set otherwise, and "
                "accuracy under transformations. Every figure comes with a 95 % interval and its image count.")
    s = st.session_state
    left, right = st.columns([1.5, 2.4], gap="large")
    with left:
        root = choose_data()
        n_images = describe_data(root) if root is not None else 0
        with components.user_errors():
            options, default, missing = model_choices()
            if state.EVAL_MODELS not in s:
                s[state.EVAL_MODELS] = default
            added = s.pop(ADD_KEY, None)
            if added and added not in options:
                options.append(added)
            s[state.EVAL_MODELS] = [m for m in [*s[state.EVAL_MODELS], *([added] if added else [])] if m in options]
            st.multiselect("Models", options, key=state.EVAL_MODELS,
                           help="Models with real weights here, in the order of your current ranking.")
            weights_offer(missing)
        fams = {f.name: f for f in list_families()}
        s.setdefault(state.EVAL_FAMILIES, [])
        st.multiselect("Also measure accuracy under (optional)", list(fams), key=state.EVAL_FAMILIES,
                       format_func=lambda n: fams[n].label, placeholder="no transformations")
        zero_shot_panel.render(root, list(s[state.EVAL_MODELS]))
        ready = bool(n_images and s[state.EVAL_MODELS])
        row = st.columns(2)
        clicked = row[0].button("Evaluate", key=state.EVAL_RUN, type="primary", disabled=not ready)
        cancel_slot = row[1].empty()
        st.caption(f"{n_images:,} image(s) · {len(s[state.EVAL_MODELS])} model(s) · "
                   f"{len(s[state.EVAL_FAMILIES])} transformation(s)")
    with right:
        if s.get(RUNNING_KEY) and not clicked:
            s[RUNNING_KEY] = False
            st.info("The evaluation was stopped. Finished batches are cached: run it again to resume.",
                    icon=":material/stop_circle:")
        if clicked:
            with components.user_errors():
                run(root, list(s[state.EVAL_MODELS]), list(s[state.EVAL_FAMILIES]), cancel_slot)
            s[RUNNING_KEY] = False
        result = s.get(state.EVAL_RESULT)
        if result is None:
            st.info("Choose your labelled images and the models, then evaluate.", icon=":material/fact_check:")
        else:
            if root is not None and result.data != str(root):
                st.caption(f"Showing the last evaluation, on {md_name(Path(result.data).name)}.")
            show_result(result)


render()
