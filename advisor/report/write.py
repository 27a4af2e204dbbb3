"""Safe writing: the report file where asked, its images only inside `<stem>_files/` beside it
(`advisor.report.formats.write_report` puts a rendered report there)."""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from pathlib import Path

from advisor.errors import AdvisorError

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$")


class UnsafePathError(AdvisorError):
    """A write would land outside the chosen output."""

    exit_code = 2


class WriteFailedError(AdvisorError):
    """The disk refused the write (full, read-only, no permission); nothing half-written is left."""


def os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_output_path(path: Path) -> None:
    """The output must be a regular file or not exist: never replace a device, FIFO, socket or folder."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UnsafePathError(f"cannot use output {path}: {os_reason(exc)}") from None
    if stat.S_ISREG(st.st_mode):
        return
    kind = ("a folder" if stat.S_ISDIR(st.st_mode) else "a symbolic link" if stat.S_ISLNK(st.st_mode)
            else "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
            else "a device")
    raise UnsafePathError(f"refusing to write to {path}: it is {kind}, not a regular file")


def atomic_write(target: Path, data: bytes) -> None:
    """Write `data` to a fresh temp file beside `target`, then rename it over; the temp file never survives."""
    check_output_path(target)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:80]}.", suffix=".tmp")
    except OSError as exc:
        raise WriteFailedError(f"cannot write {target}: {os_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o644)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        check_output_path(target)  # it may have changed while we wrote
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise WriteFailedError(f"cannot write {target}: {os_reason(exc)}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def safe_join(base: Path, name: str) -> Path:
    """base/name, refusing separators, '..', hidden names and anything resolving outside base."""
    if not SAFE_NAME.match(name) or ".." in name:
        raise UnsafePathError(f"refusing to write file named {name!r}: not a plain file name")
    root = Path(base).resolve()
    p = (root / name).resolve()
    if p.parent != root:
        raise UnsafePathError(f"refusing to write {name!r} outside {root}")
    return p


def write_bytes(path: Path, data: bytes) -> None:
    """Write without following a symlink planted at `path`."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        raise UnsafePathError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise WriteFailedError(f"cannot write {path}: {os_reason(exc)}") from None


def asset_dir_name(out_path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", Path(out_path).stem).lstrip("._-")[:80] + "_files"


def write_assets(out_dir: Path, dir_name: str, files: dict[str, bytes]) -> list[Path]:
    """Write `files` into out_dir/dir_name (a real folder, created if needed); returns the paths."""
    if not files:
        return []
    folder = safe_join(Path(out_dir), dir_name)
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise UnsafePathError(f"{folder} exists and is not a plain folder")
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise WriteFailedError(f"cannot create {folder}: {os_reason(exc)}") from None
    written = []
    for name, blob in files.items():
        p = safe_join(folder, name)
        write_bytes(p, blob)
        written.append(p)
    return written
