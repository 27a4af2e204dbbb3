"""The report's charts as Vega-Lite specs: the charts themselves come from `advisor.charts`; here a chart that
cannot be drawn becomes a note, and every chart of a report gets one model -> colour scale."""

from __future__ import annotations

from advisor.charts.palette import recolour_specs
from advisor.charts.probe import family_axes
from advisor.charts.tradeoff import ChartView, probe_views, tradeoff_views
from advisor.probes.results import ProbeResult
from advisor.probes.transforms import list_families
from advisor.ranking.engine import Ranking
from advisor.report.model import ReportChart


def _spec(view: ChartView) -> ReportChart:
    """Build one chart; any failure becomes 'chart omitted' with the reason, never a failed report."""
    try:
        chart = view.build()
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        return ReportChart(view.name, view.title, None,
                           f"chart omitted: the chart builder failed ({type(exc).__name__}: {exc})")
    if chart is None:
        return ReportChart(view.name, view.title, None, "chart omitted: no data to draw")
    return ReportChart(view.name, view.title, chart.to_dict())


def tradeoff_charts(ranking: Ranking, top: int = 10) -> tuple[ReportChart, ...]:
    return tuple(_spec(v) for v in tradeoff_views(ranking, top))


def probe_charts(probe: ProbeResult) -> tuple[ReportChart, ...]:
    return tuple(_spec(v) for v in probe_views(probe, family_axes(list_families())))


def share_model_colours(charts: tuple[ReportChart, ...], order: list[str] | tuple[str, ...] = ()
                        ) -> tuple[ReportChart, ...]:
    """Every chart that colours by model gets the same scale, so a model has one colour in the report
    (the app's colour for it: `advisor.charts.palette`); `order` (the shortlist's ranks) leads the legend."""
    specs = recolour_specs([c.spec for c in charts], order)
    return tuple(c if c.spec is None else ReportChart(c.name, c.title, s, c.note)
                 for c, s in zip(charts, specs, strict=True))
