"""Bounded JSON input: every JSON file or upload a user gives goes through here.

Why: `stat` says 0 bytes for `/dev/zero` and pipes, so a size check before reading does not bound
memory; and Python's `json` recurses once per nesting level, so `[[[[...]]]]` raises RecursionError
(or worse) instead of a message. Here the byte cap is enforced while reading, and the nesting depth
is measured with a flat scan (no recursion) before `json.loads` ever sees the text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from advisor.errors import InvalidRequestError

MAX_JSON_BYTES = 20 * 1024 * 1024  # reports and probe results are a few MB at most
MAX_JSON_DEPTH = 64  # the deepest real document (a report) nests about 6 levels
_CHUNK = 1 << 20
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB" if n >= 2**20 else f"{n} bytes"


def read_capped(path: str | Path, max_bytes: int = MAX_JSON_BYTES, what: str = "file") -> bytes:
    """The bytes of `path`, refusing more than `max_bytes` as they are read (works for /dev/zero, FIFOs)."""
    p = Path(path)
    label = f"{what} {p}"
    try:
        with open(p, "rb") as fh:
            chunks: list[bytes] = []
            total = 0
            while total <= max_bytes:
                block = fh.read(min(_CHUNK, max_bytes + 1 - total))
                if not block:
                    break
                chunks.append(block)
                total += len(block)
    except FileNotFoundError:
        raise InvalidRequestError(f"{label}: not found") from None
    except IsADirectoryError:
        raise InvalidRequestError(f"{label}: is a folder, not a file") from None
    except OSError as exc:
        raise InvalidRequestError(f"{label}: cannot read ({exc.strerror or exc})") from None
    if total > max_bytes:
        raise InvalidRequestError(f"{label}: larger than the {_mib(max_bytes)} limit")
    return b"".join(chunks)


def json_depth(data: bytes) -> int:
    """Deepest nesting of arrays/objects in JSON bytes, without recursion (brackets inside strings ignored)."""
    stripped = _STRING.sub(b'""', data)
    codes = np.frombuffer(stripped, dtype=np.uint8)
    opens = (codes == ord("[")) | (codes == ord("{"))
    brackets = codes[opens | (codes == ord("]")) | (codes == ord("}"))]  # only these, to keep memory small
    if not brackets.size:
        return 0
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1).astype(np.int32)
    return int(np.cumsum(steps).max())


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads_bounded(data: bytes | str, *, what: str = "JSON input", max_bytes: int = MAX_JSON_BYTES,
                  max_depth: int = MAX_JSON_DEPTH, allow_nan: bool = True) -> Any:
    """Parse JSON bytes/text with a size and a nesting-depth cap; every failure is an InvalidRequestError."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise InvalidRequestError(f"{what}: larger than the {_mib(max_bytes)} limit")
    depth = json_depth(raw)
    if depth > max_depth:
        raise InvalidRequestError(f"{what}: nested {depth} levels deep; at most {max_depth} are accepted")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(f"{what}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        if allow_nan:
            return json.loads(text)
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(f"{what}: not valid JSON ({exc.msg} at line {exc.lineno}, "
                                  f"column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:  # NaN refused, or a depth the scan could not see
        raise InvalidRequestError(f"{what}: not valid JSON ({exc})") from None


def load_json(source: str | Path | bytes, *, what: str | None = None, max_bytes: int = MAX_JSON_BYTES,
              max_depth: int = MAX_JSON_DEPTH, allow_nan: bool = True) -> Any:
    """JSON from a path (read with the cap) or from bytes (an upload); messages name the file."""
    if isinstance(source, (str, Path)):
        label = f"{what or 'JSON file'} {source}"
        data = read_capped(source, max_bytes, what or "JSON file")
    else:
        label = what or "JSON input"
        data = source
    return loads_bounded(data, what=label, max_bytes=max_bytes, max_depth=max_depth, allow_nan=allow_nan)
