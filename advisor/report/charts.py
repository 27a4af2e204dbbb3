"""The report's charts, built by advisor.charts (imported lazily: a missing builder gives a note)."""

from __future__ import annotations

import importlib
from typing import Any

import pandas as pd

from advisor.ranking.engine import Ranking
from advisor.ranking.needs import get_need
from advisor.ranking.pareto import front_mask
from advisor.report.model import ReportChart, ReportTable

PROBE_METRICS = ("top1_agreement", "prob_kept", "cosine", "kl")
PROBE_CURVE_BUILDERS = ("probe_curves", "probe_curve_chart")


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


def probe_curves(table: ReportTable) -> pd.DataFrame | None:
    """Long frame (model_id, family, magnitude, metric, value; mean over images) from a per-variant table."""
    cols = set(table.columns)
    metrics = [m for m in PROBE_METRICS if m in cols]
    if not {"model_id", "family", "magnitude"} <= cols or not metrics:
        return None
    df = pd.DataFrame(list(table.rows), columns=list(table.columns))
    for c in ["magnitude", *metrics]:
        df[c] = pd.to_numeric(df[c], errors="coerce")
    long = df.melt(id_vars=["model_id", "family", "magnitude"], value_vars=metrics, var_name="metric")
    long = long.dropna(subset=["magnitude", "value"])
    return long.groupby(["model_id", "family", "magnitude", "metric"], as_index=False)["value"].mean()


def probe_charts(tables: tuple[ReportTable, ...]) -> tuple[ReportChart, ...]:
    out = []
    for i, t in enumerate(tables):
        df = probe_curves(t)
        if df is None:
            continue
        fn = _builder(*PROBE_CURVE_BUILDERS)
        title = f"How predictions move per transform (mean over images; {t.title})"
        if fn is None:
            out.append(ReportChart(f"probe_curves_{i}", title, None,
                                   "chart omitted: advisor.charts has no probe curve chart in this version"))
            continue
        out.append(_spec(f"probe_curves_{i}", title, lambda fn=fn, df=df: fn(df)))
    return tuple(out)
