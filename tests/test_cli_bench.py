"""`advisor bench` on the command line, and its result as measured-here efficiency in `advisor rank`."""

from __future__ import annotations

import json

import pytest

from advisor.cli import main
from advisor.evaluate.bench_result import BenchResult, ModelBench, Spread

TINY = "timm:test_vit"


@pytest.fixture(autouse=True)
def _offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))  # no real weights but the pip-shipped ones
    monkeypatch.setenv("VISION_ADVISOR_CACHE", str(tmp_path / "advisor"))


def test_bench_prints_a_table_with_the_setting_and_saves_json(tmp_path, capsys):
    out_file = tmp_path / "bench.json"
    code = main(["bench", "-m", TINY, "-b", "2", "-n", "3", "--warmup", "1", "--device", "cpu", "--no-memory",
                 "--threads", "1", "--min-time", "0", "-o", str(out_file)])
    out = capsys.readouterr().out
    assert code == 0
    assert "timm:test_vit.r160_in1k" in out and "latency b1 (ms)" in out and "throughput (img/s)" in out
    assert "on cpu (" in out and "1 thread, fp32" in out and "median of 3 passes" in out
    assert "RANDOM WEIGHTS" in out
    saved = BenchResult.from_json(out_file.read_text())
    assert saved.threads == 1 and saved.batch_size == 2 and saved.models[0].latency_ms.median > 0


def test_bench_json_output_is_the_result(capsys):
    code = main(["bench", "-m", TINY, "-b", "2", "-n", "3", "--warmup", "0", "--device", "cpu", "--no-memory",
                 "--min-time", "0.2", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["kind"] == "vision-advisor-bench" and doc["models"][0]["throughput"]["median"] > 0
    assert doc["min_time_s"] == 0.2 and doc["models"][0]["latency_ms"]["n"] >= 3  # timed for 0.2 s at least


@pytest.mark.parametrize(("argv", "message", "exit_code"), [
    (["-m", "timm:no_such_net_xyz"], "Unknown timm model", 2),
    (["-m", "timm:resnet50.a1_in1k"], "How to get them", 2),
    (["-m", TINY, "--precision", "fp16", "--device", "cpu"], "fp16 is for GPUs", 2),
    (["-m", TINY, "--repeats", "1"], "repeats must be", 2),
    (["-m", TINY, "--min-time", "-1"], "minimum time must be", 2),
    (["-m", TINY, "--weights", "nonsense"], "--weights expects ID=PATH", 2),
])
def test_bench_errors_are_clear_messages(argv, message, exit_code, capsys, tmp_path):
    out_file = tmp_path / "bench.json"
    code = main(["bench", *argv, "--no-memory", "-o", str(out_file)])
    err = capsys.readouterr().err
    assert code == exit_code and message in err and "Traceback" not in err
    assert not out_file.exists()  # nothing measured, nothing saved


# Store models with published GMACs; at least MIN_SHARED (8) measured models are needed to link a figure to
# the published efficiency scale.
GMACS = {"timm:tf_efficientnet_lite0.in1k": 0.40, "timm:tf_efficientnet_lite2.in1k": 0.89,
         "timm:tf_efficientnet_lite3.in1k": 1.65, "timm:tf_efficientnet_lite4.in1k": 4.04,
         "timm:resnet18.a1_in1k": 1.82, "timm:resnet34.a1_in1k": 3.67, "timm:resnet50.a1_in1k": 4.11,
         "timm:convnext_tiny.fb_in1k": 4.47, "timm:resnet101.a1h_in1k": 7.83}
FAST = "timm:tf_efficientnet_lite4.in1k"  # measured far faster than its GMACs say
UNMEASURED = "timm:tf_efficientnet_lite1.in1k"


def _bench_file(path, latencies: dict[str, float]):
    """A bench result for real store models with chosen figures (the reader's input, not a measurement)."""
    models = tuple(ModelBench(mid, "pip:x", (224, 224), 5.0, Spread(v, v * .99, v * 1.01, 30, v * .98, v * 1.02),
                              Spread(2000 / v, 1980 / v, 2020 / v, 30, 1960 / v, 2040 / v), 100.0)
                   for mid, v in latencies.items())
    r = BenchResult("cpu", "Test CPU 9000", 2, "2.x", "fp32", True, 32, 30, 10, "not measured", models)
    path.write_text(r.to_json(), encoding="utf-8")
    return path


def _latencies() -> dict[str, float]:
    return {m: (0.5 if m == FAST else 10.0 * g) for m, g in GMACS.items()}


def _rank(store_path, capsys, *extra: str) -> dict:
    argv = ["--db", str(store_path), "rank", "--need", "efficiency=1", "--draws", "0", "--json"]
    for mid in [*GMACS, UNMEASURED]:
        argv += ["--model", mid]
    assert main([*argv, *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_rank_uses_bench_results_as_measured_here_efficiency(store_path, tmp_path, capsys):
    """Lite4 has more GMACs than most of these; measured here as by far the fastest, its efficiency score
    rises; an unmeasured model keeps its score; the output says where and how it was measured.
    Mutant caught (checked): the efficiency need without the measured_latency_ms / measured_throughput features."""
    bench = _bench_file(tmp_path / "bench.json", _latencies())

    def need(models: list[dict]) -> dict[str, float]:
        return {m["model_id"]: m["contributions"]["efficiency"]["need_score"] for m in models}

    before = need(_rank(store_path, capsys)["models"])
    doc = _rank(store_path, capsys, "--measured", str(bench))
    after = need(doc["models"])
    assert after[FAST] > before[FAST]
    assert after[UNMEASURED] == pytest.approx(before[UNMEASURED])  # not benchmarked: unchanged
    speed = doc["speed_measured_here"]
    assert set(speed) == set(GMACS)
    assert speed[FAST] == ("measured here on cpu (Test CPU 9000), 2 threads, fp32: 0.5 ms at batch 1, "
                           "4e+03 img/s at batch 32")


def test_rank_text_names_the_machine_in_the_explanation(store_path, tmp_path, capsys):
    bench = _bench_file(tmp_path / "bench.json", _latencies())
    argv = ["--db", str(store_path), "rank", "--need", "efficiency=1", "--draws", "0", "--measured", str(bench)]
    for mid in [*GMACS, UNMEASURED]:
        argv += ["--model", mid]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "efficiency measured here (advisor bench" in out
    assert f"  {FAST} (rank " in out and "measured here on cpu (Test CPU 9000), 2 threads, fp32: 0.5 ms" in out


def test_reports_include_the_speed_section_with_device_and_threads(store_path, tmp_path, capsys):
    from advisor.report.json_io import report_from_json

    bench = _bench_file(tmp_path / "bench.json", _latencies())
    base = ["--db", str(store_path), "report", "--need", "efficiency=1", "--draws", "0"]
    for fmt in ("md", "json", "html"):
        out = tmp_path / f"r.{fmt}"
        assert main([*base, "--measured", str(bench), "--format", fmt, "-o", str(out)]) == 0
        text = out.read_text(encoding="utf-8")
        assert "Speed measured here on cpu" in text and "Test CPU 9000" in text and "2 threads, fp32" in text
    report = report_from_json((tmp_path / "r.json").read_text(encoding="utf-8"))
    (table,) = report.speed_tables
    rows = {r[0]: r for r in table.rows}
    assert set(rows) == set(GMACS)
    assert rows[FAST][1:4] == (0.5, 4000.0, "32")
    assert "median of 30 runs" in rows[FAST][4]
    plain = tmp_path / "plain.md"  # no bench file: no section
    assert main([*base, "--format", "md", "-o", str(plain)]) == 0
    assert "Speed measured here" not in plain.read_text(encoding="utf-8")
    capsys.readouterr()
