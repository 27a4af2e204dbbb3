"""A speed benchmark's result as plain data: JSON round trip, a table, and measured-here efficiency scores.

No torch here: the CLI, the report and the ranking read saved results without loading models. The figures
are only comparable with each other on the machine that measured them, so every score row names the
setting (device, threads, precision, batch) in its `item`: the ranking normalises within one item, so
models benchmarked on different machines or settings are never ranked against each other.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace

import pandas as pd

KIND = "vision-advisor-bench"
VERSION = 1
SOURCE_ID = "measured_here"
LATENCY_PROPERTY = "measured_latency_ms"
THROUGHPUT_PROPERTY = "measured_throughput"
BENCH_PROPERTIES = (LATENCY_PROPERTY, THROUGHPUT_PROPERTY)
DEFAULT_REPEATS = 5  # timed passes per figure at least (more until DEFAULT_MIN_TIME_S is measured)
DEFAULT_MIN_TIME_S = 2.0  # seconds timed per figure at least; the warm-up runs half as long again
SCORE_COLUMNS = ("model_id", "property_id", "item", "value", "source_id", "precision", "ci_low", "ci_high")
TABLE_COLUMNS = ("model", "weights", "input", "latency b1 (ms)", "latency IQR (ms)", "throughput (img/s)",
                 "throughput IQR (img/s)", "peak memory (MB)", "params (M)", "CPU time b1 (ms)",
                 "img per CPU-s")


@dataclass(frozen=True)
class Spread:
    """Median and quartiles of repeated timings: the median resists a busy machine's outliers."""

    median: float
    q1: float
    q3: float
    n: int
    ci_low: float | None = None  # distribution-free 95 % interval of the median (order statistics)
    ci_high: float | None = None

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1


@dataclass(frozen=True)
class ModelBench:
    model_id: str
    weights: str  # provenance label; "random" only for test architectures (left out of the ranking)
    input_size: tuple[int, int]  # (height, width) from the model's pretrained config
    params_m: float  # counted on the loaded module
    latency_ms: Spread  # one batch-1 forward pass
    throughput: Spread  # images per second at the result's batch size
    peak_memory_mb: float | None = None  # see BenchResult.memory_method; None when not measured
    # CPU runs: process CPU time per batch-1 pass (ms, all threads) and images per CPU-second at the batch size;
    # steadier than wall time on a busy machine (waiting for a core is not counted), but not what a user waits
    cpu_latency_ms: Spread | None = None
    cpu_throughput: Spread | None = None


@dataclass(frozen=True)
class BenchResult:
    device: str  # "cpu", "cuda" or "mps"
    device_name: str  # CPU model name or GPU name
    threads: int  # torch.get_num_threads() during the run
    torch_version: str
    precision: str  # "fp32" (default), "bf16" or "fp16" (autocast), as run
    channels_last: bool
    batch_size: int  # for throughput (latency is always batch 1)
    repeats: int  # timed forward passes per figure at least, after the warm-up (each Spread.n: how many ran)
    warmup: int  # untimed batch-1 passes before the latency series (batch passes: see latency.BATCH_WARMUP)
    memory_method: str  # what peak_memory_mb is, in words
    models: tuple[ModelBench, ...] = ()
    errors: tuple[str, ...] = ()
    seconds: float = 0.0
    created_at: str = ""
    notes: tuple[str, ...] = field(default=())
    min_time_s: float = 0.0  # seconds timed per figure at least (more passes than `repeats` until then)

    def setting(self) -> str:
        """The machine and setting in words, e.g. 'cpu (AMD EPYC), 2 threads, fp32'."""
        where = f"{self.device} ({self.device_name})" if self.device_name else self.device
        threads = f", {self.threads} thread{'s' * (self.threads != 1)}" if self.device == "cpu" else ""
        return f"{where}{threads}, {self.precision}"

    def to_json(self) -> str:
        """A self-contained JSON document that `from_json` reads back."""
        return json.dumps({"kind": KIND, "version": VERSION, **asdict(self)}, indent=1, allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> BenchResult:
        doc = json.loads(text)
        if doc.get("kind") != KIND or doc.get("version") != VERSION:
            raise ValueError(f"not a vision-advisor bench result (kind {doc.get('kind')!r}, "
                             f"version {doc.get('version')!r})")
        models = tuple(_model_from(m) for m in doc["models"])
        return cls(str(doc["device"]), str(doc["device_name"]), int(doc["threads"]), str(doc["torch_version"]),
                   str(doc["precision"]), bool(doc["channels_last"]), int(doc["batch_size"]), int(doc["repeats"]),
                   int(doc["warmup"]), str(doc["memory_method"]), models, tuple(doc.get("errors", ())),
                   float(doc.get("seconds", 0.0)), str(doc.get("created_at", "")), tuple(doc.get("notes", ())),
                   float(doc.get("min_time_s", 0.0)))

    def table(self) -> pd.DataFrame:
        """One row per model: what the CLI prints and the app shows."""
        rows = [(m.model_id, m.weights, "×".join(str(v) for v in m.input_size), m.latency_ms.median,
                 m.latency_ms.iqr, m.throughput.median, m.throughput.iqr, m.peak_memory_mb, m.params_m,
                 None if m.cpu_latency_ms is None else m.cpu_latency_ms.median,
                 None if m.cpu_throughput is None else m.cpu_throughput.median)
                for m in self.models]
        return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))

    def measured_scores(self) -> pd.DataFrame:
        """Efficiency scores for the ranking, source 'measured_here', item = the setting they were measured in.

        Models run with random weights (test architectures) are left out, as for probes and evaluations."""
        rows = []
        setting = self.setting()
        for m in self.models:
            if str(m.weights).startswith("random"):
                continue
            size = "×".join(str(v) for v in m.input_size)
            rows.append(_row(m.model_id, LATENCY_PROPERTY, f"batch 1, {setting}", m.latency_ms, "ms", size, self))
            rows.append(_row(m.model_id, THROUGHPUT_PROPERTY, f"batch {self.batch_size}, {setting}", m.throughput,
                             "img/s", size, self))
        return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))


def _row(model_id: str, pid: str, item: str, s: Spread, unit: str, size: str, r: BenchResult) -> dict:
    text = (f"measured here: median of {s.n} runs, IQR {s.q1:.4g}–{s.q3:.4g} {unit}, {size} input, "
            f"torch {r.torch_version}")
    return {"model_id": model_id, "property_id": pid, "item": item, "value": s.median, "source_id": SOURCE_ID,
            "precision": text, "ci_low": s.ci_low, "ci_high": s.ci_high}


def _spread(d: dict | None) -> Spread | None:
    if d is None:
        return None
    lo, hi = d.get("ci_low"), d.get("ci_high")
    return Spread(float(d["median"]), float(d["q1"]), float(d["q3"]), int(d["n"]),
                  None if lo is None else float(lo), None if hi is None else float(hi))


def _model_from(m: dict) -> ModelBench:
    mem = m.get("peak_memory_mb")
    return ModelBench(str(m["model_id"]), str(m["weights"]), tuple(int(v) for v in m["input_size"]),
                      float(m["params_m"]), _spread(m["latency_ms"]), _spread(m["throughput"]),
                      None if mem is None else float(mem), _spread(m.get("cpu_latency_ms")),
                      _spread(m.get("cpu_throughput")))


def speed_sentences(scores: pd.DataFrame) -> dict[str, str]:
    """model_id -> 'measured here on cpu (AMD EPYC), 2 threads, fp32: 12.3 ms at batch 1, 250 img/s at batch 32'
    for every model with bench rows among `scores` (the wording every explanation of speed uses)."""
    if scores is None or scores.empty or "property_id" not in scores:
        return {}
    rows = scores[scores["property_id"].isin(BENCH_PROPERTIES)]
    out: dict[str, dict[str, list[str]]] = {}
    for r in rows.itertuples(index=False):
        batch, _, setting = str(r.item).partition(", ")
        unit = "ms" if r.property_id == LATENCY_PROPERTY else "img/s"
        out.setdefault(r.model_id, {}).setdefault(setting, []).append(f"{float(r.value):.3g} {unit} at {batch}")
    return {m: "; ".join(f"measured here on {s}: {', '.join(v)}" for s, v in by.items()) for m, by in out.items()}


def merge_results(old: BenchResult | None, new: BenchResult) -> BenchResult:
    """One session result from several runs: models re-measured in the same setting replace their old figures,
    others are kept; a run in another setting (device, threads, precision, batch, repeats) starts afresh,
    so one result never mixes settings."""
    if old is None or _setting_key(old) != _setting_key(new):
        return new
    fresh = {m.model_id for m in new.models}
    kept = tuple(m for m in old.models if m.model_id not in fresh)
    memory = old.memory_method if old.memory_method == new.memory_method else "; ".join(
        dict.fromkeys(x for x in (old.memory_method, new.memory_method) if x != "not measured")) or "not measured"
    return replace(new, models=kept + new.models, errors=new.errors, memory_method=memory,
                   seconds=round(old.seconds + new.seconds, 2))


def _setting_key(r: BenchResult) -> tuple:
    return (r.device, r.device_name, r.threads, r.torch_version, r.precision, r.channels_last, r.batch_size,
            r.repeats, r.warmup, r.min_time_s)
