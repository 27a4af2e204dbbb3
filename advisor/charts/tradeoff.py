"""The trade-off charts a report shows for a ranking, and the probe charts for a probe result: which charts,
on which data, with which titles. The report only turns them into specs (and notes when one cannot be drawn)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import altair as alt
import pandas as pd

from advisor.charts.core import contribution_chart, scatter_chart
from advisor.charts.labels import PROBE_METRIC_LABELS
from advisor.charts.probe import FamilyAxis, probe_curves
from advisor.probes.results import ProbeResult
from advisor.ranking.engine import Ranking
from advisor.ranking.needs import get_need
from advisor.ranking.pareto import front_mask

PROBE_COLUMNS = 3  # transform panels per row: three fit an A4 page


@dataclass(frozen=True)
class ChartView:
    """A chart to draw: machine name (also an image file's base name), title, and how to build it."""

    name: str
    title: str
    build: Callable[[], alt.TopLevelMixin | None]  # None: nothing to draw


def pareto_frame(meta: pd.DataFrame, x: pd.Series, y: pd.Series, x_lower: bool) -> pd.DataFrame:
    """pareto_front-shaped frame (model_id, value_x, value_y, on_front, paradigm, arch_type); y higher is better."""
    df = pd.DataFrame({"model_id": meta["model_id"].to_numpy(), "value_x": x.to_numpy(dtype=float),
                       "value_y": y.to_numpy(dtype=float), "paradigm": meta["paradigm"].to_numpy(),
                       "arch_type": meta["arch_type"].to_numpy()})
    vx = -df["value_x"] if x_lower else df["value_x"]
    return df.assign(on_front=front_mask(vx.to_numpy(), df["value_y"].to_numpy()))


def tradeoff_views(ranking: Ranking, top: int = 10) -> tuple[ChartView, ...]:
    """Per-need contributions of the shortlist; score vs size; the two heaviest needs against each other.
    The scatters name the models on their Pareto front."""
    views = [ChartView("contributions", "What each need contributes to the score",
                       lambda: contribution_chart(ranking, top=top))]
    t = ranking.table
    size = t[["model_id", "score", "params_m"]].dropna()
    if len(size) >= 2:
        df = pareto_frame(t.loc[size.index], size["params_m"].astype(float), size["score"].astype(float),
                          x_lower=True)
        views.append(ChartView("score_vs_params", "Score against model size",
                               lambda: scatter_chart(df, "parameters (M)", "score", log_x=True, label_front=True)))
    weights = sorted(((w, n) for n, w in ranking.request.weights.items() if w > 0), reverse=True)
    ns = ranking.need_scores
    if len(weights) >= 2 and all(n in ns.columns for _, n in weights[:2]):
        (_, a), (_, b) = weights[:2]
        both = ns[[a, b]].dropna()
        if len(both) >= 2:
            df2 = pareto_frame(t.set_index("model_id").loc[both.index].reset_index(), both[a], both[b],
                               x_lower=False)
            la, lb = get_need(a).label, get_need(b).label
            views.append(ChartView("need_vs_need", f"{la} against {lb}",
                                   lambda: scatter_chart(df2, la + " (normalised)", lb + " (normalised)",
                                                         label_front=True)))
    return tuple(views)


def probe_views(probe: ProbeResult, families: dict[str, FamilyAxis] | None = None,
                panel_width: int = 170) -> tuple[ChartView, ...]:
    """One chart per probe metric, from the one curve builder `ProbeResult.curve`."""
    models = [m.model_id for m in probe.models]
    return tuple(ChartView(f"probe_{metric}", f"{label} per transform (mean over images)",
                           lambda m=metric: probe_curves(probe.curve(m), m, models=models, families=families,
                                                         panel_width=panel_width, columns=PROBE_COLUMNS))
                 for metric, label in PROBE_METRIC_LABELS.items())
