"""Numeric precision of a forward pass: fp32 unless the caller opts in to something faster.

Results must not depend on the machine they ran on, so nothing here picks reduced precision by itself:
"fp32" is every caller's default; "bf16" and "fp16" are explicit requests (autocast: matmuls and
convolutions in the low precision, reductions in fp32); "auto" (also explicit) means bf16 only where this
CPU runs it markedly faster, and on an accelerator its fast half precision. Whoever uses reduced precision
records it with the result, with the share of top-1 predictions that agree with fp32 (`top1_agreement`).
"""

from __future__ import annotations

import contextlib
import functools
import time
from typing import Any

PRECISIONS = ("fp32", "bf16", "fp16", "auto")
DEFAULT_PRECISION = "fp32"
AUTO_MIN_SPEEDUP = 1.3


@functools.lru_cache(maxsize=1)
def bf16_speedup() -> float:
    """How much faster a bf16 matmul runs than fp32 on this CPU (< 1 where there are no bf16 units)."""
    import torch

    n, reps, times = 768, 3, {}
    for dt in (torch.float32, torch.bfloat16):
        a, b = torch.randn(n, n, dtype=dt), torch.randn(n, n, dtype=dt)
        a @ b
        t = time.perf_counter()
        for _ in range(reps):
            a @ b
        times[dt] = time.perf_counter() - t
    return times[torch.float32] / max(times[torch.bfloat16], 1e-9)


def resolve_precision(precision: str, device: str = "cpu") -> str:
    """The precision to run: 'fp32', 'bf16' or 'fp16'. 'auto' -> on the CPU bf16 only if it runs >= 1.3x
    faster; on CUDA bf16 where the GPU has it, else fp16; on MPS fp16."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if precision != "auto":
        return precision
    if device == "cuda":
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device == "mps":
        return "fp16"
    return "bf16" if bf16_speedup() >= AUTO_MIN_SPEEDUP else "fp32"


def autocast_dtype(precision: str) -> Any:
    """The torch dtype autocast runs in for a resolved precision; None for fp32 (no autocast)."""
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)


def autocast(device_type: str, precision: str) -> contextlib.AbstractContextManager:
    """Autocast in `precision` on `device_type` ('cpu', 'cuda', 'mps'); a no-op context for fp32."""
    import torch

    dtype = autocast_dtype(precision)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type, dtype=dtype)


def top1_agreement(logits: Any, reference: Any) -> float:
    """Share of rows whose top-1 class is the same in `logits` and the fp32 `reference` (numpy or torch)."""
    import numpy as np

    a, b = np.asarray(logits), np.asarray(reference)
    if len(a) != len(b) or not len(a):
        raise ValueError("agreement needs the same, non-zero number of rows in both")
    return float((a.argmax(-1) == b.argmax(-1)).mean())
