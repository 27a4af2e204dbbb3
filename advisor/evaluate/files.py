"""Reading the files a user's labels name: regular files only, read with a cap, confined when uploaded.

Why: a CSV inside an upload named `/dev/zero` (the server grew to a MemoryError), a FIFO (hung forever),
`/etc/passwd` and `../../etc/hostname` (read and reported). `stat` says 0 bytes for devices and pipes, so
a size check alone bounds nothing: the kind of file is checked before it is opened (opened non-blocking,
so a FIFO cannot hang the open) and again on the open descriptor, and the read itself stops at the cap.
Paths of an upload must resolve (symlinks followed) inside its own folder.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from advisor.errors import AdvisorError

_CHUNK = 1 << 20


class FileRefusedError(AdvisorError):
    """A file named by the user's labels that is not read: outside the upload, not a regular file, too large."""


def inside(path: str | Path, root: str | Path) -> bool:
    """Does `path` resolve (symlinks and '..' followed) to `root` or below it?"""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def check_regular(path: str | Path, max_bytes: int, name: str, within: str | Path | None = None) -> int:
    """The size of a regular file that may be read; refuses (without revealing whether it exists when it
    lies outside `within`) anything else. Nothing is opened."""
    if within is not None and not inside(path, within):
        raise FileRefusedError(f"{name}: outside the folder of your data: refused")
    try:
        st = os.stat(path)
    except OSError as e:
        why = "no such file" if isinstance(e, FileNotFoundError) else f"cannot read file ({e.strerror or e})"
        raise FileRefusedError(f"{name}: {why}") from None
    kind = stat.S_IFMT(st.st_mode)
    if kind != stat.S_IFREG:
        raise FileRefusedError(f"{name}: " + ("is a folder, not an image file" if kind == stat.S_IFDIR else
                                              "not a regular file (a device, pipe or socket): refused"))
    if st.st_size > max_bytes:
        raise FileRefusedError(f"{name}: file too large: {st.st_size / 2**20:,.1f} MiB exceeds the "
                               f"{max_bytes / 2**20:,.0f} MiB limit")
    return st.st_size


def read_regular(path: str | Path, max_bytes: int, name: str, within: str | Path | None = None) -> bytes:
    """The bytes of a regular file of at most `max_bytes`, checked before and while reading."""
    check_regular(path, max_bytes, name, within)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        raise FileRefusedError(f"{name}: cannot read file ({e.strerror or e})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped between the stat and the open
            raise FileRefusedError(f"{name}: not a regular file (a device, pipe or socket): refused")
        chunks, total = [], 0
        while total <= max_bytes:
            block = os.read(fd, min(_CHUNK, max_bytes + 1 - total))
            if not block:
                break
            chunks.append(block)
            total += len(block)
    except OSError as e:
        raise FileRefusedError(f"{name}: cannot read file ({e.strerror or e})") from None
    finally:
        os.close(fd)
    if total > max_bytes:
        raise FileRefusedError(f"{name}: file too large: more than {max_bytes / 2**20:,.0f} MiB")
    return b"".join(chunks)


def check_output_path(path: str | Path) -> Path:
    """Refuse an output path that cannot be written, before the run it would save (a missing folder, a
    folder, a device such as /dev/full, no permission): a long run must not end in a traceback."""
    p = Path(path).expanduser()
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise AdvisorError(f"--out {path}: is a folder; give a file name, e.g. {p / 'result.json'}")
    if not parent.is_dir():
        raise AdvisorError(f"--out {path}: the folder {parent} does not exist")
    if p.exists() and not p.is_file():
        raise AdvisorError(f"--out {path}: not a regular file (a device or pipe): choose a file")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise AdvisorError(f"--out {path}: this user may not write there")
    return p


def write_output(path: str | Path, text: str) -> None:
    """Write a result file whole (a temporary file beside it, then renamed) or say why not."""
    p = check_output_path(path)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, p)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise AdvisorError(f"--out {path}: cannot write ({e.strerror or e})") from None
