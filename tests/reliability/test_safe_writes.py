"""Safe writes (issue 13, items 2 and 11): never replace a non-file, never leave a temp file, say why."""

from __future__ import annotations

import errno
import os
import stat

import duckdb
import pytest

from advisor.cli import main
from advisor.report import write as write_mod
from advisor.report.write import UnsafePathError, WriteFailedError, atomic_write, check_output_path

from .conftest import REPORT_OPTS


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_device_is_refused_without_touching_it():
    with pytest.raises(UnsafePathError, match="it is a device, not a regular file"):
        check_output_path(__import__("pathlib").Path("/dev/null"))


def test_fifo_output_is_refused_and_kept(cli_base, tmp_path, capsys):
    fifo = tmp_path / "out.html"
    os.mkfifo(fifo)
    assert main([*cli_base, "report", *REPORT_OPTS, "-o", str(fifo)]) == 2
    assert "it is a FIFO, not a regular file" in capsys.readouterr().err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _leftovers(tmp_path) == []


class _FullDisk:
    """A file object whose writes fail as on a full disk."""

    def __init__(self, fh):
        self._fh = fh

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()

    def fileno(self):
        return self._fh.fileno()

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def flush(self):
        pass


def test_disk_full_is_a_message_and_leaves_nothing(cli_base, tmp_path, capsys, monkeypatch):
    real_fdopen = os.fdopen
    monkeypatch.setattr(write_mod.os, "fdopen", lambda fd, *a, **k: _FullDisk(real_fdopen(fd, *a, **k)))
    out = tmp_path / "r.html"
    code = main([*cli_base, "report", *REPORT_OPTS, "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "No space left on device" in err and "Traceback" not in err
    assert not out.exists() and _leftovers(tmp_path) == []


def test_existing_report_survives_a_failed_write(tmp_path, monkeypatch):
    out = tmp_path / "r.html"
    out.write_text("old")
    real_fdopen = os.fdopen
    monkeypatch.setattr(write_mod.os, "fdopen", lambda fd, *a, **k: _FullDisk(real_fdopen(fd, *a, **k)))
    with pytest.raises(WriteFailedError, match=r"cannot write .*r.html: No space left on device"):
        atomic_write(out, b"new")
    assert out.read_text() == "old" and _leftovers(tmp_path) == []


def test_read_only_folder_is_a_message(cli_base, tmp_path, capsys, monkeypatch):
    """Root ignores permission bits, so the read-only file system is simulated (EROFS from mkdir/mkstemp)."""
    def erofs(*a, **k):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(write_mod.Path, "mkdir", erofs)
    code = main([*cli_base, "report", *REPORT_OPTS, "-o", str(tmp_path / "sub" / "r.html")])
    err = capsys.readouterr().err
    assert code == 1 and "Read-only file system" in err and "Traceback" not in err
    monkeypatch.undo()
    monkeypatch.setattr(write_mod.tempfile, "mkstemp", erofs)
    code = main([*cli_base, "report", *REPORT_OPTS, "-o", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 1 and "Read-only file system" in err
    assert _leftovers(tmp_path) == []


def test_temp_names_are_fresh_and_permissions_readable(tmp_path):
    out = tmp_path / "r.json"
    atomic_write(out, b"{}")
    assert out.read_bytes() == b"{}" and stat.S_IMODE(out.stat().st_mode) == 0o644
    assert _leftovers(tmp_path) == []


def test_store_build_cleans_its_temp_file_on_failure(tmp_path, monkeypatch):
    from advisor.store import build

    real_connect = duckdb.connect

    class Boom(Exception):
        pass

    def failing_connect(path, *a, **k):
        con = real_connect(path, *a, **k)
        con.execute("CREATE TABLE filler AS SELECT range AS x FROM range(100000)")
        con.close()
        raise Boom("disk went away")

    monkeypatch.setattr(build.duckdb, "connect", failing_connect)
    with pytest.raises(Boom):
        build.build_store(tmp_path / "advisor.duckdb")
    assert list(tmp_path.iterdir()) == []


def test_store_build_failing_mid_insert_leaves_no_tmp(tmp_path, monkeypatch):
    from advisor.store import build

    bad_schema = tmp_path / "schema.sql"
    bad_schema.write_text(build.SCHEMA.read_text() + "\nCREATE TABLE broken (;")
    monkeypatch.setattr(build, "SCHEMA", bad_schema)
    folder = tmp_path / "db"
    with pytest.raises(duckdb.Error):
        build.build_store(folder / "advisor.duckdb")
    assert list(folder.iterdir()) == []
