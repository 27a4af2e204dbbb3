"""Widget and session-state keys, their defaults, and the URL query string that mirrors them.

Every persisted key is also a query parameter of the same name, so a copied link reproduces the view.
Only values that differ from the defaults are written, which keeps links short.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass

from advisor.errors import UnknownNameError
from advisor.ranking.needs import EXCLUSIVE, list_needs
from advisor.ranking.presets import get_preset, list_presets
from advisor.ranking.request import (
    DEFAULT_DRAWS,
    DEFAULT_SEED,
    DEFAULT_TOP_K,
    LIMITS,
    Limits,
    RankRequest,
    limit_spec,
)

# --- keys ---------------------------------------------------------------------------------------
PRESET = "preset"
CUSTOM = "custom"
DEFAULT_PRESET = "imagenet-like"
SHAPE_WEIGHT = "w_shape_texture"  # one slider for the exclusive shape/texture pair
SHAPE_DIR = "shape_dir"  # "shape" or "texture"
# Hard limits: one session/URL key per entry of the LIMITS spec that has a widget here.
UI_LIMITS = tuple(s for s in LIMITS if s.rule.widget)
LIMIT_KEYS = {s.name: s.url for s in UI_LIMITS}
MAX_PARAMS = limit_spec("max_params_m").url
MAX_GMACS = limit_spec("max_gmacs").url
MIN_TP_CPU = limit_spec("min_throughput_cpu").url
MIN_TP_GPU = limit_spec("min_throughput_gpu").url
PARADIGMS = limit_spec("paradigms").url
LICENCES = limit_spec("weights_licences").url
EXCLUDE_NC = limit_spec("exclude_non_commercial").url
PROBE_READY = limit_spec("probe_ready_ids").url
MIN_COVERAGE = "min_coverage"
PREDICT = "predict"  # predict needs without data (RankRequest.predict); in the URL as predict=0 when off
COMPARE = "compare"
COMPARE_VIEW = "compare_view"  # the detail view shown on the Compare page (session only)
CARD = "model"
LINK_KEYS = (CARD,)  # values a link to a page may carry into it (read from the URL when the page is opened)
X_PROP, X_ITEM, Y_PROP, Y_ITEM = "x", "x_item", "y", "y_item"
LOG_X, LOG_Y = "log_x", "log_y"
SEARCH = "q"
EX_PARADIGMS = "ex_paradigm"
STORE = "_user_state"  # the user's choices as a plain dict: not a widget key, so no page change clears it
PAGE = "_page"  # the page file this run draws (the last run's page until keep_state runs)
# Probe and report pages: session only (uploads and results are never put in the URL).
PROBE_UPLOAD = "probe_upload"
PROBE_SAMPLES = "probe_samples"
PROBE_MODELS = "probe_models"
PROBE_FAMILIES = "probe_families"
PROBE_RUN = "probe_run"
PROBE_RESULT = "_probe_result"  # the last advisor.probes.results.ProbeResult
PROBE_STRIPS = "_probe_strips"  # family -> [(magnitude, PIL image)] of the first image, as the model saw it
PROBE_THUMBS = "_probe_thumbs"  # [(file name, PNG bytes)] of the probed images, for the report
# Evaluate page: session only (data, models and results never go in the URL).
EVAL_SOURCE = "eval_source"  # "zip" or "folder"
EVAL_UPLOAD = "eval_upload"
EVAL_FOLDER = "eval_folder"
EVAL_MODELS = "eval_models"
EVAL_FAMILIES = "eval_families"
EVAL_RUN = "eval_run"
EVAL_CANCEL = "eval_cancel"
EVAL_GET = "eval_get_weights"  # the model whose weights the user may download
EVAL_DOWNLOAD = "eval_download"
EVAL_RESULT = "_eval_result"  # the last advisor.evaluate.result.EvaluationResult
BENCH_RESULT = "_bench_result"  # advisor.evaluate.bench_result.BenchResult: speed measured here this session
REPORT_NOTES = "report_notes"
REPORT_UPLOAD = "report_upload"
REPORT_RESTORED = "_report_restored"  # id of the uploaded report already applied (apply once per upload)

# Request knobs shared with the CLI defaults so a preset ranks the same in both.
TOP_K, DRAWS, SEED = DEFAULT_TOP_K, DEFAULT_DRAWS, DEFAULT_SEED
SHAPE_PAIR = EXCLUSIVE[0]  # ("shape_bias", "texture_bias")
SLIDER_NEEDS = tuple(n.name for n in list_needs() if n.name not in SHAPE_PAIR)


def weight_key(need: str) -> str:
    return f"w_{need}"


FLOATS = tuple(s.url for s in UI_LIMITS if s.numeric)
LISTS = (*(s.url for s in UI_LIMITS if s.rule.widget == "multiselect"), COMPARE, EX_PARADIGMS)
BOOLS = (*(s.url for s in UI_LIMITS if s.rule.widget == "checkbox"), LOG_X, LOG_Y, PREDICT)
LIMIT_STATE_KEYS = tuple(s.url for s in UI_LIMITS)
STRINGS = (PRESET, SHAPE_DIR, CARD, X_PROP, X_ITEM, Y_PROP, Y_ITEM, SEARCH)
WEIGHTS = (*[weight_key(n) for n in SLIDER_NEEDS], SHAPE_WEIGHT)
PERSISTED = (*STRINGS, *FLOATS, *LISTS, *BOOLS, *WEIGHTS, MIN_COVERAGE)
KEPT = (COMPARE_VIEW, PROBE_SAMPLES, PROBE_MODELS, PROBE_FAMILIES, EVAL_SOURCE, EVAL_FOLDER, EVAL_MODELS,
        EVAL_FAMILIES, REPORT_NOTES)  # kept across pages, not in the URL
TRACKED = (*PERSISTED, *KEPT)  # every key the store keeps for the session

@dataclass(frozen=True)
class PageSpec:
    """One app page: its file in ui/pages, title, icon and the widget keys it owns (all of them in TRACKED,
    so `keep_state` restores them when the page is opened again)."""

    file: str
    title: str
    icon: str
    keys: tuple[str, ...] = ()


# Adding a page is one entry here (and its AppTest smoke test runs by itself); the first is the landing page.
PAGES: tuple[PageSpec, ...] = (
    PageSpec("advisor.py", "Advisor", ":material/recommend:",
             (PRESET, SHAPE_DIR, *WEIGHTS, *LIMIT_STATE_KEYS, MIN_COVERAGE, PREDICT)),
    PageSpec("explore.py", "Explore", ":material/scatter_plot:",
             (X_PROP, X_ITEM, Y_PROP, Y_ITEM, LOG_X, LOG_Y, SEARCH, EX_PARADIGMS)),
    PageSpec("compare.py", "Compare", ":material/compare:", (COMPARE, COMPARE_VIEW)),
    PageSpec("model_card.py", "Model card", ":material/description:", (CARD,)),
    PageSpec("probe.py", "Probe", ":material/science:", (PROBE_SAMPLES, PROBE_MODELS, PROBE_FAMILIES)),
    PageSpec("evaluate.py", "Evaluate", ":material/fact_check:",
             (EVAL_SOURCE, EVAL_FOLDER, EVAL_MODELS, EVAL_FAMILIES)),
    PageSpec("report.py", "Report", ":material/summarize:", (REPORT_NOTES,)),
)


def defaults() -> dict[str, object]:
    """The state of a fresh session (the default preset applied)."""
    d: dict[str, object] = {k: None for k in (*FLOATS, CARD)}
    d.update({k: [] for k in LISTS})
    d.update({k: False for k in BOOLS})
    d[PREDICT] = True
    d.update({PRESET: DEFAULT_PRESET, SHAPE_DIR: "shape", SEARCH: "", MIN_COVERAGE: 0.0,
              X_PROP: "params_m", X_ITEM: "", Y_PROP: "imagenet_top1", Y_ITEM: "", LOG_X: True})
    d.update(preset_values(DEFAULT_PRESET))
    return d


def preset_values(name: str) -> dict[str, object]:
    """Slider and limit values a preset sets; limits it does not name are cleared."""
    out: dict[str, object] = {k: 0.0 for k in WEIGHTS}
    out.update({k: None for k in FLOATS})
    out[SHAPE_DIR] = "shape"
    if name == CUSTOM:
        return {}
    p = get_preset(name)
    if p.mode != "advisor":  # QUBA mode ignores the sliders: leave them as they are
        return {}
    for need, w in p.weights.items():
        if need in SHAPE_PAIR:
            out[SHAPE_WEIGHT] = float(w)
            out[SHAPE_DIR] = "shape" if need == "shape_bias" else "texture"
        else:
            out[weight_key(need)] = float(w)
    for field, value in p.limits.items():
        spec = limit_spec(field)
        if field in LIMIT_KEYS:
            out[spec.url] = float(value) if spec.numeric else value  # type: ignore[arg-type]
    return out


def apply_preset(state: MutableMapping, name: str) -> None:
    state.update(preset_values(name))
    state[PRESET] = name


# --- the store: what the user set, kept outside the widgets --------------------------------------------------
def page_keys(file: str) -> tuple[str, ...]:
    """The widget keys of the page in `file` (none for an unknown page)."""
    return next((p.keys for p in PAGES if p.file == file), ())


def keep_state(session: MutableMapping, page: str = "", query: Mapping[str, list[str]] | None = None
               ) -> dict[str, object]:
    """Sync the user's store and the widget keys at the start of a run of `page` (a PageSpec file).

    Streamlit drops a keyed widget's value as soon as its page is left, so the values live in a plain dict
    (made from the defaults and the URL on the session's first run). Only the page's own widgets can change
    a value: while the user stays on a page its live widget keys update the store; when a page is opened, its
    keys are assigned from the store (a fresh assignment is what makes Streamlit send the value to the
    browser), and every other page's keys are assigned from the store in every run, for code that reads
    them. Live widgets are never re-assigned: that would race with a newer value from the browser.
    """
    store = session.get(STORE)
    if not isinstance(store, dict):
        store = defaults()
        store.update(state_from_query(query or {}))
        store.update({k: session[k] for k in TRACKED if k in session})  # set before the first run (tests)
        session[STORE] = store
    entered = session.get(PAGE) != page  # opened by this run: its widgets are not in the browser yet
    session[PAGE] = page
    own = set(page_keys(page))
    if entered and query:  # a page link that names what to open (e.g. the Advisor's "Open model card")
        for key in own & set(LINK_KEYS) & set(query):
            try:
                store[key] = _parse(key, list(query[key]))
            except ValueError:
                continue
    for key in TRACKED:
        if key in own and not entered and key in session:
            store[key] = session[key]
        elif key in store and (entered or key not in own or key not in session):
            session[key] = store[key]  # assigned in this run: Streamlit's end-of-run cleanup leaves it alone
        elif key in session:  # a page's own value the store has no default for (e.g. the Probe page's models)
            store[key] = session[key]
    return store


def remember(session: MutableMapping, values: Mapping[str, object] | None = None) -> dict[str, object]:
    """Put `values` in the session and the store, and the current page's widget values in the store.

    Called after a page has drawn (and by fragments, whose reruns skip the app's start), and by a page that
    sets another page's values (they must reach the store: that page's stale keys never update it).
    """
    store = session.get(STORE)
    if not isinstance(store, dict):
        store = keep_state(session)
    if values:
        session.update(values)
        store.update(values)
    for key in page_keys(str(session.get(PAGE, ""))):
        if key in session:
            store[key] = session[key]
    return store


def user_state(session: Mapping) -> Mapping:
    """The user's values: the store when the app made one, else the mapping itself (tests, plain dicts)."""
    store = session.get(STORE)
    return store if isinstance(store, dict) else session


def weights_from_state(state: Mapping) -> dict[str, float]:
    # Rounded off the float noise of slider steps (0.8000000000000002), so a slider at 0.8 asks what
    # `--need x=0.8` asks; the engine puts the needs in one order.
    w = {n: round(float(state.get(weight_key(n)) or 0.0), 9) for n in SLIDER_NEEDS}
    shape = round(float(state.get(SHAPE_WEIGHT) or 0.0), 9)
    w["texture_bias" if state.get(SHAPE_DIR) == "texture" else "shape_bias"] = shape
    return {k: v for k, v in w.items() if v > 0}


def limits_from_state(state: Mapping, probe_ready_ids: frozenset[str] | None = None) -> Limits:
    """The Limits the widgets describe, read through the LIMITS spec."""
    kw: dict[str, object] = {}
    for spec in UI_LIMITS:
        kw[spec.name] = spec.rule.from_widget(spec, state.get(spec.url), probe_ready_ids)
    return Limits(**kw)


def request_from_state(state: Mapping, probe_ready_ids: frozenset[str] | None = None) -> RankRequest:
    """The RankRequest the Advisor page's widgets describe (same knobs as `advisor rank`)."""
    mode = "quba" if state.get(PRESET) == "quba" else "advisor"
    return RankRequest(weights=weights_from_state(state) if mode == "advisor" else {},
                       limits=limits_from_state(state, probe_ready_ids),
                       min_coverage=float(state.get(MIN_COVERAGE) or 0.0), top_k=TOP_K, draws=DRAWS, seed=SEED,
                       mode=mode, predict=bool(state.get(PREDICT, True)))


def state_from_request(request: RankRequest) -> tuple[dict[str, object], list[str]]:
    """Advisor-page values that reproduce a saved request, and notes on what the controls cannot show.

    Weights above 1 are scaled down together (the ranking depends only on their ratios). The candidate
    list (`only_model_ids`, e.g. a licence filter) is left to the caller, which knows the store.
    """
    notes: list[str] = []
    out: dict[str, object] = {}
    if request.mode == "quba":
        out[PRESET] = "quba"
    else:
        out.update({k: 0.0 for k in WEIGHTS})
        out[PRESET] = CUSTOM
        w = {k: float(v) for k, v in request.weights.items() if float(v) > 0}
        top = max(w.values(), default=0.0)
        scale = 1.0 / top if top > 1.0 else 1.0
        if scale != 1.0:
            notes.append(f"weights scaled by {scale:.3g} to fit the sliders (the ranking uses only their ratios)")
        for need, v in w.items():
            if need in SHAPE_PAIR:
                out[SHAPE_WEIGHT] = v * scale
                out[SHAPE_DIR] = "shape" if need == "shape_bias" else "texture"
            elif need in SLIDER_NEEDS:
                out[weight_key(need)] = v * scale
            else:
                notes.append(f"unknown need '{need}' ignored")
    lim = request.limits
    for spec in UI_LIMITS:
        out[spec.url] = spec.rule.to_widget(getattr(lim, spec.name))
    out[MIN_COVERAGE] = float(request.min_coverage)
    out[PREDICT] = bool(request.predict)
    if lim.probe_ready_ids is not None:
        notes.append("'only models that can be probed live' is re-checked on this machine")
    if lim.only_model_ids:
        notes.append(f"its candidate list ({len(lim.only_model_ids)} models) has no control here; not applied")
    base = RankRequest(weights={})
    knobs = {"top_k": TOP_K, "draws": DRAWS, "seed": SEED, "normalization": base.normalization,
             "concentration": base.concentration, "stable_share": base.stable_share}
    differ = [f"{k}={getattr(request, k)}" for k, v in knobs.items() if getattr(request, k) != v]
    if differ:
        notes.append("the app ranks with its own settings; the report used " + ", ".join(differ))
    return out, notes


# --- URL ------------------------------------------------------------------------------------------
def _parse(key: str, values: list[str]) -> object:
    if key in LISTS:
        return [v for v in values if v]
    raw = values[-1] if values else ""
    if key in BOOLS:
        return raw.lower() in ("1", "true", "yes", "on")
    if key in FLOATS or key in WEIGHTS or key == MIN_COVERAGE:
        value = float(raw)
        if not math.isfinite(value) or value < 0:  # ?max_params=nan must not become "no parameter data"
            raise ValueError(f"{key}={raw!r} is not a finite non-negative number")
        return value
    return raw


def state_from_query(query: Mapping[str, list[str]]) -> dict[str, object]:
    """Session values from a query string (key -> all its values); bad values are skipped.

    A named preset is applied first, then explicit values override it; weights given without a preset
    mean a custom mix where unnamed needs weigh zero.
    """
    out: dict[str, object] = {}
    preset = (query.get(PRESET) or [""])[-1]
    has_weights = any(k in query for k in WEIGHTS)
    if preset and preset != CUSTOM:
        try:
            out.update(preset_values(preset))
            out[PRESET] = preset
        except UnknownNameError:  # an unknown preset in a link falls back to the defaults
            preset = ""
    if has_weights and (not preset or preset == CUSTOM):
        out.update({k: 0.0 for k in WEIGHTS})
        out[PRESET] = CUSTOM
    for key, values in query.items():
        if key not in PERSISTED or key == PRESET:
            continue
        try:
            value = _parse(key, list(values))
        except ValueError:
            continue
        if key in WEIGHTS or key == MIN_COVERAGE:
            value = min(max(float(value), 0.0), 1.0)  # type: ignore[arg-type]
        out[key] = value
    return out


def query_from_state(state: Mapping) -> dict[str, str | list[str]]:
    """Query parameters for the non-default part of the state."""
    base = defaults()
    preset = state.get(PRESET, DEFAULT_PRESET)
    if preset != CUSTOM:
        base.update(preset_values(str(preset)))
    out: dict[str, str | list[str]] = {}
    for key in PERSISTED:
        if key not in state:
            continue
        v = state[key]
        if key in WEIGHTS and preset == CUSTOM:
            if v:
                out[key] = f"{float(v):g}"
            continue
        if v == base.get(key) or v is None:
            continue
        if key in LISTS:
            out[key] = [str(x) for x in v]
        elif key in BOOLS:
            out[key] = "1" if v else "0"
        elif isinstance(v, float):
            out[key] = f"{v:g}"
        else:
            out[key] = str(v)
    if preset != CUSTOM and any(k in WEIGHTS for k in out):
        out[PRESET] = str(preset)  # adjusted sliders: name the preset they start from, even the default one
    return out


def preset_names() -> list[str]:
    return [p.name for p in list_presets()] + [CUSTOM]
