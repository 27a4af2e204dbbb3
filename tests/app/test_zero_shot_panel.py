"""The Evaluate page's precision / device / zero-shot panel (advisor/ui/zero_shot_panel.py) with AppTest."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.app

TINY = {  # a random-weight CLIP small enough for a test (registered with open_clip below)
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 1, "width": 64, "patch_size": 16},
    "text_cfg": {"context_length": 24, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    import open_clip

    path = tmp_path_factory.mktemp("clipcfg") / "test-panel-clip.json"
    path.write_text(json.dumps(TINY))
    open_clip.add_model_config(path)
    return "open_clip:test-panel-clip"


def _photos(root, per_class: int = 2):
    rng = np.random.default_rng(0)
    for label in ("c_blue", "c_red"):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(root / label / f"{i}.png")
    return root


def test_evaluate_page_panel_gives_evaluate_its_precision_and_zero_shot_options(tiny_clip, tmp_path):
    """The Evaluate page's panel: precision select (fp32 by default), the class-name text area filled from the
    labels and editable, the template choice, bad templates shown as a message."""
    from streamlit.testing.v1 import AppTest

    from advisor.ui import zero_shot_panel as panel

    data = _photos(tmp_path / "data")

    def page(root, model):
        from pathlib import Path

        import streamlit as st

        from advisor.ui import zero_shot_panel

        zero_shot_panel.render(Path(root), [model])
        try:
            st.session_state["_opts"] = zero_shot_panel.run_options()
        except Exception as e:  # shown by render already
            st.session_state["_opts"] = str(e)

    at = AppTest.from_function(page, args=(str(data), tiny_clip), default_timeout=120).run()
    assert not at.exception
    opts = at.session_state["_opts"]
    assert opts["precision"] == "fp32" and opts["device"] == "auto"
    assert at.text_area(key=panel.ZS_NAMES).value == "c_blue = c_blue\nc_red = c_red"
    assert opts["zero_shot"].templates == "simple"
    at.selectbox(key=panel.PRECISION).set_value("bf16")
    at.text_area(key=panel.ZS_NAMES).set_value("c_blue = sky\nc_red = fire")
    at.radio(key=panel.ZS_SET).set_value("custom").run()
    at.text_area(key=panel.ZS_CUSTOM).set_value("a {} photo.\nan image of {}.").run()
    opts = at.session_state["_opts"]
    assert opts["precision"] == "bf16"
    assert dict(opts["zero_shot"].class_names) == {"c_blue": "sky", "c_red": "fire"}
    assert opts["zero_shot"].templates == ("a {} photo.", "an image of {}.")
    at.text_area(key=panel.ZS_CUSTOM).set_value("no placeholder").run()
    assert not at.exception and any("exactly one" in e.value and "no placeholder" in e.value for e in at.error)
