"""Markdown that renders on GitHub: charts and thumbnails as image files beside it, or omitted with a note."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import quote

from advisor.report import view
from advisor.report.measured import NOTE as MEASURED_NOTE
from advisor.report.model import Report
from advisor.report.probes import help_for
from advisor.report.render import RenderError, render_png
from advisor.report.write import write_assets

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def md(text: object) -> str:
    """Untrusted text as literal Markdown: HTML-escaped, Markdown syntax backslashed, one line."""
    s = html.escape(str(text), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", s).replace("\r", " ").replace("\n", " ")


def _table(cols: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(md(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(md(c) for c in r) + " |" for r in rows]
    return [*out, ""]


def markdown_bundle(report: Report, assets: str | None) -> tuple[str, dict[str, bytes]]:
    """(Markdown, {file name: bytes}); with assets=None images are omitted with a note."""
    files: dict[str, bytes] = {}
    r = report

    def image(name: str, title: str, blob_fn) -> str:
        if assets is None:
            return f"*{md(title)}: image omitted (no output folder)*"
        try:
            files[name] = blob_fn()
        except RenderError as exc:
            return f"*{md(title)}: chart omitted ({md(exc)})*"
        return f"![{md(title)}]({quote(assets)}/{quote(name)})"

    out = [f"# {md(r.title)}", "", f"*{md(view.header_line(r))}*", ""]
    if r.notes.strip():
        out += ["## Note", ""] + [f"> {md(line)}" if line.strip() else ">" for line in r.notes.splitlines()] + [""]
    out += ["## Your needs", "", *_table(*view.needs_table(r))]
    out += ["## Hard limits", ""] + ([f"- {md(x)}" for x in view.limits_lines(r)] or ["- none"]) + [""]
    out += [f"Settings: {md(view.settings_line(r))}.", ""]
    out += ["## Shortlist", "", f"{r.n_ranked} models ranked of {r.n_candidates} passing the limits.", ""]
    out += _table(*view.shortlist_table(r))
    out += [f"*{md(view.stability_sentence(r))}*", ""]
    out += [f"- note: {md(n)}" for n in r.ranking_notes] + ([""] if r.ranking_notes else [])
    if r.reasons:
        out += ["## Why the top picks", ""] + [f"- **{md(m)}**: {md(t)}" for m, t in r.reasons.items()] + [""]
    if r.head_to_head:
        out += ["## Head-to-head of the top two", "", md(r.head_to_head["text"]), "", *_table(*view.h2h_table(r))]
    def figures(probe: bool) -> list[str]:
        lines = []
        for i, c in enumerate(r.charts):
            if c.name.startswith("probe_") != probe:
                continue
            if c.spec is None:
                lines += [f"*{md(c.title)}: {md(c.note)}*", ""]
            else:
                lines += [image(f"chart_{i + 1}_{c.name}.png", c.title, lambda c=c: render_png(c.spec)), ""]
        return lines

    trade = figures(probe=False)
    out += ["## Trade-offs", "", *trade] if trade else []
    for t in r.measured_tables:  # figures on the user's images: the measured models side by side
        cols, rows, more = view.table_rows(t)
        out += [f"## {md(t.title)}", "", md(MEASURED_NOTE), "", *_table(cols, rows)]
        out += [f"*{more} more rows in the JSON report.*", ""] if more else []
    for t in r.speed_tables:  # `advisor bench` figures: comparable only within one setting (the title)
        out += [f"## {md(t.title)}", "", *_table(*view.table_rows(t)[:2])]
    if r.images or r.probe_tables or r.probe_results is not None or any(c.name.startswith("probe_") for c in r.charts):
        out += ["## Probe results", ""]
        for i, im in enumerate(r.images):
            pic = image(f"image_{i + 1}.png", f"image {i + 1}", lambda im=im: im.png) if im.png else md(im.note)
            out += [f"- image {i + 1}, file name {md(im.name)}: {pic}"]
        out += [""] if r.images else []
        for t in r.probe_tables:
            cols, rows, more = view.table_rows(t)
            out += [f"### {md(t.title)}", "", *_table(cols, rows)]
            help_ = help_for(cols)
            out += [f"- **{md(c)}**: {md(h)}" for c, h in help_] + ([""] if help_ else [])
            out += [f"*{more} more rows in the JSON report.*", ""] if more else []
        out += figures(probe=True)
    out += ["## Data sources", ""]
    if view.has_non_commercial(r):
        out += ["**Some data used here is licensed for non-commercial use only (marked NON-COMMERCIAL).**", ""]
    out += _table(*view.sources_table(r)) if r.sources else ["No source data was used.", ""]
    out += ["---", "", "*Restore these needs and limits with `advisor rank --from report.json` (JSON format).*", ""]
    return "\n".join(out), files


def render(report: Report, assets: str | None = None) -> tuple[bytes, dict[str, bytes]]:
    """FORMATS entry: Markdown and the image files it links to inside `assets`."""
    text, files = markdown_bundle(report, assets)
    return text.encode("utf-8"), files


def to_markdown(report: Report, out_dir: Path | str | None = None, assets: str = "report_files",
                written: list[Path] | None = None) -> str:
    """Markdown text; with `out_dir`, chart and thumbnail images are written to out_dir/assets."""
    text, files = markdown_bundle(report, assets if out_dir is not None else None)
    if out_dir is not None:
        paths = write_assets(Path(out_dir), assets, files)
        if written is not None:
            written.extend(paths)
    return text
