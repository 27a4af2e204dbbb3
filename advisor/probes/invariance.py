"""run_probe: how much each model's prediction moves when the user's images are transformed.

For every (model, image) the untransformed reference view and all variants of all chosen families go
through the model together, grouped by input size into batches (never one forward per variant);
identical tensors (every family's identity point) are computed once. Metrics per variant, against
the reference: top-1 agreement, probability kept on the reference's top-1 class, KL(ref || variant),
cosine similarity of the embeddings. Results are cached by (model, weights, precision, image hash,
family, grid), so re-running with one more family only computes that family, and a rerun of the same
request runs no forward pass at all. Precision is fp32 unless the caller opts in to bf16 ("bf16", or
"auto": bf16 where this CPU runs it faster); bf16 is then used only if it keeps fp32's top-1 on the
reference views, and what was used is recorded per model in the result.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from advisor.errors import AdvisorError
from advisor.models.loaded import LoadedModel, load_model
from advisor.models.precision import DEFAULT_PRECISION, resolve_precision
from advisor.models.registry import parse_model_id
from advisor.probes.images import IntakeResult, load_images
from advisor.probes.results import ImageRun, ModelRun, ProbeResult, coerce_rows
from advisor.probes.transforms import Family, get_family, list_families, reference_view

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]  # polled before each model and each batch of images: True stops the run there
IMAGES_PER_CHUNK = 4  # variants of this many images are grouped by size and batched together
BATCH_PIXELS = 8 * 224 * 224  # per forward pass: 8 images at 224 px (fastest on a 2-core CPU), fewer if larger
_RESULT_CACHE: OrderedDict[tuple, list[dict]] = OrderedDict()
_PRECISION_CHECKS: dict[tuple, tuple[str, str]] = {}  # (model, weights, images) -> (precision used, note)
_CACHE_LOCK = threading.Lock()  # Streamlit sessions run in threads
RESULT_CACHE_SIZE = 20_000
BF16_CHECK_IMAGES = 8


def clear_result_cache() -> None:
    with _CACHE_LOCK:
        _RESULT_CACHE.clear()
        _PRECISION_CHECKS.clear()


def _forward_groups(model: LoadedModel, tensors: list[torch.Tensor], precision: str,
                    batch_pixels: int) -> tuple[dict[int, tuple[torch.Tensor, torch.Tensor]], dict[int, str]]:
    """Forward every tensor, batched by shape. Returns outputs by index, and failures by index."""
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, t in enumerate(tensors):
        by_shape.setdefault(tuple(t.shape), []).append(i)
    out: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    failed: dict[int, str] = {}
    native = (3, *model.view.input_size)
    for shape, idx in by_shape.items():
        step = max(1, batch_pixels // (shape[1] * shape[2]))
        for s in range(0, len(idx), step):
            part = idx[s:s + step]
            try:
                logits, emb = model.forward(torch.stack([tensors[i] for i in part]), precision)
            except (RuntimeError, AssertionError, ValueError) as e:
                if shape == native:
                    raise
                msg = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
                failed.update({i: f"cannot run at {shape[1]}×{shape[2]} ({msg})" for i in part})
                continue
            for j, i in enumerate(part):
                out[i] = (logits[j], emb[j])
    return out, failed


def _metrics(ref: tuple[torch.Tensor, torch.Tensor], var: tuple[torch.Tensor, torch.Tensor]) -> dict:
    ref_logp, var_logp = F.log_softmax(ref[0].double(), -1), F.log_softmax(var[0].double(), -1)
    c = int(ref_logp.argmax())
    pred = int(var_logp.argmax())
    kl = float((ref_logp.exp() * (ref_logp - var_logp)).sum().clamp_min(0.0))
    cos = float(F.cosine_similarity(ref[1].double(), var[1].double(), dim=0).clamp(-1.0, 1.0))
    return {"top1_agreement": float(pred == c), "prob_kept": float(var_logp[c].exp()), "kl": kl,
            "cosine": cos, "ref_class": c, "pred_class": pred, "ref_prob": float(ref_logp[c].exp())}


def _probe_chunk(model: LoadedModel, chunk: Sequence[IntakeResult], fams: Sequence[Family], precision: str,
                 batch_pixels: int) -> tuple[dict[tuple[str, str], list[dict]], list[str]]:
    """Rows per (image sha, family) for a few images, all their variants in shared batches."""
    tensors: list[torch.Tensor] = []
    plan = []  # (image, family, magnitude, tensor index)
    ref_index: dict[str, int] = {}
    for im in chunk:
        ref = reference_view(im.image, model.view)
        ref_index[im.sha256] = len(tensors)
        tensors.append(ref)
        seed = int(im.sha256[:8], 16)
        for fam in fams:
            for mag, t in zip(fam.magnitudes, fam.make(im.image, ref, fam.magnitudes, model.view, seed),
                              strict=True):
                same = t is ref or (t.shape == ref.shape and torch.equal(t, ref))
                if not same:
                    tensors.append(t)
                plan.append((im, fam, mag, ref_index[im.sha256] if same else len(tensors) - 1))
    out, failed = _forward_groups(model, tensors, precision, batch_pixels)
    rows: dict[tuple[str, str], list[dict]] = {(im.sha256, f.name): [] for im in chunk for f in fams}
    skipped = []
    for im, fam, mag, i in plan:
        if i in failed:
            skipped.append(f"{model.model_id}: {im.name}: {fam.name} {mag:g}: {failed[i]}")
            continue
        row = {"model_id": model.model_id, "image_sha256": im.sha256, "family": fam.name,
               "magnitude": float(mag), "identity": mag == fam.identity}
        row.update(_metrics(out[ref_index[im.sha256]], out[i]))
        rows[(im.sha256, fam.name)].append(row)
    return rows, skipped


def _check_bf16(model: LoadedModel, images: Sequence[IntakeResult]) -> tuple[str, str]:
    """Use bf16 only if it gives fp32's top-1 on the reference views of these images (checked once)."""
    key = (model.model_id, model.weights, tuple(im.sha256 for im in images[:BF16_CHECK_IMAGES]))
    with _CACHE_LOCK:
        if key in _PRECISION_CHECKS:
            return _PRECISION_CHECKS[key]
    x = torch.stack([reference_view(im.image, model.view) for im in images[:BF16_CHECK_IMAGES]])
    same = model.forward(x, "fp32")[0].argmax(-1) == model.forward(x, "bf16")[0].argmax(-1)
    if bool(same.all()):
        decision = "bf16", f"bf16 kept fp32's top-1 on {len(x)}/{len(x)} reference images"
    else:
        decision = "fp32", f"bf16 changed the top-1 on {int((~same).sum())}/{len(x)} images: fp32 used"
    with _CACHE_LOCK:
        _PRECISION_CHECKS[key] = decision
    return decision


def probe_model(model: LoadedModel, images: Sequence[IntakeResult], fams: Sequence[Family], *,
                precision: str = DEFAULT_PRECISION, batch_pixels: int = BATCH_PIXELS, use_cache: bool = True,
                progress: Progress | None = None, cancel: Cancel | None = None) -> tuple[list[dict], list[str]]:
    """All rows for one loaded model; cached per (image, family, grid). `cancel` stops between batches."""
    rows: list[dict] = []
    skipped: list[str] = []
    todo: list[IntakeResult] = []
    grids = {f.name: f.magnitudes for f in fams}
    fresh: dict[tuple, list[dict]] = {}  # this run's rows, even if the LRU already evicted them
    for im in images:
        keys = [(model.model_id, model.weights, precision, im.sha256, f.name, f.magnitudes) for f in fams]
        with _CACHE_LOCK:
            hit = use_cache and all(k in _RESULT_CACHE for k in keys)
        if not hit:
            todo.append(im)
    for start in range(0, len(todo), IMAGES_PER_CHUNK):
        if cancel is not None and cancel():
            break
        chunk = todo[start:start + IMAGES_PER_CHUNK]
        got, skip = _probe_chunk(model, chunk, fams, precision, batch_pixels)
        skipped += skip
        with _CACHE_LOCK:
            for (sha, fname), fam_rows in got.items():
                key = (model.model_id, model.weights, precision, sha, fname, grids[fname])
                _RESULT_CACHE[key] = fam_rows
                _RESULT_CACHE.move_to_end(key)
                fresh[key] = fam_rows
            while len(_RESULT_CACHE) > RESULT_CACHE_SIZE:
                _RESULT_CACHE.popitem(last=False)
        if progress:
            progress(min(1.0, (start + len(chunk)) / len(todo)), f"{model.model_id}: "
                     f"{start + len(chunk)}/{len(todo)} images")
    for im in images:
        for f in fams:
            key = (model.model_id, model.weights, precision, im.sha256, f.name, f.magnitudes)
            with _CACHE_LOCK:
                cached = fresh.get(key) or _RESULT_CACHE.get(key, [])
            rows += [{**r, "image": im.name} for r in cached]
    return rows, skipped


def _canonical_paths(paths: Mapping[str, str | Path], model_ids: Sequence[str],
                     errors: list[str]) -> dict[str, str | Path]:
    """Weights files keyed by the ids as given and as canonical ids; unmatched entries are reported."""
    out: dict[str, str | Path] = {}
    wanted = set(model_ids)
    for mid in model_ids:
        with contextlib.suppress(AdvisorError):
            wanted.add(parse_model_id(mid).model_id)
    for key, path in paths.items():
        try:
            canon = parse_model_id(key).model_id
        except AdvisorError as e:
            errors.append(f"weights for {key}: {e}")
            continue
        if key not in wanted and canon not in wanted:
            errors.append(f"weights for {key}: that model is not part of this run")
        out[key] = out[canon] = path
    return out


def run_probe(images: Iterable[IntakeResult | str | Path | tuple[str, bytes]], model_ids: Sequence[str],
              families: Sequence[str | Family] | None = None, progress: Progress | None = None, *,
              precision: str = DEFAULT_PRECISION, weights_paths: Mapping[str, str | Path] | None = None,
              allow_random: bool = False, batch_pixels: int = BATCH_PIXELS,
              use_cache: bool = True, cancel: Cancel | None = None) -> ProbeResult:
    """Probe models on images under transform families (all by default).

    Bad images and models without weights become messages in `errors`; the rest still run. `precision`
    is "fp32" (default: the same numbers on every machine), or "bf16" / "auto" on request (see above).
    `progress(fraction, message)` is called per model load and per batch of images; `cancel()` is polled
    before each model and batch, and a run it stops returns what was measured so far, saying so in `errors`.
    Unknown family names raise UnknownNameError before any work.
    """
    t0 = time.perf_counter()
    fams = [get_family(f) if isinstance(f, str) else f for f in (families or list_families())]
    ok, errors = load_images(images)
    seen: set[str] = set()
    unique = [im for im in ok if not (im.sha256 in seen or seen.add(im.sha256))]
    want = resolve_precision(precision)
    rows: list[dict] = []
    runs: list[ModelRun] = []
    skipped: list[str] = []
    n = max(1, len(model_ids))

    def sub(k: int) -> Progress | None:
        return (lambda f, msg: progress((k + f) / n, f"model {k + 1}/{n} · {msg}")) if progress else None

    if not unique:  # every image rejected: say so now rather than load models (15-30 s) for nothing
        errors.append("no usable image: nothing was measured and no model was loaded")
        model_ids = ()
    paths = _canonical_paths(weights_paths or {}, model_ids, errors)
    for k, model_id in enumerate(model_ids):
        if cancel is not None and cancel():
            break
        try:
            path = paths.get(model_id) or paths.get(parse_model_id(model_id).model_id)
            model = load_model(model_id, path, allow_random=allow_random, progress=sub(k))
        except AdvisorError as e:
            errors.append(str(e))
            continue
        prec, note = (want, "")
        if want == "bf16" and unique:
            prec, note = _check_bf16(model, unique)
        got, skip = probe_model(model, unique, fams, precision=prec, batch_pixels=batch_pixels,
                                use_cache=use_cache, progress=sub(k), cancel=cancel)
        rows += got
        skipped += skip
        runs.append(ModelRun(model.model_id, model.backend, model.weights, prec, model.view.input_size,
                             model.num_classes, note))
    if cancel is not None and cancel():
        errors.append(f"stopped by the user: {len({r['model_id'] for r in rows})} of {len(model_ids)} models "
                      "measured, some possibly on fewer images")
    elif progress:
        progress(1.0, "done")
    frame = coerce_rows(pd.DataFrame(rows)) if rows else coerce_rows(pd.DataFrame(columns=["model_id"]))
    return ProbeResult(
        rows=frame, models=tuple(runs),
        images=tuple(ImageRun(im.name, im.sha256, im.original_size, im.warnings) for im in unique),
        families=tuple((f.name, f.magnitudes) for f in fams), errors=tuple(errors),
        skipped=tuple(skipped), seconds=time.perf_counter() - t0)
