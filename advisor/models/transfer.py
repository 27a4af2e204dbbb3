"""One file over HTTP(S) into an open file, trusting the server no further than the plan the user agreed to.

A pure helper below the backends (no registry): the body is stopped as soon as it exceeds the planned size
or falls below a minimum rate over a window (a 1 byte/s trickle ends, it is not waited out), every redirect
hop is checked (https only unless VISION_ADVISOR_ALLOW_HTTP=1; credentials never go to another host),
interruptions that made progress resume with HTTP Range, and the bytes are hashed on the way so the caller
can compare them with the announced hash. Transport is huggingface_hub's own HTTP session (its proxies and
headers).
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from typing import Any, BinaryIO
from urllib.parse import urljoin, urlsplit

from advisor.errors import AdvisorError, WeightsUnavailableError
from advisor.models.interface import Progress

READ_TIMEOUT_S = 10.0  # not one byte for this long: the connection is dead
MIN_BYTES_PER_S = 64 * 1024  # averaged over RATE_WINDOW_S: slower than this is given up, not waited for
RATE_WINDOW_S = 30.0
MAX_RESUMES = 3  # interrupted transfers resumed within one call (each must have made progress)
MAX_REDIRECTS = 5
ALLOW_HTTP_ENV = "VISION_ADVISOR_ALLOW_HTTP"


def refused(who: str, why: str) -> WeightsUnavailableError:
    return WeightsUnavailableError(f"{who}: download refused: {why}")


def http_allowed() -> bool:
    """Plain http:// only when the user says so (a hub of their own on their own network, or tests)."""
    return os.environ.get(ALLOW_HTTP_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def check_url(who: str, url: str, what: str) -> None:
    """https:// (or http:// where explicitly allowed); anything else is refused with the reason."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "https" or (scheme == "http" and http_allowed()):
        return
    why = (f"{what} {url} is plain http://, which anyone on the way can read and alter; use https:// "
           f"(or set {ALLOW_HTTP_ENV}=1 for a hub you trust on your own network)" if scheme == "http"
           else f"{what} {url} is not an https:// address")
    raise refused(who, why)


_NAME_SHA = re.compile(r"-([0-9a-f]{8,64})\.[A-Za-z.]+$")


def sha256_in_name(filename: str) -> str:
    """The sha256 prefix a torch.hub-style file name carries (`resnet50-0676ba61.pth` -> '0676ba61'), or ''."""
    m = _NAME_SHA.search(filename)
    return m.group(1) if m else ""


class Transfer:
    """`size` bytes of `filename` into `fh`, hashed like `content_hash`: a git blob id (40 hex, the hub's
    ETag of small files), else sha256 (64 hex, or the first hex digits a torch.hub file name carries; ''
    where the publisher gives none, and then only the size is checked)."""

    def __init__(self, who: str, filename: str, size: int, content_hash: str, fh: BinaryIO,
                 progress: Progress | None, *, hub_auth: bool = True) -> None:
        from tqdm.auto import tqdm

        self.hub_auth = hub_auth  # the hub's headers (its token) go to the hub only, never to a file host
        self.who, self.filename, self.size, self.content_hash = who, filename, size, content_hash
        self.fh, self.progress = fh, progress
        self.done = 0
        self.hasher = self._new_hasher()
        self.window = (time.monotonic(), 0)
        self.reported = (0.0, 0)
        self.bar = tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=filename,
                        disable=progress is not None, leave=False)

    def _new_hasher(self) -> Any:
        if len(self.content_hash) != 40:
            return hashlib.sha256()
        h = hashlib.sha1()  # a git blob id: sha1 of "blob <size>\0" + content
        h.update(f"blob {self.size}\0".encode())
        return h

    def matches(self) -> bool:
        """The bytes received are the announced file."""
        digest = self.hasher.hexdigest()
        same = digest == self.content_hash if len(self.content_hash) in (40, 64) else \
            digest.startswith(self.content_hash)
        return self.done == self.size and same

    def _restart(self) -> None:
        """The server ignored a Range request and sends the whole file again."""
        self.fh.seek(0)
        self.fh.truncate()
        self.done, self.hasher = 0, self._new_hasher()

    def _write(self, chunk: bytes) -> None:
        if self.done + len(chunk) > self.size:
            raise refused(self.who, f"the hub sent more than the {self.size:,} bytes it announced for "
                                    f"{self.filename}; stopped there")
        self.fh.write(chunk)
        self.hasher.update(chunk)
        self.done += len(chunk)
        now = time.monotonic()
        t0, n0 = self.window
        if now - t0 >= RATE_WINDOW_S:
            if (self.done - n0) / (now - t0) < MIN_BYTES_PER_S:
                raise WeightsUnavailableError(
                    f"{self.who}: download of {self.filename} stopped: slower than {MIN_BYTES_PER_S / 1024:.0f} "
                    f"KiB/s over {RATE_WINDOW_S:g} s; run the same command again when the connection is better.")
            self.window = (now, self.done)
        self.report(now)

    def report(self, now: float, final: bool = False) -> None:
        """tqdm in a terminal; the caller's progress callback (at most every 0.2 s) otherwise."""
        last_t, high = self.reported
        self.bar.update(max(0, self.done - self.bar.n))
        if self.progress and self.done > high and (final or now - last_t > 0.2 or self.done >= self.size):
            self.reported = (now, self.done)
            self.progress(min(1.0, self.done / self.size), f"downloading {self.filename}: "
                          f"{self.done / 2**20:.1f} / {self.size / 2**20:.1f} MiB")

    def run(self, url: str) -> None:
        """GET, resuming after interruptions that made progress; raises when it cannot finish."""
        from huggingface_hub.utils import build_hf_headers, get_session

        session, resumes = get_session(), 0
        try:
            while self.done < self.size:
                before = self.done
                headers = {**(build_hf_headers() if self.hub_auth else {}), "Accept-Encoding": "identity"}
                if self.done:
                    headers["Range"] = f"bytes={self.done}-"
                try:
                    self._get(session, url, headers)
                except AdvisorError:
                    raise
                except Exception:
                    if self.done == before or resumes >= MAX_RESUMES:
                        raise
                if self.done < self.size:
                    if self.done == before or resumes >= MAX_RESUMES:
                        raise ConnectionError(f"the transfer ended at {self.done:,} of {self.size:,} bytes")
                    resumes += 1
        finally:
            self.bar.close()

    def _get(self, session: Any, url: str, headers: dict[str, str]) -> None:
        response = self._open(session, url, headers)
        try:
            start = self.done
            if response.status_code == 200 and start:
                self._restart()
            elif response.status_code != (206 if start else 200):
                raise ConnectionError(f"the hub answered HTTP {response.status_code}")
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and self.done + int(length) > self.size:
                raise refused(self.who, f"the hub now sends {self.done + int(length):,} bytes, not the "
                                        f"{self.size:,} it announced for {self.filename}")
            for chunk in response.iter_raw():
                if chunk:
                    self._write(chunk)
        finally:
            response.close()

    def _open(self, session: Any, url: str, headers: dict[str, str]) -> Any:
        return follow(session, self.who, url, headers)


def follow(session: Any, who: str, url: str, headers: dict[str, str], method: str = "GET") -> Any:
    """Follow redirects by hand so that every hop is checked (https only; no credentials to another host)."""
    for _ in range(MAX_REDIRECTS + 1):
        check_url(who, url, "the download address")
        request = session.build_request(method, url, headers=headers, timeout=READ_TIMEOUT_S)
        response = session.send(request, stream=True, follow_redirects=False)
        location = response.headers.get("Location")
        if response.status_code not in (301, 302, 303, 307, 308) or not location:
            return response
        response.close()
        nxt = urljoin(url, location)
        if urlsplit(nxt).netloc != urlsplit(url).netloc:
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        url = nxt
    raise ConnectionError(f"more than {MAX_REDIRECTS} redirects")


def head_size(who: str, url: str) -> int | None:
    """The file's size from a HEAD request (redirects checked hop by hop); None if the server does not say."""
    from huggingface_hub.utils import get_session

    response = follow(get_session(), who, url, {"Accept-Encoding": "identity"}, method="HEAD")
    try:
        if response.status_code != 200:
            raise ConnectionError(f"{url} answered HTTP {response.status_code}")
        length = response.headers.get("Content-Length", "")
        return int(length) if length.isdigit() and int(length) > 0 else None
    finally:
        response.close()
