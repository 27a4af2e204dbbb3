"""Bounded JSON input (issue 13, item 3): byte cap while reading, depth cap without RecursionError."""

from __future__ import annotations

import json
import os
import time

import pytest

from advisor.errors import InvalidRequestError
from advisor.jsonio import json_depth, load_json, loads_bounded, read_capped


def test_dev_zero_stops_at_the_cap():
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    t0 = time.perf_counter()
    with pytest.raises(InvalidRequestError, match=r"/dev/zero: larger than the 1 MiB limit"):
        load_json("/dev/zero", max_bytes=2**20)
    assert time.perf_counter() - t0 < 5


def test_fifo_is_read_with_the_cap(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    pid = os.fork()
    if pid == 0:  # writer: far more than the cap, then exit
        try:
            with open(fifo, "wb") as fh:
                for _ in range(64):
                    fh.write(b" " * 65536)
        finally:
            os._exit(0)
    try:
        with pytest.raises(InvalidRequestError, match="larger than"):
            read_capped(fifo, max_bytes=100_000)
    finally:
        os.waitpid(pid, 0)


@pytest.mark.parametrize("depth", [1_000, 100_000, 2_000_000])
def test_deep_nesting_is_a_message_not_a_recursion_error(depth, tmp_path):
    p = tmp_path / "deep.json"
    p.write_bytes(b"[" * depth + b"]" * depth)
    with pytest.raises(InvalidRequestError, match=rf"deep.json: nested {depth} levels deep; at most 64"):
        load_json(p, what="probe results")


def test_deep_objects_and_brackets_inside_strings():
    doc = {"a": {"b": {"c": ["[[[[{{{{", "\\\"[[["]}}}
    text = json.dumps(doc).encode()
    assert json_depth(text) == 4
    assert loads_bounded(text, max_depth=4) == doc
    with pytest.raises(InvalidRequestError, match="nested 4 levels"):
        loads_bounded(text, max_depth=3)


def test_missing_folder_and_garbage_name_the_file(tmp_path):
    with pytest.raises(InvalidRequestError, match=r"probe results .*nope.json: not found"):
        load_json(tmp_path / "nope.json", what="probe results")
    with pytest.raises(InvalidRequestError, match="is a folder"):
        load_json(tmp_path, what="probe results")
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"a": ')
    with pytest.raises(InvalidRequestError, match=r"bad.json: not valid JSON .*line 1"):
        load_json(bad)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00{")
    with pytest.raises(InvalidRequestError, match="not UTF-8"):
        load_json(binary)


def test_bytes_input_and_nan_policy():
    assert load_json(b'{"x": [1, 2.5, "s"]}') == {"x": [1, 2.5, "s"]}
    assert load_json(b"\xef\xbb\xbf[1]") == [1]  # a BOM from Windows editors is fine
    with pytest.raises(InvalidRequestError, match="NaN is not a JSON number"):
        load_json(b'{"x": NaN}', allow_nan=False)
    with pytest.raises(InvalidRequestError, match="report upload: larger than the 10 bytes limit"):
        load_json(b"[" + b"1," * 20 + b"1]", what="report upload", max_bytes=10)
