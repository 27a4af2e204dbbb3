from __future__ import annotations

import json
import os

import pytest

from advisor.cli import main
from advisor.report.formats import write_report
from advisor.report.markdown import markdown_bundle
from advisor.report.write import UnsafePathError, asset_dir_name, safe_join, write_assets


@pytest.mark.parametrize("name", ["../x.png", "a/b.png", "/etc/passwd", "..", ".hidden", "x\\..\\y", "", "ok\x00.png",
                                  "<img src=x onerror=alert(1)>.png"])
def test_safe_join_refuses_names_that_leave_the_folder(tmp_path, name):
    with pytest.raises(UnsafePathError):
        safe_join(tmp_path, name)


def test_safe_join_accepts_plain_names(tmp_path):
    assert safe_join(tmp_path, "chart_1_contributions.png") == tmp_path.resolve() / "chart_1_contributions.png"


def test_assets_never_leave_the_output_folder(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UnsafePathError):
        write_assets(out, "files", {"../escaped.png": b"x"})
    with pytest.raises(UnsafePathError):
        write_assets(out, "../elsewhere", {"a.png": b"x"})
    assert not (out / "escaped.png").exists() and not (tmp_path / "escaped.png").exists()
    assert not (tmp_path / "elsewhere").exists()


def test_symlinked_asset_folder_or_file_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "files").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafePathError):
        write_assets(out, "files", {"a.png": b"x"})
    (out / "files2").mkdir()
    (out / "files2" / "a.png").symlink_to(outside / "victim.png")
    with pytest.raises(UnsafePathError):
        write_assets(out, "files2", {"a.png": b"x"})
    assert list(outside.iterdir()) == []


def test_write_report_refuses_folders_and_unknown_formats(report, tmp_path):
    with pytest.raises(UnsafePathError):
        write_report(report, "html", tmp_path)
    with pytest.raises(UnsafePathError):
        write_report(report, "exe", tmp_path / "r.exe")


def test_markdown_asset_names_come_from_the_tool_not_the_user(report, evil):
    _, files = markdown_bundle(report, "r_files")
    assert files and all(n.startswith(("chart_", "image_")) and n.endswith(".png") for n in files)
    assert all(evil not in n for n in files)
    assert asset_dir_name(__import__("pathlib").Path("../<x>/my report.md")) == "my_report_files"


def test_cli_report_then_rank_from_it(tiny_store, tmp_path, capsys, probe):
    probe_json = probe
    db = str(tiny_store.db_path)
    base = ["--db", db, "--sources", str(tmp_path / "no_sources")]
    img = tmp_path / "photo.png"
    from PIL import Image

    Image.new("RGB", (40, 30), (0, 120, 0)).save(img)
    probe = tmp_path / "probe.json"
    probe.write_text(probe_json)
    rank_opts = ["--need", "accuracy=1", "--need", "calibration=0.5", "--max-params", "50", "--top", "3",
                 "--draws", "50"]
    for fmt in ("md", "html", "json", "pdf"):
        out = tmp_path / f"report.{fmt}"
        assert main([*base, "report", *rank_opts, "--probe-results", str(probe), "--image", str(img),
                     "--note", "for <b>you</b>", "--format", fmt, "-o", str(out)]) == 0
        assert out.stat().st_size > 500
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF-")
    assert sorted(p.name for p in (tmp_path / "report_files").iterdir())[0].startswith("chart_")
    capsys.readouterr()
    assert main([*base, "rank", "--from", str(tmp_path / "report.json"), "--json"]) == 0
    ranked = json.loads(capsys.readouterr().out)["models"]
    doc = json.loads((tmp_path / "report.json").read_text())
    assert [(m["model_id"], m["rank"], m["score"]) for m in ranked] == \
        [(m["model_id"], m["rank"], m["score"]) for m in doc["ranking"]["shortlist"]]
    assert doc["limits"] == {"max_params_m": 50.0}
    assert "timm:a" not in [m["model_id"] for m in ranked]  # 80 M params: excluded by the limit


def test_cli_bad_report_file_is_a_clean_error(tiny_store, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    code = main(["--db", str(tiny_store.db_path), "--sources", str(tmp_path / "none"), "rank", "--from", str(bad)])
    assert code == 2 and "not a Vision Advisor JSON report" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "none")
