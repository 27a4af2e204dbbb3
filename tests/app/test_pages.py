"""Every page in the page spec opens without an exception or a Streamlit error (a new page is covered by itself)."""

from __future__ import annotations

import pytest

from advisor.ui import state
from advisor.ui.components import page_path

from .test_probe_page import no_errors


@pytest.mark.parametrize("page", state.PAGES, ids=lambda p: p.file)
def test_every_page_renders(app, page):
    at = app.run()
    at.switch_page(str(page_path(page.file))).run()
    no_errors(at)
    assert at.title and at.title[0].value, page.file


def test_page_keys_are_persisted_or_kept():
    for page in state.PAGES:
        assert set(page.keys) <= set(state.PERSISTED) | set(state.KEPT), page.file
