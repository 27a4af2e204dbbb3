"""`import advisor.probes` (and intake / saved results) must not pull in torch: the app stays fast."""

from __future__ import annotations

import subprocess
import sys


def test_light_modules_do_not_import_torch():
    code = ("import sys, advisor, advisor.probes, advisor.probes.images, advisor.probes.results\n"
            "from advisor.probes import load_image, ProbeResult, bundled_images, DEFAULT_MODELS\n"
            "heavy = [m for m in ('torch', 'timm', 'open_clip', 'kornia') if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "from advisor.probes import run_probe\n"
            "assert 'torch' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
