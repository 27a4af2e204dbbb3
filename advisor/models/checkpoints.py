"""Weights files read safely: format sniffing, user-given paths, tensor-only loading, and the messages.

Pure helpers below the backends. A checkpoint is only ever read as tensors (safetensors, or torch's
`weights_only` unpickler, which refuses any other Python object without running it); a refusal never
suggests `weights_only=False`. torch is imported inside the functions that need it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from advisor.errors import WeightsUnavailableError
from advisor.models.interface import ModelSpec, WeightsSource

SAFE_FORMATS = "a .safetensors file or a PyTorch state dict (.pth / .pt / .bin)"


def sniff(head: bytes, size: int) -> str | None:
    """'safetensors', 'torch-zip' or 'torch-pickle' from a file's first bytes; None for anything else."""
    if len(head) >= 9 and head[8:9] == b"{" and 0 < int.from_bytes(head[:8], "little") < size:
        return "safetensors"
    if head.startswith(b"PK\x03\x04"):
        return "torch-zip"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "torch-pickle"
    return None


def check_weights_file(spec: ModelSpec, weights_path: str | Path) -> Path:
    """A user-given weights path that is a regular, non-empty file in a weights format; else a clear message."""
    p = Path(weights_path).expanduser()
    where = f"{spec.model_id}: weights file {p}"
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise WeightsUnavailableError(f"{spec.model_id}: weights file not found: {p}") from None
    except OSError as exc:
        raise WeightsUnavailableError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise WeightsUnavailableError(f"{where} is a folder; give the weights file inside it ({SAFE_FORMATS})")
    if not stat.S_ISREG(st.st_mode):
        raise WeightsUnavailableError(f"{where} is not a regular file (a device, FIFO or socket); "
                                      f"give {SAFE_FORMATS}")
    if st.st_size == 0:
        raise WeightsUnavailableError(f"{where} is empty (0 bytes)")
    try:
        with open(p, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise WeightsUnavailableError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    if sniff(head, st.st_size) is None:
        looks = "text" if all(32 <= b < 127 or b in (9, 10, 13) for b in head) else "an unknown format"
        raise WeightsUnavailableError(f"{where} is not a weights file (it looks like {looks}); "
                                      f"give {SAFE_FORMATS}")
    return p


def read_state(path: str, *, mmap: bool = False) -> Any:
    """A checkpoint's tensors (safetensors, or torch's tensor-only unpickler); raises on anything else."""
    import torch

    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(path, device="cpu")
    return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)


def check_tensors_only(path: str) -> str:
    """The file's format if it holds only tensors; raises (pickle.UnpicklingError, ValueError...) otherwise.

    Reads nothing into memory for safetensors and zip checkpoints (header / memory map only)."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    kind = sniff(head, os.path.getsize(path))
    if kind is None:
        raise ValueError("not a weights file (neither safetensors nor a PyTorch checkpoint)")
    if kind == "safetensors":
        from safetensors import safe_open

        with safe_open(path, framework="pt", device="cpu") as f:
            f.keys()
        return kind
    import torch

    torch.load(path, map_location="cpu", weights_only=True, mmap=kind == "torch-zip")
    return kind


def load_state_in_order(model: Any, state: dict) -> None:
    """Load a checkpoint whose keys differ but whose tensors match the model's one for one, in order."""
    own = model.state_dict()
    if len(own) != len(state):
        raise ValueError(f"checkpoint has {len(state)} tensors, model has {len(own)}")
    remapped = {}
    for (k_own, v_own), (k_ck, v_ck) in zip(own.items(), state.items(), strict=True):
        if tuple(v_own.shape) != tuple(v_ck.shape):
            raise ValueError(f"shape mismatch at {k_own} {tuple(v_own.shape)} vs {k_ck} {tuple(v_ck.shape)}")
        remapped[k_own] = v_ck
    model.load_state_dict(remapped, strict=True)


def is_refused_pickle(exc: BaseException) -> bool:
    """True for the error torch's tensor-only unpickler raises on other Python objects."""
    import pickle

    return isinstance(exc, pickle.UnpicklingError) or "weights_only" in str(exc)


def load_error(spec: ModelSpec, src: WeightsSource, exc: BaseException,
               what: str = "do not fit") -> WeightsUnavailableError:
    """The message for weights that failed to load; a refused pickle never suggests weights_only=False."""
    if is_refused_pickle(exc):
        return WeightsUnavailableError(
            f"{spec.model_id}: refused to load {src.label}: it holds Python objects other than tensors "
            f"(a pickle that could run code when loaded), so it was not loaded. Use {SAFE_FORMATS} "
            f"saved from a trusted model.")
    text = str(exc)
    first = text.splitlines()[0][:300] if text.strip() else type(exc).__name__
    return WeightsUnavailableError(f"{spec.model_id}: weights from {src.label} {what}: {first}")


def unavailable(spec: ModelSpec, how_to_get: str, detail: str = "") -> WeightsUnavailableError:
    """Weights not on this machine: the message says why (detail) and how to get them (the backend's text)."""
    extra = f" ({detail})" if detail else ""
    return WeightsUnavailableError(f"{spec.model_id}: weights not available offline{extra}. "
                                   f"How to get them: {how_to_get}")
