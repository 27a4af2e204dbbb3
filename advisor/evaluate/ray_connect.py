"""Reaching a Ray cluster within a deadline: a closed port or a server that is not Ray gets a message.

Why: `RAY_ADDRESS=ray://host:port` (Ray's documented client form) needs `ray[client]`, and without it the
run ended in a traceback; a closed port or a non-Ray server hung for more than 300 s. The port is tried
first (seconds), then `ray.init` runs with a deadline.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

from advisor.errors import InvalidRequestError

CONNECT_TIMEOUT_S = 10.0
CLIENT_PORT, GCS_PORT = 10001, 6379


def parse_address(address: str) -> tuple[str, str, int]:
    """(scheme, host, port) of RAY_ADDRESS: 'ray://host[:port]' (client) or 'host[:port]' (a cluster's GCS)."""
    raw = address.strip()
    parts = urlsplit(raw if "://" in raw else f"gcs://{raw}")
    try:
        port = parts.port or (CLIENT_PORT if parts.scheme == "ray" else GCS_PORT)
    except ValueError:
        raise InvalidRequestError(f"RAY_ADDRESS={address!r}: not host:port or ray://host:port") from None
    if not parts.hostname:
        raise InvalidRequestError(f"RAY_ADDRESS={address!r}: not host:port or ray://host:port")
    return parts.scheme, parts.hostname, port


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Refuse an address whose port does not accept a connection, and a client address without the client."""
    scheme, host, port = parse_address(address)
    if scheme == "ray":
        try:
            import grpc  # noqa: F401  (Ray's client speaks gRPC; ray[client] installs it)
        except ImportError:
            raise InvalidRequestError(f"RAY_ADDRESS={address}: a ray:// address needs Ray's client: "
                                      "pip install 'vision-advisor[ray]' (which installs ray[client])") from None
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as e:
        raise InvalidRequestError(f"RAY_ADDRESS={address}: cannot reach {host}:{port} "
                                  f"({e.strerror or type(e).__name__}); is the Ray cluster running?") from None


def call_with_deadline(fn: Callable[[], object], address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Run `fn` (ray.init) in a daemon thread; no answer within `timeout` or an error is a message."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except BaseException as e:  # reported to the caller below
            failure.append(e)

    t = threading.Thread(target=target, name="ray-connect", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise InvalidRequestError(f"RAY_ADDRESS={address}: no answer from Ray within {timeout:g} s (is it a Ray "
                                  "cluster's address, e.g. ray://head:10001?)")
    if failure:
        e = failure[0]
        raise InvalidRequestError(f"RAY_ADDRESS={address}: Ray could not connect ({type(e).__name__}: "
                                  f"{str(e).splitlines()[0][:300] if str(e) else ''})") from None
