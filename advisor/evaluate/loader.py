"""The fast reference pass of `evaluate`: decode and resize in DataLoader workers, run every model on each
batch, on the device and in the precision asked for.

Speed comes only from choices that keep fp32 results within float tolerance: channels-last tensors
(done at load), batch norms folded into the convolution before them (checked against the unfolded model
on a fixed input, else not used), `inference_mode`, decoding each file once for every model of the pass,
in worker processes that overlap the forward passes (pinned memory when a GPU is used), and uint8
batches (4x less to move than floats). Reduced precision is opt-in (precision.py) and recorded with its
agreement to fp32 (`fp32_agreement`). Workers go through the same safe intake (`load_image`) and the same
view as the rest of the project, so results and caches are the same whatever the device.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field, replace
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import numpy as np

from advisor.errors import AdvisorError, InvalidRequestError
from advisor.evaluate import stats
from advisor.models.device import loader_workers, pin_memory, resolve_device
from advisor.models.interface import ViewConfig
from advisor.models.precision import resolve_precision

if TYPE_CHECKING:  # torch (via loaded.py) is imported only when a pass runs
    from advisor.evaluate.result import ModelEvaluation
    from advisor.models.loaded import LoadedModel

FOLD_RTOL = 1e-3  # folded vs unfolded outputs, relative to their largest magnitude (float error is ~1e-6)
_FAST: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # LoadedModel -> {device: fast LoadedModel}


# --- model: folded batch norms, on the device ---------------------------------------------------------
def _foldable_norm(m: Any) -> bool:
    import torch

    if not isinstance(m, torch.nn.BatchNorm2d) or m.training or m.running_mean is None:
        return False
    return type(m) is torch.nn.BatchNorm2d or (type(m).__name__ == "BatchNormAct2d" and hasattr(m, "act"))


def _after_norm(m: Any) -> Any:
    """What is left of a norm layer once its affine map is in the convolution: nothing, or timm's act."""
    import torch

    if type(m) is torch.nn.BatchNorm2d:
        return torch.nn.Identity()
    return torch.nn.Sequential(getattr(m, "drop", torch.nn.Identity()), m.act)


def _conv_norm_pairs(module: Any, x: Any) -> list[tuple[Any, Any]]:
    """(conv, norm) pairs where, on a probe pass, the norm's input was exactly that conv's output and no
    other layer read it. Functional reuse (a residual of the raw conv output) is caught by `fold_batchnorm`'s
    check, not here."""
    import torch

    produced: dict[int, Any] = {}  # id(output) -> conv
    readers: dict[int, int] = {}
    alive: list = []  # every tensor seen stays alive during the pass, so no id is reused
    pairs, hooks = [], []

    def on_conv(m, _inp, out):
        alive.append(out)
        produced[id(out)] = m

    def on_any(m, inp, _out):
        for t in inp:
            if isinstance(t, torch.Tensor):
                alive.append(t)
                readers[id(t)] = readers.get(id(t), 0) + 1
        if _foldable_norm(m) and inp and id(inp[0]) in produced:
            pairs.append((produced[id(inp[0])], m, id(inp[0])))

    for m in module.modules():
        if type(m).__name__ in ("Conv2d", "Conv2dSame") and isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(on_conv))
        if not list(m.children()) or _foldable_norm(m):  # timm's norm + act has children
            hooks.append(m.register_forward_hook(on_any))
    try:
        with torch.inference_mode():
            module(x)
    finally:
        for h in hooks:
            h.remove()
    seen_conv, seen_norm, out = set(), set(), []
    for conv, norm, tid in pairs:
        if readers.get(tid) == 1 and id(conv) not in seen_conv and id(norm) not in seen_norm:
            seen_conv.add(id(conv))
            seen_norm.add(id(norm))
            out.append((conv, norm))
    return out


def fold_batchnorm(module: Any, x: Any) -> int:
    """Fold eval batch norms into the convolution that feeds them, in place; returns how many were folded.
    `x` is a probe input (normalised, the model's size). Callers check the result (`fast_model`)."""
    import torch

    parents = {id(child): (parent, name) for parent in module.modules() for name, child in parent.named_children()}
    n = 0
    with torch.no_grad():
        for conv, norm in _conv_norm_pairs(module, x):
            if id(norm) not in parents:
                continue
            scale = norm.weight / torch.sqrt(norm.running_var + norm.eps) if norm.affine else \
                1.0 / torch.sqrt(norm.running_var + norm.eps)
            shift = (norm.bias if norm.affine else 0.0) - norm.running_mean * scale
            bias = conv.bias if conv.bias is not None else torch.zeros_like(norm.running_mean)
            conv.weight = torch.nn.Parameter(conv.weight * scale.view(-1, 1, 1, 1), requires_grad=False)
            conv.bias = torch.nn.Parameter(bias * scale + shift, requires_grad=False)
            parent, name = parents[id(norm)]
            setattr(parent, name, _after_norm(norm))
            n += 1
    return n


def _close(a: Any, b: Any) -> bool:
    import torch

    return a.shape == b.shape and bool(torch.isfinite(a).all()) and \
        float((a - b).abs().max()) <= FOLD_RTOL * max(1e-6, float(b.abs().max()))


def fast_model(model: LoadedModel, device: str = "cpu") -> LoadedModel:
    """A copy of `model` for fast inference on `device`: batch norms folded where that provably keeps the
    outputs (checked on a fixed input in fp32, else the plain copy), moved to the device. Kept while the
    loaded model lives (not in the model LRU, and never changing the shared model the probes use)."""
    import torch

    from advisor.models.loaded import LoadedModel

    per_device = _FAST.setdefault(model, {})
    if device in per_device:
        return per_device[device]
    gen = torch.Generator().manual_seed(0)
    x01 = torch.rand(2, 3, *model.view.input_size, generator=gen)
    ref = model.forward(x01)
    folded = copy.deepcopy(model.module)
    try:
        mean = torch.tensor(model.view.mean).view(1, -1, 1, 1)
        std = torch.tensor(model.view.std).view(1, -1, 1, 1)
        n = fold_batchnorm(folded, ((x01[:1] - mean) / std).contiguous(memory_format=torch.channels_last))
        fast = LoadedModel(model.spec, model.source, replace(model.built, module=folded))
        if n and not all(_close(a, b) for a, b in zip(fast.forward(x01), ref, strict=True)):
            raise ValueError("folded outputs differ")
    except Exception:  # any model the folding does not fit keeps its exact layers
        fast = LoadedModel(model.spec, model.source, replace(model.built, module=copy.deepcopy(model.module)))
    if device != "cpu":
        fast.module.to(device)
        if fast.built.head is not None and hasattr(fast.built.head, "to"):
            fast = LoadedModel(fast.spec, fast.source, replace(fast.built, head=fast.built.head.to(device)))
    per_device[device] = fast
    return fast


# --- data: decode and resize in workers ---------------------------------------------------------------
@dataclass
class Item:
    sha: str
    name: str
    data: bytes
    image: Any = None  # an IntakeResult already decoded here (then `data` is not decoded again)


def skip_message(name: str, e: Exception) -> str:
    """'skipped NAME: why', NAME relative to the data root (the intake names only the file's base name)."""
    base, msg = PurePath(name).name, str(e)
    return f"skipped {name}{msg[len(base):]}" if msg.startswith(base + ":") else f"skipped {msg}"


def _intake(it: Item) -> Any:
    """The file through the safe intake (or the image decoded before); AdvisorError if refused."""
    from advisor.probes.images import load_image

    return it.image if it.image is not None else load_image(it.data, it.name)


class _Views:
    """A map-style dataset: a file's bytes -> the safe intake -> uint8 tensors of each model view."""

    def __init__(self, items: Sequence[Item], views: Sequence[ViewConfig], keep_images: bool) -> None:
        self.items, self.views, self.keep_images = list(items), list(views), keep_images

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple:
        import torchvision.transforms.functional as TF

        from advisor.probes.transforms import render_view

        it = self.items[i]
        try:
            im = _intake(it)
        except AdvisorError as e:
            return it.sha, None, skip_message(it.name, e), None
        return (it.sha, tuple(TF.pil_to_tensor(render_view(im.image, v)) for v in self.views), "",
                im if self.keep_images else None)


def _collate(rows: list[tuple]) -> tuple:
    """(shas, one uint8 (B, 3, H, W) stack per view, {sha: rejection}, {sha: IntakeResult})."""
    import torch

    ok = [r for r in rows if r[1] is not None]
    n_views = len(ok[0][1]) if ok else 0
    stacks = tuple(torch.stack([r[1][v] for r in ok]) for v in range(n_views))
    return ([r[0] for r in ok], stacks, {r[0]: r[2] for r in rows if r[1] is None},
            {r[0]: r[3] for r in ok if r[3] is not None})


@dataclass
class PassOutput:
    """Per model: sha -> (logits, embedding) as float32 numpy; the files the intake refused; the models that
    could not be loaded (id -> message); the decoded images when asked for; per model the fp32 outputs of
    the agreement sample when another precision ran (`exact`)."""

    outputs: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    exact: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    images: dict[str, Any] = field(default_factory=dict)


def reference_pass(items: Sequence[Item], load: Callable[[str], LoadedModel], need: dict[str, set[str]],
                   precision: str = "fp32", device: str = "cpu", batch: int = 32, keep_images: bool = False,
                   workers: int | None = None, tick: Callable[[int, int], None] | None = None,
                   exact: Set[str] = frozenset()) -> PassOutput:
    """Reference-view outputs of the models in `need` (model id -> the shas it needs; `load` builds one),
    each file decoded once for all of them. With few files (no workers) they are decoded here first, so
    models load only if some file passes the intake. `keep_images` also returns the decoded images.
    `tick(batch, batches)` is called after each batch (it may raise to stop the pass, e.g. a cancel).
    When `precision` is not fp32, the shas in `exact` (the agreement sample) also run in fp32, from the
    same decoded batch (`PassOutput.exact`): the check costs no second read or decode."""
    import torch

    out = PassOutput()
    n_workers = loader_workers(device, len(items)) if workers is None else workers
    if n_workers == 0:
        decoded = []
        for it in items:
            try:
                decoded.append(replace(it, image=_intake(it)))
            except AdvisorError as e:
                out.rejected[it.sha] = skip_message(it.name, e)
        items = decoded
    if not any(it.sha in shas for it in items for shas in need.values()) and not (keep_images and items):
        return out
    models = []
    for mid in need:
        try:
            models.append(load(mid))
            out.outputs[mid] = {}
        except AdvisorError as e:
            out.failed[mid] = str(e)
    views = list(dict.fromkeys(m.view for m in models))
    fast = {m.model_id: fast_model(m, device) for m in models}
    loader = torch.utils.data.DataLoader(_Views(items, views, keep_images), batch_size=batch, shuffle=False,
                                         num_workers=n_workers, collate_fn=_collate,
                                         pin_memory=pin_memory(device))
    for k, (shas, stacks, rejected, images) in enumerate(loader, 1):
        out.rejected.update(rejected)
        out.images.update(images)
        on_device = [s.to(device, non_blocking=True) for s in stacks] if device != "cpu" else list(stacks)
        for m in models:
            idx = [i for i, sha in enumerate(shas) if sha in need[m.model_id]]
            if not idx:
                continue
            x = on_device[views.index(m.view)]
            x = x if len(idx) == len(shas) else x[torch.tensor(idx, device=x.device)]
            x01 = x.float().div_(255.0)
            logits, emb = fast[m.model_id].forward(x01, precision)
            lg, em = logits.cpu().numpy(), emb.cpu().numpy()
            out.outputs[m.model_id].update({shas[i]: (lg[j], em[j]) for j, i in enumerate(idx)})
            sub = [j for j, i in enumerate(idx) if shas[i] in exact]
            if sub and precision != "fp32":
                pick = torch.tensor(sub, device=x01.device)
                lg, em = (t.cpu().numpy() for t in fast[m.model_id].forward(x01[pick], "fp32"))
                out.exact.setdefault(m.model_id, {}).update(
                    {shas[idx[j]]: (lg[k], em[k]) for k, j in enumerate(sub)})
        if tick:
            tick(k, len(loader))
    return out


# --- precision: agreement with fp32 -------------------------------------------------------------------
AGREEMENT_SAMPLE = 32  # images spread over the data, run in fp32 too when another precision is asked for
AGREEMENT_METRIC = "fp32_top1_agreement"


def agreement_sample(names: Sequence[str], size: int = AGREEMENT_SAMPLE) -> list[str]:
    """`size` names evenly spaced over `names` (all of them when fewer): data listed class by class gives a
    sample from every part of it, not the first class only."""
    n, k = len(names), min(size, len(names))
    return [names[i * n // k] for i in range(k)]


def resolve_run(device: str, precision: str) -> tuple[str, str]:
    """(device, precision) to run: 'auto' resolved, unknown or absent ones refused with a clear message."""
    dev = resolve_device(device)
    try:
        return dev, resolve_precision(precision, dev)
    except ValueError as e:
        raise InvalidRequestError(str(e)) from None


def fp32_agreement(fast: dict[str, np.ndarray], exact: dict[str, np.ndarray]) -> np.ndarray:
    """Per image in both (sha -> logits): 1.0 where the fast precision's top-1 class is fp32's, else 0.0."""
    shas = [s for s in fast if s in exact]
    if not shas:
        return np.zeros(0)
    a, b = np.stack([fast[s] for s in shas]), np.stack([exact[s] for s in shas])
    return (a.argmax(-1) == b.argmax(-1)).astype(np.float64)


def with_fp32_agreement(models: Sequence[ModelEvaluation], records: dict, sample: Sequence[str],
                        exact: dict[str, dict[str, np.ndarray]],
                        fp32_logits: Callable[[list[str]], dict[str, dict[str, np.ndarray]]],
                        ref: str = "ref") -> list[ModelEvaluation]:
    """Each model's evaluation plus the share of its top-1 predictions that equal fp32's on the agreement
    `sample` (shas), with its Wilson interval (32 of 32: 89-100 %). `exact` (model id -> sha -> fp32
    logits) holds what the main pass computed; `fp32_logits(shas)` computes only the rest (e.g. images
    whose fast outputs were cached)."""
    sample = list(dict.fromkeys(sample))
    missing = [h for h in sample if any(h not in exact.get(m.model_id, {}) for m in models)]
    more = fp32_logits(missing) if missing else {}
    out = []
    for m in models:
        rec = records.get((m.model_id, ref), {})
        fp32 = {**more.get(m.model_id, {}), **exact.get(m.model_id, {})}
        agree = fp32_agreement({h: rec[h][0] for h in sample if h in rec}, fp32)
        if not len(agree):
            out.append(m)
            continue
        note = f"top-1 agrees with fp32 on {int(agree.sum())} of {len(agree)} images spread over the data"
        out.append(replace(m, metrics={**m.metrics, AGREEMENT_METRIC: stats.share_figure(agree)},
                           notes=(*m.notes, note)))
    return out
