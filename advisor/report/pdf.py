"""The PDF report: the HTML report printed by WeasyPrint (A4), fetching nothing but data: URIs.

WeasyPrint needs Pango from the system (Debian: libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0,
plus a font such as fonts-dejavu-core); it is imported only when a PDF is asked for.
"""

from __future__ import annotations

from typing import Any

from advisor.errors import AdvisorError
from advisor.report.html import to_html
from advisor.report.model import Report


class PdfUnavailableError(AdvisorError):
    """WeasyPrint or the system libraries it needs are missing."""

    exit_code = 2


def _no_fetch_fetcher() -> Any:
    """A WeasyPrint URL fetcher that serves data: URIs and refuses everything else (files, http, ...)."""
    from weasyprint.urls import URLFetcher

    class DataOnlyFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.lower().startswith("data:"):
                raise ValueError(f"the PDF report fetches nothing; refused {url[:80]!r}")
            return super().fetch(url, headers)

    return DataOnlyFetcher(allowed_protocols=("data",), allow_redirects=False)


def _import_weasyprint() -> Any:
    """WeasyPrint's HTML class, without the global it flips on import.

    `weasyprint.images` sets PIL's process-wide LOAD_TRUNCATED_IMAGES to True, which would make every later
    image intake in this process accept truncated files; it is put back at once (our PDF embeds only our
    own PNG/SVG data).
    """
    from PIL import ImageFile

    before = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        from weasyprint import HTML
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before
    return HTML


def html_to_pdf(html: str) -> bytes:
    """Print HTML to PDF bytes; any non-data: URL in it is refused (and left out), never fetched."""
    try:
        HTML = _import_weasyprint()
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint installed but Pango missing
        raise PdfUnavailableError(
            "PDF export needs WeasyPrint and Pango (pip install weasyprint; on Debian/Ubuntu apt-get install "
            f"libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core): {exc}") from None
    return HTML(string=html, base_url=None, url_fetcher=_no_fetch_fetcher()).write_pdf()


def render_pdf(report: Report) -> bytes:
    """The report as an A4 PDF, from the same HTML as the HTML format (charts as SVG, thumbnails as PNG)."""
    return html_to_pdf(to_html(report))


def render(report: Report, assets: str | None = None) -> tuple[bytes, dict[str, bytes]]:
    """FORMATS entry: the HTML report printed to A4 (charts stay vector)."""
    return render_pdf(report), {}
