"""The report formats: one entry each, read by the writer, the CLI and the Report page.

A new format is one module exposing `render(report, assets) -> (bytes, {file name: bytes})` plus one entry here.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from advisor.ids import find_named
from advisor.report import html, json_io, markdown, pdf
from advisor.report.model import Report
from advisor.report.write import (
    SAFE_NAME,
    UnsafePathError,
    WriteFailedError,
    asset_dir_name,
    atomic_write,
    check_output_path,
    os_reason,
    safe_join,
    write_assets,
)

Renderer = Callable[[Report, "str | None"], "tuple[bytes, dict[str, bytes]]"]


@dataclass(frozen=True)
class ReportFormat:
    name: str  # CLI --format value
    label: str  # button and help text
    extension: str
    mime: str
    renderer: Renderer  # the format module's `render(report, assets)`
    lazy: bool = False  # slow to render: the app renders it only when the user asks for the file

    def render(self, report: Report, assets: str | None = None) -> tuple[bytes, dict[str, bytes]]:
        """The document and the files it links to (inside the `assets` folder; none when assets is None)."""
        return self.renderer(report, assets)

    def download(self, report: Report, stem: str = "vision-advisor-report", inner: str = "report"
                 ) -> tuple[str, bytes, str]:
        """(file name, bytes, mime) for one download: a zip (`report.md` + `report_files/`) when the document
        links to files beside it."""
        doc, files = self.render(report, f"{inner}_files")
        if not files:
            return f"{stem}{self.extension}", doc, self.mime
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(f"{inner}{self.extension}", doc)
            for name, blob in files.items():
                z.writestr(f"{inner}_files/{name}", blob)
        return f"{stem}.zip", buf.getvalue(), "application/zip"


_FORMATS = (
    ReportFormat("md", "Markdown (.zip with chart images)", ".md", "text/markdown", markdown.render),
    ReportFormat("html", "HTML (one file, works offline)", ".html", "text/html", html.render),
    ReportFormat("json", "JSON (load it back here or in the CLI)", ".json", "application/json",
                 json_io.render),
    ReportFormat("pdf", "PDF (A4, for printing)", ".pdf", "application/pdf", pdf.render, lazy=True),
)
FORMATS: dict[str, ReportFormat] = {f.name: f for f in _FORMATS}


def get_format(name: str) -> ReportFormat:
    return find_named(_FORMATS, name, "report format")


def write_report(report: Report, fmt: str, out_path: Path | str) -> list[Path]:
    """Write the report in a registered format to out_path (plus linked files beside it); returns what was written."""
    if fmt not in FORMATS:
        raise UnsafePathError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(out_path)
    if out.name in ("", ".", "..") or (out.exists() and out.is_dir()):
        raise UnsafePathError(f"output {out} must be a file path, not a folder")
    check_output_path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteFailedError(f"cannot create the folder {out.parent}: {os_reason(exc)}") from None
    target = safe_join(out.parent, out.name) if SAFE_NAME.match(out.name) else out.parent.resolve() / out.name
    check_output_path(target)
    assets = asset_dir_name(target)
    doc, files = FORMATS[fmt].render(report, assets)
    written = write_assets(target.parent, assets, files)
    atomic_write(target, doc)
    return [target, *written]
