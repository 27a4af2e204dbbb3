"""Labelled data handed to the app: a zip upload unpacked with limits, or a folder on the server checked.

A zip is untrusted: its entry count and declared uncompressed size are checked before anything is written,
the bytes actually written are counted again (a header may lie), and any entry whose name is absolute or
has a '..' part is refused outright rather than silently rewritten. Both kinds of input then resolve to
what `advisor.evaluate.data.read_samples` reads: a folder of class subfolders, or a `path,label` CSV.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from io import BytesIO
from pathlib import Path, PurePosixPath

from advisor.errors import AdvisorError, InvalidRequestError
from advisor.evaluate.budget import UPLOADS, Reservation
from advisor.evaluate.files import inside, read_regular
from advisor.evaluate.labels_csv import MAX_CSV_BYTES, has_labels_header

MAX_ZIP_FILES = 20_000
MAX_ZIP_BYTES = 2 * 2**30  # total uncompressed size
SERVER_FOLDERS_ENV = "VISION_ADVISOR_SERVER_FOLDERS"  # the allowed root; unset: no server folders
_CHUNK = 2**20
_SKIP_PARTS = ("__MACOSX",)
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_METHOD_NAMES = {9: "Deflate64", 98: "PPMd", 99: "AES encryption", 93: "Zstandard", 95: "XZ", 97: "WavPack",
                 6: "Implode", 10: "PKWARE DCL Implode"}
_HELD: dict[str, Reservation] = {}  # unpacked folder -> its share of the server's upload budget


def _unreadable_entry(infos: list[zipfile.ZipInfo]) -> str:
    """Why an entry cannot be unpacked by Python's zipfile (checked before anything is written), or ''."""
    for i in infos:
        if i.flag_bits & 0x1:
            return (f"{i.filename!r} is encrypted (a password-protected zip): zip the images again "
                    "without a password")
        if i.compress_type not in _METHODS:
            how = _METHOD_NAMES.get(i.compress_type, f"compression method {i.compress_type}")
            return (f"{i.filename!r} uses {how}, which this app cannot unpack: zip the images again with the "
                    "standard Deflate method")
    return ""


def release_upload(dest: Path) -> None:
    """Give an unpacked upload's bytes back to the server's budget (its folder is being removed)."""
    held = _HELD.pop(str(dest), None)
    if held is not None:
        held.release()


def _unsafe(name: str) -> bool:
    """An entry name that could write outside the destination (absolute, drive, '..')."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return True
    return any(part == ".." for part in PurePosixPath(norm).parts)


def extract_zip(data: bytes, dest: Path, *, max_files: int | None = None, max_bytes: int | None = None) -> Path:
    """Unpack an uploaded zip into `dest` within the limits and return the data root inside it.

    Raises InvalidRequestError (nothing is written) for a file that is not a zip, too many entries, too
    many bytes, or an entry name that points outside the archive. Limits default to MAX_ZIP_FILES and
    MAX_ZIP_BYTES as they are at call time.
    """
    max_files = MAX_ZIP_FILES if max_files is None else max_files
    max_bytes = MAX_ZIP_BYTES if max_bytes is None else max_bytes
    try:
        zf = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, OSError) as e:
        raise InvalidRequestError(f"the upload is not a readable zip file ({e})") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir() and not any(
            p in _SKIP_PARTS or p.startswith("._") for p in PurePosixPath(i.filename.replace("\\", "/")).parts)]
        bad = [i.filename for i in zf.infolist() if _unsafe(i.filename)]
        if bad:
            raise InvalidRequestError(f"the zip names {len(bad)} file(s) outside itself (an absolute path or "
                                      f"'..', e.g. {bad[0]!r}): refused, nothing was unpacked")
        if len(infos) > max_files:
            raise InvalidRequestError(f"the zip holds {len(infos):,} files; at most {max_files:,} are accepted")
        declared = sum(i.file_size for i in infos)
        if declared > max_bytes:
            raise InvalidRequestError(f"the zip unpacks to {declared / 2**20:,.0f} MiB; at most "
                                      f"{max_bytes / 2**20:,.0f} MiB are accepted")
        why = _unreadable_entry(infos)
        if why:
            raise InvalidRequestError(f"the zip cannot be unpacked: {why}; nothing was unpacked")
        release_upload(dest)
        held = UPLOADS.reserve(declared, "unpacking this upload")
        dest.mkdir(parents=True, exist_ok=True)
        written = 0
        try:
            for info in infos:
                target = dest.joinpath(*PurePosixPath(info.filename.replace("\\", "/")).parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(_CHUNK):
                        written += len(chunk)
                        if written > max_bytes:
                            raise InvalidRequestError(f"the zip unpacks to more than {max_bytes / 2**20:,.0f} "
                                                      "MiB (more than its headers declare): refused")
                        out.write(chunk)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as e:
            shutil.rmtree(dest, ignore_errors=True)
            held.release()
            raise InvalidRequestError(f"the zip is damaged or uses a feature this app cannot unpack "
                                      f"({type(e).__name__}: {str(e).replace(str(dest), '<upload>')})") from None
        except InvalidRequestError:
            shutil.rmtree(dest, ignore_errors=True)
            held.release()
            raise
    _HELD[str(dest)] = held
    return data_root(dest)


def _labels_csv(folder: Path) -> Path | None:
    """The one CSV directly in `folder` whose header has path and label, if any."""
    found = []
    for f in sorted(folder.glob("*.csv")):
        try:
            head = read_regular(f, MAX_CSV_BYTES, f.name)[:65536]
        except AdvisorError:
            continue
        if has_labels_header(head):
            found.append(f)
    return found[0] if len(found) == 1 else None


def data_root(folder: Path) -> Path:
    """What to evaluate in an unpacked or chosen folder: its `path,label` CSV if it has exactly one, else
    the folder itself (class subfolders); a lone top-level folder (how zips of a folder look) is entered."""
    folder = Path(folder)
    entries = [p for p in folder.iterdir() if not p.name.startswith(".") and p.name not in _SKIP_PARTS]
    if len(entries) == 1 and entries[0].is_dir() and _labels_csv(folder) is None:
        inner = entries[0]
        if _labels_csv(inner) or any(p.is_dir() for p in inner.iterdir()):
            return data_root(inner)
    return _labels_csv(folder) or folder


def server_folders_root() -> Path | None:
    """The folder under which visitors may name server folders (VISION_ADVISOR_SERVER_FOLDERS), or None:
    off by default, so a public app never lists the server's files."""
    raw = os.environ.get(SERVER_FOLDERS_ENV, "").strip()
    return Path(raw).expanduser().resolve() if raw else None


def server_folder(text: str, allowed: str | Path | None = None) -> Path:
    """A folder under the allowed root named by the user, checked to exist and be readable. A path
    outside the root is refused with the same words whether it exists or not."""
    root = Path(allowed).resolve() if allowed is not None else server_folders_root()
    if root is None:
        raise InvalidRequestError(f"folders on this server are switched off; the server's operator enables "
                                  f"them with {SERVER_FOLDERS_ENV}=<allowed folder>")
    raw = (text or "").strip()
    if not raw:
        raise InvalidRequestError(f"type the path of a folder under {root}")
    p = Path(raw).expanduser()
    p = p if p.is_absolute() else root / p
    if not inside(p, root):
        raise InvalidRequestError(f"{raw}: not a folder this app may read (only folders under {root})")
    try:
        if p.exists() and not p.is_dir():
            raise InvalidRequestError(f"{raw}: not a folder (give the folder that holds the class subfolders "
                                      "or the labels CSV)")
        if not p.is_dir():
            raise InvalidRequestError(f"{raw}: no such folder under {root}")
        if not os.access(p, os.R_OK | os.X_OK):
            raise InvalidRequestError(f"{raw}: this app may not read that folder")
        return data_root(Path(os.path.realpath(p)))
    except OSError as e:
        raise InvalidRequestError(f"{raw}: cannot read that folder ({e.strerror or type(e).__name__})") from None
