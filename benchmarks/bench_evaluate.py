"""Benchmark `advisor evaluate`: the 800 sample photos x the three EfficientNet-Lite models.

Prints, from one run on this machine: images/s of `evaluate` (every metric, no cache) next to a plain
torchvision ImageFolder + DataLoader + timm loop over the same files (logits only), the share of this
machine's measured fp32 matmul rate both reach, and the peak RSS. The photos are read from
../shared/data/imagenet_samples (never copied into the repo).

    PYTHONPATH=. HF_HUB_OFFLINE=1 python benchmarks/bench_evaluate.py [--limit N]
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "evaluate"))

from advisor.models.registry import DEFAULT_MODELS  # noqa: E402


def matmul_gflops() -> float:
    import torch

    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t = time.perf_counter()
    for _ in range(10):
        a @ b
    return 10 * 2 * n**3 / (time.perf_counter() - t) / 1e9


def model_gflop(model_id: str) -> float:
    """FLOPs of one forward at the model's native size (torch's FlopCounterMode)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from advisor.models.loaded import load_model

    m = load_model(model_id)
    x = torch.rand(1, 3, *m.view.input_size)
    with FlopCounterMode(display=False) as fc:
        m.forward(x)
    return fc.get_total_flops() / 1e9


def plain_loop(folder: Path) -> tuple[float, int]:
    """The baseline: ImageFolder + DataLoader + timm, per model, logits only."""
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


def main() -> None:
    from conftest import class_folders, samples_dir

    from advisor.evaluate.run import evaluate

    p = argparse.ArgumentParser()
    p.add_argument("--limit", type=int, default=800)
    args = p.parse_args()
    d = samples_dir()
    if d is None:
        sys.exit("the shared sample photos are not here (../shared/data/imagenet_samples)")
    with (d / "labels.csv").open(newline="") as fh:
        rows = [{**r, "path": str(d / "images" / r["file"])} for r in csv.DictReader(fh)][: args.limit]
    rate = matmul_gflops()
    gflop = sum(model_gflop(m) for m in DEFAULT_MODELS)
    with tempfile.TemporaryDirectory() as tmp:
        folder = class_folders(Path(tmp) / "data", rows, lambda r: r["wnid"])
        t = time.perf_counter()
        result = evaluate(folder, list(DEFAULT_MODELS), cache_root="")
        ours = time.perf_counter() - t
        rss_ours = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        base, n_base = plain_loop(folder)
    pairs = len(rows) * len(DEFAULT_MODELS)
    print(f"{len(rows)} photos x {len(DEFAULT_MODELS)} models = {pairs} (image, model) pairs")
    print(f"matmul fp32: {rate:.1f} GFLOP/s; models: {gflop:.2f} GFLOP per image for all three")
    for name, secs, n in (("advisor evaluate (all metrics)", ours, pairs), ("ImageFolder+DataLoader+timm", base,
                                                                           n_base)):
        share = (n / len(DEFAULT_MODELS)) / secs * gflop / rate
        print(f"{name:32s} {secs:7.1f} s  {n / secs:6.1f} img/s  {100 * share:5.1f} % of matmul rate")
    print(f"speed ratio evaluate / plain: {base / ours:.2f}x")
    print(f"peak RSS after evaluate: {rss_ours:.2f} GB; after both: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB")
    for m in result.models:
        f = m.metrics["top1"]
        print(f"  {m.model_id}: top-1 {100 * f.value:.1f} % [{100 * f.ci_low:.1f}, {100 * f.ci_high:.1f}] "
              f"ECE {m.metrics['ece'].value:.3f} on {f.n} images")


if __name__ == "__main__":
    main()
