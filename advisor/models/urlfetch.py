"""Weights files at URLs (torchvision, antialiased-cnns, release files, Meta's heads, RobustBench): planned
from a HEAD request and fetched with the same guarantees as hub downloads.

The plan states the file, its size (the server's Content-Length; a server that does not say is refused, so
the transfer stays bounded), its licence and the published checksum (the sha256 prefix in a torch.hub file
name; where the publisher gives none, the plan says so). The transfer (`transfer.py`) stops past the size or
below the minimum rate, checks every redirect hop, sends no hub token; the file must match the checksum and
hold only tensors before it is moved into torch's hub cache ($TORCH_HOME/hub/checkpoints), where the backends
and the libraries themselves find it. The temporary file is removed on every exit.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from advisor.errors import AdvisorError, WeightsUnavailableError
from advisor.models import transfer
from advisor.models.checkpoints import SAFE_FORMATS, check_tensors_only, is_refused_pickle
from advisor.models.interface import ModelSpec, Progress, UrlFile
from advisor.models.nets import cached_url_file, torch_hub_dir

_HEX = re.compile(r"[0-9a-f]{8,64}")


def check_url_plan(who: str, filename: str, sha256: str, size: int | None) -> None:
    """A URL plan's parts become a file name and a check: plain name, hex checksum (or none), a size."""
    parts = PurePosixPath(filename).parts
    if (len(parts) != 1 or filename in (".", "..") or "\\" in filename or "\x00" in filename
            or filename.startswith(".")):
        raise transfer.refused(who, f"{filename!r} is not a plain file name")
    if sha256 and not _HEX.fullmatch(sha256):
        raise transfer.refused(who, f"the checksum {sha256[:80]!r} is not a sha256 (8 to 64 hex digits)")
    if not size or size <= 0:
        raise transfer.refused(who, f"the server did not say how large {filename} is, so the download could "
                                    "not be bounded; fetch it yourself and pass it with --weights")


def url_size(spec: ModelSpec, f: UrlFile) -> int | None:
    """The file's size from a HEAD request; a clear message when the server cannot be reached."""
    try:
        return transfer.head_size(spec.model_id, f.url)
    except AdvisorError:
        raise
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise WeightsUnavailableError(f"{spec.model_id}: cannot download the weights: {f.url} is not "
                                      f"reachable ({first}).") from None


def fetch_url_file(spec: ModelSpec, f: UrlFile, size: int, progress: Progress | None = None) -> str:
    """Download one planned URL file into torch's hub cache and return its path (nothing kept on failure)."""
    check_url_plan(spec.model_id, f.filename, f.sha256, size)
    transfer.check_url(spec.model_id, f.url, "the download address")
    present = cached_url_file(f)
    if present:
        return present
    folder = torch_hub_dir()
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if size > free:
        raise transfer.refused(spec.model_id, f"{f.filename} needs {size / 2**20:.0f} MiB, {free / 2**20:.0f} MiB "
                                              f"free in {folder}")
    fd, name = tempfile.mkstemp(dir=folder, prefix=".va-", suffix=".incomplete")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            got = transfer.Transfer(spec.model_id, f.filename, size, f.sha256, fh, progress, hub_auth=False)
            got.run(f.url)
        if not got.matches():
            raise transfer.refused(spec.model_id, f"{f.filename} does not match its published sha256 "
                                                  f"({f.sha256[:12]}…); not kept")
        _check_tensors(spec, f, tmp)
        dest = folder / f.filename
        os.replace(tmp, dest)
    except AdvisorError:
        raise
    except Exception as e:  # transport errors, OS errors
        msg = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
        raise WeightsUnavailableError(f"{spec.model_id}: download of {f.filename} failed ({msg}); "
                                      "run the same command again to retry.") from None
    finally:
        tmp.unlink(missing_ok=True)
    return str(dest)


def _check_tensors(spec: ModelSpec, f: UrlFile, tmp: Path) -> None:
    try:
        check_tensors_only(str(tmp))
    except Exception as e:
        if is_refused_pickle(e):
            raise WeightsUnavailableError(
                f"{spec.model_id}: refused {f.filename}: it holds Python objects other than tensors (a pickle "
                f"that could run code when loaded), so it was deleted, not kept. Use {SAFE_FORMATS} "
                "from a trusted source.") from None
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise transfer.refused(spec.model_id, f"{f.filename} is not a readable weights file ({first}); "
                                              "not kept") from None
