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
import io
import os
import re
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from advisor.errors import AdvisorError
from advisor.evaluate.budget import DECODED, Reservation
from advisor.evaluate.data import Sample
from advisor.evaluate.files import read_regular

REF = "ref"
CACHE_VERSION = "2"  # 2: keyed on the weights file's identity, a checksum per shard
MAX_SHARD_BYTES = 512 * 2**20  # uncompressed members of one cache shard (a real one is a few MB)
_SHARD_KEYS = {"ref": ("sha", "logits", "emb", "check"), "view": ("sha", "pred", "check")}
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
    within: str = ""  # every file must resolve inside this folder (uploads, allowed server folders)
    exact: tuple[str, ...] = ()  # sample names also run in fp32 when `precision` is not (the agreement sample)


@dataclass
class TaskOutput:
    """What a task produced: per (model, view) per image sha256 the record, plus messages."""

    records: dict[tuple[str, str], dict[str, tuple]] = field(default_factory=dict)
    shas: dict[str, str] = field(default_factory=dict)  # sample name -> sha256
    errors: list[str] = field(default_factory=list)
    weights: dict[str, str] = field(default_factory=dict)  # model id -> provenance label
    computed: int = 0  # (model, image) pairs actually run (not from the cache)
    exact: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # model -> sha -> fp32 logits


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


def _checksum(shas: np.ndarray, arrays: dict[str, np.ndarray]) -> str:
    """sha256 over the image hashes and every array's dtype, shape and bytes, in key order."""
    h = hashlib.sha256("\n".join(str(x) for x in shas).encode())
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(f"|{k}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _read_shard(f: Path) -> dict[str, tuple] | None:
    """One shard's records, or None when it is not exactly what `_write_cache` writes: too large once
    unpacked, other members, shapes or dtypes, image hashes that are not hashes, or a checksum that does
    not match (an edited value)."""
    try:
        with zipfile.ZipFile(f) as zf:
            infos = zf.infolist()
            names = {i.filename.removesuffix(".npy") for i in infos}
            if sum(i.file_size for i in infos) > MAX_SHARD_BYTES or names not in (
                    set(_SHARD_KEYS["ref"]), set(_SHARD_KEYS["view"])):
                return None
        with np.load(f, allow_pickle=False) as z:
            arrays = {k: z[k] for k in names}
    except Exception:  # unreadable, truncated, a pickle, not a zip: recomputed
        return None
    shas, check = arrays.pop("sha"), arrays.pop("check")
    n = len(shas) if shas.ndim == 1 else -1
    if n < 1 or shas.dtype.kind != "U" or check.shape != () or check.dtype.kind != "U":
        return None
    if not all(len(x) == 64 and re.fullmatch(r"[0-9a-f]{64}", str(x)) for x in shas):
        return None
    for k, a in arrays.items():
        kind, ndim = ("i", 1) if k == "pred" else ("f", 2)
        if a.dtype.kind != kind or a.ndim != ndim or len(a) != n:
            return None
    if "emb" in arrays and not np.isfinite(arrays["logits"]).all():
        return None
    if _checksum(shas, arrays) != str(check):
        return None
    cols = [arrays[k] for k in ("logits", "emb") if k in arrays] or [arrays["pred"]]
    return {str(sha): tuple(a[i] for a in cols) for i, sha in enumerate(shas)}


def read_cache(folder: Path) -> dict[str, tuple]:
    """Every cached record in a (model, view) folder; a shard that fails its checks is ignored (recomputed)."""
    out: dict[str, tuple] = {}
    if not folder.is_dir():
        return out
    for f in sorted(folder.glob("*.npz")):
        got = _read_shard(f)
        if got:
            out.update(got)
    return out


class CacheIndex:
    """Cached records by (model, view) folder, each folder read once per run (not once per shard: reading
    every cache file for every shard made a cached run quadratic in the number of images)."""

    def __init__(self) -> None:
        self._folders: dict[str, dict[str, tuple]] = {}

    def get(self, folder: Path) -> dict[str, tuple]:
        key = str(folder)
        if key not in self._folders:
            self._folders[key] = read_cache(folder)
        return self._folders[key]


def _write_cache(folder: Path, shas: list[str], arrays: dict[str, np.ndarray]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    sha_arr = np.array(shas)
    tmp = folder / f".{uuid.uuid4().hex}.tmp.npz"
    np.savez(tmp, sha=sha_arr, check=np.array(_checksum(sha_arr, arrays)), **arrays)
    os.replace(tmp, folder / f"{hashlib.sha256(''.join(shas).encode()).hexdigest()[:20]}.npz")


def _file_identity(path: str | None) -> str:
    """What changes when the weights change: the resolved file (a hub snapshot links to its blob), its
    size and modification time; for a folder, those of the files in it."""
    if not path:
        return ""
    real = Path(os.path.realpath(path))
    try:
        files = [real] if real.is_file() else sorted(p for p in real.rglob("*") if p.is_file())[:1000]
        return ";".join(f"{os.path.realpath(p)}:{(st := p.stat()).st_size}:{st.st_mtime_ns}" for p in files)
    except OSError:
        return ""


def _weights_key(model_id: str, allow_random: bool) -> tuple[str, str]:
    """(provenance label, cache key): the key adds the weights file's identity, so a new hub snapshot
    or an upgraded weights package is never answered from the old numbers."""
    from advisor.models.registry import parse_model_id
    from advisor.models.weights import find_weights

    src = find_weights(parse_model_id(model_id), allow_random=allow_random)
    return src.label, f"{src.label}|{_file_identity(src.path)}"


def _decode_need(data: bytes) -> int:
    """Bytes a decoded image takes at most while it is decoded (from its header, without decoding)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            return w * h * max(len(im.getbands()), 3)
    except Exception:
        return 0


def run_task(task: TaskSpec, progress: Callable[[int, str], None] | None = None,
             index: CacheIndex | None = None) -> TaskOutput:
    """Run the task's models over its samples; reads each file once and decodes it at most once.
    `progress(images, model_id)` is called after each model, and with 0 images after each batch of the
    reference pass (so a cancel stops the work between batches). `index` shares cache reads between the
    tasks of one run (each task reads the cache itself without it, e.g. on a Ray worker)."""
    import torch

    from advisor.probes.images import MAX_BYTES

    if task.threads:
        torch.set_num_threads(task.threads)
    index = index if index is not None else CacheIndex()
    out = TaskOutput()
    keys: dict[str, str] = {}
    views = view_names(task.families)
    caches: dict[tuple[str, str], dict[str, tuple]] = {}
    for mid in task.model_ids:
        try:
            out.weights[mid], keys[mid] = _weights_key(mid, task.allow_random)
        except AdvisorError as e:
            out.errors.append(str(e))
            continue
        for v in views:
            caches[(mid, v)] = index.get(_cache_dir(task.cache_root, mid, keys[mid], task.precision, v)) \
                if task.cache_root else {}
    models = [m for m in task.model_ids if m in out.weights]
    raw: dict[str, bytes] = {}
    for s in task.samples:
        try:
            data = read_regular(s.path, MAX_BYTES, s.name, task.within or None)
        except AdvisorError as e:
            out.errors.append(f"skipped {e}")
            continue
        out.shas[s.name] = hashlib.sha256(data).hexdigest()
        raw[s.name] = data
    todo = {(m, v): sorted({sha for sha in out.shas.values() if sha not in caches[(m, v)]})
            for m in models for v in views}
    need = set().union(*todo.values()) if todo else set()
    held, refused = _reserve_decoding(out, raw, need)
    try:
        images, bad, failed = _reference_pass(task, models, views, todo, raw, out, keys, refused, progress)
        raw.clear()
        bad |= refused
        todo = {k: [sha for sha in v if sha not in bad] for k, v in todo.items()}
        out.shas = {k: v for k, v in out.shas.items() if v not in bad}
        for m in models:
            if m in failed:
                continue
            if any(todo[(m, v)] for v in views[1:]):
                try:
                    _run_model(task, m, out, views, todo, images, keys[m])
                except AdvisorError as e:
                    out.errors.append(str(e))
                    continue
            for v in views:
                rec = caches[(m, v)]
                out.records[(m, v)] = {sha: rec[sha] for sha in out.shas.values() if sha in rec} | \
                    out.records.get((m, v), {})
            if progress:
                progress(len(out.shas), m)
    finally:
        held.release()
    return out


def _reserve_decoding(out: TaskOutput, raw: dict[str, bytes], need: set[str]) -> tuple[Reservation, set[str]]:
    """Hold the server's decoded-memory budget for every image this task decodes, from its header before
    any decoding (the loader's workers decode in other processes, so the budget is taken here), until the
    task ends: it covers the decoding and the copies kept for the invariance families. An image the budget
    cannot hold is refused with a message naming the budget (the set of refused shas is returned)."""
    from advisor.evaluate.loader import skip_message

    held = DECODED.reserve(0)
    refused: dict[str, AdvisorError] = {}
    seen: set[str] = set()
    for name, sha in out.shas.items():
        if sha in refused:  # a copy of a refused file: named too
            out.errors.append(skip_message(name, refused[sha]))
        if sha not in need or sha in seen:
            continue
        seen.add(sha)
        try:
            more = DECODED.reserve(_decode_need(raw[name]), f"decoding {name}")
        except AdvisorError as e:
            refused[sha] = e
            out.errors.append(skip_message(name, e))
            continue
        held.n += more.n
        more.n = 0
    return held, set(refused)


def _reference_pass(task: TaskSpec, models: list[str], views: list[str], todo: dict[tuple[str, str], list[str]],
                    raw: dict[str, bytes], out: TaskOutput, keys: dict[str, str], refused: set[str],
                    progress: Callable[[int, str], None] | None = None) -> tuple[dict, set[str], set[str]]:
    """Reference-view outputs of the models, decoded in workers and batched on the device (loader.py),
    checked finite and written to the cache; returns the decoded images the families start from, the files
    the intake refused and the models that could not be loaded. At most MAX_LOADED_MODELS models share one
    pass. `progress(0, text)` after each batch lets a cancel stop the pass between batches."""
    from advisor.evaluate.loader import Item, reference_pass
    from advisor.models.loaded import MAX_LOADED_MODELS, load_model

    names: dict[str, list[str]] = {}
    for name, sha in out.shas.items():
        names.setdefault(sha, []).append(name)  # a file's copies are decoded once, each named if refused
    by_sha = {sha: (ns[0], raw[ns[0]]) for sha, ns in names.items()}
    fam_shas = {sha for m in models for v in views[1:] for sha in todo[(m, v)]} - refused
    busy = [m for m in models if any(todo[(m, v)] for v in views)]
    exact = {out.shas[n] for n in task.exact if n in out.shas} if task.precision != "fp32" else set()
    images: dict = {}
    bad: dict[str, str] = {}
    failed: set[str] = set()
    for g in range(0, len(busy), max(1, MAX_LOADED_MODELS)):
        group = busy[g:g + max(1, MAX_LOADED_MODELS)]
        need = {m: set(todo[(m, REF)]) - refused for m in group}
        keep = bool(fam_shas) and not images
        wanted = set().union(set(), *need.values()) | (fam_shas if keep else set())
        items = [Item(sha, *by_sha[sha]) for sha in sorted(wanted - bad.keys())]
        tick = (lambda k, n, group=group: progress(0, f"{', '.join(group)}: batch {k}/{n}")) if progress else None
        res = reference_pass(items, lambda m: load_model(m, allow_random=task.allow_random), need,
                             task.precision, task.device, BATCH, keep_images=keep, tick=tick, exact=exact)
        for sha, msg in res.rejected.items():
            bad[sha] = msg
            first = by_sha[sha][0]
            out.errors += [msg.replace(f"skipped {first}", f"skipped {name}", 1) for name in names[sha]]
        for m, msg in res.failed.items():
            failed.add(m)
            out.errors.append(msg)
        images.update(res.images)
        for mid, got in res.outputs.items():
            _keep_finite(task, mid, [sha for sha in todo[(mid, REF)] if sha in got], got, out, keys[mid])
        for mid, got in res.exact.items():
            _keep_exact(task, mid, got, out, keys[mid])
    return images, set(bad), failed


def _keep_exact(task: TaskSpec, model_id: str, got: dict[str, tuple], out: TaskOutput, key: str) -> None:
    """The agreement sample's fp32 logits, kept for the check and cached as fp32 outputs (finite ones only),
    so an fp32 run or a rerun of the check reads them back."""
    shas = [h for h in sorted(got) if np.isfinite(got[h][0]).all() and np.isfinite(got[h][1]).all()]
    if not shas:
        return
    out.exact.setdefault(model_id, {}).update({h: got[h][0] for h in shas})
    if task.cache_root:
        arr = {"logits": np.stack([got[h][0] for h in shas]).astype(np.float32),
               "emb": np.stack([got[h][1] for h in shas]).astype(np.float32)}
        _write_cache(_cache_dir(task.cache_root, model_id, key, "fp32", REF), shas, arr)


def _keep_finite(task: TaskSpec, model_id: str, shas: list[str], got: dict[str, tuple], out: TaskOutput,
                 key: str) -> None:
    """Record and cache a model's reference outputs; non-finite ones are a failure, never cached, never a
    figure (JSON cannot hold NaN)."""
    if not shas:
        return
    arr = {"logits": np.stack([got[h][0] for h in shas]).astype(np.float32),
           "emb": np.stack([got[h][1] for h in shas]).astype(np.float32)}
    out.computed += len(shas)
    finite = np.isfinite(arr["logits"]).all(axis=1) & np.isfinite(arr["emb"]).all(axis=1)
    if not finite.all():
        out.errors.append(f"{model_id}: non-finite outputs (NaN or infinity) on {int((~finite).sum())} "
                          "image(s): those images are left out for this model")
        shas = [sha for sha, ok in zip(shas, finite, strict=True) if ok]
        arr = {k: a[finite] for k, a in arr.items()}
    out.records[(model_id, REF)] = {sha: (arr["logits"][i], arr["emb"][i]) for i, sha in enumerate(shas)}
    if task.cache_root and shas:
        _write_cache(_cache_dir(task.cache_root, model_id, key, task.precision, REF), shas, arr)


def _run_model(task: TaskSpec, model_id: str, out: TaskOutput, views: list[str],
               todo: dict[tuple[str, str], list[str]], images: dict, key: str) -> None:
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
                _write_cache(_cache_dir(task.cache_root, model_id, key, task.precision, v), todo_f, {"pred": arr})
