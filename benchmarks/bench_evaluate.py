"""Benchmark `advisor evaluate` against a plain loop: N photos x the three EfficientNet-Lite models, one run.

Side by side, on the same files and threads, in one process:
  (a) plain:  torchvision ImageFolder + DataLoader + timm model, fp32, logits only (per model);
  (b) advisor evaluate, default options (fp32; every metric, no cache);
  (c) advisor evaluate --precision bf16 (every metric, no cache, with its fp32 agreement check).
Prints images/s for each, the ratios (b)/(a) and (c)/(a) (goals: >= 1.5x and >= 2.5x), each model's bf16
top-1 agreement with fp32, and whether this CPU has bf16 units. `--rounds R` repeats the three in rotated
order and uses the median time of each (for a machine shared with other work). Next to the wall-clock
ratios (the goals) it prints the CPU-time ratios (this process and its reaped DataLoader workers, user +
system): on a machine busy with other work they show the work each variant does, which wall time hides.
The photos are read from ../shared/data/imagenet_samples (never copied into the repo).

    PYTHONPATH=. HF_HUB_OFFLINE=1 python benchmarks/bench_evaluate.py [--limit 200] [--rounds 1]
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from advisor.models.registry import DEFAULT_MODELS  # noqa: E402


def samples_dir() -> Path | None:
    """../shared/data/imagenet_samples beside the checkout (or under $VISION_ADVISOR_SHARED)."""
    for base in (ROOT.parent / "shared", ROOT.parent.parent / "shared", Path(os.environ.get("VISION_ADVISOR_SHARED",
                                                                                               "/nonexistent"))):
        d = base / "data" / "imagenet_samples"
        if (d / "labels.csv").is_file():
            return d
    return None


def cpu_bf16() -> str:
    """What this CPU says about bf16: torch's vector capability, the lscpu/cpuinfo flags, a matmul speed-up."""
    import torch

    from advisor.models.precision import bf16_speedup

    flags = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    units = sorted(f for f in flags if "bf16" in f or f.startswith("amx"))
    return (f"torch CPU capability {torch.backends.cpu.get_cpu_capability()}; bf16 flags: "
            f"{', '.join(units) or 'none'}; bf16 matmul {bf16_speedup():.2f}x fp32; "
            f"{torch.get_num_threads()} torch threads, {os.cpu_count()} CPUs")


def class_folders(root: Path, rows: list[dict], photos: Path) -> Path:
    """A folder per ImageNet wnid with symlinks to the photos (ImageFolder's and evaluate's input)."""
    for r in rows:
        sub = root / r["wnid"]
        sub.mkdir(parents=True, exist_ok=True)
        (sub / r["file"]).symlink_to(photos / "images" / r["file"])
    return root


def plain_loop(folder: Path) -> tuple[float, int]:
    """(a) ImageFolder + DataLoader + timm, per model, fp32, logits only: the baseline."""
    import timm
    import torch
    from timm.data import create_transform, resolve_model_data_config
    from torchvision.datasets import ImageFolder

    from advisor.models.backends.timm import pip_weights_path
    from advisor.models.checkpoints import load_state_in_order
    from advisor.models.registry import parse_model_id

    t = time.perf_counter()
    n = 0
    for mid in DEFAULT_MODELS:
        spec = parse_model_id(mid)
        model = timm.create_model(spec.arch, pretrained=False).eval()
        load_state_in_order(model, torch.load(pip_weights_path(spec.arch), map_location="cpu", weights_only=True))
        ds = ImageFolder(str(folder), transform=create_transform(**resolve_model_data_config(model)))
        with torch.inference_mode():
            for x, _ in torch.utils.data.DataLoader(ds, batch_size=32, num_workers=0):
                model(x)
                n += len(x)
    return time.perf_counter() - t, n


def advisor_run(folder: Path, precision: str):
    from advisor.evaluate.run import evaluate
    from advisor.models.loaded import clear_model_cache

    clear_model_cache()  # each variant loads its models, as the plain loop does
    t = time.perf_counter()
    result = evaluate(folder, list(DEFAULT_MODELS), cache_root="", precision=precision, device="cpu")
    return time.perf_counter() - t, result


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its reaped children (the DataLoader workers)."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def main() -> None:
    from advisor.evaluate.loader import AGREEMENT_METRIC

    p = argparse.ArgumentParser()
    p.add_argument("--limit", type=int, default=200, help="photos (of the 800 samples)")
    p.add_argument("--rounds", type=int, default=1, help="repeat (a), (b), (c) in rotated order; medians")
    args = p.parse_args()
    d = samples_dir()
    if d is None:
        sys.exit("the shared sample photos are not here (../shared/data/imagenet_samples)")
    with (d / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))[: args.limit]
    print(cpu_bf16())
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    times: dict[str, list[float]] = {"a": [], "b": [], "c": []}
    cpu: dict[str, list[float]] = {"a": [], "b": [], "c": []}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = class_folders(Path(tmp) / "data", rows, d)
        advisor_run(folder, "fp32") if args.rounds > 1 else None  # warm-up only when repeating
        order = ["a", "b", "c"]
        for r in range(args.rounds):
            for v in order[r % 3:] + order[: r % 3]:
                c0 = cpu_seconds()
                if v == "a":
                    secs, n = plain_loop(folder)
                    assert n == len(rows) * len(DEFAULT_MODELS)
                else:
                    secs, results[v] = advisor_run(folder, "fp32" if v == "b" else "bf16")
                times[v].append(secs)
                cpu[v].append(cpu_seconds() - c0)
                print(f"  round {r + 1} ({v}) {secs:7.1f} s wall, {cpu[v][-1]:7.1f} s CPU   load average "
                      f"{os.getloadavg()[0]:.1f}", flush=True)
    pairs = len(rows) * len(DEFAULT_MODELS)
    med = {v: statistics.median(ts) for v, ts in times.items()}
    mcpu = {v: statistics.median(ts) for v, ts in cpu.items()}
    print(f"\n{len(rows)} photos x {len(DEFAULT_MODELS)} models = {pairs} (image, model) pairs; "
          f"median of {args.rounds} round(s)")
    labels = {"a": "(a) ImageFolder+DataLoader+timm fp32", "b": "(b) advisor evaluate (fp32 default)",
              "c": "(c) advisor evaluate --precision bf16"}
    for v in "abc":
        print(f"{labels[v]:40s} {med[v]:7.1f} s  {pairs / med[v]:6.1f} img/s  {med['a'] / med[v]:5.2f}x (a)   "
              f"CPU {mcpu[v]:7.1f} s  {mcpu['a'] / mcpu[v]:5.2f}x (a)")
    print(f"ratio (b)/(a): {med['a'] / med['b']:.2f}x (goal >= 1.5x);  ratio (c)/(a): {med['a'] / med['c']:.2f}x "
          f"(goal >= 2.5x)   [CPU time: {mcpu['a'] / mcpu['b']:.2f}x, {mcpu['a'] / mcpu['c']:.2f}x]")
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (1, 5, 15 min) on "
          f"{os.cpu_count()} CPUs")
    for m in results["c"].models:
        fa = m.metrics.get(AGREEMENT_METRIC)
        f32, f16 = results["b"].model(m.model_id).metrics["top1"], m.metrics["top1"]
        agree = f"{100 * fa.value:.1f} % of {fa.n} [{100 * fa.ci_low:.1f}, {100 * fa.ci_high:.1f}]" if fa else "–"
        print(f"  {m.model_id}: bf16 top-1 agreement with fp32 {agree}; top-1 fp32 {100 * f32.value:.1f} %, "
              f"bf16 {100 * f16.value:.1f} % on {f32.n} images")


if __name__ == "__main__":
    main()
