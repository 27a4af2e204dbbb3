"""`--executor ray` with an address that is not a Ray cluster fails within 10 s with a message (issue 21.13).

Before: a closed port or a plain TCP server hung past 300 s; `ray://` without ray[client] was a traceback."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pytest
from PIL import Image

from advisor.errors import InvalidRequestError
from advisor.evaluate.ray_connect import check_reachable, parse_address
from advisor.evaluate.run import RayExecutor, evaluate

pytest.importorskip("ray")


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("VISION_ADVISOR_CACHE", str(tmp_path / "cache"))
    for i, c in enumerate(("cat", "dog")):
        (tmp_path / "d" / c).mkdir(parents=True)
        Image.fromarray(np.full((16, 16, 3), i * 100, np.uint8)).save(tmp_path / "d" / c / "a.png")
    return tmp_path / "d"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def plain_tcp_server():
    """Accepts connections and never answers (not Ray)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held, stop = [], threading.Event()

    def serve():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(2)
    for c in held:
        c.close()
    srv.close()


def _connect_seconds() -> float:
    """Seconds until the executor gives up connecting (imports are warm: the deadline is the connection's)."""
    t0 = time.perf_counter()
    with pytest.raises(InvalidRequestError, match="RAY_ADDRESS") as e:
        RayExecutor().map([], lambda *a: None)
    return time.perf_counter() - t0, str(e.value)


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_closed_port_fails_fast_with_a_message(data, monkeypatch, scheme):
    monkeypatch.setenv("RAY_ADDRESS", f"{scheme}127.0.0.1:{_closed_port()}")
    with pytest.raises(InvalidRequestError, match="RAY_ADDRESS"):  # through the public entry point
        evaluate(data, ["timm:test_efficientnet.r160_in1k"], executor="ray", label_set="own")
    seconds, msg = _connect_seconds()
    assert seconds < 10 and ("cannot reach" in msg or "ray[client]" in msg)


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_a_server_that_is_not_ray_fails_within_ten_seconds(monkeypatch, plain_tcp_server, scheme):
    monkeypatch.setenv("RAY_ADDRESS", f"{scheme}127.0.0.1:{plain_tcp_server}")
    seconds, msg = _connect_seconds()
    assert seconds < 12, msg


def test_addresses_are_parsed():
    assert parse_address("ray://head:10001") == ("ray", "head", 10001)
    assert parse_address("10.0.0.1:6379") == ("gcs", "10.0.0.1", 6379)
    assert parse_address("ray://head") == ("ray", "head", 10001)
    with pytest.raises(InvalidRequestError):
        check_reachable("ray://:abc")
