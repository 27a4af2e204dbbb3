"""Probe benchmark (run by hand): batched `run_probe` vs a naive loop, and peak memory.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_probe.py [--model ID] [--rounds N] [--no-rss]

1. Speed: the same images, model and variants through (a) run_probe (variants batched by size,
   identity views computed once) and (b) a naive loop as simple evaluation scripts do it: per
   family, the clean image once, then one forward pass per variant. Best of N interleaved rounds,
   since this machine is shared. Prints the speed-up and the achieved share of this machine's
   measured dense matmul GFLOP/s (model GFLOPs x forwarded images per second / matmul GFLOP/s).
2. bf16: matmul speed-up on this CPU and whether bf16 keeps the model's fp32 top-1.
3. Memory: peak RSS of a fresh process probing 20 images x 3 models x all families.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import time

import torch
from PIL import ImageOps
from torch.utils.flop_counter import FlopCounterMode

from advisor.models.loaded import LoadedModel, load_model
from advisor.models.precision import AUTO_MIN_SPEEDUP, bf16_speedup
from advisor.models.registry import DEFAULT_MODELS
from advisor.probes import invariance
from advisor.probes.images import IntakeResult, bundled_images, load_image, load_images
from advisor.probes.transforms import list_families, reference_view


def matmul_gflops(dtype: torch.dtype = torch.float32, n: int = 2048, rounds: int = 5) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(rounds))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def model_gflops(model: LoadedModel) -> float:
    """FLOPs of one forward pass at the native size (2 x multiply-accumulates), in GFLOPs."""
    with FlopCounterMode(display=False) as counter:
        model.forward(torch.rand(1, 3, *model.view.input_size))
    return counter.get_total_flops() / 1e9


def naive_probe(model: LoadedModel, images: list[IntakeResult], fams) -> list[dict]:
    """One forward per variant (and the clean image once per family), batch size 1."""
    rows = []
    for im in images:
        seed = int(im.sha256[:8], 16)
        for fam in fams:
            ref = reference_view(im.image, model.view)
            ref_out = model.forward(ref.unsqueeze(0))
            for mag, t in zip(fam.magnitudes, fam.make(im.image, ref, fam.magnitudes, model.view, seed),
                              strict=True):
                out = model.forward(t.unsqueeze(0))
                rows.append({"image": im.name, "family": fam.name, "magnitude": float(mag),
                             **invariance._metrics((ref_out[0][0], ref_out[1][0]), (out[0][0], out[1][0]))})
    return rows


def counted(fn):
    """Run fn while counting the images LoadedModel.forward sees."""
    seen = [0]
    original = LoadedModel.forward

    def counting(self, x01, precision="fp32"):
        seen[0] += int(x01.shape[0])
        return original(self, x01, precision)

    LoadedModel.forward = counting
    try:
        t = time.perf_counter()
        result = fn()
        return result, time.perf_counter() - t, seen[0]
    finally:
        LoadedModel.forward = original


def bench_speed(model_id: str, rounds: int) -> None:
    images, _ = load_images(bundled_images())
    model = load_model(model_id)
    fams = [f for f in list_families() if f.kind == "pixel" or f.name in ("scale", "shift")]  # native size
    n_variants = len(images) * sum(len(f.magnitudes) for f in fams)
    gflops = model_gflops(model)
    peak32 = matmul_gflops(torch.float32)
    print(f"machine: dense fp32 matmul {peak32:.0f} GFLOP/s (2048^2, best of 5); "
          f"torch threads {torch.get_num_threads()}")
    print(f"model {model.model_id} ({model.weights}): {gflops:.2f} GFLOPs per {model.view.input_size} view")
    print(f"workload: {len(images)} images x {len(fams)} native-size families = {n_variants} variants")
    best_naive = best_batched = float("inf")
    for _ in range(rounds):  # interleaved: both see the same background load
        naive_rows, t_naive, seen_naive = counted(lambda: naive_probe(model, images, fams))
        best_naive = min(best_naive, t_naive)
        invariance.clear_result_cache()
        res, t_batched, seen_batched = counted(
            lambda: invariance.run_probe(images, [model_id], fams, precision="fp32", use_cache=False))
        best_batched = min(best_batched, t_batched)
    same = sum(a["top1_agreement"] == b for a, b in zip(naive_rows, res.rows.top1_agreement, strict=True))
    for name, t, seen in (("naive loop", best_naive, seen_naive), ("batched run_probe", best_batched,
                                                                  seen_batched)):
        share = gflops * seen / t / peak32
        print(f"  {name:18s} {t:7.2f} s  {n_variants / t:6.1f} variants/s  {seen} images forwarded  "
              f"{gflops * seen / t:6.1f} GFLOP/s = {share:.1%} of matmul peak")
    print(f"speed-up batched vs naive: {best_naive / best_batched:.2f}x (target >= 3x); "
          f"top-1 decisions equal in {same}/{len(naive_rows)} variants")
    x1 = torch.rand(1, 3, *model.view.input_size)
    x16 = torch.rand(16, 3, *model.view.input_size)
    t1 = min(_timed(lambda: [model.forward(x1) for _ in range(16)]) for _ in range(3))
    t16 = min(_timed(lambda: model.forward(x16)) for _ in range(3))
    print(f"ceiling on this machine: 16 images at batch 1 vs one batch of 16 = {t1 / t16:.2f}x from batching alone; "
          f"with the {seen_naive / seen_batched:.2f}x fewer forwards the batched probe needs, at most "
          f"{t1 / t16 * seen_naive / seen_batched:.2f}x overall")
    t_all = _timed(lambda: invariance.run_probe(images, [model_id], precision="fp32", use_cache=False))
    print(f"all {len(list_families())} families incl. resolution (up to 640 px): {t_all:.1f} s for "
          f"{len(images)} images")
    bench_bf16(model, images)


def bench_bf16(model: LoadedModel, images: list[IntakeResult]) -> None:
    x = torch.stack([reference_view(im.image, model.view) for im in images])
    fp32 = model.forward(x, "fp32")[0].argmax(-1)
    bf16 = model.forward(x, "bf16")[0].argmax(-1)
    t32 = min(_timed(lambda: model.forward(x, "fp32")) for _ in range(3))
    t16 = min(_timed(lambda: model.forward(x, "bf16")) for _ in range(3))
    print(f"bf16: matmul speed-up {bf16_speedup():.2f}x; {model.model_id} forward {t32 / t16:.2f}x; "
          f"top-1 equal to fp32 on {int((fp32 == bf16).sum())}/{len(x)} images -> "
          f"precision='auto' picks {'bf16' if bf16_speedup() >= AUTO_MIN_SPEEDUP else 'fp32'} here")


def twenty_images() -> list[IntakeResult]:
    """The 5 bundled photos plus mirrored / rotated / cropped copies: 20 distinct images."""
    base, _ = load_images(bundled_images())
    out = list(base)
    edits = (ImageOps.mirror, lambda im: im.rotate(90, expand=True),
             lambda im: im.crop((0, 0, im.width * 3 // 4, im.height * 3 // 4)))
    for k, edit in enumerate(edits):
        for im in base:
            buf = io.BytesIO()
            edit(im.image).save(buf, format="PNG")
            out.append(load_image(buf.getvalue(), f"{im.name.rsplit('.', 1)[0]}-edit{k}.png"))
    return out


def rss_run(models: list[str]) -> None:
    """Child process: probe 20 images x models x all families, print peak RSS and timings as JSON."""
    images = twenty_images()
    t = time.perf_counter()
    r = invariance.run_probe(images, models, precision="fp32")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_rss_mib": peak_kib / 1024, "seconds": time.perf_counter() - t, "rows": len(r.rows),
                      "images": len(r.images), "models": [m.model_id for m in r.models], "errors": r.errors,
                      "skipped": len(r.skipped)}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=DEFAULT_MODELS[0])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--no-rss", action="store_true")
    p.add_argument("--rss-run", nargs="*", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.rss_run is not None:
        rss_run(args.rss_run or list(DEFAULT_MODELS))
        return
    bench_speed(args.model, args.rounds)
    if not args.no_rss:
        proc = subprocess.run([sys.executable, __file__, "--rss-run", *DEFAULT_MODELS], capture_output=True,
                              text=True, check=True)
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"memory: {res['images']} images x {len(res['models'])} models x all families -> "
              f"{res['rows']} rows in {res['seconds']:.0f} s; peak RSS {res['peak_rss_mib']:.0f} MiB "
              f"(target < 3072 MiB); errors {len(res['errors'])}, skipped variants {res['skipped']}")


if __name__ == "__main__":
    main()
