"""The report's charts: ranking charts from advisor.charts (a missing builder gives a note), probe curves from
ProbeResult.curve, and one model -> colour scale shared by every chart of a report."""

from __future__ import annotations

import copy
import importlib
from typing import Any

import pandas as pd

from advisor.probes.results import ProbeResult
from advisor.ranking.engine import Ranking
from advisor.ranking.needs import get_need
from advisor.ranking.pareto import front_mask
from advisor.report.model import ReportChart


def _builder(*names: str) -> Any | None:
    try:
        mod = importlib.import_module("advisor.charts")
    except ModuleNotFoundError as exc:
        if exc.name not in ("advisor.charts",):
            raise
        return None
    for n in names:
        fn = getattr(mod, n, None)
        if callable(fn):
            return fn
    return None


def _spec(name: str, title: str, make) -> ReportChart:
    """Call a chart builder; any failure becomes 'chart omitted' with the reason, never a failed report."""
    try:
        chart = make()
    except _Missing as exc:
        return ReportChart(name, title, None, f"chart omitted: {exc}")
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        return ReportChart(name, title, None, f"chart omitted: the chart builder failed ({type(exc).__name__}: {exc})")
    if chart is None:
        return ReportChart(name, title, None, "chart omitted: no data to draw")
    return ReportChart(name, title, chart.to_dict())


class _Missing(Exception):
    pass


def _need(name: str) -> Any:
    fn = _builder(name)
    if fn is None:
        raise _Missing(f"advisor.charts.{name} is not available in this version")
    return fn


def _pareto(meta: pd.DataFrame, x: pd.Series, y: pd.Series, x_lower: bool) -> pd.DataFrame:
    """pareto_front-shaped frame (model_id, value_x, value_y, on_front, paradigm, arch_type); y higher is better."""
    df = pd.DataFrame({"model_id": meta["model_id"].to_numpy(), "value_x": x.to_numpy(dtype=float),
                       "value_y": y.to_numpy(dtype=float), "paradigm": meta["paradigm"].to_numpy(),
                       "arch_type": meta["arch_type"].to_numpy()})
    vx = -df["value_x"] if x_lower else df["value_x"]
    return df.assign(on_front=front_mask(vx.to_numpy(), df["value_y"].to_numpy()))


def tradeoff_charts(ranking: Ranking, top: int = 10) -> tuple[ReportChart, ...]:
    """Per-need contributions of the shortlist; score vs size; the two heaviest needs against each other."""
    charts = [_spec("contributions", "What each need contributes to the score",
                    lambda: _need("contribution_chart")(ranking, top=top))]
    t = ranking.table
    size = t[["model_id", "score", "params_m"]].dropna()
    if len(size) >= 2:
        df = _pareto(t.loc[size.index], size["params_m"].astype(float), size["score"].astype(float), x_lower=True)
        charts.append(_spec("score_vs_params", "Score against model size",
                            lambda: _need("scatter_chart")(df, "parameters (M)", "score", log_x=True)))
    weights = sorted(((w, n) for n, w in ranking.request.weights.items() if w > 0), reverse=True)
    ns = ranking.need_scores
    if len(weights) >= 2 and all(n in ns.columns for _, n in weights[:2]):
        (_, a), (_, b) = weights[:2]
        both = ns[[a, b]].dropna()
        if len(both) >= 2:
            df = _pareto(t.set_index("model_id").loc[both.index].reset_index(), both[a], both[b], x_lower=False)
            charts.append(_spec("need_vs_need", f"{get_need(a).label} against {get_need(b).label}",
                                lambda: _need("scatter_chart")(df, get_need(a).label + " (normalised)",
                                                               get_need(b).label + " (normalised)")))
    return tuple(charts)


# Metric id -> the words on the chart's axis (never the raw id).
PROBE_METRIC_LABELS = {"top1_agreement": "Top-1 agreement", "prob_kept": "Probability kept",
                       "kl": "KL divergence from the original", "cosine": "Embedding cosine similarity"}
PROBE_COLUMNS = 3  # transform panels per row: three fit an A4 page


def probe_metric_chart(curve: pd.DataFrame, metric: str) -> Any | None:
    """One metric over the magnitude grid: a panel per transform, a line per model (mean over images).

    `curve` is `ProbeResult.curve(metric)`: model_id, family, magnitude, <metric>, n_images.
    """
    import altair as alt

    d = curve.dropna(subset=[metric])
    if d.empty:
        return None
    label = PROBE_METRIC_LABELS[metric]
    d = d.rename(columns={metric: "value"})
    return alt.Chart(d).mark_line(point=True).encode(
        x=alt.X("magnitude:Q", title="transform magnitude", scale=alt.Scale(zero=False)),
        y=alt.Y("value:Q", title=label, scale=alt.Scale(zero=False)),
        color=alt.Color("model_id:N", title="model", legend=alt.Legend(orient="bottom", direction="vertical",
                                                                         labelLimit=520)),
        tooltip=[alt.Tooltip("model_id:N", title="model"), alt.Tooltip("family:N", title="transform"),
                 alt.Tooltip("magnitude:Q", format=".3g"), alt.Tooltip("value:Q", title=label, format=".4g"),
                 alt.Tooltip("n_images:Q", title="images")],
    ).properties(width=170, height=130).facet(
        facet=alt.Facet("family:N", title=None, header=alt.Header(labelFontWeight="bold")), columns=PROBE_COLUMNS,
    ).resolve_scale(x="independent")


def probe_charts(probe: ProbeResult) -> tuple[ReportChart, ...]:
    """One chart per probe metric, from the one curve builder `ProbeResult.curve`."""
    out = []
    for metric, label in PROBE_METRIC_LABELS.items():
        out.append(_spec(f"probe_{metric}", f"{label} per transform (mean over images)",
                         lambda m=metric: probe_metric_chart(probe.curve(m), m)))
    return tuple(out)


# The shared model -> colour scale: tableau10, then ten more distinct colours (Vega's category20 darks).
MODEL_PALETTE = ("#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6",
                 "#9d755d", "#bab0ac", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                 "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _model_colour_encodings(node: Any) -> list[dict]:
    """Every `color` encoding keyed on model_id anywhere in a Vega-Lite spec (layers, facets, concats)."""
    found = []
    if isinstance(node, dict):
        enc = node.get("encoding")
        if isinstance(enc, dict) and isinstance(enc.get("color"), dict) and enc["color"].get("field") == "model_id":
            found.append(enc["color"])
        for v in node.values():
            found += _model_colour_encodings(v)
    elif isinstance(node, list):
        for v in node:
            found += _model_colour_encodings(v)
    return found


def _spec_models(spec: Any) -> list[str]:
    """model_id values in a spec's inline data (altair puts them under `datasets`)."""
    out: list[str] = []
    for rows in (spec.get("datasets") or {}).values() if isinstance(spec, dict) else ():
        for r in rows:
            m = r.get("model_id") if isinstance(r, dict) else None
            if m is not None and m not in out:
                out.append(str(m))
    return out


def share_model_colours(charts: tuple[ReportChart, ...], order: list[str] | tuple[str, ...] = ()
                        ) -> tuple[ReportChart, ...]:
    """Give every chart that colours by model the same domain and range, so a model has one colour in the report.

    The domain is the models drawn anywhere, in `order` (e.g. the shortlist's rank) first.
    """
    drawn: list[str] = []
    for c in charts:
        if c.spec is not None and _model_colour_encodings(c.spec):
            drawn += [m for m in _spec_models(c.spec) if m not in drawn]
    if not drawn:
        return charts
    domain = [m for m in order if m in drawn] + [m for m in drawn if m not in order]
    scale = {"domain": domain, "range": [MODEL_PALETTE[i % len(MODEL_PALETTE)] for i in range(len(domain))]}
    out = []
    for c in charts:
        if c.spec is None:
            out.append(c)
            continue
        spec = copy.deepcopy(dict(c.spec))
        for enc in _model_colour_encodings(spec):
            enc["scale"] = dict(scale)
        out.append(ReportChart(c.name, c.title, spec, c.note))
    return tuple(out)
