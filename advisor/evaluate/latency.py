"""Speed on this machine: batch-1 latency, throughput at a batch size and peak memory of chosen models.

Measured the way timm's benchmark.py does it: the model in eval mode at its pretrained input size,
channels-last, a fixed random input, untimed warm-up passes, then timed passes (on CUDA each one
synchronised); gradients off (`torch.inference_mode`). Unlike timm, which reports the mean over the timed
run, each figure here is the median of the timed passes with its quartiles, so a busy machine's outliers
move it little. fp32 unless another precision is asked for (autocast), and the thread count is stated.
Repeatable figures need time, not a pass count: each figure is timed for at least `min_time_s` seconds
(and at least `repeats` passes), after a warm-up of at least half that time (and `warmup` passes), with
Python's garbage collector paused while timing (as `timeit` does). A fast model then gets hundreds of
batch-1 passes and a slow one its few; the measured time per model stays a few seconds.

Peak memory: on CUDA, `torch.cuda.max_memory_allocated` during a batch forward (weights + activations held
by PyTorch's allocator). On a CPU a fresh Python process loads the model, resets its resident-set
high-water mark (Linux /proc/self/clear_refs), runs one batch forward and reports the weights' bytes plus
how far the high-water mark rose above the resident memory before the forward: the forward's peak working
memory as the operating system counts it (tracemalloc does not see torch's allocations), without the
interpreter and libraries. Where the reset is not available the figure is the process's ru_maxrss, which
also counts the interpreter, its libraries and loading, and says so.
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from advisor.errors import AdvisorError, InvalidRequestError
from advisor.evaluate.bench_result import DEFAULT_MIN_TIME_S, DEFAULT_REPEATS, BenchResult, ModelBench, Spread
from advisor.models.device import resolve_device, usable_cpus
from advisor.models.download import ensure_weights
from advisor.models.loaded import LoadedModel, load_model
from advisor.models.precision import autocast_dtype, resolve_precision
from advisor.models.registry import backend_for, parse_model_id

Progress = Callable[[float, str], None]
DEFAULT_BATCH = 32
MAX_PASSES = 10_000
WARMUP = 10  # timm's --num-warm-iter default
BATCH_WARMUP = 3  # a warm-up batch is `batch_size` images: fewer passes are enough to settle
MEMORY_TIMEOUT_S = 600


def resolve_bench_precision(precision: str, device: str) -> str:
    """The evaluation's rule (`models.precision.resolve_precision`), plus: fp16 is for accelerators."""
    if device == "cpu" and precision == "fp16":
        raise InvalidRequestError("precision fp16 is for GPUs; on a CPU use bf16 (or fp32, the default)")
    try:
        return resolve_precision(precision, device)
    except ValueError as e:
        raise InvalidRequestError(str(e)) from None


def device_name(device: str) -> str:
    """The CPU's model name or the GPU's name, for the record."""
    if device == "cuda":
        return torch.cuda.get_device_name()
    if device == "mps":
        return f"Apple {platform.machine()}"
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        if m:
            return m.group(1).strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def spread(values: Sequence[float]) -> Spread:
    """Median and quartiles of the timed passes, and the median's distribution-free 95 % interval: the order
    statistics n/2 -+ 1.96 sqrt(n)/2 (normal approximation to the binomial; the extremes for very few passes)."""
    a = np.sort(np.asarray(values, dtype=float))
    n = len(a)
    q1, med, q3 = np.percentile(a, [25, 50, 75])
    half = 1.959963984540054 * np.sqrt(n) / 2
    lo, hi = max(int(np.floor(n / 2 - half)), 0), min(int(np.ceil(n / 2 + half)), n - 1)
    return Spread(float(med), float(q1), float(q3), n, float(a[lo]), float(a[hi]))


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()
    elif device == "mps":
        torch.mps.synchronize()


def _on_device(model: LoadedModel, device: str, fmt: torch.memory_format):  # -> Built
    """The model's Built record on `device` in layout `fmt`; a copy unless that is how the load cache holds it
    (on the CPU, channels-last), so the shared model is never changed."""
    if device == "cpu" and fmt == torch.channels_last:
        return model.built
    head = model.built.head
    head = head.to(device) if isinstance(head, torch.Tensor | torch.nn.Module) else head
    module = copy.deepcopy(model.module).to(device=device, memory_format=fmt)
    return dataclasses.replace(model.built, module=module, head=head)


def _timed_passes(run: Callable[[], object], device: str, warmup: int, repeats: int,
                  min_time_s: float = 0.0) -> tuple[list[float], list[float]]:
    """(wall-clock seconds, process CPU seconds) per pass: untimed warm-up passes (at least `warmup`, and for
    at least `min_time_s / 2` seconds), then timed ones (at least `repeats`, and until `min_time_s` seconds
    are measured; at most MAX_PASSES), each synchronised, the garbage collector paused. CPU time counts every
    thread of this process; on a busy machine it moves far less than wall time (waiting is not counted)."""
    done, until = 0, time.perf_counter() + min_time_s / 2
    while done < warmup or time.perf_counter() < until:
        run()
        done += 1
    _sync(device)
    wall: list[float] = []
    cpu: list[float] = []
    spent = 0.0
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        while len(wall) < repeats or (spent < min_time_s and len(wall) < MAX_PASSES):
            c0, t0 = time.process_time(), time.perf_counter()
            run()
            _sync(device)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            spent += wall[-1]
    finally:
        if was_enabled:
            gc.enable()
    return wall, cpu


def bench_loaded(model: LoadedModel, *, batch_size: int = DEFAULT_BATCH, repeats: int = DEFAULT_REPEATS,
                 warmup: int = WARMUP, precision: str = "fp32", device: str = "cpu",
                 channels_last: bool = True, min_time_s: float = DEFAULT_MIN_TIME_S) -> ModelBench:
    """Latency (batch 1) and throughput (batch `batch_size`) of one loaded model; precision and device resolved.
    Each figure is timed for at least `min_time_s` seconds and `repeats` passes (`_timed_passes`)."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    built = _on_device(model, device, fmt)
    backend = backend_for(model.spec)
    h, w = model.view.input_size
    gen = torch.Generator().manual_seed(0)
    x1 = torch.randn(1, 3, h, w, generator=gen).to(device).contiguous(memory_format=fmt)
    xb = torch.randn(batch_size, 3, h, w, generator=gen).to(device).contiguous(memory_format=fmt)
    dtype = autocast_dtype(precision)
    cudnn_benchmark = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True  # as timm's benchmark.py: cuDNN picks its fastest kernels (GPU only)
    peak = None
    try:
        with torch.inference_mode(), torch.autocast(device, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            lat = _timed_passes(lambda: backend.outputs(built, x1), device, warmup, repeats, min_time_s)
            thr = _timed_passes(lambda: backend.outputs(built, xb), device, min(warmup, BATCH_WARMUP), repeats,
                                min_time_s)
            if device == "cuda":
                torch.cuda.reset_peak_memory_stats()
                backend.outputs(built, xb)
                _sync(device)
                peak = torch.cuda.max_memory_allocated() / 2**20
    finally:
        torch.backends.cudnn.benchmark = cudnn_benchmark
    params = sum(p.numel() for p in model.module.parameters()) / 1e6
    cpu = device == "cpu"  # on an accelerator the process's CPU time says little about the model
    return ModelBench(model.model_id, model.weights, (int(h), int(w)), round(params, 3),
                      spread([t * 1e3 for t in lat[0]]), spread([batch_size / t for t in thr[0]]), peak,
                      spread([t * 1e3 for t in lat[1]]) if cpu else None,
                      spread([batch_size / max(t, 1e-9) for t in thr[1]]) if cpu else None)


# --- CPU peak memory in a fresh process ------------------------------------------------------------------------


def _status_kb(field: str) -> int | None:
    try:
        m = re.search(rf"^{field}:\s+(\d+)\s*kB", Path("/proc/self/status").read_text(), re.M)
    except OSError:
        return None
    return int(m.group(1)) if m else None


def _maxrss_kb() -> int:
    import resource  # POSIX only: imported where it is used

    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r // 1024 if sys.platform == "darwin" else r  # bytes on macOS, KiB on Linux


def memory_child(model_id: str, batch_size: int, precision: str, allow_random: bool,
                 weights_path: str | None = None) -> dict:
    """Run in a fresh process (see the module docstring): the model's peak inference memory in MB."""
    model = load_model(model_id, weights_path, allow_random=allow_random)
    weights = sum(t.numel() * t.element_size() for t in (*model.module.parameters(), *model.module.buffers()))
    h, w = model.view.input_size
    x = torch.randn(batch_size, 3, h, w).contiguous(memory_format=torch.channels_last)
    gc.collect()
    base = _status_kb("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resident high-water mark := current resident size
        reset = base is not None and _status_kb("VmHWM") is not None
    except OSError:
        reset = False
    dtype = autocast_dtype(precision)
    with torch.inference_mode(), torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        backend_for(model.spec).outputs(model.built, x)
    if reset:
        return {"peak_mb": (weights + 1024 * max(0, _status_kb("VmHWM") - base)) / 2**20, "method": "reset"}
    return {"peak_mb": _maxrss_kb() / 1024, "method": "maxrss"}


MEMORY_METHODS = {
    "reset": "CPU: parameter and buffer bytes plus the rise of the resident-set high-water mark during one "
             "batch forward, in a fresh process (weights + peak working memory)",
    "maxrss": "CPU: peak resident memory (ru_maxrss) of a fresh process that loaded the model and ran one "
              "batch forward (includes the Python interpreter, its libraries and loading)",
    "cuda": "GPU: torch.cuda.max_memory_allocated during one batch forward (weights + activations)",
    "none": "not measured",
}


def cpu_peak_memory(model_id: str, batch_size: int, precision: str, allow_random: bool = False,
                    weights_path: str | Path | None = None, timeout: float = MEMORY_TIMEOUT_S) -> tuple[float, str]:
    """(MB, method key) from a fresh process; AdvisorError when it fails."""
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p),
           "OMP_NUM_THREADS": str(torch.get_num_threads())}
    file = None if weights_path is None else str(weights_path)
    args = json.dumps([model_id, batch_size, precision, allow_random, file])
    code = ("import json, sys; from advisor.evaluate.latency import memory_child; "
            "print(json.dumps(memory_child(*json.loads(sys.argv[1]))))")
    try:
        done = subprocess.run([sys.executable, "-c", code, args], env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise AdvisorError(f"{model_id}: peak memory not measured (took over {timeout:.0f} s)") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise AdvisorError(f"{model_id}: peak memory not measured ({last})")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return float(out["peak_mb"]), str(out["method"])


# --- the benchmark ------------------------------------------------------------------------------------------------


def bench(model_ids: Sequence[str], *, batch_size: int = DEFAULT_BATCH, repeats: int = DEFAULT_REPEATS,
          warmup: int = WARMUP, precision: str = "fp32", device: str = "auto", threads: int | None = None,
          channels_last: bool = True, memory: bool = True, allow_random: bool = False, download: bool = False,
          weights: Mapping[str, str | Path] | None = None, progress: Progress | None = None,
          min_time_s: float = DEFAULT_MIN_TIME_S) -> BenchResult:
    """Measure each model on this machine; a model that cannot be loaded becomes an error line, not a crash.

    `weights` maps a model id (as given) to a local weights file.
    Raises InvalidRequestError for impossible settings (before any model is loaded)."""
    if not model_ids:
        raise InvalidRequestError("name at least one model to benchmark")
    files = {parse_model_id(k).model_id: v for k, v in (weights or {}).items()}
    for name, v, low in (("batch size", batch_size, 1), ("repeats", repeats, 3), ("warm-up", warmup, 0)):
        if not isinstance(v, int) or v < low:
            raise InvalidRequestError(f"{name} must be a whole number of at least {low}, got {v!r}")
    if threads is not None and threads < 1:
        raise InvalidRequestError(f"threads must be at least 1, got {threads!r}")
    if not 0 <= min_time_s <= 600:
        raise InvalidRequestError(f"minimum time must be between 0 and 600 seconds, got {min_time_s!r}")
    dev = resolve_device(device)
    prec = resolve_bench_precision(precision, dev)
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    t0 = time.perf_counter()
    models: list[ModelBench] = []
    errors: list[str] = []
    methods: set[str] = set()
    load_before = _load_average()
    try:
        n_threads = torch.get_num_threads()
        for i, mid in enumerate(dict.fromkeys(model_ids)):
            if progress:
                progress(i / len(model_ids), f"measuring {mid}")
            try:
                path = files.get(parse_model_id(mid).model_id)
                if download and path is None:
                    ensure_weights(mid, progress, download=True)
                loaded = load_model(mid, path, allow_random=allow_random)
                mb = bench_loaded(loaded, batch_size=batch_size, repeats=repeats, warmup=warmup, precision=prec,
                                  device=dev, channels_last=channels_last, min_time_s=min_time_s)
                if dev == "cuda":
                    methods.add("cuda")
                elif dev == "cpu" and memory:
                    try:
                        peak, method = cpu_peak_memory(loaded.model_id, batch_size, prec, allow_random, path)
                        mb = dataclasses.replace(mb, peak_memory_mb=round(peak, 1))
                        methods.add(method)
                    except AdvisorError as e:
                        errors.append(str(e))
                models.append(mb)
            except AdvisorError as e:
                errors.append(str(e))
    finally:
        torch.set_num_threads(old_threads)
    if progress:
        progress(1.0, "done")
    method = "; ".join(MEMORY_METHODS[m] for m in sorted(methods)) or MEMORY_METHODS["none"]
    notes = busy_note(load_before, n_threads) if dev == "cpu" else ()
    return BenchResult(dev, device_name(dev), n_threads, torch.__version__, prec, channels_last,
                       batch_size, repeats, warmup, method, tuple(models), tuple(errors),
                       round(time.perf_counter() - t0, 2), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                       notes, float(min_time_s))


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        return None


def busy_note(load_before: float | None, threads: int) -> tuple[str, ...]:
    """A note when other work was already running on the cores the benchmark needs: the 1-minute load
    average before the run plus the benchmark's threads exceeding the usable CPUs. Wall-clock figures then
    vary from run to run (several threads waiting on each other are slowed most), so the result says so."""
    cpus = usable_cpus()
    if load_before is None or load_before + threads <= cpus:
        return ()
    return (f"the machine was busy: load average {load_before:.1f} on {cpus} CPUs before the run, and the "
            f"benchmark ran {threads} thread{'s' * (threads != 1)}; other processes competed for the cores, so "
            "these figures vary from run to run (a quiet machine, --threads 1 or a longer --min-time steady "
            "them; the CPU-time columns are less affected)",)

