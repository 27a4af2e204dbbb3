"""Peak memory of the app's process when a tiny-but-huge PNG (30000x2, a few hundred bytes) is uploaded and probed.

Issue 13: the app runs intake and probe in its own process, so this drives the real Probe page with Streamlit's
AppTest in this process (the real store, the pip EfficientNet-Lite0 weights) and reports this process's peak RSS
next to the same run on a normal photo. Run by hand: `HF_HUB_OFFLINE=1 python benchmarks/bench_upload_memory.py`.
"""

from __future__ import annotations

import io
import resource
import sys
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def png(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (120, 30, 200)).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def run(name: str, blob: bytes) -> tuple[float, float, list[str]]:
    from streamlit.testing.v1 import AppTest  # noqa: TID251  (drives the app like its tests do)

    from advisor.ui import state
    from advisor.ui.cache import clear_caches

    clear_caches()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
    at.switch_page("advisor/ui/pages/probe.py").run()
    at.multiselect(key=state.PROBE_SAMPLES).set_value([]).run()
    at.file_uploader(key=state.PROBE_UPLOAD).set_value([(name, blob, "image/png")]).run()
    at.multiselect(key=state.PROBE_MODELS).set_value(["timm:tf_efficientnet_lite0.in1k"]).run()
    at.multiselect(key=state.PROBE_FAMILIES).set_value(["scale", "shift"]).run()
    t = time.perf_counter()
    at.button(key=state.PROBE_RUN).click().run()
    seconds = time.perf_counter() - t
    msgs = [e.value for e in at.exception] + [w.value[:160] for w in at.warning] + [x.value[:160] for x in at.error]
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, msgs


def main() -> None:
    """Each case in a fresh process, so each peak RSS is that upload's own."""
    import subprocess

    if len(sys.argv) == 2:
        name = sys.argv[1]
        blob = png((30000, 2)) if name.startswith("wide") else (ROOT / "advisor/probes/assets" / name).read_bytes()
        seconds, peak_gb, msgs = run(name, blob)
        print(f"{name:18s} {len(blob):>9,d} bytes  probe {seconds:6.1f} s  peak RSS {peak_gb:5.2f} GB  "
              f"{'; '.join(msgs) if msgs else 'no messages'}")
        return
    for name in ("chelsea.png", "wide_30000x2.png"):
        subprocess.run([sys.executable, __file__, name], check=False)


if __name__ == "__main__":
    main()
