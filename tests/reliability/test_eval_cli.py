"""`evaluate` and `probe` on the command line: output paths checked before the run, terminal-safe text.

Issue 21 items 7 (regression: a traceback after the whole run) and 14 (escape codes reach the terminal)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from advisor.cli import main
from advisor.textsafe import terminal_text

TINY = "timm:test_efficientnet.r160_in1k"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VISION_ADVISOR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _png(path: Path, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(path)


@pytest.mark.parametrize("out", ["missing/r.json", ".", "/dev/full"])
def test_evaluate_output_is_checked_before_running(tmp_path, capsys, monkeypatch, out):
    import advisor.evaluate.run as run

    monkeypatch.setattr(run, "evaluate", lambda *a, **k: pytest.fail("ran before checking --out"))
    _png(tmp_path / "cat" / "a.png", 1)
    target = str(tmp_path / out) if not out.startswith("/") else out
    assert main(["evaluate", str(tmp_path), "-m", TINY, "-o", target]) != 0
    err = capsys.readouterr().err
    assert err.startswith("error: --out") and "Traceback" not in err


def test_probe_out_to_a_folder_is_refused_before_running(capsys):
    t0 = time.perf_counter()
    assert main(["probe", "--samples", "-m", TINY, "--out", "/tmp"]) != 0
    assert "is a folder" in capsys.readouterr().err
    assert time.perf_counter() - t0 < 20  # nothing was probed


def test_escape_codes_in_labels_never_reach_the_terminal(tmp_path, capsys):
    """A label that clears the screen and sets the window title is printed as visible tags."""
    evil = "\x1b[2J\x1b]0;pwned\x07cat"
    for i in range(4):
        _png(tmp_path / "d" / (evil if i % 2 else "dog") / f"{i}.png", i)
    out = tmp_path / "r.json"
    assert main(["evaluate", str(tmp_path / "d"), "-m", TINY, "--labels", "imagenet", "-o", str(out)]) != 0
    assert main(["evaluate", str(tmp_path / "d"), "-m", TINY, "-o", str(out)]) in (0, 2)
    captured = capsys.readouterr()
    assert "\x1b" not in captured.out + captured.err and "\x07" not in captured.out + captured.err
    assert "<U+001B>" in captured.err


def test_terminal_text_keeps_newlines_and_shows_controls():
    assert terminal_text("a\nb\tc\x1b[31m\u202e") == "a\nb\tc<U+001B>[31m<U+202E>"


def test_result_written_whole(tmp_path):
    from advisor.evaluate.files import write_output

    write_output(tmp_path / "r.json", "{}")
    assert (tmp_path / "r.json").read_text() == "{}" and not list(tmp_path.glob(".*tmp"))
