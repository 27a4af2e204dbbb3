"""Evaluate's data intake as a hostile user tries it: paths out of an upload, devices, FIFOs, bad CSVs.

Each test names the defect of issue 21 it pins; every one failed before the fix."""

from __future__ import annotations

import codecs
import io
import os
import zipfile

import numpy as np
import pytest
from PIL import Image

from advisor.errors import AdvisorError, InvalidRequestError
from advisor.evaluate.data import load_labelled, read_labelled_files
from advisor.evaluate.files import FileRefusedError, read_regular
from advisor.evaluate.intake import extract_zip
from advisor.evaluate.labels_csv import MAX_PROBLEMS, decode, read_rows
from advisor.evaluate.run import evaluate

TINY = "timm:test_efficientnet.r160_in1k"


def png(seed: int = 0, size: int = 24) -> bytes:
    buf = io.BytesIO()
    arr = np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VISION_ADVISOR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


# ---- 21.1: an upload reads nothing outside its own folder ------------------------------------------

def test_csv_in_an_upload_cannot_name_server_files(tmp_path):
    """Before: /etc/passwd and ../../etc/hostname were read ("skipped passwd: not an image")."""
    secret = tmp_path / "secret.png"
    secret.write_bytes(png(9))
    rows = ("path,label\na.png,cat\nb.png,dog\n/etc/passwd,cat\n../../../../../../etc/hostname,dog\n"
            f"{secret},cat\n")
    root = extract_zip(zip_of({"labels.csv": rows.encode(), "a.png": png(1), "b.png": png(2)}), tmp_path / "up")
    samples, problems = read_labelled_files(root, within=tmp_path / "up")
    assert [s.name for s in samples] == ["a.png", "b.png"]
    assert any("3 row(s)" in p and "outside the folder" in p for p in problems)


def test_the_result_names_the_upload_relative_to_its_folder(tmp_path):
    """Before: the result (and its JSON download) held the server's temporary path."""
    up = tmp_path / "up"
    for i, c in enumerate(("cat", "dog")):
        (up / "photos" / c).mkdir(parents=True)
        (up / "photos" / c / "a.png").write_bytes(png(i))
    result = evaluate(up / "photos", [TINY], label_set="own", cache_root="", within=up)
    assert result.data == "photos" and str(tmp_path) not in result.to_json()


def test_evaluate_within_refuses_a_symlink_out_of_the_folder(tmp_path):
    """A file that resolves outside `within` is refused when read, without saying whether it exists."""
    up = tmp_path / "up"
    (up / "cat").mkdir(parents=True)
    (up / "dog").mkdir()
    (up / "cat" / "a.png").write_bytes(png(1))
    (up / "dog" / "b.png").write_bytes(png(2))
    outside = tmp_path / "outside.png"
    outside.write_bytes(png(3))
    (up / "dog" / "c.png").symlink_to(outside)
    samples, _ = read_labelled_files(up, within=up)
    assert sorted(s.name for s in samples) == ["cat/a.png", "dog/b.png"]
    with pytest.raises(FileRefusedError, match="outside"):
        read_regular(up / "dog" / "c.png", 1 << 20, "dog/c.png", within=up)
    with pytest.raises(FileRefusedError, match="outside") as missing:
        read_regular(up / ".." / "nope.png", 1 << 20, "nope.png", within=up)
    assert "no such" not in str(missing.value)


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_devices_and_fifos_are_refused_not_read(tmp_path, target):
    """Before: /dev/zero grew the process to MemoryError; a FIFO hung forever (this test would hang)."""
    if target == "fifo":
        target = str(tmp_path / "pipe.png")
        os.mkfifo(target)
    with pytest.raises(FileRefusedError, match="not a regular file"):
        read_regular(target, 1 << 20, "x")


def test_cli_csv_naming_a_device_gives_messages_not_a_crash(tmp_path):
    """The CLI user may name files anywhere, but devices and FIFOs are refused with a message."""
    os.mkfifo(tmp_path / "pipe.png")
    (tmp_path / "a.png").write_bytes(png(1))
    (tmp_path / "b.png").write_bytes(png(2))
    (tmp_path / "l.csv").write_text("path,label\n/dev/zero,cat\npipe.png,dog\na.png,cat\nb.png,dog\n")
    result = evaluate(tmp_path / "l.csv", [TINY], label_set="own", cache_root="")
    assert len(result.images) == 2
    assert sum("not a regular file" in e for e in result.errors) == 2


def test_a_large_file_is_refused_before_it_is_read(tmp_path):
    """The image size cap applies to the stat before reading (before: a 2 GiB file was read whole)."""
    big = tmp_path / "big.png"
    with big.open("wb") as fh:
        fh.truncate(3 << 20)
    with pytest.raises(FileRefusedError, match="too large"):
        read_regular(big, 1 << 20, "big.png")


# ---- 21.6 / 21.7 / 21.14: CSVs as spreadsheets write them --------------------------------------------

@pytest.mark.parametrize("enc", ["utf-8-sig", "latin-1", "utf-16", "utf-16-le"])
def test_csv_encodings_are_read(enc):
    """Before: Excel's UTF-8 with BOM was 'needs a header'; Latin-1 and UTF-16 raised a traceback."""
    text = "path,label\ncafé.png,crème\n"
    data = text.encode(enc)
    got, _ = decode(data, "l.csv")
    assert got.lstrip(codecs.BOM_UTF8.decode()) == text
    rows = read_rows(data, "l.csv").rows
    assert [(p, lab) for _, p, lab in rows] == [("café.png", "crème")]


def test_bad_rows_are_skipped_with_line_numbers_and_the_list_is_capped():
    """Before: a row without label, a whitespace label, NUL and a 128 KB field crashed or became classes;
    a million bad rows made a million-line message."""
    lines = ["path,label", "a.png,cat", "b.png", "c.png,   ", "d.png,ca\x00t", "e.png," + "x" * 131_100]
    lines += [f"f{i}.png," for i in range(100)]
    got = read_rows("\n".join(lines).encode(), "l.csv")
    assert [p for _, p, _ in got.rows] == ["a.png"]
    text = "\n".join(got.problems)
    assert "line 3: skipped, no label" in text and "line 4: skipped, its label is only whitespace" in text
    assert ("NUL" in text and "characters long" in text) or "not readable as CSV" in text
    assert len(got.problems) == MAX_PROBLEMS + 1 and got.problems[-1].startswith("and 84 more")


def test_rows_are_capped_with_a_clear_message():
    data = ("path,label\n" + "a.png,cat\n" * 11).encode()
    with pytest.raises(InvalidRequestError, match="more than 10 rows"):
        read_rows(data, "l.csv", max_rows=10)


def test_one_file_listed_many_times_counts_once_and_copies_by_content_too(tmp_path):
    """Before: one file listed 4 times counted as 4 images."""
    for name, seed in (("a.png", 1), ("b.png", 2), ("c.png", 3), ("d.png", 4)):
        (tmp_path / name).write_bytes(png(seed))
    (tmp_path / "copy_of_a.png").write_bytes(png(1))
    (tmp_path / "l.csv").write_text("path,label\na.png,cat\na.png,cat\n./a.png,dog\na.png,cat\n"
                                    "b.png,dog\nc.png,cat\nd.png,dog\ncopy_of_a.png,cat\n")
    labelled = load_labelled(tmp_path / "l.csv", "own")
    assert len(labelled.samples) == 5
    assert any("3 repeated listing" in p and "different label" in p for p in labelled.problems)
    result = evaluate(tmp_path / "l.csv", [TINY], label_set="own", cache_root="")
    assert len(result.images) == 4
    assert any("repeat the content" in e for e in result.errors)


def test_csv_with_a_bom_inside_a_zip_is_found(tmp_path):
    """Before: inside a zip a BOM or Latin-1 CSV was silently ignored."""
    csv_bytes = codecs.BOM_UTF8 + b"path,label\na.png,chat\nb.png,chien\n"
    root = extract_zip(zip_of({"d/labels.csv": csv_bytes, "d/a.png": png(1), "d/b.png": png(2)}), tmp_path / "u")
    assert root.name == "labels.csv"


def test_no_readable_image_is_a_message(tmp_path):
    """Before: 'need at least one array to stack' (a traceback)."""
    for c in ("cat", "dog"):
        (tmp_path / c).mkdir()
        (tmp_path / c / "x.png").write_bytes(b"not an image")
    result = evaluate(tmp_path, [TINY], label_set="own", cache_root="")
    assert not result.models and any("not an image" in e for e in result.errors)
    assert any(e.startswith("skipped cat/x.png:") for e in result.errors)  # named relative to the data root


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_unusual_zip_methods_unpack_or_give_a_message(tmp_path, method):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        zf.writestr("cat/a.png", png(1))
    assert extract_zip(buf.getvalue(), tmp_path / "z").is_dir()


def test_encrypted_and_unsupported_zip_entries_get_a_message(tmp_path):
    """Before: encrypted, Deflate64, AES or PPMd entries raised a traceback."""
    data = bytearray(zip_of({"cat/a.png": png(1)}))
    # flag bit 0 (encrypted) in the local header and the central directory entry
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        at = data.find(sig)
        off = at + (6 if sig == b"PK\x03\x04" else 8)
        data[off] |= 1
    with pytest.raises(AdvisorError, match="encrypted"):
        extract_zip(bytes(data), tmp_path / "e")
    data = bytearray(zip_of({"cat/a.png": png(1)}))
    for sig, off in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = data.find(sig)
        data[at + off:at + off + 2] = (9).to_bytes(2, "little")  # Deflate64
    with pytest.raises(AdvisorError, match="Deflate64"):
        extract_zip(bytes(data), tmp_path / "d")
    assert not (tmp_path / "e").exists() and not (tmp_path / "d").exists()


def test_messages_name_the_path_relative_to_the_data_root(tmp_path):
    """Before: messages named only the basename ('missing.png'), ambiguous across class folders."""
    (tmp_path / "a.png").write_bytes(png(1))
    (tmp_path / "b.png").write_bytes(png(2))
    (tmp_path / "l.csv").write_text("path,label\nsub/missing.png,cat\na.png,cat\nb.png,dog\n")
    result = evaluate(tmp_path / "l.csv", [TINY], label_set="own", cache_root="")
    assert "skipped sub/missing.png: no such file" in result.errors


def test_a_class_folder_named_with_spaces_is_skipped_with_a_message(tmp_path):
    """Before: whitespace-only labels became class ''."""
    for c in ("cat", "dog", "   "):
        (tmp_path / c).mkdir()
        (tmp_path / c / "a.png").write_bytes(png(len(c)))
    samples, problems = read_labelled_files(tmp_path)
    assert sorted({s.label for s in samples}) == ["cat", "dog"]
    assert any("only with whitespace" in p for p in problems)
