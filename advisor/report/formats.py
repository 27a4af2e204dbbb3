"""The report formats: one entry each, read by the writer, the CLI and the Report page.

A new format is one module exposing `render(report, assets) -> (bytes, {file name: bytes})` plus one entry here.
"""

from __future__ import annotations

import importlib
import io
import zipfile
from dataclasses import dataclass

from advisor.report.model import Report


@dataclass(frozen=True)
class ReportFormat:
    name: str  # CLI --format value
    label: str  # button and help text
    extension: str
    mime: str
    module: str  # module with `render(report, assets)`
    lazy: bool = False  # slow to render: the app renders it only when the user asks for the file

    def render(self, report: Report, assets: str | None = None) -> tuple[bytes, dict[str, bytes]]:
        """The document and the files it links to (inside the `assets` folder; none when assets is None)."""
        return importlib.import_module(self.module).render(report, assets)

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
    ReportFormat("md", "Markdown (.zip with chart images)", ".md", "text/markdown", "advisor.report.markdown"),
    ReportFormat("html", "HTML (one file, works offline)", ".html", "text/html", "advisor.report.html"),
    ReportFormat("json", "JSON (load it back here or in the CLI)", ".json", "application/json",
                 "advisor.report.json_io"),
    ReportFormat("pdf", "PDF (A4, for printing)", ".pdf", "application/pdf", "advisor.report.pdf", lazy=True),
)
FORMATS: dict[str, ReportFormat] = {f.name: f for f in _FORMATS}


def get_format(name: str) -> ReportFormat:
    from advisor.ids import find_named

    return find_named(_FORMATS, name, "report format")
