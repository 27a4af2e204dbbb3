"""Is `advisor bench` repeatable? Runs it R times (default 3), each in a fresh process as a user would, and
prints each run's latency and throughput with their IQR, the max/min ratio of each (goal: <= 1.15 on a quiet
machine) and the load average before and after every run (the figures mean little on a busy machine).

    PYTHONPATH=. HF_HUB_OFFLINE=1 python benchmarks/bench_repeat.py [-m timm:tf_efficientnet_lite0.in1k]
        [--runs 3] [-- any other advisor bench options, e.g. --threads 1 --min-time 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL = 1.15


def one_run(model: str, extra: list[str]) -> dict:
    """One `advisor bench --json` in a fresh interpreter; its JSON result."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    cmd = [sys.executable, "-m", "advisor.cli", "bench", "-m", model, "--device", "cpu", "--no-memory", "--json",
           *extra]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"advisor bench failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-m", "--model", default="timm:tf_efficientnet_lite0.in1k")
    p.add_argument("--runs", type=int, default=3)
    args, extra = p.parse_known_args()
    extra = [a for a in extra if a != "--"]
    lat, thr = [], []
    for i in range(args.runs):
        before, t = os.getloadavg()[0], time.perf_counter()
        doc = one_run(args.model, extra)
        (m,) = doc["models"]
        la, th = m["latency_ms"], m["throughput"]
        lat.append(la["median"])
        thr.append(th["median"])
        print(f"run {i + 1}: latency {la['median']:.2f} ms (IQR {la['q1']:.2f}-{la['q3']:.2f}, {la['n']} passes)  "
              f"throughput {th['median']:.1f} img/s (IQR {th['q1']:.1f}-{th['q3']:.1f}, {th['n']} passes)  "
              f"{time.perf_counter() - t:.1f} s  load average {before:.1f} -> {os.getloadavg()[0]:.1f}", flush=True)
    print(f"\n{args.model} on {doc['device']} ({doc['device_name']}), {doc['threads']} threads, {doc['precision']}, "
          f"batch {doc['batch_size']}, each figure timed >= {doc.get('min_time_s', 0):g} s and >= {doc['repeats']} "
          f"passes")
    for name, v in (("latency", lat), ("throughput", thr)):
        ratio = max(v) / min(v)
        print(f"{name:10s} max/min over {len(v)} runs: {ratio:.3f} ({'within' if ratio <= GOAL else 'NOT within'} "
              f"{100 * (GOAL - 1):.0f} %)")
    print(f"{os.cpu_count()} CPUs; load average now {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
