"""Every page in the page spec opens without an exception or a Streamlit error (a new page is covered by itself)."""

from __future__ import annotations

import re

import pytest

from advisor.ui import state
from advisor.ui.components import page_path

from .test_probe_page import PROBE_PAGE, TINY, no_errors


@pytest.mark.parametrize("page", state.PAGES, ids=lambda p: p.file)
def test_every_page_renders(app, page):
    at = app.run()
    at.switch_page(str(page_path(page.file))).run()
    no_errors(at)
    assert at.title and at.title[0].value, page.file


def test_page_keys_are_persisted_or_kept():
    for page in state.PAGES:
        assert set(page.keys) <= set(state.PERSISTED) | set(state.KEPT), page.file


def none_shown(at) -> list[str]:
    """Where a reader would see the word None: a table cell that is None/NaN without a placeholder, a cell
    holding the text 'None', or 'None' in markdown, captions, info and warning text."""
    found = []
    for el in at.dataframe:
        df = el.value
        holder = el.proto.placeholder if el.proto.HasField("placeholder") else None
        if df.isna().to_numpy().any() and holder in (None, "None"):
            cols = [c for c in df.columns if df[c].isna().any()]
            found.append(f"table with missing cells shown as None in {cols}")
        texts = [str(v) for v in df.to_numpy().ravel()] + [str(c) for c in df.columns]
        found += [f"cell {t!r}" for t in texts if t.strip() in ("None", "nan", "NaN")]
    for kind in ("markdown", "caption", "info", "warning", "success", "subheader"):
        for el in at.get(kind):
            value = str(getattr(el, "value", ""))
            if re.search(r"\bNone\b", value):
                found.append(f"{kind}: {value[:80]}")
    return found


@pytest.mark.parametrize("page", state.PAGES, ids=lambda p: p.file)
def test_no_page_shows_none(app, page):
    """Mutant caught: the Model card printing a missing field as is ('**family:** None' instead of '–'). The
    result tables of Probe and Evaluate are checked after a run (here and in test_evaluate_page)."""
    at = app.run()
    at.switch_page(str(page_path(page.file))).run()
    no_errors(at)
    assert none_shown(at) == [], page.file


@pytest.fixture
def tiny_net(monkeypatch):
    """The bundled model list swapped for timm's tiny test net, so a probe runs in about a second."""
    from advisor.models import registry

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(registry, "DEFAULT_MODELS", (TINY,))


def test_probe_results_show_no_none_and_list_changes_by_class_name(app, tiny_net):
    """After a probe run the tables, the change list and the captions hold no 'None'; changed predictions are
    listed by class name as the CLI does ('... -> ... at scale 1.5')."""
    at = app.run()
    at.switch_page(PROBE_PAGE).run()
    at.multiselect(key=state.PROBE_FAMILIES).set_value(["scale", "rotation"]).run()
    at.button(key=state.PROBE_RUN).click().run()
    no_errors(at)
    assert none_shown(at) == []
    result = at.session_state[state.PROBE_RESULT]
    changes = result.changes(8)
    md = [m.value for m in at.markdown]
    assert any("Predictions that changed" in v for v in md)
    if changes:
        shown = "\n".join(v.replace("\\", "") for v in md)  # unescape the Markdown escapes
        assert all(c in shown for c in changes), (changes, shown)
        assert all(re.search(r" at (scale|rotation) [0-9.]+", c) for c in changes)
    else:
        assert any("No prediction changed" in c.value for c in at.caption)


def test_advisor_table_shows_the_columns_the_request_decides_by():
    """Mutant caught: a fixed column list (params and GMACs off screen at 1,280 px when size is the limit)."""
    from advisor.ranking.engine import RankRequest
    from advisor.ranking.request import Limits
    from advisor.ui.views import ALWAYS_SHOWN, CALIBRATION, advisor_columns

    cols = [*ALWAYS_SHOWN, "weights", "ImageNet top-1", CALIBRATION, "params", "GMACs", "paradigm"]
    base = ["rank", "model", "measured here", "score", "coverage", "first in"]
    assert advisor_columns(RankRequest(weights={"invariance": 1.0}), cols) == base
    assert advisor_columns(RankRequest(weights={"invariance": 1.0}, limits=Limits(max_params_m=30.0)), cols) == [
        *base, "params", "GMACs"]
    assert advisor_columns(RankRequest(weights={"calibration": 1.0, "accuracy": 0.5}), cols) == [
        *base, "ImageNet top-1", CALIBRATION]
    assert "measured here" not in advisor_columns(RankRequest(weights={"accuracy": 1.0}), cols[:2] + cols[3:])


def test_advisor_table_hides_the_rest_in_the_details_view(app):
    at = app.run()
    at.number_input(key=state.MAX_PARAMS).set_value(30.0).run()
    no_errors(at)
    main, details = at.dataframe[0], at.dataframe[1]
    shown = list(main.proto.column_order)
    assert shown[:5] == ["rank", "model", "score", "coverage", "first in"] and {"params", "GMACs"} <= set(shown)
    assert "weights" not in shown and "paradigm" not in shown
    assert {"weights", "paradigm", "params"} <= set(details.value.columns) and not details.proto.column_order
    assert any(e.label.startswith("All columns") for e in at.expander)
