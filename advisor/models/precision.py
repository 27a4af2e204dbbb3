"""Numeric precision of a forward pass: fp32 unless the caller opts in to something faster.

Results must not depend on the machine they ran on, so nothing here picks reduced precision by itself:
"fp32" is every caller's default; "bf16" is an explicit request; "auto" (also explicit) means bf16 only
where this CPU runs it markedly faster. Whoever uses reduced precision records it with the result.
"""

from __future__ import annotations

import functools
import time

PRECISIONS = ("fp32", "bf16", "auto")
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


def resolve_precision(precision: str) -> str:
    """The precision to run: 'fp32' or 'bf16'; 'auto' -> 'bf16' only if this CPU runs it >= 1.3x faster."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if precision == "auto":
        return "bf16" if bf16_speedup() >= AUTO_MIN_SPEEDUP else "fp32"
    return precision
