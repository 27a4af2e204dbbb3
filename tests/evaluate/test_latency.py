"""Speed benchmark (advisor.evaluate.latency): figures positive and repeatable, settings stated, JSON round trip,
bench results read as efficiency measured here. Tiny random-weight timm nets only; no network."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from advisor.errors import InvalidRequestError
from advisor.evaluate import latency
from advisor.evaluate.bench_result import (
    LATENCY_PROPERTY,
    THROUGHPUT_PROPERTY,
    BenchResult,
    Spread,
    speed_sentences,
)
from advisor.measured import measured_from_text
from advisor.store.measured import check_measured

TINY = "timm:test_vit.r160_in1k"  # timm's CI net: random weights, 160 px pretrained config


@pytest.fixture(scope="module")
def result() -> BenchResult:
    return latency.bench([TINY], min_time_s=0, batch_size=4, repeats=5, warmup=2, device="cpu", memory=True)


def test_figures_are_positive_and_the_setting_is_stated(result):
    import torch

    assert result.errors == ()
    (m,) = result.models
    assert m.model_id == TINY and m.weights == "random"
    assert m.input_size == (160, 160)  # from the model's pretrained config, not a default
    assert m.params_m > 0
    for s in (m.latency_ms, m.throughput, m.cpu_latency_ms, m.cpu_throughput):
        assert s.n == 5 and 0 < s.q1 <= s.median <= s.q3
    assert m.peak_memory_mb is not None and m.peak_memory_mb > 0
    assert "fresh process" in result.memory_method
    assert (result.device, result.precision, result.batch_size, result.repeats) == ("cpu", "fp32", 4, 5)
    assert result.threads == torch.get_num_threads()
    assert result.torch_version == torch.__version__ and result.device_name
    assert result.setting().startswith("cpu (") and "thread" in result.setting() and "fp32" in result.setting()


def test_units_agree_between_latency_and_throughput():
    """Latency is in ms per batch-1 pass, throughput in images per second: the time per image at batch 8
    is within a factor of 20 of the batch-1 pass time (a ms/s or img/pass mix-up is off by 1000 or 8x8)."""
    r = latency.bench([TINY], min_time_s=0, batch_size=8, repeats=5, warmup=2, device="cpu", memory=False, threads=1)
    (m,) = r.models
    per_image_batch = 1.0 / m.throughput.median  # seconds per image at batch 8
    per_image_single = m.latency_ms.median / 1e3
    assert 1 / 20 < per_image_batch / per_image_single < 20
    assert r.threads == 1  # the thread count asked for is the one stated


def test_repeatable_within_a_loose_bound():
    """Two runs of the same tiny net on one thread agree within 3x (the machine is shared; medians)."""
    runs = [latency.bench([TINY], min_time_s=0, batch_size=4, repeats=15, warmup=3, device="cpu", memory=False,
                          threads=1) for _ in range(2)]
    a, b = (r.models[0] for r in runs)
    for x, y in ((a.latency_ms.median, b.latency_ms.median), (a.throughput.median, b.throughput.median)):
        assert 1 / 3 < x / y < 3, (x, y)


def test_each_figure_is_timed_for_the_minimum_time_after_a_warm_up_with_gc_paused():
    """A pass count alone gave a fast model half a second of timing (18.3/14.3/20.5 ms over three runs).
    Mutants caught: the time floor ignored (only `repeats` passes), the warm-up by count only, the garbage
    collector left running while timing."""
    import gc
    import time

    calls: list[tuple[float, bool]] = []

    def run():
        calls.append((time.perf_counter(), gc.isenabled()))
        time.sleep(0.005)

    wall, cpu = latency._timed_passes(run, "cpu", warmup=2, repeats=3, min_time_s=0.2)
    assert len(wall) == len(cpu) >= 3 and sum(wall) >= 0.2
    warm = calls[:len(calls) - len(wall)]
    assert len(warm) >= 2 and calls[len(warm)][0] - warm[0][0] >= 0.1  # half the minimum time, untimed
    assert all(enabled for _, enabled in warm) and not any(enabled for _, enabled in calls[len(warm):])
    assert gc.isenabled()
    calls.clear()
    wall, _ = latency._timed_passes(run, "cpu", warmup=1, repeats=3, min_time_s=0.0)
    assert len(wall) == 3 and len(calls) == 4  # no time floor: exactly the passes asked for


def test_a_busy_machine_is_noted_with_its_load(monkeypatch):
    """Mutant caught: no note when other processes hold the cores (figures then vary from run to run)."""
    monkeypatch.setattr(latency, "usable_cpus", lambda: 2)
    assert latency.busy_note(0.3, 1) == () and latency.busy_note(None, 2) == ()
    (note,) = latency.busy_note(2.6, 2)
    assert "load average 2.6 on 2 CPUs" in note and "2 threads" in note
    monkeypatch.setattr(latency, "_load_average", lambda: 5.0)
    r = latency.bench([TINY], min_time_s=0, batch_size=2, repeats=3, warmup=0, device="cpu", memory=False,
                      threads=1)
    assert any("load average 5.0" in n for n in r.notes)
    assert BenchResult.from_json(r.to_json()).notes == r.notes


def test_threads_are_restored_after_the_run():
    import torch

    before = torch.get_num_threads()
    latency.bench([TINY], min_time_s=0, batch_size=2, repeats=3, warmup=0, device="cpu", memory=False, threads=1)
    assert torch.get_num_threads() == before


def test_json_round_trip(result):
    back = BenchResult.from_json(result.to_json())
    assert back == result
    assert back.table().equals(result.table())


def test_bf16_is_opt_in_and_recorded():
    r = latency.bench([TINY], min_time_s=0, batch_size=2, repeats=3, warmup=1, device="cpu", precision="bf16",
                      memory=False)
    assert r.precision == "bf16" and "bf16" in r.setting()
    assert latency.resolve_bench_precision("fp32", "cpu") == "fp32"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"precision": "fp16"}, "fp16 is for GPUs"),
    ({"precision": "int8"}, "precision must be one of"),
    ({"device": "tpu"}, "device must be one of"),
    ({"repeats": 1}, "repeats must be"),
    ({"batch_size": 0}, "batch size must be"),
    ({"threads": 0}, "threads must be"),
    ({"min_time_s": -1.0}, "minimum time must be"),
    ({"min_time_s": float("nan")}, "minimum time must be"),
])
def test_impossible_settings_are_clear_errors(kwargs, message):
    with pytest.raises(InvalidRequestError, match=message):
        latency.bench([TINY], **{"device": "cpu", **kwargs})


def test_cuda_without_a_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(latency.torch.cuda, "is_available", lambda: False)
    with pytest.raises(InvalidRequestError, match="no CUDA GPU"):
        latency.bench([TINY], device="cuda")


def test_an_unknown_or_unavailable_model_is_an_error_line_not_a_crash():
    r = latency.bench(["timm:no_such_net_xyz", "timm:resnet50.a1_in1k", TINY], min_time_s=0, batch_size=2, repeats=3,
                      warmup=0, device="cpu", memory=False)
    assert [m.model_id for m in r.models] == [TINY]
    assert any("no_such_net_xyz" in e for e in r.errors)
    assert any("resnet50.a1_in1k" in e and "How to get them" in e for e in r.errors)


R18, R34 = "timm:resnet18.a1_in1k", "timm:resnet34.a1_in1k"


def _real(result: BenchResult, ids=(R18, R34), latencies=(10.0, 20.0)) -> BenchResult:
    """The tiny result relabelled as real models with known figures (the reader's input, not a measurement)."""
    (m,) = result.models
    models = tuple(dataclasses.replace(m, model_id=mid, weights="hf-cache:x", latency_ms=Spread(v, v * .9, v * 1.1, 5),
                                       throughput=Spread(1000 / v, 900 / v, 1100 / v, 5))
                   for mid, v in zip(ids, latencies, strict=True))
    return dataclasses.replace(result, models=models)


def test_measured_scores_name_the_setting_and_leave_out_random_weights(result):
    assert result.measured_scores().empty  # random weights: speed only, never fed to the ranking
    rows = check_measured(_real(result).measured_scores())
    assert set(rows["property_id"]) == {LATENCY_PROPERTY, THROUGHPUT_PROPERTY}
    assert (rows["source_id"] == "measured_here").all()
    lat = rows[rows["property_id"] == LATENCY_PROPERTY].set_index("model_id")
    assert lat.loc["timm:resnet18.a1_in1k", "value"] == 10.0
    assert lat["item"].str.contains(result.setting(), regex=False).all()
    assert lat["item"].str.startswith("batch 1, ").all()
    thr = rows[rows["property_id"] == THROUGHPUT_PROPERTY]
    assert thr["item"].str.startswith(f"batch {result.batch_size}, ").all()
    assert rows["precision"].str.contains("median of 5 runs").all()


def test_the_measured_reader_accepts_a_bench_file(result):
    rows = measured_from_text(_real(result).to_json(), "bench.json")
    assert len(rows) == 4 and set(rows["model_id"]) == {"timm:resnet18.a1_in1k", "timm:resnet34.a1_in1k"}
    with pytest.raises(InvalidRequestError, match=r"bench\.json"):
        measured_from_text(_real(result).to_json().replace('"repeats"', '"repeatz"'), "bench.json")


def test_speed_sentences_say_where_it_was_measured(result):
    s = speed_sentences(_real(result).measured_scores())
    assert set(s) == {"timm:resnet18.a1_in1k", "timm:resnet34.a1_in1k"}
    assert s[R18].startswith(f"measured here on {result.setting()}: 10 ms at batch 1, 100 img/s at batch 4")
    assert speed_sentences(pd.DataFrame()) == {}


def test_a_result_without_memory_says_so():
    r = latency.bench([TINY], min_time_s=0, batch_size=2, repeats=3, warmup=0, device="cpu", memory=False)
    assert r.models[0].peak_memory_mb is None and r.memory_method == "not measured"
    assert BenchResult.from_json(r.to_json()).models[0].peak_memory_mb is None


def test_spread_is_median_and_quartiles():
    s = latency.spread([1.0, 2.0, 3.0, 4.0, 100.0])
    assert (s.median, s.q1, s.q3, s.n) == (3.0, 2.0, 4.0, 5)
    assert (s.ci_low, s.ci_high) == (1.0, 100.0)  # five passes: the median's 95 % interval is the whole range
    many = latency.spread(list(range(1, 101)))
    assert many.ci_low < many.median < many.ci_high and many.ci_low >= 35 and many.ci_high <= 66


def test_merging_keeps_one_setting_per_result(result):
    from advisor.evaluate.bench_result import merge_results

    first = _real(result, ids=("timm:resnet18.a1_in1k",), latencies=(10.0,))
    second = _real(result, ids=("timm:resnet18.a1_in1k", "timm:resnet34.a1_in1k"), latencies=(12.0, 20.0))
    merged = merge_results(first, second)
    assert {m.model_id: m.latency_ms.median for m in merged.models} == {R18: 12.0, R34: 20.0}
    added = merge_results(merge_results(None, first), _real(result, ids=(R34,), latencies=(20.0,)))
    assert [m.model_id for m in added.models] == [R18, R34]  # another model in the same setting is added
    other = dataclasses.replace(second, threads=second.threads + 1)
    assert merge_results(first, other) is other  # another setting starts afresh: settings never mix


def test_nchw_on_request_runs_on_a_copy_and_leaves_the_shared_model_channels_last():
    import torch

    from advisor.models.loaded import load_model

    r = latency.bench([TINY], min_time_s=0, batch_size=2, repeats=3, warmup=0, device="cpu", memory=False,
                      channels_last=False)
    assert r.channels_last is False and r.models[0].latency_ms.median > 0
    convs = [p for p in load_model(TINY).module.parameters() if p.dim() == 4]
    assert convs and all(p.is_contiguous(memory_format=torch.channels_last) for p in convs)
