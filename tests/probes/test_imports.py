"""Importing intake, saved results, the model registry, weights finding and downloads must not pull in torch
(parsing an id does: it asks the model library): the app starts fast."""

from __future__ import annotations

import subprocess
import sys

LIGHT = ("advisor.probes", "advisor.probes.images", "advisor.probes.results", "advisor.probes.labels",
         "advisor.models", "advisor.models.interface", "advisor.models.locations", "advisor.models.checkpoints",
         "advisor.models.precision", "advisor.models.registry", "advisor.models.weights", "advisor.models.download")


def test_light_modules_do_not_import_torch():
    code = (f"import importlib, sys\nfor m in {LIGHT!r}:\n    importlib.import_module(m)\n"
            "from advisor.models.registry import BACKENDS, DEFAULT_MODELS, loadable_model_ids\n"
            "heavy = [m for m in ('torch', 'timm', 'open_clip', 'kornia') if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "from advisor.probes.invariance import run_probe\n"
            "assert 'torch' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
