"""Recommendation reports: a ranking session as Markdown, self-contained HTML, A4 PDF or versioned JSON.

Modules: model (the Report record, reading a JSON report's request), build (build_report), charts (the
report's charts from advisor.charts, as specs), probes (the probe section's tables), view (what every format
shows, in order), render (charts and thumbnails offline), markdown / html / pdf / json_io (the formats),
formats (their table and write_report), write (safe writing). `advisor report` lives in advisor.cli.report.
"""
