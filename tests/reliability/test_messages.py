"""Messages that name the problem (issue 13, items 3 and 12)."""

from __future__ import annotations

import os

import pytest

from advisor.cli import main
from advisor.errors import WeightsUnavailableError
from advisor.models.registry import parse_model_id
from advisor.models.weights import find_weights, how_to_get

from .conftest import REPORT_OPTS

TEST_ARCH = "timm:test_efficientnet"


@pytest.fixture(scope="module")
def spec():
    return parse_model_id(TEST_ARCH)


def test_text_file_as_weights(spec, tmp_path):
    notes = tmp_path / "notes.pth"
    notes.write_text("these are my notes, not weights\n")
    with pytest.raises(WeightsUnavailableError, match=r"notes.pth is not a weights file \(it looks like text\)"):
        find_weights(spec, notes)


def test_dev_zero_is_not_called_missing(spec):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    with pytest.raises(WeightsUnavailableError, match=r"/dev/zero is not a regular file") as e:
        find_weights(spec, "/dev/zero")
    assert "not found" not in str(e.value)


def test_folder_and_empty_file(spec, tmp_path):
    with pytest.raises(WeightsUnavailableError, match="is a folder"):
        find_weights(spec, tmp_path)
    empty = tmp_path / "w.pth"
    empty.touch()
    with pytest.raises(WeightsUnavailableError, match=r"is empty \(0 bytes\)"):
        find_weights(spec, empty)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_malicious_pickle_is_refused_without_suggesting_weights_only_false(tmp_path):
    import torch

    from advisor.models.loaded import clear_model_cache, load_model

    evil = tmp_path / "evil.pth"
    torch.save({"state_dict": _Evil()}, evil)
    with pytest.raises(WeightsUnavailableError, match=r"refused to load file:evil\.pth") as e:
        load_model(TEST_ARCH, weights_path=evil)
    assert "weights_only" not in str(e.value) and "pickle that could run code" in str(e.value)
    clear_model_cache()


def test_how_to_get_gives_the_real_weights_syntax():
    msg = how_to_get(parse_model_id("timm:resnet18.a1_in1k"))
    assert "--weights timm:resnet18.a1_in1k=PATH" in msg and "--weights PATH " not in msg


def test_probe_cli_weights_dev_zero(capsys):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    code = main(["probe", "--samples", "--model", TEST_ARCH, "--family", "scale", "--weights",
                 f"{TEST_ARCH}=/dev/zero"])
    err = capsys.readouterr().err
    assert code == 2 and "/dev/zero is not a regular file" in err and "Traceback" not in err


@pytest.mark.parametrize("args, expected", [
    (["--image", "/nonexistent.png"], "image /nonexistent.png: not found"),
    (["--image", "{tmp}"], "is a folder, not a file"),
    (["--probe-results", "/nonexistent.json"], "probe results /nonexistent.json: not found"),
    (["--probe-results", "{deep}"], "nested 50000 levels deep"),
])
def test_report_inputs_are_checked(cli_base, tmp_path, capsys, args, expected):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 50000 + "]" * 50000)
    args = [a.format(tmp=tmp_path, deep=deep) for a in args]
    code = main([*cli_base, "report", *REPORT_OPTS, *args, "-o", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()
