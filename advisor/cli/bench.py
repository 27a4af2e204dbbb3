"""`advisor bench -m ID [-m ID ...] [--batch-size 32] [--repeats N] [--precision ...] [--json] [--out FILE]`.

A thin layer over `advisor.evaluate.latency.bench`: prints a table (or JSON) and saves the result, which
`advisor rank --measured FILE` reads as efficiency measured here. Errors are AdvisorErrors (a message and
the error's exit code, never a traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from advisor.cli.common import weights_from_args
from advisor.evaluate.bench_result import DEFAULT_MIN_TIME_S, DEFAULT_REPEATS
from advisor.models.device import DEVICES
from advisor.models.precision import PRECISIONS

DESCRIPTION = ("Measure batch-1 latency, throughput at a batch size and peak memory of models on this machine "
               "(median of repeated passes after a warm-up, as timm's benchmark script does). The figures "
               "compare models with each other on this machine only.")


def register(sub: argparse._SubParsersAction) -> None:
    """The `advisor bench` subcommand (advisor.cli discovers this)."""
    p = sub.add_parser("bench", help="measure latency, throughput and memory of models on this machine",
                       description=DESCRIPTION)
    p.add_argument("--model", "-m", action="append", default=[], required=True, metavar="ID",
                   help="model id (repeatable)")
    p.add_argument("--batch-size", "-b", type=int, default=32, help="batch size for throughput (default 32)")
    p.add_argument("--repeats", "-n", type=int, default=DEFAULT_REPEATS,
                   help=f"timed passes per figure at least (default {DEFAULT_REPEATS}); more run until --min-time "
                        "is measured")
    p.add_argument("--min-time", type=float, default=DEFAULT_MIN_TIME_S, metavar="SECONDS",
                   help=f"seconds timed per figure at least (default {DEFAULT_MIN_TIME_S:g}; more on a busy "
                        "machine), after a warm-up of half that time")
    p.add_argument("--warmup", type=int, default=10, help="untimed batch-1 passes first (default 10, as timm)")
    p.add_argument("--precision", choices=list(PRECISIONS), default="fp32",
                   help="fp32 (default); bf16/fp16 autocast on request; auto: the faster one where it is faster")
    p.add_argument("--device", choices=list(DEVICES), default="auto",
                   help="auto: a GPU when PyTorch sees one, else the CPU")
    p.add_argument("--threads", type=int, help="CPU threads for PyTorch (default: its own choice, stated)")
    p.add_argument("--no-channels-last", action="store_true", help="keep the default NCHW memory layout")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement (a fresh process)")
    p.add_argument("--weights", action="append", default=[], metavar="ID=PATH",
                   help="a local weights file for a model (repeatable)")
    p.add_argument("--download", action="store_true",
                   help="download missing weights from the Hugging Face hub (size and licence are printed)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--out", "-o", type=Path, help="also save the JSON result to this file (for --measured)")
    p.set_defaults(func=command)


def format_result(result) -> str:  # result: advisor.evaluate.bench_result.BenchResult
    """The table, then the setting every figure was measured in."""
    import pandas as pd

    if not result.models:
        return "no model measured (see the errors above)"
    with pd.option_context("display.width", 220, "display.max_colwidth", 50, "display.max_columns", 20):
        text = result.table().to_string(index=False, float_format=lambda v: f"{v:.4g}")
    lines = [text, "",
             f"on {result.setting()}, torch {result.torch_version}, "
             f"{'channels-last' if result.channels_last else 'NCHW'}",
             f"latency: batch 1, median of {_passes(result, 'latency_ms')} passes; throughput: batch "
             f"{result.batch_size}, median of {_passes(result, 'throughput')} passes (IQR: the middle half); each "
             f"figure timed for at least {result.min_time_s:g} s and {result.repeats} passes after a warm-up of at "
             f"least {result.min_time_s / 2:g} s and {result.warmup} passes, garbage collection paused",
             f"peak memory: {result.memory_method}",
             f"{result.seconds:.1f} s. Compare these figures only with others measured here in the same setting."]
    if any(m.cpu_latency_ms is not None for m in result.models):
        lines.insert(-1, "CPU time: this process's CPU time per pass (all threads); on a busy machine it moves far "
                         "less than latency (waiting for a core is not counted), but latency is what a user waits")
    lines += [f"note: {n}" for n in result.notes]
    if any(str(m.weights).startswith("random") for m in result.models):
        lines.append("note: RANDOM WEIGHTS (test architecture): speed only, left out of the ranking")
    return "\n".join(lines)


def _passes(result, figure: str) -> str:
    """How many timed passes the models' `figure` had: '130' or '96-212'."""
    n = sorted({getattr(m, figure).n for m in result.models})
    return str(n[0]) if len(n) == 1 else f"{n[0]}-{n[-1]}"


def command(args: argparse.Namespace) -> int:
    from advisor.evaluate.latency import bench

    if args.download:  # say what will be fetched before fetching it
        from advisor.models.download import plan_download
        from advisor.models.weights import probe_readiness

        for mid in [m for m in args.model if not probe_readiness(m)[0]]:
            print(f"will download {plan_download(mid).describe()}", file=sys.stderr)
    result = bench(args.model, weights=weights_from_args(args.weights), batch_size=args.batch_size,
                   repeats=args.repeats, warmup=args.warmup, min_time_s=args.min_time,
                   precision=args.precision, device=args.device, threads=args.threads,
                   channels_last=not args.no_channels_last, memory=not args.no_memory, download=args.download)
    for msg in result.errors:
        print(f"error: {msg}", file=sys.stderr)
    if args.out and result.models:
        args.out.write_text(result.to_json(), encoding="utf-8")
    print(result.to_json() if args.json else format_result(result))
    return 0 if result.models else 2


def speed_evidence(args: argparse.Namespace) -> dict[str, str]:
    """model -> its speed measured here, from the bench results among the --measured files ({} when none)."""
    from advisor.cli.common import measured_from_args
    from advisor.evaluate.bench_result import speed_sentences

    return speed_sentences(measured_from_args(args))


def print_speed(ranking, speed: dict[str, str]) -> None:  # ranking: advisor.ranking.engine.Ranking
    """The efficiency evidence measured here, with each model's rank: `advisor rank`'s closing block."""
    if not speed:
        return
    ranks = dict(zip(ranking.table["model_id"], ranking.table["rank"], strict=True))
    print("\nefficiency measured here (advisor bench; comparable only among models measured in the same setting):")
    for mid, text in speed.items():
        where = f"rank {ranks[mid]}" if mid in ranks else "not ranked"
        print(f"  {mid} ({where}): {text}")
