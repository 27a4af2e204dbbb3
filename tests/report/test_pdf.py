"""The PDF report: WeasyPrint prints the HTML report to A4, shows the same sections, fetches nothing."""

from __future__ import annotations

import http.server
import io
import threading
from html.parser import HTMLParser
from typing import ClassVar

import pytest

from advisor.report.html import to_html
from advisor.report.pdf import PdfUnavailableError, html_to_pdf, render_pdf

pypdf = pytest.importorskip("pypdf")
A4_PT = (595.3, 841.9)


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.out: list[str] = []
        self._in = False

    def handle_starttag(self, tag, attrs):
        if tag in ("h1", "h2", "h3"):
            self._in, self.out = True, [*self.out, ""]

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3"):
            self._in = False

    def handle_data(self, data):
        if self._in:
            self.out[-1] += data


def _pdf(html_or_report) -> bytes:
    try:
        return html_to_pdf(html_or_report) if isinstance(html_or_report, str) else render_pdf(html_or_report)
    except PdfUnavailableError as exc:  # like the chromium tests: skipped where the system libraries are absent
        pytest.skip(str(exc))


def _outline_titles(reader) -> list[str]:
    out = []

    def walk(items):
        for it in items:
            if isinstance(it, list):
                walk(it)
            else:
                out.append(it.title)

    walk(reader.outline)
    return out


def test_pdf_is_a4_and_shows_the_html_sections(report):
    blob = _pdf(report)
    assert blob.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(blob))
    assert len(reader.pages) >= 3
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4_PT, abs=1)
    parser = _Headings()
    parser.feed(to_html(report))
    headings = [h.strip() for h in parser.out]
    assert "Probe results" in headings and "Data sources" in headings and "Shortlist" in headings
    assert _outline_titles(reader) == headings  # every heading, in order, as a PDF bookmark
    text = "".join("".join((p.extract_text() or "").split()) for p in reader.pages)  # table cells wrap lines

    def shown(s: str) -> bool:
        return "".join(s.split()) in text

    assert all(shown(h) for h in headings)
    assert shown("timm:probe_only") and shown("NON-COMMERCIAL") and shown("feedc0ffee123456")
    assert shown("<img src=x onerror=alert(1)>.png")  # the hostile name printed as text
    for words in ("Top-1 agreement", "Probability kept", "zoom factor", "parameters (M)"):
        assert shown(words), words  # the SVG charts are drawn as vectors: their axis words are PDF text


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self):
        _Counter.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_pdf_fetches_nothing_but_data_uris(tmp_path):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = tmp_path / "secret.css"
    secret.write_text("body{background:red}")
    base = f"http://127.0.0.1:{server.server_port}"
    html = (f'<html><head><link rel="stylesheet" href="{base}/style.css">'
            f'<link rel="stylesheet" href="{secret.as_uri()}"><style>@import url("{base}/imp.css");'
            f'h1{{background:url("{base}/bg.png")}}</style></head><body><h1>Offline</h1>'
            f'<img src="{base}/img.png"><img src="{secret.as_uri()}">'
            '<img src="data:image/svg+xml;utf8,<svg xmlns=\'http://www.w3.org/2000/svg\' width=\'10\' height=\'10\'/>">'
            '</body></html>')
    try:
        blob = _pdf(html)
    finally:
        server.shutdown()
    assert blob.startswith(b"%PDF-")
    assert _Counter.hits == []
    assert "Offline" in pypdf.PdfReader(io.BytesIO(blob)).pages[0].extract_text()


def test_pdf_export_leaves_image_intake_strict(report):
    """WeasyPrint flips PIL's LOAD_TRUNCATED_IMAGES on import; after a PDF, a truncated image is still refused."""
    import io

    import pytest
    from PIL import Image, ImageFile

    from advisor.errors import ImageIntakeError
    from advisor.probes.images import load_image
    from advisor.report.pdf import render_pdf

    render_pdf(report)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 30)).save(buf, "PNG")
    with pytest.raises(ImageIntakeError):
        load_image(buf.getvalue()[:-40], "cut.png")


LONG_IDS = ("timm:convnext_base.fb_in22k_ft_in1k_384", "open_clip:convnext_base_w.laion2b_s13b_b82k_augreg",
            "timm:vit_base_patch16_clip_224.openai_ft_in12k_in1k", "timm:deit3_base_patch16_224.fb_in22k_ft_in1k")


def test_pdf_model_ids_copy_whole(report):
    """Ids in the shortlist and the reasons are never broken across lines, so text copied from the PDF is a
    usable id. Mutant caught: id cells treated as long tokens (`overflow-wrap: anywhere`), which printed
    'timm:vit_base_patch16_clip_224.openai_f' / 't_in12k_in1k'."""
    import dataclasses

    ids = dict(zip([m["model_id"] for m in report.shortlist], LONG_IDS, strict=False))
    shortlist = tuple({**m, "model_id": ids.get(m["model_id"], m["model_id"])} for m in report.shortlist)
    reasons = {ids.get(k, k): v for k, v in report.reasons.items()}
    long = dataclasses.replace(report, shortlist=shortlist, reasons=reasons, charts=())
    reader = pypdf.PdfReader(io.BytesIO(_pdf(long)))
    lines = [ln for p in reader.pages for ln in (p.extract_text() or "").splitlines()]
    for mid in ids.values():
        starts = sum(ln.count(mid[:16]) for ln in lines)  # every place the id begins...
        assert starts >= 2 and sum(ln.count(mid) for ln in lines) == starts, (mid, [ln for ln in lines
                                                                                if mid[:16] in ln])  # ...is whole
