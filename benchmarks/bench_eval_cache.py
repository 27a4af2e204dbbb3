"""Benchmark a fully cached `advisor evaluate`: 20,000 images against 10,000 (issue 21.10, linear).

Tiny synthetic PNGs and the timm test net (random weights); the cache is filled through the real writer
(`outputs._write_cache`, the same shards, checksums and keys a run writes) with synthetic outputs, so
the timed runs exercise the real path: every file stat-checked, read and hashed, every cache shard read
and verified once, nothing decoded or run. Prints seconds for both sizes (the whole `evaluate`, and its
model-output stage alone, which is what the cache serves) and their ratios; the target is a cache-stage
ratio <= 2 (it was quadratic: every shard read every cache file).

    PYTHONPATH=. python benchmarks/bench_eval_cache.py [--small 10000]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from advisor.evaluate import outputs
from advisor.evaluate.run import evaluate

TINY = "timm:test_efficientnet.r160_in1k"
WNIDS = ("n01440764", "n01443537", "n01484850", "n01491361")  # tench, goldfish, white shark, tiger shark


def make_data(root: Path, n: int) -> list[tuple[str, bytes]]:
    from PIL import Image

    files = []
    for i in range(n):
        d = root / WNIDS[i % len(WNIDS)]
        d.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        Image.new("RGB", (8, 8), (i % 256, (i // 256) % 256, (i // 65536) % 256)).save(buf, "PNG")
        (d / f"{i:06d}.png").write_bytes(buf.getvalue())
        files.append((f"{i:06d}", buf.getvalue()))
    return files


def fill_cache(cache: Path, files: list[tuple[str, bytes]]) -> None:
    import hashlib

    _, key = outputs._weights_key(TINY, True)
    folder = outputs._cache_dir(str(cache), TINY, key, "fp32", outputs.REF)
    rng = np.random.default_rng(0)
    shas = sorted(hashlib.sha256(b).hexdigest() for _, b in files)
    for i in range(0, len(shas), outputs.SHARD_SIZE):
        part = shas[i:i + outputs.SHARD_SIZE]
        outputs._write_cache(folder, part, {"logits": rng.standard_normal((len(part), 1000)).astype(np.float32),
                                            "emb": rng.standard_normal((len(part), 64)).astype(np.float32)})


def timed(data: Path, cache: Path) -> tuple[float, float, int]:
    marks = {}

    def phase(name: str, frac: float, text: str) -> None:
        if name == "extraction" and frac >= 1.0:
            marks.setdefault("outputs", time.perf_counter())

    t0 = time.perf_counter()
    result = evaluate(data, [TINY], allow_random=True, cache_root=cache, phases=phase)
    total = time.perf_counter() - t0
    return total, marks.get("outputs", t0 + total) - t0, len(result.images)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=10_000)
    args = ap.parse_args()
    sizes = (args.small, 2 * args.small)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-eval-cache-") as tmp:
        rows = {}
        for n in sizes:
            data, cache = Path(tmp) / f"data{n}", Path(tmp) / f"cache{n}"
            files = make_data(data, n)
            fill_cache(cache, files)
            total, stage, images = timed(data, cache)
            assert images == n, f"{images} of {n} images came back"
            rows[n] = (total, stage)
            print(f"{n:>6} images cached: evaluate {total:6.1f} s, model outputs from the cache {stage:6.1f} s",
                  flush=True)
    (t1, s1), (t2, s2) = rows[sizes[0]], rows[sizes[1]]
    print(f"ratio {sizes[1]:,} / {sizes[0]:,}: cache stage {s2 / s1:.2f}x (target <= 2x): "
          f"{'PASS' if s2 / s1 <= 2 else 'FAIL'}; whole evaluate {t2 / t1:.2f}x (includes the statistics: "
          "k-NN cross-validation grows faster than linearly)")
    return 0 if s2 / s1 <= 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
