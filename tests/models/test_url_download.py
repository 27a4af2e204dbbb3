"""Weights files at URLs, downloaded with consent from a server on 127.0.0.1 (never the network): the plan
states size (HEAD), checksum and licence; the file must match its sha256 prefix and hold only tensors; no hub
token goes to a file host; a server that does not say the size is refused."""

from __future__ import annotations

import hashlib
import http.server
import io
import pickle
import threading

import pytest
import torch

from advisor.errors import WeightsUnavailableError
from advisor.models.interface import UrlFile

MODEL = "antialiased:resnet18_lpf2"


class Server:
    def __init__(self, body: bytes, *, length: bool = True) -> None:
        self.body, self.length, self.headers = body, length, []
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _start(self):
                srv.headers.append(dict(self.headers))
                self.send_response(200)
                if srv.length:
                    self.send_header("Content-Length", str(len(srv.body)))
                else:
                    self.send_header("Connection", "close")
                self.end_headers()

            def do_HEAD(self):
                self._start()

            def do_GET(self):
                self._start()
                self.wfile.write(srv.body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/resnet18_lpf2-{{}}.pth"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _state_bytes() -> bytes:
    import antialiased_cnns

    buf = io.BytesIO()
    torch.save({"state_dict": antialiased_cnns.resnet18(pretrained=False, filter_size=2).state_dict()}, buf)
    return buf.getvalue()


@pytest.fixture
def served(monkeypatch):
    """The model's URL file points at the local server; its sha256 prefix is the served bytes' own."""
    import huggingface_hub.constants

    from advisor.models.backends import antialiased

    servers = []

    def serve(body: bytes, sha: str | None = None, **kw) -> Server:
        s = Server(body, **kw)
        servers.append(s)
        prefix = sha if sha is not None else hashlib.sha256(body).hexdigest()[:8]
        f = UrlFile(s.url.format(prefix), f"resnet18_lpf2-{prefix}.pth", prefix, antialiased.LICENCE)
        monkeypatch.setattr(antialiased, "_url_file", lambda spec: f)
        return s

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("VISION_ADVISOR_ALLOW_HTTP", "1")
    monkeypatch.setenv("HF_TOKEN", "hf_secret_token_for_the_hub_only")
    yield serve
    for s in servers:
        s.server.shutdown()


def _cached() -> list:
    from advisor.models.nets import torch_hub_dir

    d = torch_hub_dir()
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


def test_plan_states_size_checksum_licence_and_fetches_nothing(served):
    from advisor.models.download import plan_download

    body = _state_bytes()
    s = served(body)
    plan = plan_download(MODEL)
    assert plan.kind == "url" and plan.size_bytes == len(body) and plan.etag == hashlib.sha256(body).hexdigest()[:8]
    assert "cc-by-nc-sa-4.0" in plan.describe() and f"sha256 {plan.etag}" in plan.describe()
    assert len(s.headers) == 1 and _cached() == []


def test_download_lands_in_torch_hub_cache_and_loads_without_sending_the_hub_token(served):
    from advisor.models.download import download_weights
    from advisor.models.loaded import load_model

    s = served(_state_bytes())
    path = download_weights(MODEL)
    assert _cached() == [path.rsplit("/", 1)[1]]
    assert all("authorization" not in {k.lower() for k in h} for h in s.headers)
    assert load_model(MODEL).weights.startswith("torch-hub-cache:resnet18_lpf2-")


def test_bytes_that_do_not_match_the_published_sha256_are_not_kept(served):
    from advisor.models.download import download_weights

    served(_state_bytes(), sha="00000000")
    with pytest.raises(WeightsUnavailableError, match="does not match its published sha256"):
        download_weights(MODEL)
    assert _cached() == []


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_a_pickle_with_code_is_refused_and_deleted(served):
    from advisor.models.download import download_weights

    served(pickle.dumps({"state_dict": _Evil()}, protocol=2))
    with pytest.raises(WeightsUnavailableError, match="Python objects other than tensors"):
        download_weights(MODEL)
    assert _cached() == []


def test_a_server_that_does_not_say_the_size_is_refused(served):
    from advisor.models.download import plan_download

    served(_state_bytes(), length=False)
    with pytest.raises(WeightsUnavailableError, match="could not be bounded"):
        plan_download(MODEL)


def test_plain_http_is_refused_unless_allowed(served, monkeypatch):
    from advisor.models.download import plan_download

    served(_state_bytes())
    monkeypatch.delenv("VISION_ADVISOR_ALLOW_HTTP")
    with pytest.raises(WeightsUnavailableError, match="plain http"):
        plan_download(MODEL)
