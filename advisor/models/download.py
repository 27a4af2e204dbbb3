"""Weights with consent: say what a download is (size, source, licence), then fetch it on request.

timm and open_clip publish their weights on the Hugging Face hub; this module asks the hub (through
`huggingface_hub`, the client those libraries use) how large the file is, and downloads it into the
same Hugging Face cache `weights.find_weights` reads, so a downloaded model then loads like any cached
one. Nothing here runs unless a caller asks for it (`--download`, a button). Offline
(`HF_HUB_OFFLINE=1`) it fails at once; with no network it fails within a few seconds. Interrupted
transfers are resumed by `huggingface_hub` within the call (HTTP Range from the bytes written); a
transfer that still fails has its temporary `.incomplete` file deleted, and only a complete file is
moved into the cache, so a half file never loads.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from advisor.errors import WeightsUnavailableError
from advisor.probes.kinds import backend_for
from advisor.probes.weights import ModelSpec, find_weights, hf_cache_dir, hub_offline, parse_model_id

Progress = Callable[[float, str], None]
METADATA_TIMEOUT_S = 3.0  # offline or unreachable hub: a clear message within seconds, not minutes
DEFAULT_ENDPOINT = "https://huggingface.co"


@dataclass(frozen=True)
class DownloadPlan:
    """What `download_weights` would fetch: shown to the user before they agree."""

    model_id: str
    repo_id: str
    filename: str
    size_bytes: int | None
    licence: str
    url: str

    def describe(self) -> str:
        size = f"{self.size_bytes / 2**20:.1f} MiB" if self.size_bytes else "size unknown"
        return f"{self.model_id}: {self.filename} from {self.url} ({size}, licence: {self.licence})"


def hub_endpoint() -> str:
    """HF_ENDPOINT read at call time (huggingface_hub reads it once at import; tests move it)."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def _offline_error(spec: ModelSpec, why: str) -> WeightsUnavailableError:
    return WeightsUnavailableError(f"{spec.model_id}: cannot download the weights: {why}. Allow network "
                                   "access (unset HF_HUB_OFFLINE) or copy a Hugging Face cache here.")


def plan_download(model_id: str) -> DownloadPlan:
    """Ask the hub which file would be fetched and how large it is; downloads nothing."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError

    spec = parse_model_id(model_id)
    files = backend_for(spec).hub_files(spec)  # from the model's own pretrained config
    repo, names = files.repo, files.filenames
    if hub_offline():
        raise _offline_error(spec, "HF_HUB_OFFLINE is set")
    endpoint = hub_endpoint()
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
        return DownloadPlan(spec.model_id, repo, name, meta.size, files.licence, f"{endpoint}/{repo}")
    raise WeightsUnavailableError(f"{spec.model_id}: none of {', '.join(names)} exists in {endpoint}/{repo}")


def _progress_tqdm(progress: Progress | None, label: str):
    """A tqdm class that also reports to a callback (the app's progress bar); plain tqdm in the CLI."""
    from tqdm.auto import tqdm

    class _Reporting(tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._done = kwargs.get("initial", 0) or 0
            self._total = kwargs.get("total")
            self._last = 0.0

        def update(self, n=1):
            self._done += n or 0
            now = time.monotonic()
            if progress and self._total and (now - self._last > 0.2 or self._done >= self._total):
                self._last = now
                progress(min(1.0, self._done / self._total),
                         f"downloading {label}: {self._done / 2**20:.1f} / {self._total / 2**20:.1f} MiB")
            return super().update(n)

    return _Reporting


def download_weights(model_id: str, progress: Progress | None = None, *,
                     plan: DownloadPlan | None = None) -> str:
    """Fetch the weights into the Hugging Face cache and return the local path (the caller asked).

    Raises WeightsUnavailableError with a clear message when offline, unreachable, or not found.
    """
    from huggingface_hub import hf_hub_download

    plan = plan or plan_download(model_id)
    if progress:
        progress(0.0, f"downloading {plan.describe()}")
    spec = parse_model_id(model_id)
    try:
        path = hf_hub_download(plan.repo_id, plan.filename, cache_dir=hf_cache_dir(), endpoint=hub_endpoint(),
                               etag_timeout=METADATA_TIMEOUT_S, tqdm_class=_progress_tqdm(progress, plan.filename))
    except Exception as e:  # huggingface_hub raises several families (HTTP, OS, consistency)
        msg = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
        raise WeightsUnavailableError(f"{spec.model_id}: download of {plan.filename} failed ({msg}); "
                                      "run the same command again to resume it.") from None
    if progress:
        progress(1.0, f"downloaded {plan.filename}")
    return path


def ensure_weights(model_id: str, progress: Progress | None = None, *, download: bool = False) -> str:
    """The weights' provenance label, downloading first only when `download` is set and they are absent."""
    spec = parse_model_id(model_id)
    try:
        return find_weights(spec).label
    except WeightsUnavailableError:
        if not download:
            raise
    download_weights(spec.model_id, progress)
    return find_weights(spec).label
