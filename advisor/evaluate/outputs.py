"""Model outputs on labelled images: each file read and decoded once, batched, cached on disk.

The work is split into shards of images; one task runs some models over one shard. Locally a task
runs every model on its shard, so each image is decoded once for all of them; the Ray executor runs
one task per (model, shard). Outputs are cached per (model weights, view, image sha256) under the
cache dir, one file per finished (model, view, shard) batch written atomically, so a rerun, a new
model or a run resumed after an interruption computes only what is missing. Memory stays bounded by
the shard: the reference view keeps logits and embeddings, transformed views only the prediction.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from advisor.errors import AdvisorError
from advisor.evaluate.data import Sample

REF = "ref"
CACHE_VERSION = "1"
SHARD_SIZE = 64
BATCH = 32  # images per forward pass at the model's native size


@dataclass(frozen=True)
class TaskSpec:
    """One unit of work: these models over these samples, for the reference and these variant views."""

    model_ids: tuple[str, ...]
    samples: tuple[Sample, ...]
    families: tuple[str, ...] = ()
    cache_root: str = ""
    precision: str = "fp32"  # resolved: "fp32", "bf16" or "fp16"
    device: str = "cpu"  # resolved: "cpu", "cuda" or "mps" (results and cache do not depend on it)
    threads: int = 0  # torch intra-op threads (0: leave as is)
    allow_random: bool = False


@dataclass
class TaskOutput:
    """What a task produced: per (model, view) per image sha256 the record, plus messages."""

    records: dict[tuple[str, str], dict[str, tuple]] = field(default_factory=dict)
    shas: dict[str, str] = field(default_factory=dict)  # sample name -> sha256
    errors: list[str] = field(default_factory=list)
    weights: dict[str, str] = field(default_factory=dict)  # model id -> provenance label
    computed: int = 0  # (model, image) pairs actually run (not from the cache)


def view_names(families: Sequence[str]) -> list[str]:
    """The views a task needs: the reference and every non-identity magnitude of each family."""
    from advisor.probes.transforms import get_family

    out = [REF]
    for name in families:
        fam = get_family(name)
        out += [f"{fam.name}@{m:g}" for m in fam.magnitudes if m != fam.identity]
    return out


def _cache_dir(root: str, model_id: str, weights: str, precision: str, view: str) -> Path:
    key = hashlib.sha256(f"{CACHE_VERSION}|{model_id}|{weights}|{precision}".encode()).hexdigest()[:16]
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", model_id)
    return Path(root) / f"{safe}-{key}" / re.sub(r"[^A-Za-z0-9_.@-]+", "_", view)


def read_cache(folder: Path) -> dict[str, tuple]:
    """Every cached record in a (model, view) folder; an unreadable shard file is ignored (recomputed)."""
    out: dict[str, tuple] = {}
    if not folder.is_dir():
        return out
    for f in sorted(folder.glob("*.npz")):
        try:
            with np.load(f, allow_pickle=False) as z:
                shas = [str(s) for s in z["sha"]]
                arrays = [z[k] for k in ("logits", "emb") if k in z] or [z["pred"]]
        except Exception:
            continue
        for i, sha in enumerate(shas):
            out[sha] = tuple(a[i] for a in arrays)
    return out


def _write_cache(folder: Path, shas: list[str], arrays: dict[str, np.ndarray]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{uuid.uuid4().hex}.tmp.npz"
    np.savez(tmp, sha=np.array(shas), **arrays)
    os.replace(tmp, folder / f"{hashlib.sha256(''.join(shas).encode()).hexdigest()[:20]}.npz")


def _weights_label(model_id: str, allow_random: bool) -> str:
    from advisor.models.registry import parse_model_id
    from advisor.models.weights import find_weights

    return find_weights(parse_model_id(model_id), allow_random=allow_random).label


def run_task(task: TaskSpec, progress: Callable[[int, str], None] | None = None) -> TaskOutput:
    """Run the task's models over its samples; reads each file once and decodes it at most once.
    `progress(images, model_id)` is called after each model."""
    import torch

    if task.threads:
        torch.set_num_threads(task.threads)
    out = TaskOutput()
    views = view_names(task.families)
    caches: dict[tuple[str, str], dict[str, tuple]] = {}
    for mid in task.model_ids:
        try:
            out.weights[mid] = _weights_label(mid, task.allow_random)
        except AdvisorError as e:
            out.errors.append(str(e))
            continue
        for v in views:
            caches[(mid, v)] = read_cache(_cache_dir(task.cache_root, mid, out.weights[mid], task.precision, v)) \
                if task.cache_root else {}
    models = [m for m in task.model_ids if m in out.weights]
    raw: dict[str, bytes] = {}
    for s in task.samples:
        try:
            data = Path(s.path).read_bytes()
        except OSError as e:
            out.errors.append(f"{s.name}: cannot read file ({e.strerror or e})")
            continue
        out.shas[s.name] = hashlib.sha256(data).hexdigest()
        raw[s.name] = data
    todo = {(m, v): sorted({sha for sha in out.shas.values() if sha not in caches[(m, v)]})
            for m in models for v in views}
    images, bad, failed = _reference_pass(task, models, views, todo, raw, out)
    raw.clear()
    todo = {k: [sha for sha in v if sha not in bad] for k, v in todo.items()}
    out.shas = {k: v for k, v in out.shas.items() if v not in bad}
    for m in models:
        if m in failed:
            continue
        if any(todo[(m, v)] for v in views[1:]):
            try:
                _run_model(task, m, out, views, todo, images)
            except AdvisorError as e:
                out.errors.append(str(e))
                continue
        for v in views:
            rec = caches[(m, v)]
            out.records[(m, v)] = {sha: rec[sha] for sha in out.shas.values() if sha in rec} | \
                out.records.get((m, v), {})
        if progress:
            progress(len(out.shas), m)
    return out


def _reference_pass(task: TaskSpec, models: list[str], views: list[str], todo: dict[tuple[str, str], list[str]],
                    raw: dict[str, bytes], out: TaskOutput) -> tuple[dict, set[str], set[str]]:
    """Reference-view outputs of the models, decoded in workers and batched on the device (loader.py),
    written to the cache; returns the decoded images the families start from, the files the intake refused
    and the models that could not be loaded. At most MAX_LOADED_MODELS models share one pass."""
    from advisor.evaluate.loader import Item, reference_pass
    from advisor.models.loaded import MAX_LOADED_MODELS, load_model

    by_sha = {sha: (name, raw[name]) for name, sha in out.shas.items()}
    fam_shas = {sha for m in models for v in views[1:] for sha in todo[(m, v)]}
    busy = [m for m in models if any(todo[(m, v)] for v in views)]
    images: dict = {}
    bad: dict[str, str] = {}
    failed: set[str] = set()
    for g in range(0, len(busy), max(1, MAX_LOADED_MODELS)):
        need = {m: set(todo[(m, REF)]) for m in busy[g:g + max(1, MAX_LOADED_MODELS)]}
        keep = bool(fam_shas) and not images
        wanted = set().union(set(), *need.values()) | (fam_shas if keep else set())
        items = [Item(sha, *by_sha[sha]) for sha in sorted(wanted - bad.keys())]
        res = reference_pass(items, lambda m: load_model(m, allow_random=task.allow_random), need,
                             task.precision, task.device, BATCH, keep_images=keep)
        for sha, msg in res.rejected.items():
            bad[sha] = msg
            out.errors.append(msg)
        for m, msg in res.failed.items():
            failed.add(m)
            out.errors.append(msg)
        images.update(res.images)
        for mid, got in res.outputs.items():
            shas = [sha for sha in todo[(mid, REF)] if sha in got]
            if not shas:
                continue
            arr = {"logits": np.stack([got[h][0] for h in shas]).astype(np.float32),
                   "emb": np.stack([got[h][1] for h in shas]).astype(np.float32)}
            out.records[(mid, REF)] = {sha: (arr["logits"][i], arr["emb"][i]) for i, sha in enumerate(shas)}
            if task.cache_root:
                _write_cache(_cache_dir(task.cache_root, mid, out.weights[mid], task.precision, REF), shas, arr)
            out.computed += len(shas)
    return images, set(bad), failed


def _run_model(task: TaskSpec, model_id: str, out: TaskOutput, views: list[str],
               todo: dict[tuple[str, str], list[str]], images: dict) -> None:
    """The invariance families' variant views (the reference view is `_reference_pass`'s)."""
    import torch

    from advisor.models.loaded import load_model
    from advisor.probes.transforms import get_family, reference_view

    model = load_model(model_id, allow_random=task.allow_random)
    var_shas = sorted({sha for v in views[1:] for sha in todo[(model_id, v)] if sha in images})
    refs = {sha: reference_view(images[sha].image, model.view) for sha in var_shas}
    for fam_name in task.families:
        fam = get_family(fam_name)
        fam_views = [f"{fam.name}@{m:g}" for m in fam.magnitudes if m != fam.identity]
        todo_f = sorted({sha for v in fam_views for sha in todo[(model_id, v)] if sha in images})
        if not todo_f:
            continue
        preds: dict[str, list[int]] = {v: [] for v in fam_views}
        for sha in todo_f:
            seed = int(sha[:8], 16)
            variants = fam.make(images[sha].image, refs[sha], fam.magnitudes, model.view, seed)
            moved = [t for m, t in zip(fam.magnitudes, variants, strict=True) if m != fam.identity]
            by_shape: dict[tuple, list[int]] = {}
            for j, t in enumerate(moved):
                by_shape.setdefault(tuple(t.shape), []).append(j)
            got: dict[int, int] = {}
            for idx in by_shape.values():
                try:
                    lg, _ = model.forward(torch.stack([moved[j] for j in idx]), task.precision)
                    got.update({j: int(p) for j, p in zip(idx, lg.argmax(-1), strict=True)})
                except (RuntimeError, AssertionError, ValueError):
                    got.update({j: -1 for j in idx})  # the model cannot run at this size: no prediction
            for j, v in enumerate(fam_views):
                preds[v].append(got[j])
        for v in fam_views:
            arr = np.array(preds[v], dtype=np.int64)
            out.records[(model_id, v)] = {sha: (arr[i],) for i, sha in enumerate(todo_f)}
            if task.cache_root:
                _write_cache(_cache_dir(task.cache_root, model_id, out.weights[model_id], task.precision, v),
                             todo_f, {"pred": arr})
