"""Download with consent, against a hub-shaped HTTP server on 127.0.0.1 (never the network).

The server answers the two requests a download makes: HEAD `/{repo}/resolve/{revision}/{file}` (commit, etag
and size headers) and GET of the same URL, honouring `Range` so an interrupted transfer can resume. It can
also misbehave the ways a hostile or broken hub does (issue 21, items 2, 3 and 12): a path in the ETag, a body
that never ends, a 1 byte/s trickle, bytes that are not the announced file, a pickle, a redirect elsewhere.
Plain http:// is allowed explicitly for this local server (VISION_ADVISOR_ALLOW_HTTP=1), and only there.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import pickle
import threading
import time
from pathlib import Path

import pytest
import torch

from advisor.errors import AdvisorError, WeightsUnavailableError
from advisor.models.registry import parse_model_id
from advisor.models.weights import find_weights, ready_model_ids

MODEL = "timm:test_resnet.r160_in1k"
REPO = "timm/test_resnet.r160_in1k"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


class Hub:
    """Serves files of one repo; the attributes below make it misbehave (all off by default)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.requests: list[tuple[str, str, str | None]] = []
        self.cut_first = 0  # the first GET bodies stop half way and the connection closes
        self.refuse_range = False  # a resume (Range) request gets HTTP 500
        self.etag: str | None = None  # announced instead of the file's sha256
        self.commit = COMMIT
        self.body: bytes | None = None  # sent instead of the file (the announced hash and size stay)
        self.endless = False  # GET sends bytes without end (no Content-Length) until the client stops
        self.trickle_s = 0.0  # GET sends one byte per this many seconds
        self.redirect: str | None = None  # GET answers 302 to this address
        self.sent = 0  # body bytes the server managed to write
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _file(self) -> bytes | None:
                prefix = f"/{REPO}/resolve/main/"
                path = self.path.split("?")[0]
                return hub.files.get(path[len(prefix):]) if path.startswith(prefix) else None

            def _head(self, data: bytes, status: int = 200, length: int | None = None) -> None:
                self.send_response(status)
                self.send_header("X-Repo-Commit", hub.commit)
                self.send_header("ETag", f'"{hub.etag or hashlib.sha256(data).hexdigest()}"')
                if length is not None:
                    self.send_header("Content-Length", str(length))
                self.end_headers()

            def _empty(self, status: int, **headers: str) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_HEAD(self):
                hub.requests.append(("HEAD", self.path, None))
                data = self._file()
                if data is None:
                    return self._empty(404)
                self._head(data, length=len(data))

            def _send(self, body: bytes) -> None:
                try:
                    self.wfile.write(body)
                    self.wfile.flush()
                    hub.sent += len(body)
                except OSError:
                    self.close_connection = True
                    raise

            def do_GET(self):
                rng = self.headers.get("Range")
                hub.requests.append(("GET", self.path, rng))
                data = self._file()
                if data is None:
                    return self._empty(404)
                if hub.redirect:
                    return self._empty(302, Location=hub.redirect)
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                if rng and hub.refuse_range:
                    return self._empty(500)
                body = (hub.body if hub.body is not None else data)[start:]
                try:
                    if hub.endless:
                        self.close_connection = True
                        self._head(data, 200)  # no Content-Length: the body ends when the connection does
                        block = os.urandom(64 * 1024)
                        while hub.sent < 64 * 2**20:
                            self._send(block)
                        return
                    self._head(data, 206 if rng else 200, len(body))
                    if hub.trickle_s:
                        deadline = time.monotonic() + 60
                        for i in range(len(body)):
                            if time.monotonic() > deadline:
                                break
                            self._send(body[i:i + 1])
                            time.sleep(hub.trickle_s)
                        return
                    if hub.cut_first > 0:
                        hub.cut_first -= 1
                        self._send(body[: len(body) // 2])
                        self.close_connection = True
                        return
                    self._send(body)
                except OSError:  # the client hung up (as it should when the hub misbehaves)
                    pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def weights_bytes() -> tuple[bytes, dict]:
    """A real safetensors file: the test architecture's state dict with seeded weights."""
    import timm
    from safetensors.torch import save

    torch.manual_seed(123)
    state = {k: v.contiguous() for k, v in timm.create_model("test_resnet", pretrained=False).state_dict().items()}
    return save(state), state


def _online(monkeypatch) -> None:
    """Network allowed for this test (huggingface_hub reads HF_HUB_OFFLINE once, at import)."""
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)


@pytest.fixture
def hub(weights_bytes, monkeypatch):
    h = Hub({"model.safetensors": weights_bytes[0]})
    monkeypatch.setenv("HF_ENDPOINT", h.url)
    monkeypatch.setenv("VISION_ADVISOR_ALLOW_HTTP", "1")  # the explicit allowance: this local server only
    _online(monkeypatch)
    # The client writes in chunks of this size; small chunks make a resume point inside a 2 MB file.
    monkeypatch.setattr("huggingface_hub.constants.DOWNLOAD_CHUNK_SIZE", 64 * 1024)
    yield h
    h.server.shutdown()


def _cache_root() -> Path:
    from advisor.models.locations import hf_cache_dir

    return hf_cache_dir()


def _snapshot_files() -> list[Path]:
    return [p for p in _cache_root().rglob("snapshots/*/*")]


def _partial_files() -> list[Path]:
    return [p for p in _cache_root().rglob("*") if p.name.endswith((".incomplete", ".tmp"))]


def _nothing_kept() -> None:
    """No file a loader could pick up, no partial file, and the model is not listed as ready."""
    assert _snapshot_files() == []
    assert [p for p in _cache_root().rglob("blobs/*") if not p.name.endswith(".lock")] == []
    assert _partial_files() == []
    assert find_weights(parse_model_id(MODEL)).origin == "random"  # test arch without a file: nothing real
    assert ready_model_ids([MODEL]) == frozenset()  # so `advisor rank --probe-ready` does not list it


def test_plan_names_size_source_and_licence_and_fetches_nothing(hub, weights_bytes):
    from advisor.models.download import plan_download

    plan = plan_download(MODEL)
    assert (plan.repo_id, plan.filename, plan.size_bytes) == (REPO, "model.safetensors", len(weights_bytes[0]))
    assert plan.licence == "apache-2.0" and plan.url == f"{hub.url}/{REPO}"
    assert plan.etag == hashlib.sha256(weights_bytes[0]).hexdigest() and plan.commit == COMMIT
    assert "MiB" in plan.describe() and "apache-2.0" in plan.describe()
    assert [r[0] for r in hub.requests] == ["HEAD"]  # metadata only
    assert _snapshot_files() == []


def test_download_fills_the_cache_and_the_model_loads_those_weights(hub, weights_bytes):
    from advisor.models.download import download_weights
    from advisor.models.loaded import clear_model_cache, load_model

    spec = parse_model_id(MODEL)
    assert find_weights(spec).origin == "random"  # test arch without a file: nothing real yet
    seen: list[float] = []
    path = download_weights(MODEL, progress=lambda f, msg: seen.append(f))
    assert Path(path).read_bytes() == weights_bytes[0]
    assert Path(path).is_relative_to(_cache_root())
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    src = find_weights(spec)
    assert src.origin == "hf-cache" and src.label == f"hf-cache:{REPO}"
    assert _partial_files() == []
    clear_model_cache()
    model = load_model(MODEL)
    assert model.weights == f"hf-cache:{REPO}"
    loaded = model.module.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in weights_bytes[1].items())
    clear_model_cache()


def test_load_model_with_consent_downloads_through_the_same_checked_path(hub, weights_bytes):
    """Mutant caught: load_model(allow_download=True) letting timm fetch the weights itself (unbounded and
    unchecked, as it did; against this hub that failed)."""
    from advisor.models.loaded import clear_model_cache, load_model

    clear_model_cache()
    model = load_model(MODEL, allow_download=True)
    assert model.weights == f"hf-cache:{REPO}"
    assert [r[0] for r in hub.requests] == ["HEAD", "GET"]
    clear_model_cache()


def test_an_interrupted_transfer_resumes_to_the_exact_file(hub, weights_bytes):
    from advisor.models.download import download_weights

    hub.cut_first = 1  # the first body stops half way and the connection closes
    path = download_weights(MODEL)
    assert Path(path).read_bytes() == weights_bytes[0]
    gets = [r for r in hub.requests if r[0] == "GET"]
    assert len(gets) == 2 and gets[0][2] is None
    resumed_at = int(gets[1][2].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= len(weights_bytes[0]) // 2  # resumed where the written part ended


def test_a_failed_transfer_is_cleaned_up_and_the_next_run_fetches_the_whole_file(hub, weights_bytes):
    from advisor.models.download import download_weights

    hub.cut_first, hub.refuse_range = 1, True  # cut half way, then the resume request fails
    with pytest.raises(WeightsUnavailableError, match="run the same command again"):
        download_weights(MODEL)
    assert hub.requests[-1][2] not in (None, "bytes=0-")  # it did try to resume
    _nothing_kept()
    hub.refuse_range = False
    path = download_weights(MODEL)
    assert Path(path).read_bytes() == weights_bytes[0]
    assert hub.requests[-1][2] is None  # a fresh, complete transfer


@pytest.mark.parametrize("etag, commit", [("../../../outside", COMMIT), (None, "../../../outside")],
                         ids=["etag", "commit"])
def test_a_path_in_the_etag_or_commit_writes_nothing_outside_the_cache(hub, etag, commit):
    """Issue 21 item 2: huggingface_hub names the blob `blobs/<etag>` (and the snapshot after the commit)
    unchecked, so `../../../outside` lands beside the cache. Both must be refused as not-a-hash.

    Mutant caught: the ETag / commit checks dropped from `_check_plan`."""
    from advisor.models.download import download_weights

    hub.etag, hub.commit = etag, commit
    outside = _cache_root().parent
    before = {p for p in outside.rglob("*") if not p.is_relative_to(_cache_root())}
    with pytest.raises(WeightsUnavailableError, match=r"is not a (content|commit) hash"):
        download_weights(MODEL)
    assert {p for p in outside.rglob("*") if not p.is_relative_to(_cache_root())} == before
    assert [r for r in hub.requests if r[0] == "GET"] == []  # refused from the plan, before any transfer
    _nothing_kept()


def test_plain_http_is_refused_unless_allowed(hub, monkeypatch):
    """Issue 21 item 2: an http:// hub can be read and altered on the way; asked for nothing unless allowed.

    Mutant caught: `check_url` accepting http:// without VISION_ADVISOR_ALLOW_HTTP."""
    from advisor.models.download import download_weights, plan_download

    monkeypatch.delenv("VISION_ADVISOR_ALLOW_HTTP")
    for call in (plan_download, download_weights):
        with pytest.raises(WeightsUnavailableError, match=r"plain http://.*VISION_ADVISOR_ALLOW_HTTP=1"):
            call(MODEL)
    assert hub.requests == []
    _nothing_kept()


def test_a_redirect_to_another_scheme_is_refused(hub):
    """Mutant caught: redirects followed by the HTTP client without checking each hop's address."""
    from advisor.models.download import download_weights

    hub.redirect = "file:///etc/hostname"
    with pytest.raises(WeightsUnavailableError, match="not an https:// address"):
        download_weights(MODEL)
    _nothing_kept()


def test_an_endless_body_stops_at_the_planned_size(hub, weights_bytes):
    """Issue 21 item 3: a body without end wrote 6.4 GB in 35 s. It must stop just past the size shown.

    Mutant caught: no size check in `Transfer._write`."""
    from advisor.models.download import download_weights

    hub.endless = True
    t = time.perf_counter()
    with pytest.raises(WeightsUnavailableError, match=r"sent more than the .* bytes it announced"):
        download_weights(MODEL)
    assert time.perf_counter() - t < 30
    assert hub.sent < len(weights_bytes[0]) + 16 * 2**20  # the planned size plus what socket buffers hold
    _nothing_kept()


@pytest.mark.timeout(90)
def test_a_trickle_is_given_up_below_the_minimum_rate(hub, monkeypatch):
    """Issue 21 item 3: a 1 byte/s trickle had no deadline. Below the minimum rate over a window it stops.

    Mutant caught: no rate-window check in `Transfer._write`."""
    from advisor.models import transfer
    from advisor.models.download import download_weights

    monkeypatch.setattr(transfer, "RATE_WINDOW_S", 1.0)
    monkeypatch.setattr(transfer, "MIN_BYTES_PER_S", 1024)
    hub.trickle_s = 0.05  # 20 bytes/s
    t = time.perf_counter()
    with pytest.raises(WeightsUnavailableError, match="slower than"):
        download_weights(MODEL)
    assert time.perf_counter() - t < 15
    _nothing_kept()


def test_bytes_that_are_not_the_announced_file_are_not_kept(hub, weights_bytes):
    """Mutant caught: `_verify` without the hash comparison (huggingface_hub checked the size only)."""
    from advisor.models.download import download_weights

    hub.body = bytes(reversed(weights_bytes[0]))  # same size, other content
    with pytest.raises(WeightsUnavailableError, match="does not match the hash the hub announced"):
        download_weights(MODEL)
    _nothing_kept()


class Stop(AdvisorError):
    """What a Cancel button raises from the progress callback."""


def test_a_cancelled_transfer_leaves_no_partial_file(hub):
    """Issue 21 item 3: partial files go on every exit, a cancel from the progress callback included (which
    reaches the caller as itself, not as a download failure).

    Mutant caught: the temporary file removed only on transfer errors instead of in a `finally`."""
    from advisor.models.download import download_weights

    def cancel(fraction: float, message: str) -> None:
        if 0 < fraction < 1:
            raise Stop("cancelled")

    with pytest.raises(Stop):
        download_weights(MODEL, progress=cancel)
    _nothing_kept()


def test_a_stale_partial_from_a_killed_run_is_swept_not_resumed(hub, weights_bytes):
    """Issue 21 item 3: a process killed mid-download cannot clean up; the next download deletes what it left
    (and never resumes from it: huggingface_hub resumed `<etag>.incomplete`).

    Mutant caught: no `_sweep_stale` before a download."""
    from advisor.models.download import download_weights

    data = weights_bytes[0]
    blobs = _cache_root() / "models--timm--test_resnet.r160_in1k" / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    stale = [blobs / f"{hashlib.sha256(data).hexdigest()}.incomplete", blobs / ".va-killed.incomplete"]
    for p in stale:
        p.write_bytes(b"\0" * (len(data) // 2))  # what a killed run left: not the file's first half
        os.utime(p, (time.time() - 3600, time.time() - 3600))
    path = download_weights(MODEL)
    assert Path(path).read_bytes() == weights_bytes[0]
    assert not any(p.exists() for p in stale) and _partial_files() == []


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_a_refused_pickle_download_does_not_stay_in_the_cache(hub):
    """Issue 21 item 12: a pickle that is refused at load time stayed in the cache, so `--probe-ready` listed
    the model. It is refused at download time and deleted.

    Mutant caught: `_verify` without `check_tensors_only`."""
    import io

    from advisor.models.download import download_weights

    buf = io.BytesIO()
    torch.save({"state_dict": _Evil()}, buf)
    hub.files = {"pytorch_model.bin": buf.getvalue()}  # no safetensors twin on this hub
    with pytest.raises(WeightsUnavailableError, match=r"pickle that could run code.*deleted, not kept"):
        download_weights(MODEL)
    _nothing_kept()
    with pytest.raises(pickle.UnpicklingError):  # the same bytes really are refused by torch's safe loader
        torch.load(io.BytesIO(buf.getvalue()), weights_only=True)


def test_offline_fails_at_once_with_a_clear_message(monkeypatch):
    from advisor.models.download import download_weights, plan_download

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t = time.perf_counter()
    with pytest.raises(WeightsUnavailableError, match="HF_HUB_OFFLINE"):
        download_weights("timm:resnet18.a1_in1k")
    with pytest.raises(WeightsUnavailableError, match="HF_HUB_OFFLINE"):
        plan_download("open_clip:ViT-B-32.laion2b_s34b_b79k")
    assert time.perf_counter() - t < 5


def test_unreachable_hub_fails_within_seconds(monkeypatch):
    import socket

    from advisor.models.download import plan_download

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _online(monkeypatch)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("VISION_ADVISOR_ALLOW_HTTP", "1")
    t = time.perf_counter()
    with pytest.raises(WeightsUnavailableError, match="not reachable"):
        plan_download("timm:resnet18.a1_in1k")
    assert time.perf_counter() - t < 5


def test_a_missing_file_on_the_hub_is_named(hub):
    from advisor.models.download import plan_download

    hub.files.clear()
    with pytest.raises(WeightsUnavailableError, match=r"model\.safetensors, pytorch_model\.bin"):
        plan_download(MODEL)
