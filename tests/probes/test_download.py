"""Download with consent, against a hub-shaped HTTP server on 127.0.0.1 (never the network).

The server answers the two requests `huggingface_hub.hf_hub_download` makes: HEAD
`/{repo}/resolve/{revision}/{file}` (commit, etag and size headers) and GET of the same URL, honouring
`Range` so an interrupted transfer can resume.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
import time
from pathlib import Path

import pytest
import torch

from advisor.errors import WeightsUnavailableError
from advisor.probes.weights import find_weights, parse_model_id

MODEL = "timm:test_resnet.r160_in1k"
REPO = "timm/test_resnet.r160_in1k"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


class Hub:
    """Serves files of one repo; `cut_first` truncates the first GET bodies; `refuse_range` 500s resumes."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.requests: list[tuple[str, str, str | None]] = []
        self.cut_first = 0
        self.refuse_range = False
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
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
                self.send_header("Content-Length", str(len(data) if length is None else length))
                self.end_headers()

            def do_HEAD(self):
                hub.requests.append(("HEAD", self.path, None))
                data = self._file()
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._head(data)

            def do_GET(self):
                rng = self.headers.get("Range")
                hub.requests.append(("GET", self.path, rng))
                data = self._file()
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                if rng and hub.refuse_range:
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = data[start:]
                self._head(data, 206 if rng else 200, len(body))
                if hub.cut_first > 0:
                    hub.cut_first -= 1
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

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
    _online(monkeypatch)
    # The client writes in chunks of this size; small chunks make a resume point inside a 2 MB file.
    monkeypatch.setattr("huggingface_hub.constants.DOWNLOAD_CHUNK_SIZE", 64 * 1024)
    yield h
    h.server.shutdown()


def _snapshot_files() -> list[Path]:
    from advisor.probes.weights import hf_cache_dir

    return [p for p in hf_cache_dir().rglob("snapshots/*/*")]


def test_plan_names_size_source_and_licence_and_fetches_nothing(hub, weights_bytes):
    from advisor.probes.download import plan_download

    plan = plan_download(MODEL)
    assert (plan.repo_id, plan.filename, plan.size_bytes) == (REPO, "model.safetensors", len(weights_bytes[0]))
    assert plan.licence == "apache-2.0" and plan.url == f"{hub.url}/{REPO}"
    assert "MiB" in plan.describe() and "apache-2.0" in plan.describe()
    assert [r[0] for r in hub.requests] == ["HEAD"]  # metadata only
    assert _snapshot_files() == []


def test_download_fills_the_cache_and_the_model_loads_those_weights(hub, weights_bytes):
    from advisor.probes.backends import clear_model_cache, load_model
    from advisor.probes.download import download_weights

    spec = parse_model_id(MODEL)
    assert find_weights(spec).kind == "random"  # test arch without a file: nothing real yet
    seen: list[float] = []
    path = download_weights(MODEL, progress=lambda f, msg: seen.append(f))
    assert Path(path).read_bytes() == weights_bytes[0]
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    src = find_weights(spec)
    assert src.kind == "hf-cache" and src.label == f"hf-cache:{REPO}"
    clear_model_cache()
    model = load_model(MODEL)
    assert model.weights == f"hf-cache:{REPO}"
    loaded = model.module.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in weights_bytes[1].items())
    clear_model_cache()


def test_an_interrupted_transfer_resumes_to_the_exact_file(hub, weights_bytes):
    from advisor.probes.download import download_weights

    hub.cut_first = 1  # the first body stops half way and the connection closes
    path = download_weights(MODEL)
    assert Path(path).read_bytes() == weights_bytes[0]
    gets = [r for r in hub.requests if r[0] == "GET"]
    assert len(gets) == 2 and gets[0][2] is None
    resumed_at = int(gets[1][2].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= len(weights_bytes[0]) // 2  # resumed where the written part ended


def test_a_failed_transfer_is_cleaned_up_and_the_next_run_fetches_the_whole_file(hub, weights_bytes):
    from advisor.probes.download import download_weights
    from advisor.probes.weights import hf_cache_dir

    hub.cut_first, hub.refuse_range = 1, True  # cut half way, then the resume request fails
    with pytest.raises(WeightsUnavailableError, match="run the same command again"):
        download_weights(MODEL)
    assert hub.requests[-1][2] not in (None, "bytes=0-")  # it did try to resume
    assert _snapshot_files() == []
    assert [p for p in hf_cache_dir().rglob("blobs/*") if not p.name.endswith(".lock")] == []  # no partial
    assert find_weights(parse_model_id(MODEL)).kind == "random"  # nothing a loader could pick up
    hub.refuse_range = False
    path = download_weights(MODEL)
    assert Path(path).read_bytes() == weights_bytes[0]
    assert hub.requests[-1][2] is None  # a fresh, complete transfer


def test_offline_fails_at_once_with_a_clear_message(monkeypatch):
    from advisor.probes.download import download_weights, plan_download

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t = time.perf_counter()
    with pytest.raises(WeightsUnavailableError, match="HF_HUB_OFFLINE"):
        download_weights("timm:resnet18.a1_in1k")
    with pytest.raises(WeightsUnavailableError, match="HF_HUB_OFFLINE"):
        plan_download("open_clip:ViT-B-32.laion2b_s34b_b79k")
    assert time.perf_counter() - t < 5


def test_unreachable_hub_fails_within_seconds(monkeypatch):
    import socket

    from advisor.probes.download import plan_download

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _online(monkeypatch)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    t = time.perf_counter()
    with pytest.raises(WeightsUnavailableError, match="not reachable"):
        plan_download("timm:resnet18.a1_in1k")
    assert time.perf_counter() - t < 5


def test_a_missing_file_on_the_hub_is_named(hub):
    from advisor.probes.download import plan_download

    hub.files.clear()
    with pytest.raises(WeightsUnavailableError, match=r"model\.safetensors, pytorch_model\.bin"):
        plan_download(MODEL)
