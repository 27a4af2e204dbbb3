"""Server-side limits of the Evaluate page: folders on the server off by default and confined, budgets
shared by every session (issue 21 items 4 and 9); each test failed before the fix."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from advisor.errors import InvalidRequestError
from advisor.evaluate import data as data_mod
from advisor.evaluate.budget import UPLOADS, BudgetExceededError
from advisor.evaluate.intake import SERVER_FOLDERS_ENV, extract_zip, release_upload, server_folder


def _tree(root: Path) -> Path:
    for c in ("cat", "dog"):
        (root / c).mkdir(parents=True, exist_ok=True)
        (root / c / "a.png").write_bytes(b"x")
    return root


def test_server_folders_are_off_unless_the_server_enables_them(tmp_path, monkeypatch):
    """Before: every visitor could list any folder (/tmp held 89,905 images of other sessions)."""
    monkeypatch.delenv(SERVER_FOLDERS_ENV, raising=False)
    with pytest.raises(InvalidRequestError, match="switched off"):
        server_folder(str(_tree(tmp_path / "d")))
    monkeypatch.setenv(SERVER_FOLDERS_ENV, str(tmp_path))
    assert server_folder(str(tmp_path / "d")) == (tmp_path / "d").resolve()
    assert server_folder("d") == (tmp_path / "d").resolve()  # relative to the allowed root


def test_paths_outside_the_root_are_refused_without_revealing_existence(tmp_path):
    root = _tree(tmp_path / "allowed")
    (tmp_path / "secret").mkdir()
    messages = []
    for raw in (str(tmp_path / "secret"), str(tmp_path / "does-not-exist"), "../secret", "/", "/etc"):
        with pytest.raises(InvalidRequestError) as e:
            server_folder(raw, root)
        msg = str(e.value)
        assert msg.startswith(f"{raw}: ")
        messages.append(msg[len(raw):])
    assert len(set(messages)) == 1 and "only folders under" in messages[0]


def test_unreadable_folder_is_a_message(tmp_path, monkeypatch):
    """Before: `/` crashed the page with PermissionError."""
    root = _tree(tmp_path / "allowed")

    def denied(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "iterdir", denied)
    with pytest.raises(InvalidRequestError, match="cannot read that folder"):
        server_folder(str(root), root)


def test_the_listing_is_cached_until_the_folder_changes(tmp_path, monkeypatch):
    """Before: the folder was walked again on every rerun of the page (4.5 s)."""
    root = _tree(tmp_path / "d")
    calls = []
    real = data_mod.read_labelled_files
    monkeypatch.setattr(data_mod, "read_labelled_files", lambda *a, **k: calls.append(a) or real(*a, **k))
    first = data_mod.load_labelled_cached(root, "own")
    assert data_mod.load_labelled_cached(root, "own") is first and len(calls) == 1
    (root / "bird").mkdir()
    (root / "bird" / "b.png").write_bytes(b"y")
    assert len(data_mod.load_labelled_cached(root, "own").samples) == 3 and len(calls) == 2


def _zip(n_bytes: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("cat/a.png", b"\0" * n_bytes)
    return buf.getvalue()


def test_unpacked_uploads_share_one_server_budget(tmp_path, monkeypatch):
    """Before: limits were per upload; three sessions put 6.1 GB in the temp folder in 10 s."""
    monkeypatch.setenv("VISION_ADVISOR_UPLOAD_BUDGET_MB", "1")
    start = UPLOADS.used
    extract_zip(_zip(700_000), tmp_path / "s1")
    with pytest.raises(BudgetExceededError, match="VISION_ADVISOR_UPLOAD_BUDGET_MB"):
        extract_zip(_zip(700_000), tmp_path / "s2")
    assert not (tmp_path / "s2").exists()
    release_upload(tmp_path / "s1")
    extract_zip(_zip(700_000), tmp_path / "s2")
    release_upload(tmp_path / "s2")
    assert UPLOADS.used == start


def test_evaluate_page_has_no_server_folder_by_default(app, monkeypatch):
    from advisor.ui import state

    monkeypatch.delenv(SERVER_FOLDERS_ENV, raising=False)
    app.run()
    app.switch_page("advisor/ui/pages/evaluate.py").run()
    assert not app.exception
    assert not [r for r in app.radio if r.key == state.EVAL_SOURCE]
    monkeypatch.setenv(SERVER_FOLDERS_ENV, "/nonexistent-root")
    app.run()
    assert [r for r in app.radio if r.key == state.EVAL_SOURCE]


def test_a_latin1_csv_in_an_upload_is_read_and_its_skipped_rows_shown(app, monkeypatch, tmp_path):
    """Before: inside a zip a Latin-1 CSV was silently ignored; a bad row became a class."""
    from advisor.ui import state

    monkeypatch.setenv("VISION_ADVISOR_CACHE", str(tmp_path / "cache"))
    rows = "path,label\na.png,café\nb.png,crème\nc.png,   \n".encode("latin-1")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("photos/labels.csv", rows)
        for name in ("a.png", "b.png", "c.png"):
            zf.writestr(f"photos/{name}", b"x")
    app.run()
    app.switch_page("advisor/ui/pages/evaluate.py").run()
    app.file_uploader(key=state.EVAL_UPLOAD).set_value([("p.zip", buf.getvalue(), "application/zip")]).run()
    assert not app.exception and not app.error
    captions = " ".join(c.value for c in app.caption)
    assert "2 image(s) in 2 class(es)" in captions and "Latin" in captions
    assert any("Rows or folders skipped" in e.label for e in app.expander)
    assert "/tmp" not in captions  # the server's temporary path is not shown
