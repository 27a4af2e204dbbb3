"""Probe: measure how the chosen models' predictions move when the user's own images are transformed."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from advisor.charts.labels import PROBE_METRIC_LABELS
from advisor.charts.probe import family_axes, probe_curves
from advisor.textsafe import md_escape, md_name, md_names, visible_text
from advisor.ui import components, state, views

MAX_IMAGES = 8  # per run: a 2-core CPU probes 8 images × 3 models × 3 families in about a minute
DEFAULT_FAMILIES = ("scale", "shift", "resolution")  # the study's three
DEFAULT_SAMPLE = "chelsea.png"  # the bundled cat photo
PREFIX = "probe"  # widget keys of the shared model input and weights download: probe_model_id, ...
N_CHANGES = 8  # prediction changes listed by class name
PROBE_STOP = "probe_stop"  # the Stop button shown while a probe runs
UPLOAD_SEEN = "_probe_upload_seen"  # session flag: the default sample was dropped for this upload
METRIC_HELP = {"top1_agreement": "Share of images where the model keeps the class it predicted for the "
                               "untransformed image (1 = always).",
               "prob_kept": "prob. kept: " + components.GLOSSARY["prob. kept"],
               "kl": "KL: " + components.GLOSSARY["KL"], "cosine": "cosine: " + components.GLOSSARY["cosine"]}
IMAGE_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"]


MAX_UPLOAD_BYTES = 100 * 2**20  # all uploads of one run together; checked on the sizes, before any decoding
INTAKE_KEY = "_probe_intake"  # this session's decoded images: dropped with the session, never shared


def _upload_items(uploads: list) -> list[tuple[str, int, Callable[[], bytes]]]:
    """(name, size, read) for UploadedFile objects or (name, bytes) pairs, without reading any bytes yet."""
    out = []
    for u in uploads:
        if isinstance(u, tuple):
            out.append((str(u[0]), len(u[1]), lambda b=u[1]: b))
        else:
            out.append((str(u.name), int(u.size), u.getvalue))
    return out


def _intake(name: str, data: bytes, digest: str):  # -> IntakeResult | str
    """Safe intake, memoised in this session only (a global cache kept every session's images alive)."""
    from advisor.errors import ImageIntakeError
    from advisor.probes.images import load_image

    memo = st.session_state.setdefault(INTAKE_KEY, {})
    key = (digest, name)
    if key not in memo:
        try:
            memo[key] = load_image(data, name)
        except ImageIntakeError as exc:
            memo[key] = str(exc)
    return memo[key]


def _named_message(name: str, msg: str) -> str:
    """An intake message 'name: why' as Markdown: the name isolated and escaped, the reason escaped."""
    prefix = f"{Path(name).name}: "
    if msg.startswith(prefix):
        return f"{md_name(Path(name).name)}: {md_escape(visible_text(msg[len(prefix):]))}"
    return md_escape(visible_text(msg))


def gather_images(uploads: list, samples: list[str]) -> tuple[list, list[str]]:
    """Uploaded + bundled images through the safe intake: (accepted, warnings as Markdown).

    Count and total size are checked on the declared sizes before any file is read or decoded; identical
    files are used once and said so; a bad file never stops the rest.
    """
    from advisor.probes.images import MAX_BYTES, bundled_image

    warnings: list[str] = []
    items = _upload_items(uploads) + [(n, bundled_image(n).stat().st_size, bundled_image(n).read_bytes)
                                      for n in samples]
    if len(items) > MAX_IMAGES:
        left = [n for n, _, _ in items[MAX_IMAGES:]]
        warnings.append(f"{len(items)} images given: only the first {MAX_IMAGES} are used "
                        f"({md_names(left)} left out).")
        items = items[:MAX_IMAGES]
    kept, total, too_big, over = [], 0, [], []
    for name, size, read in items:
        if size > MAX_BYTES:
            too_big.append((name, size))
        elif total + size > MAX_UPLOAD_BYTES:
            over.append(name)
        else:
            total += size
            kept.append((name, read))
    warnings += [f"Skipped {md_name(Path(n).name)}: file too large: {size / 2**20:.1f} MiB exceeds the "
                 f"{MAX_BYTES / 2**20:.0f} MiB limit" for n, size in too_big]
    if over:
        warnings.append(f"{md_names(over)} left out: all images together may be at most "
                        f"{MAX_UPLOAD_BYTES / 2**20:.0f} MiB.")
    by_digest: dict[str, list[tuple[str, bytes]]] = {}
    for name, read in kept:
        data = read()
        by_digest.setdefault(hashlib.sha256(data).hexdigest(), []).append((name, data))
    ok = []
    for digest, same in by_digest.items():
        if len(same) > 1:
            warnings.append(f"{len(same)} files have identical content: {md_names([n for n, _ in same], 8)}; "
                            "used once.")
        name, data = same[0]
        got = _intake(name, data, digest)
        if isinstance(got, str):
            warnings.append(f"Skipped {_named_message(name, got)}")
        else:
            ok.append(got)
            warnings += [f"{md_name(got.name)}: {md_escape(w)}" for w in got.warnings]
    live = set(by_digest)
    memo = st.session_state.get(INTAKE_KEY, {})
    for key in [k for k in memo if k[0] not in live]:  # forget images no longer chosen
        del memo[key]
    return ok, warnings


def _thumb(image) -> bytes:
    im = image.copy()
    im.thumbnail((320, 320))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def run(images: list, models: list[str], families: list[str]) -> None:
    """Run the probe with per-model, per-batch progress, an ETA and a Stop button; keep the result.

    Stop: a click during the run makes Streamlit end this run at the next progress update (it starts a
    fresh run at once, so a partial result could not be handed over; the page says the run was stopped).
    """
    from advisor.models.loaded import load_model
    from advisor.probes.invariance import run_probe
    from advisor.probes.transforms import transformed_strip

    holder = st.empty()  # the bar and the Stop button, removed together when the run ends
    with holder.container():
        bar = st.progress(0.0, text="Starting…")
        st.button("Stop the probe", key=PROBE_STOP, icon=":material/stop_circle:",
                  help="Ends the run at the next model or batch of images; nothing of the stopped run is kept.")
    t0 = time.monotonic()

    def progress(fraction: float, message: str) -> None:
        f = min(max(fraction, 0.0), 1.0)
        bar.progress(f, text=components.progress_text(f, message, time.monotonic() - t0))

    result = run_probe(images, models, families, progress=progress)
    view = load_model(result.models[0].model_id).view if result.models else None
    s = st.session_state
    s[state.PROBE_RESULT] = result
    s[state.PROBE_STRIPS] = {f: transformed_strip(images[0], f, view) for f in families} if images else {}
    s[state.PROBE_THUMBS] = tuple((im.name, _thumb(im.image)) for im in images)
    holder.empty()


PANEL_COLUMNS = 3  # panels per row: three fit the results column at 1,280 px


def panel_width(n_families: int, room: int = 600) -> int:
    """Width of one probe panel so that all families fit the results column at 1,280 px (axes included)."""
    return max(110, min(220, room // max(1, n_families) - 70))


def show_result(result) -> None:
    from advisor.probes.transforms import get_family, list_families

    for msg in result.errors:
        st.warning(md_escape(visible_text(msg)), icon=":material/warning:")
    random = [m.model_id for m in result.models if str(m.weights).startswith("random")]
    if random:
        st.warning(f"{', '.join(random)} ran with random weights (test architecture): not a real model, and "
                   "not fed into the ranking.", icon=":material/casino:")
    if not len(result.rows):
        st.info("Nothing was measured.")
        return
    n = len(result.images)
    st.subheader(f"Results on {n} image{'s' * (n != 1)} · {result.seconds:.1f} s")
    # One line per model, not a table: a weights path or a note is long and a table cell would cut it.
    st.markdown("\n".join(
        f"- **{md_escape(m.model_id)}** · input {m.input_size[0]}×{m.input_size[1]} · {m.precision} · weights: "
        f"{md_escape(visible_text(str(m.weights)))}" + (f" · {md_escape(visible_text(m.note))}" if m.note else "")
        for m in result.models))
    strips = st.session_state.get(state.PROBE_STRIPS) or {}
    if strips:
        st.markdown(f"**What was applied** (to {md_name(result.images[0].name)}, as the first model sees it)")
        for fam, strip in strips.items():
            f = get_family(fam)
            st.caption(f"{f.label} ({f.unit})")
            st.image([im for _, im in strip], caption=[f"{m:g}" for m, _ in strip], width=120)
    st.markdown("**How the predictions move** (mean over the images; the larger marker in each panel is "
                "the untransformed image)")
    tabs = st.tabs(list(PROBE_METRIC_LABELS.values()))
    models = [m.model_id for m in result.models]
    axes = family_axes(list_families())
    n_fams = result.rows["family"].nunique()
    for tab, metric in zip(tabs, PROBE_METRIC_LABELS, strict=True):
        tab.caption(METRIC_HELP[metric] + " Panels share one y scale; lines of different models are nudged "
                    "apart sideways so equal curves stay visible (the tooltip gives the exact magnitude).")
        chart = probe_curves(result.curve(metric), metric, models=models, families=axes,
                             panel_width=panel_width(min(n_fams, PANEL_COLUMNS)), columns=PANEL_COLUMNS)
        if chart is not None:
            tab.altair_chart(chart, width="content")
    changes = result.changes(N_CHANGES)
    st.markdown("**Predictions that changed** (most frequent first, by class name)")
    if changes:
        st.markdown("\n".join(f"- {md_escape(visible_text(c))}" for c in changes))
    else:
        st.caption("No prediction changed under these transformations.")
    st.markdown("**Invariance per model and family** (mean top-1 agreement over the transformed variants)")
    cols = {"model_id": "model", "family": "family", "n_images": "images", "invariance": "invariance",
            "mean_prob_kept": "prob. kept", "mean_kl": "KL", "mean_cosine": "cosine", "n_variants": "variants"}
    g = components.GLOSSARY
    summary = result.summary[list(cols)].rename(columns=cols)
    for c in ("prob. kept", "KL", "cosine"):  # not measured (e.g. no embeddings): a dash, never "None"
        summary[c] = [components.fmt_num(v, "", 3) for v in summary[c]]
    # What one decides by fits the results column at 1,280 px; image and variant counts go to the details.
    st.dataframe(summary, hide_index=True, placeholder="—", width="stretch",
                 column_order=["model", "family", "invariance", "prob. kept", "KL", "cosine"],
                 column_config={"model": st.column_config.TextColumn(width=230),
                                "family": st.column_config.TextColumn(width=80),
                                "invariance": st.column_config.ProgressColumn(format="percent", min_value=0.0,
                                                                              max_value=1.0, help=g["invariance"],
                                                                              width=100),
                                "prob. kept": st.column_config.TextColumn(help=g["prob. kept"], width=75),
                                "KL": st.column_config.TextColumn(help=g["KL"], width=55),
                                "cosine": st.column_config.TextColumn(help=g["cosine"], width=60)})
    with st.expander("All columns (images and variants per row)", icon=":material/table:"):
        st.dataframe(summary, hide_index=True, placeholder="—", width="stretch")
    if result.skipped:
        with st.expander(f"Variants a model could not run ({len(result.skipped)})"):
            st.write("\n".join(f"- {x}" for x in result.skipped))
    if components.measured_key():
        st.success("These invariance scores now feed the Advisor ranking as **measured here** "
                   f"(on {n} image{'s' * (n != 1)}, this session only).", icon=":material/recommend:")
        st.page_link(str(components.page_path("advisor.py")), label="See the ranking", icon=":material/recommend:")


def render() -> None:
    from advisor.probes.images import bundled_images
    from advisor.probes.transforms import list_families

    st.title("Probe invariance on your images")
    st.markdown("Apply zoom, shift, resolution, rotation and other changes to your own photos and measure how "
                "much each model's prediction moves. Only models with real weights on this machine can run.")
    s = st.session_state
    left, right = st.columns([1.6, 2.3], gap="large")  # the uploader's type list fits at 1,280 px
    with left:
        files = st.file_uploader(f"Your images (up to {MAX_IMAGES})", type=IMAGE_TYPES, accept_multiple_files=True,
                                 key=state.PROBE_UPLOAD)
        names = [p.name for p in bundled_images()]
        if state.PROBE_SAMPLES not in s:
            s[state.PROBE_SAMPLES] = [DEFAULT_SAMPLE] if DEFAULT_SAMPLE in names else names[:1]
        if files and not s.get(UPLOAD_SEEN):  # the user's own images replace the default sample (once)
            s[UPLOAD_SEEN] = True
            s[state.PROBE_SAMPLES] = []
        elif not files:
            s[UPLOAD_SEEN] = False
        st.multiselect("Sample photos (CC0)", names, key=state.PROBE_SAMPLES)
        images, notes = gather_images(list(files or []), s[state.PROBE_SAMPLES])
        for msg in notes:
            st.warning(msg, icon=":material/image_not_supported:")
        with components.user_errors():
            choices = views.runnable_choices()
            options = list(choices.options)
            if state.PROBE_MODELS not in s:
                s[state.PROBE_MODELS] = list(choices.default)
            added = views.added_model(PREFIX)
            if added and added not in options:
                options.append(added)
            s[state.PROBE_MODELS] = [m for m in [*s[state.PROBE_MODELS], *([added] if added else [])] if m in options]
            st.multiselect("Models", options, key=state.PROBE_MODELS, help="Models with real weights here, in the "
                           "order of your current ranking.")
            asked = views.model_id_input(PREFIX, state.PROBE_MODELS)
            views.weights_offer(list(dict.fromkeys([*([asked] if asked else []), *choices.missing])), PREFIX,
                                title=None if asked else f"Top-ranked models that cannot run here "
                                                         f"({len(choices.missing)}): get their weights",
                                expanded=asked is not None)
        fams = {f.name: f for f in list_families()}
        if state.PROBE_FAMILIES not in s:
            s[state.PROBE_FAMILIES] = list(DEFAULT_FAMILIES)
        st.multiselect("Transformations", list(fams), key=state.PROBE_FAMILIES,
                       format_func=lambda n: fams[n].label)
        ready = bool(images and s[state.PROBE_MODELS] and s[state.PROBE_FAMILIES])
        clicked = st.button("Run probe", key=state.PROBE_RUN, type="primary", disabled=not ready)
        st.caption(f"{len(images)} image(s) · {len(s[state.PROBE_MODELS])} model(s) · "
                   f"{len(s[state.PROBE_FAMILIES])} transformation(s)")
    with right:
        if s.get(PROBE_STOP):  # the Stop button of the run this click ended
            st.info("The probe was stopped; results shown below, if any, are from an earlier complete run.",
                    icon=":material/stop_circle:")
        if clicked:
            with components.user_errors():
                run(images, list(s[state.PROBE_MODELS]), list(s[state.PROBE_FAMILIES]))
        result = s.get(state.PROBE_RESULT)
        if result is None:
            st.info("Choose images, models and transformations, then run the probe.", icon=":material/science:")
        else:
            show_result(result)


render()
