"""Evaluate: measure the shortlisted models on the user's own labelled images; the results feed the ranking."""

from __future__ import annotations

import hashlib
import math
import tempfile
import time
import weakref
from pathlib import Path

import pandas as pd
import streamlit as st

from advisor.charts.evaluation import reliability_chart
from advisor.charts.labels import CLASSIFICATION_METRICS, EVALUATION_HELP, PCT, TRANSFER_METRICS
from advisor.errors import AdvisorError
from advisor.textsafe import md_escape, md_name, visible_text
from advisor.ui import cache, components, state, views, zero_shot_panel

ZIP_KEY = "_eval_zip"  # (upload digest, TemporaryDirectory, data root or error message)
RUNNING_KEY = "_eval_running"  # set while an evaluation runs; still set on the next run = it was stopped
PREFIX = "eval"  # widget keys of the shared model input and weights download: eval_model_id, eval_get_weights, ...
SOURCES = {"zip": "Upload a zip", "folder": "Folder on this server"}
MISSING = "—"  # a figure that was not measured
INTERVAL_HELP = "Brackets: 95 % bootstrap interval over the images."
EVALUATED_KEY = "_eval_root"  # the data the shown result was measured on
WITHIN_KEY = "_eval_within"  # the folder every file of the chosen data must resolve inside
PHASE_LABELS = {"extraction": "Model outputs", "cross-validation": "Cross-validation (k-NN, linear probe)",
                "bootstrap": "Bootstrap intervals (LogME)", "report": "Figures and report"}


def fig_text(fig, scale: float) -> str:
    """'72.4 [65.0–79.1]' (value and 95 % interval), or a dash when not measured."""
    if fig is None or not math.isfinite(fig.value):
        return MISSING
    d = 1 if scale == PCT else 3
    return f"{fig.value * scale:.{d}f} [{fig.ci_low * scale:.{d}f}–{fig.ci_high * scale:.{d}f}]"


# --- data ---------------------------------------------------------------------------------------------
def zip_data(upload) -> Path | None:
    """The uploaded zip unpacked (once per upload, into this session's temporary folder) and resolved."""
    from advisor.evaluate.intake import extract_zip, release_upload

    s = st.session_state
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    held = s.get(ZIP_KEY)
    if held is None or held[0] != digest:
        if held is not None:
            held[1].cleanup()
            release_upload(Path(held[1].name) / "data")
        tmp = tempfile.TemporaryDirectory(prefix="advisor-eval-")
        dest = Path(tmp.name) / "data"
        weakref.finalize(tmp, release_upload, dest)  # the session ends: its bytes go back to the budget
        try:
            got: Path | str = extract_zip(data, dest)
        except AdvisorError as exc:
            got = str(exc)
        s[ZIP_KEY] = held = (digest, tmp, got)
    if isinstance(held[2], str):
        st.error(md_escape(visible_text(held[2])), icon=":material/folder_zip:")
        return None
    s[WITHIN_KEY] = str(Path(held[1].name) / "data")
    return held[2]


def choose_data() -> Path | None:
    """A zip upload or a server folder: returns the resolved data (folder or CSV), or None with a message."""
    from advisor.evaluate.intake import MAX_ZIP_BYTES, MAX_ZIP_FILES, server_folder, server_folders_root

    s = st.session_state
    allowed = server_folders_root()
    s.setdefault(state.EVAL_SOURCE, "zip")
    if allowed is not None:
        st.radio("Your labelled images", list(SOURCES), format_func=SOURCES.get, key=state.EVAL_SOURCE,
                 horizontal=True)
    if s[state.EVAL_SOURCE] == "zip" or allowed is None:
        upload = st.file_uploader("A zip: one folder per class, or images and a labels CSV (path,label)",
                                  type=["zip"], key=state.EVAL_UPLOAD,
                                  help=f"At most {MAX_ZIP_FILES:,} files and {MAX_ZIP_BYTES / 2**30:.0f} GiB "
                                       "unpacked.")
        return zip_data(upload) if upload is not None else None
    s.setdefault(state.EVAL_FOLDER, "")
    st.text_input("Folder on this server", key=state.EVAL_FOLDER, placeholder=str(allowed / "my_photos"),
                  help=f"A folder under {allowed} with one subfolder per class, or with images and one CSV with "
                       "columns path,label.")
    if not s[state.EVAL_FOLDER].strip():
        return None
    try:
        s[WITHIN_KEY] = str(allowed)
        return server_folder(s[state.EVAL_FOLDER], allowed)
    except AdvisorError as exc:
        st.error(md_escape(visible_text(str(exc))), icon=":material/folder_off:")
        return None


def describe_data(root: Path) -> int:
    """A caption with the number of images and classes; returns the image count (0 when unreadable)."""
    from advisor.evaluate.data import load_labelled_cached

    try:
        labelled = load_labelled_cached(root, within=st.session_state.get(WITHIN_KEY))
    except AdvisorError as exc:
        st.error(md_escape(visible_text(str(exc))), icon=":material/error:")
        return 0
    how = "ImageNet classes" if labelled.imagenet is not None else "your own label set (transfer of features)"
    st.caption(f"{len(labelled.samples):,} image(s) in {len(labelled.classes):,} class(es): {md_escape(how)}.")
    notes = [p for p in labelled.problems if p.startswith("note:")]
    skipped = [p for p in labelled.problems if not p.startswith("note:")]
    for note in notes:
        st.caption(md_escape(visible_text(note)))
    if skipped:
        with st.expander(f"Rows or folders skipped ({len(skipped)} message(s))", icon=":material/warning:"):
            st.markdown("\n".join(f"- {md_escape(visible_text(p))}" for p in skipped))
    return len(labelled.samples)


# --- models -------------------------------------------------------------------------------------------
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
    """Evaluate with one progress bar per phase (model outputs, cross-validation, bootstrap, report) and a
    Stop button; keep the result in the session.

    Clicking Stop (or any widget) makes Streamlit stop this run at the next progress update, which every
    phase sends between its steps; finished batches stay in the evaluation cache, so running again resumes."""
    from advisor.evaluate.run import evaluate

    s = st.session_state
    cancel_slot.button("Stop", key=state.EVAL_CANCEL, icon=":material/stop:")
    box = st.container(border=True)
    bars = {p: box.progress(0.0, text=f"{label}: waiting") for p, label in PHASE_LABELS.items()}
    t0 = time.monotonic()
    started: dict[str, float] = {}

    def phase(name: str, f: float, msg: str) -> None:
        now = time.monotonic()
        t = started.setdefault(name, now)
        eta = f" · about {(now - t) * (1 - f) / f:,.0f} s left" if 0 < f < 1 and now - t > 2 else ""
        label = PHASE_LABELS.get(name, name)
        if name == "report":  # phases that never started are not needed for this label set
            for p in [p for p in PHASE_LABELS if p not in started and p in bars]:
                bars[p].progress(1.0, text=f"{PHASE_LABELS[p]}: not needed for this label set")
                started[p] = now
        bars[name].progress(f, text=f"{label}: {md_escape(visible_text(msg))} · {now - t0:,.0f} s{eta}")

    s[RUNNING_KEY] = True
    s[EVALUATED_KEY] = str(root)
    result = evaluate(root, models, families=families, published_top1=published_top1(models), phases=phase,
                      within=s.get(WITHIN_KEY), **zero_shot_panel.run_options())
    s[RUNNING_KEY] = False
    box.empty()
    cancel_slot.empty()
    s[state.EVAL_RESULT] = result


# --- results ------------------------------------------------------------------------------------------
OWN_LABELS = "n/a (own labels)"  # a figure that needs ImageNet labels, on the user's own label set
PUBLISHED = "published ImageNet top-1 %"


def _row_metrics(m) -> dict[str, str]:
    """Every figure of one model, labelled; figures of the other label set say why they are absent."""
    row = {}
    for k, (label, sc) in CLASSIFICATION_METRICS.items():
        row[label] = OWN_LABELS if m.task == "transfer" else fig_text(m.metrics.get(k), sc)
    row.update({label: fig_text(m.metrics.get(k), sc) for k, (label, sc) in TRANSFER_METRICS.items()})
    return row


def summary_frames(result) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the table that fits the results column at 1,280 px, every figure for the details view).

    The first holds what decides between models for this label set: top-1 and ECE on ImageNet labels, k-NN,
    linear probe and LogME on an own label set, always next to the published ImageNet top-1. Columns no
    model has a figure for are left out of both."""
    own = result.label_set == "own"
    rows = []
    for m in result.models:
        rows.append({"model": m.model_id, "images": m.n_images,
                     "correct": OWN_LABELS if m.correct is None else f"{m.correct:,}", **_row_metrics(m),
                     PUBLISHED: "—" if m.published_top1 is None else components.fmt_num(m.published_top1)})
    full = pd.DataFrame(rows)
    measured = [c for c in full.columns if not full[c].isin([MISSING, OWN_LABELS]).all()]
    full = full[[c for c in full.columns if c in measured or c in ("model", PUBLISHED)]]
    keys = ([TRANSFER_METRICS[k][0] for k in ("knn_top1", "linear_probe_top1", "logme")] if own else
            [CLASSIFICATION_METRICS[k][0] for k in ("top1", "ece")])
    main = full[[c for c in ("model", "images", *keys, PUBLISHED) if c in full.columns]]
    return main, full


# Short headers and widths: the summary fits the results column (about 630 px) at 1,280 px; the help names
# each figure in full. Figures on a 0-1 scale ("0.154 [0.128–0.239]") need more room than percentages.
FIGURE_PX, WIDE_FIGURE_PX, PUBLISHED_PX, ROOM_PX = 110, 130, 115, 630


def _figure_px(column: str, frame: pd.DataFrame | None) -> int:
    if frame is not None and column in frame and frame[column].astype(str).str.len().max() > 17:
        return WIDE_FIGURE_PX
    return FIGURE_PX


def summary_columns(columns, frame: pd.DataFrame | None = None) -> dict:
    """Column settings for a summary table: figures at a fixed width, the model column gets what is left."""
    figures = {c: _figure_px(c, frame) for c in columns if c not in ("model", "images", "correct", PUBLISHED)}
    images_px = 50 if "images" in columns else 0
    return {"model": st.column_config.TextColumn(width=max(150, ROOM_PX - images_px - PUBLISHED_PX
                                                           - sum(figures.values()))),
            "images": st.column_config.NumberColumn(width=50),
            **{c: st.column_config.TextColumn(width=w) for c, w in figures.items()},
            PUBLISHED: st.column_config.TextColumn("published top-1 %", width=PUBLISHED_PX,
                                                   help="The model's published ImageNet top-1 (%), from the store, "
                                                        "next to what you measured here.")}


def figures_help(columns) -> str:
    """Help for the figures a table shows, and only those."""
    return " ".join([EVALUATION_HELP[c] for c in EVALUATION_HELP if c in columns] + [INTERVAL_HELP])


def show_model(m) -> None:
    """One model's detail: per-class accuracy, confusions by class name, invariance with labels, notes."""
    st.caption(f"weights: {m.weights} · {m.n_images} image(s) · task: {m.task}")
    if m.per_class:
        left, right = st.columns(2)
        pc = pd.DataFrame(m.per_class).sort_values(["accuracy", "class"])[["class", "n", "correct", "accuracy"]]
        left.markdown("**Per-class accuracy** (worst first)")
        left.dataframe(pc, hide_index=True, placeholder="—", width="stretch", height=260, column_config={
            "class": st.column_config.TextColumn(width=140), "n": st.column_config.NumberColumn(width=35),
            "correct": st.column_config.NumberColumn(width=55),
            "accuracy": st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0, width=80)})
        right.markdown("**Most common confusions**")
        if m.confusions:
            right.dataframe(pd.DataFrame(m.confusions).rename(columns={"count": "images"}), hide_index=True,
                            placeholder="—", width="stretch", height=260, column_config={
                                "true": st.column_config.TextColumn(width=105),
                                "predicted": st.column_config.TextColumn(width=105),
                                "images": st.column_config.NumberColumn(width=55)})
        else:
            right.caption("No confusions: every image was classified right.")
    if m.invariance:
        st.markdown("**Invariance with labels** (accuracy kept under each transformation, and agreement with "
                    "the untransformed prediction)")
        inv = pd.DataFrame([{"family": p.family, "magnitude": f"{p.magnitude:g}" + (" (untransformed)" if p.identity
                                                                                    else ""),
                             "top-1 %": fig_text(p.top1, PCT), "agreement %": fig_text(p.agreement, PCT),
                             "images": p.agreement.n} for p in m.invariance])
        st.dataframe(inv, hide_index=True, placeholder="—", width="stretch")
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
    main, full = summary_frames(result)
    # Every model measured on all the images (the heading says how many): the column would only take room.
    shown = [c for c in main.columns if c != "images" or main["images"].nunique() > 1]
    st.dataframe(main, hide_index=True, placeholder="—", width="stretch", column_order=shown,
                 column_config=summary_columns(shown, main))
    zero_shot_panel.show_run(result)
    st.caption(md_escape(figures_help(main.columns)) + (
        " Transfer: out-of-fold accuracy of frozen features (k-NN, logistic regression) and LogME, next to the "
        "published ImageNet top-1, a strong baseline for transferability." if result.label_set == "own" else ""))
    if len(full.columns) > len(main.columns):
        with st.expander("Every figure", icon=":material/table:"):
            st.dataframe(full, hide_index=True, placeholder="—", width="stretch",
                         column_config=summary_columns(full.columns, full))
            st.caption(md_escape(figures_help(full.columns)))
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
            choices = views.runnable_choices()
            options = list(choices.options)
            if state.EVAL_MODELS not in s:
                s[state.EVAL_MODELS] = list(choices.default)
            added = views.added_model(PREFIX)
            if added and added not in options:
                options.append(added)
            s[state.EVAL_MODELS] = [m for m in [*s[state.EVAL_MODELS], *([added] if added else [])] if m in options]
            st.multiselect("Models", options, key=state.EVAL_MODELS,
                           help="Models with real weights here, in the order of your current ranking.")
            asked = views.model_id_input(PREFIX, state.EVAL_MODELS)
            views.weights_offer(list(dict.fromkeys([*([asked] if asked else []), *choices.missing])), PREFIX,
                                expanded=asked is not None)
        fams = {f.name: f for f in list_families()}
        s.setdefault(state.EVAL_FAMILIES, [])
        st.multiselect("Also measure accuracy under (optional)", list(fams), key=state.EVAL_FAMILIES,
                       format_func=lambda n: fams[n].label, placeholder="no transformations")
        zero_shot_panel.render(root, list(s[state.EVAL_MODELS]), s.get(WITHIN_KEY))
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
            if root is not None and s.get(EVALUATED_KEY, str(root)) != str(root):
                st.caption(f"Showing the last evaluation, on {md_name(Path(result.data).name)}.")
            show_result(result)


render()
