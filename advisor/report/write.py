"""Safe writing: the report file where asked, its images only inside `<stem>_files/` beside it."""

from __future__ import annotations

import os
import re
from pathlib import Path

from advisor.errors import AdvisorError
from advisor.report.model import Report

FORMATS = ("md", "html", "json", "pdf")
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$")


class UnsafePathError(AdvisorError):
    """A write would land outside the chosen output."""

    exit_code = 2


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
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def asset_dir_name(out_path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", Path(out_path).stem).lstrip("._-")[:80] + "_files"


def write_assets(out_dir: Path, dir_name: str, files: dict[str, bytes]) -> list[Path]:
    """Write `files` into out_dir/dir_name (a real folder, created if needed); returns the paths."""
    if not files:
        return []
    folder = safe_join(Path(out_dir), dir_name)
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise UnsafePathError(f"{folder} exists and is not a plain folder")
    folder.mkdir(exist_ok=True)
    written = []
    for name, blob in files.items():
        p = safe_join(folder, name)
        write_bytes(p, blob)
        written.append(p)
    return written


def write_report(report: Report, fmt: str, out_path: Path | str) -> list[Path]:
    """Write the report as md/html/json/pdf to out_path (plus md images beside it); returns what was written."""
    if fmt not in FORMATS:
        raise UnsafePathError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(out_path)
    if out.name in ("", ".", "..") or (out.exists() and out.is_dir()):
        raise UnsafePathError(f"output {out} must be a file path, not a folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    target = safe_join(out.parent, out.name) if SAFE_NAME.match(out.name) else out.parent.resolve() / out.name
    written: list[Path] = []
    if fmt == "md":
        from advisor.report.markdown import to_markdown

        text = to_markdown(report, target.parent, asset_dir_name(target), written=written)
    elif fmt == "html":
        from advisor.report.html import to_html

        text = to_html(report)
    elif fmt == "pdf":
        from advisor.report.pdf import render_pdf

        text = render_pdf(report)
    else:
        from advisor.report.json_io import to_json

        text = to_json(report)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    write_bytes(tmp, text if isinstance(text, bytes) else text.encode("utf-8"))
    os.replace(tmp, target)
    return [target, *written]
