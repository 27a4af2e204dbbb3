"""Uploads and user-supplied names (issue 13, items 8, 9, 10)."""

from __future__ import annotations

import io

import pytest
from markdown_it import MarkdownIt
from PIL import Image

from advisor.textsafe import FSI, PDI, md_name, plain_name
from advisor.ui import state

pytestmark = pytest.mark.app

PROBE_PAGE = "advisor/ui/pages/probe.py"
LINK_NAME = "[click me](https:evil.invalid).png"
RLO_NAME = "report\u202egnp.exe"


def png(color=(200, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (48, 40), color).save(buf, format="PNG")
    return buf.getvalue()


def rendered_text(md: str) -> tuple[str, str]:
    """(HTML, text) of a Markdown string as CommonMark renders it."""
    html = MarkdownIt("commonmark").render(md)
    tokens = MarkdownIt("commonmark").parseInline(md)
    text = "".join(t.content for tok in tokens for t in (tok.children or []) if t.type == "text")
    return html, text


@pytest.mark.parametrize("name", [LINK_NAME, "*bold* `code` $x$ :red[alarm] <b>x</b> \\.png", "a_b_c#1!.png"])
def test_markdown_names_render_as_exactly_themselves(name):
    html, text = rendered_text(f"Skipped {md_name(name)}: not an image")
    assert "<a " not in html and "<em>" not in html and "<code>" not in html and "<b>" not in html
    assert f"{FSI}{name}{PDI}" in text


def test_bidi_controls_cannot_reorder_the_message():
    shown = md_name(RLO_NAME)
    assert "\u202e" not in shown and rendered_text(shown)[1] == f"{FSI}report<U+202E>gnp.exe{PDI}"
    assert shown.startswith(FSI) and shown.endswith(PDI)
    assert plain_name("a\u2069\u202eb") == f"{FSI}a<U+2069><U+202E>b{PDI}"  # a PDI cannot close our isolate


def open_probe(app):
    at = app.run()
    at.switch_page(PROBE_PAGE).run()
    at.multiselect(key=state.PROBE_SAMPLES).set_value([]).run()
    return at


def upload(at, files):
    at.file_uploader(key=state.PROBE_UPLOAD).set_value([(n, b, "image/png") for n, b in files]).run()
    assert not at.exception, [e.value for e in at.exception]
    # the weights offer's own notes (the fixture store's made-up ids have no weights plan) are not upload messages
    return [w.value for w in at.warning if w.icon != ":material/cloud_off:"]


def test_malicious_names_are_escaped_in_the_app(app):
    at = open_probe(app)
    warnings = upload(at, [(LINK_NAME, b"not an image"), (RLO_NAME.replace(".exe", ".png"), b"nor this")])
    assert len(warnings) == 2
    for w in warnings:
        html, _ = rendered_text(w)
        assert "<a " not in html and "\u202e" not in w
    assert rendered_text(warnings[0])[1].startswith(f"Skipped {FSI}{LINK_NAME}{PDI}: not an image")


def test_identical_uploads_are_reported(app):
    at = open_probe(app)
    warnings = upload(at, [("a.png", png()), ("b.png", png()), ("c.png", png((0, 0, 255)))])
    assert [rendered_text(w)[1] for w in warnings] == [
        f"2 files have identical content: {FSI}a.png{PDI}, {FSI}b.png{PDI}; used once."]
    assert any(c.value.startswith("2 image(s)") for c in at.caption)


def test_count_limit_is_checked_before_decoding_and_the_message_is_short(app):
    at = open_probe(app)
    files = [(f"f{i:03d}.png", b"junk %d" % i) for i in range(40)]
    warnings = upload(at, files)
    first = rendered_text(warnings[0])[1]
    assert first.startswith("40 images given: only the first 8 are used") and "and 27 more left out" in first
    assert len(warnings[0]) < 400
    assert sum("Skipped" in w for w in warnings) == 8  # only the kept 8 were decoded


def test_total_bytes_limit_is_checked_before_decoding(app):
    at = open_probe(app)
    big = [(f"big{i}.png", bytes([i]) * (45 * 2**20)) for i in range(3)]
    warnings = [rendered_text(w)[1] for w in upload(at, big)]
    assert f"{FSI}big2.png{PDI} left out: all images together may be at most 100 MiB." in warnings
    assert sum(w.startswith(f"Skipped {FSI}big") for w in warnings) == 2
    decoded = at.session_state["_probe_intake"]
    assert sorted(name for _, name in decoded) == ["big0.png", "big1.png"]
