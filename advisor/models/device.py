"""Which device a forward pass runs on: the user's choice, or the best one present.

"auto" picks CUDA, then Apple's MPS, else the CPU; an explicit device that is not present is a clear
error rather than a silent fallback (a user who asked for the GPU must know they did not get it).
Results do not depend on the device beyond the precision asked for, so caches are keyed by precision
only. torch is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import os

from advisor.errors import InvalidRequestError

DEVICES = ("auto", "cpu", "cuda", "mps")
DEFAULT_DEVICE = "auto"


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def mps_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve_device(device: str = DEFAULT_DEVICE) -> str:
    """'auto' -> 'cuda' if present, else 'mps' if present, else 'cpu'; an explicit device is checked."""
    if device not in DEVICES:
        raise InvalidRequestError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    if device == "auto":
        return "cuda" if cuda_available() else "mps" if mps_available() else "cpu"
    if device == "cuda" and not cuda_available():
        raise InvalidRequestError("--device cuda: no CUDA GPU is visible to torch here "
                                  "(use --device auto or cpu)")
    if device == "mps" and not mps_available():
        raise InvalidRequestError("--device mps: Apple's MPS backend is not available here "
                                  "(use --device auto or cpu)")
    return device


def is_accelerator(device: str) -> bool:
    return device in ("cuda", "mps")


def pin_memory(device: str) -> bool:
    """Page-locked batches make host-to-GPU copies asynchronous; only CUDA uses them."""
    return device == "cuda"


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def loader_workers(device: str, n_images: int) -> int:
    """DataLoader worker processes that decode and resize: enough to keep an accelerator fed; on the CPU one
    where a core is left beside torch's threads (decoding then overlaps the forward pass), else none: a
    worker competing with torch's threads for the cores stalls them (on 2 cores and 2 threads, an evaluation
    of 200 photos x 3 models took 17.3 s with a worker and 11.7 s without); none for a handful of images
    (start-up costs more). VISION_ADVISOR_LOADER_WORKERS overrides."""
    env = os.environ.get("VISION_ADVISOR_LOADER_WORKERS", "").strip()
    if env.isdigit():
        return int(env)
    if n_images < 16:
        return 0
    cores = usable_cpus()
    if is_accelerator(device):
        return max(1, min(8, cores - 1))
    import torch

    return 1 if cores > torch.get_num_threads() else 0


def ray_gpus_per_task(device: str, cluster_gpus: float) -> int:
    """GPUs a Ray task asks for: one when the cluster has any and the user did not ask for another device."""
    return 1 if cluster_gpus >= 1 and device in ("auto", "cuda") else 0
