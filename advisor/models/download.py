"""Weights with consent: say what a download is (size, source, licence), then fetch exactly that, or nothing.

timm and open_clip publish their weights on the Hugging Face hub. `plan_download` asks the hub (through
`huggingface_hub`) which file it would send, how large it is, its content hash (ETag) and commit; the user
sees that and agrees. `download_weights` then fetches the file itself, never trusting the server further
than the plan: the hash and commit must be hex hashes (they become file names), the body is written to a
temporary file inside the cache and stopped as soon as it exceeds the planned size or falls below a minimum
rate (a 1 byte/s trickle), and the finished file must match the planned hash and hold only tensors before
it is moved into the Hugging Face cache layout (`blobs/<hash>`, `snapshots/<commit>/<file>`, `refs/main`)
that `weights.find_weights` reads (the transfer itself is `transfer.py`). The temporary file is deleted on
every exit (and stale ones left by a killed process are swept on the next download). Plain `http://` hubs
and redirects are refused unless VISION_ADVISOR_ALLOW_HTTP=1. Interrupted transfers resume within the call
(HTTP Range). Offline
(`HF_HUB_OFFLINE=1`) it fails at once; with no network within seconds. Nothing here runs unless a caller
asks for it (`--download`, a button).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from advisor.errors import AdvisorError, WeightsUnavailableError
from advisor.models import transfer, urlfetch
from advisor.models.checkpoints import SAFE_FORMATS, check_tensors_only, is_refused_pickle
from advisor.models.interface import HubFiles, ModelSpec, Progress, UrlFile, UrlFilesBackend
from advisor.models.locations import hf_cache_dir, hf_cached, hub_offline
from advisor.models.nets import cached_url_file
from advisor.models.registry import backend_for, parse_model_id
from advisor.models.weights import find_weights

METADATA_TIMEOUT_S = 3.0  # offline or unreachable hub: a clear message within seconds, not minutes
DEFAULT_ENDPOINT = "https://huggingface.co"
_HASH = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # git blob sha1 (small files) or sha256 (LFS weights)
_COMMIT = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class DownloadPlan:
    """What `download_weights` would fetch: shown to the user before they agree, and all it may fetch."""

    model_id: str
    repo_id: str
    filename: str
    size_bytes: int | None
    licence: str
    url: str
    etag: str = ""  # the content hash the hub announced: the blob's name and the check of what arrives
    commit: str = ""
    kind: str = "hub"  # "hub" (Hugging Face) or "url" (a file at `url`, its published sha256 prefix in `etag`)
    also: tuple[DownloadPlan, ...] = ()  # the model's other files (a backbone and its head), fetched too

    def parts(self) -> tuple[DownloadPlan, ...]:
        return (self, *self.also)

    def describe(self) -> str:
        def one(p: DownloadPlan) -> str:
            size = f"{p.size_bytes / 2**20:.1f} MiB" if p.size_bytes else "size unknown"
            check = "" if p.kind == "hub" else (f", sha256 {p.etag}…" if p.etag else ", no checksum published")
            return f"{p.filename} from {p.url} ({size}, licence: {p.licence}{check})"

        return f"{self.model_id}: " + " + ".join(one(p) for p in self.parts())

    @property
    def total_bytes(self) -> int:
        return sum(int(p.size_bytes or 0) for p in self.parts())


def hub_endpoint() -> str:
    """HF_ENDPOINT read at call time (huggingface_hub reads it once at import; tests move it)."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def _offline_error(spec: ModelSpec, why: str) -> WeightsUnavailableError:
    return WeightsUnavailableError(f"{spec.model_id}: cannot download the weights: {why}. Allow network "
                                   "access (unset HF_HUB_OFFLINE) or copy a Hugging Face cache here.")


def _refused(spec: ModelSpec, why: str) -> WeightsUnavailableError:
    return transfer.refused(spec.model_id, why)


def _check_plan(spec: ModelSpec, plan: DownloadPlan) -> DownloadPlan:
    """The hub's answers become file names: hashes must be hashes, names must stay inside the repo folder."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(plan.repo_id)
    except HFValidationError:
        raise _refused(spec, f"{plan.repo_id!r} is not a Hugging Face repository id") from None
    parts = PurePosixPath(plan.filename).parts
    if (not parts or plan.filename.startswith("/") or any(p in (".", "..") for p in parts)
            or "\\" in plan.filename or "\x00" in plan.filename):
        raise _refused(spec, f"{plan.filename!r} is not a plain file name inside the repository")
    if not _HASH.fullmatch(plan.etag):
        raise _refused(spec, f"the hub's ETag {plan.etag[:80]!r} is not a content hash (40 or 64 hex digits)")
    if not _COMMIT.fullmatch(plan.commit):
        raise _refused(spec, f"the hub's commit {plan.commit[:80]!r} is not a commit hash (40 hex digits)")
    if not plan.size_bytes or plan.size_bytes <= 0:
        raise _refused(spec, "the hub did not say how large the file is, so the download could not be bounded")
    return plan


def plan_download(model_id: str) -> DownloadPlan:
    """Every file the model needs, with size, checksum and licence (the hub's metadata, a HEAD request for
    files at URLs); downloads nothing. Files already here are left out unless none is missing."""
    spec = parse_model_id(model_id)
    backend = backend_for(spec)
    urls = backend.url_files(spec) if isinstance(backend, UrlFilesBackend) else ()
    plans: list[DownloadPlan] = []
    try:
        hub = backend.hub_files(spec)  # from the model's own pretrained config
    except WeightsUnavailableError:
        if not urls:
            raise
        hub = None
    if hub_offline():
        raise _offline_error(spec, "HF_HUB_OFFLINE is set")
    if hub is not None and not (urls and hf_cached(hub.repo, hub.filenames)):
        plans.append(_plan_hub(spec, hub))
    missing = [f for f in urls if cached_url_file(f) is None]
    for f in missing if (missing or plans) else urls:  # all present: the plan still says what they are
        size = urlfetch.url_size(spec, f)
        urlfetch.check_url_plan(spec.model_id, f.filename, f.sha256, size)
        plans.append(DownloadPlan(spec.model_id, "", f.filename, size, f.licence, f.url, f.sha256, kind="url"))
    return replace(plans[0], also=tuple(plans[1:]))


def _plan_hub(spec: ModelSpec, files: HubFiles) -> DownloadPlan:
    """Ask the hub which file would be fetched, its size, hash and commit."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError

    repo, names = files.repo, files.filenames
    if hub_offline():
        raise _offline_error(spec, "HF_HUB_OFFLINE is set")
    endpoint = hub_endpoint()
    transfer.check_url(spec.model_id, endpoint, "the hub")
    for name in names:
        url = hf_hub_url(repo, name, endpoint=endpoint)
        try:
            meta = get_hf_file_metadata(url, timeout=METADATA_TIMEOUT_S)
        except EntryNotFoundError:
            continue
        except HfHubHTTPError as e:
            if getattr(e.response, "status_code", None) == 404:
                continue
            raise _offline_error(spec, f"the hub answered {e}".splitlines()[0]) from None
        except Exception as e:  # no network, DNS failure, timeout, refused connection
            raise _offline_error(spec, f"{endpoint} is not reachable ({type(e).__name__})") from None
        plan = DownloadPlan(spec.model_id, repo, name, meta.size, files.licence, f"{endpoint}/{repo}",
                            (meta.etag or "").lower(), (meta.commit_hash or "").lower())
        return _check_plan(spec, plan)
    raise WeightsUnavailableError(f"{spec.model_id}: none of {', '.join(names)} exists in {endpoint}/{repo}")


def _inside(root: Path, path: Path) -> Path:
    if not Path(os.path.abspath(path)).is_relative_to(os.path.abspath(root)):
        raise WeightsUnavailableError(f"refused to write {path}: outside the cache {root}")
    return path


def _sweep_stale(blobs: Path) -> None:
    """Delete partial files a killed process left: a live transfer writes at least once per rate window."""
    cutoff = time.time() - 2 * max(transfer.RATE_WINDOW_S, transfer.READ_TIMEOUT_S)
    for p in blobs.glob("*.incomplete"):
        try:
            if p.stat().st_mtime < cutoff:
                p.unlink()
        except OSError:
            pass


def _verify(spec: ModelSpec, plan: DownloadPlan, got: transfer.Transfer, tmp: Path) -> None:
    """The bytes are the announced file and hold only tensors; otherwise they are not kept."""
    if not got.matches():
        raise _refused(spec, f"{plan.filename} does not match the hash the hub announced ({plan.etag[:12]}…); "
                             "not kept")
    try:
        check_tensors_only(str(tmp))
    except Exception as e:
        if is_refused_pickle(e):
            raise WeightsUnavailableError(
                f"{spec.model_id}: refused {plan.filename}: it holds Python objects other than tensors (a pickle "
                f"that could run code when loaded), so it was deleted, not kept. Use {SAFE_FORMATS} "
                "from a trusted source.") from None
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise _refused(spec, f"{plan.filename} is not a readable weights file ({first}); not kept") from None


def _install(storage: Path, plan: DownloadPlan, tmp: Path) -> Path:
    """Move the checked file into the Hugging Face cache layout; every path stays inside `storage`."""
    blob = _inside(storage, storage / "blobs" / plan.etag)
    link = _inside(storage, storage / "snapshots" / plan.commit / Path(*PurePosixPath(plan.filename).parts))
    os.replace(tmp, blob)
    link.parent.mkdir(parents=True, exist_ok=True)
    staged = link.parent / f".va-{uuid.uuid4().hex}.tmp"
    try:
        os.symlink(os.path.relpath(blob, link.parent), staged)
    except OSError:  # no symlinks on this file system: a copy, as huggingface_hub does
        shutil.copyfile(blob, staged)
    os.replace(staged, link)
    refs = storage / "refs"
    refs.mkdir(exist_ok=True)
    staged = refs / f".va-{uuid.uuid4().hex}.tmp"
    staged.write_text(plan.commit)
    os.replace(staged, refs / "main")
    return link


def download_weights(model_id: str, progress: Progress | None = None, *,
                     plan: DownloadPlan | None = None) -> str:
    """Fetch every planned file (the hub's into its cache, URL files into torch's hub cache) and return the
    last local path (the caller asked).

    Raises WeightsUnavailableError with a clear message when offline, unreachable, refused or not found.
    """
    spec = parse_model_id(model_id)
    if hub_offline():
        raise _offline_error(spec, "HF_HUB_OFFLINE is set")
    plan = plan or plan_download(model_id)
    if plan.model_id != spec.model_id:
        raise _refused(spec, f"the plan given is for {plan.model_id}")
    path = ""
    for part in plan.parts():
        if part.kind == "url":
            f = UrlFile(part.url, part.filename, part.etag, part.licence)
            path = urlfetch.fetch_url_file(spec, f, int(part.size_bytes or 0), progress)
        else:
            path = _download_hub(spec, part, progress)
    return path


def _download_hub(spec: ModelSpec, plan: DownloadPlan, progress: Progress | None) -> str:
    """One planned hub file into the Hugging Face cache."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.file_download import repo_folder_name

    plan = _check_plan(spec, plan)
    url = hf_hub_url(plan.repo_id, plan.filename, endpoint=hub_endpoint())
    transfer.check_url(spec.model_id, url, "the hub")
    root = hf_cache_dir()
    storage = _inside(root, root / repo_folder_name(repo_id=plan.repo_id, repo_type="model"))
    blobs = storage / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    _sweep_stale(blobs)
    free = shutil.disk_usage(blobs).free
    if int(plan.size_bytes or 0) > free:
        raise _refused(spec, f"{plan.filename} needs {plan.size_bytes / 2**20:.0f} MiB, {free / 2**20:.0f} MiB "
                             f"free in {root}")
    if progress:
        progress(0.0, f"downloading {plan.describe()}")
    fd, name = tempfile.mkstemp(dir=blobs, prefix=".va-", suffix=".incomplete")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            got = transfer.Transfer(spec.model_id, plan.filename, int(plan.size_bytes or 0), plan.etag, fh, progress)
            got.run(url)
        _verify(spec, plan, got, tmp)
        path = _install(storage, plan, tmp)
    except AdvisorError:
        raise
    except Exception as e:  # transport errors (several families), OS errors
        msg = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
        raise WeightsUnavailableError(f"{spec.model_id}: download of {plan.filename} failed ({msg}); "
                                      "run the same command again to retry.") from None
    finally:
        tmp.unlink(missing_ok=True)  # after a successful install it is already gone
    if progress:
        got.report(time.monotonic(), final=True)
        progress(1.0, f"downloaded {plan.filename}")
    return str(path)


def ensure_weights(model_id: str, progress: Progress | None = None, *, download: bool = False,
                   plan: DownloadPlan | None = None) -> str:
    """The weights' provenance label, downloading first (the `plan` shown, if given) only when `download` is
    set and they are absent."""
    spec = parse_model_id(model_id)
    try:
        return find_weights(spec).label
    except WeightsUnavailableError:
        if not download:
            raise
    download_weights(spec.model_id, progress, plan=plan)
    return find_weights(spec).label
