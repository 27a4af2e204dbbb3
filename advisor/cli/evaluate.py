"""`advisor evaluate DATA --model ID [--model ID ...] [--family NAME] [--json] [-o results.json]`.

A thin layer: parses arguments, calls `advisor.evaluate.run.evaluate`, prints a table or JSON. Errors
are AdvisorErrors (a message and the error's exit code, never a traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from advisor.errors import AdvisorError, InvalidRequestError
from advisor.models.device import DEFAULT_DEVICE, DEVICES
from advisor.models.precision import DEFAULT_PRECISION, PRECISIONS
from advisor.textsafe import terminal_text

ZERO_SHOT_METRICS = ("top1", "top5", "ece", "nll", "brier", "aurc")  # from the zero-shot head, not the features
DESCRIPTION = ("Measure models on your own labelled images (a folder with one subfolder per class, or a CSV "
               "with path,label): accuracy and calibration, transfer of frozen features, invariance.")


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", type=Path, help="folder of class subfolders, or a CSV with columns path,label")
    p.add_argument("--model", "-m", action="append", default=[], metavar="ID", help="model id (repeatable)")
    p.add_argument("--family", "-f", action="append", default=[], metavar="NAME",
                   help="also measure accuracy under this transform family (repeatable or comma-separated)")
    p.add_argument("--labels", choices=["auto", "imagenet", "own"], default="auto",
                   help="how labels are read: ImageNet classes, your own label set, or decide (default)")
    p.add_argument("--published-top1", action="append", default=[], metavar="ID=PCT",
                   help="a model's published ImageNet top-1, shown next to transfer results")
    p.add_argument("--download", action="store_true",
                   help="download missing weights from the Hugging Face hub (size and licence are printed)")
    p.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="ray: (model x shard) tasks on RAY_ADDRESS or a local Ray instance")
    p.add_argument("--no-cache", action="store_true", help="recompute instead of reusing cached outputs")
    p.add_argument("--precision", choices=list(PRECISIONS), default=DEFAULT_PRECISION,
                   help="fp32 (default: the same results on every machine); bf16/fp16/auto run faster where the "
                        "hardware allows and record each model's top-1 agreement with fp32 on a sample")
    p.add_argument("--device", choices=list(DEVICES), default=DEFAULT_DEVICE,
                   help="auto (default): a CUDA GPU, else Apple MPS, else the CPU")
    p.add_argument("--class-names", type=Path, metavar="FILE",
                   help="zero-shot (CLIP-like models, own labels): a file of label,name lines renaming labels "
                        "into the class names prompted")
    p.add_argument("--templates", metavar="FILE|SET",
                   help="zero-shot prompt templates: a file with one template per line containing {} for the "
                        "class name, or open_clip's set 'simple' (default) or 'openai' (80 prompts)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--out", "-o", type=Path, help="also save the JSON result to this file")


def register(sub: argparse._SubParsersAction) -> None:
    """The `advisor evaluate` subcommand (advisor.cli discovers this)."""
    p = sub.add_parser("evaluate", help="measure models on your own labelled images", description=DESCRIPTION)
    add_options(p)
    p.set_defaults(func=command)


def _published(items: list[str]) -> dict[str, float]:
    from advisor.models.registry import parse_model_id

    out = {}
    for item in items:
        mid, _, value = item.rpartition("=")
        try:
            out[parse_model_id(mid).model_id] = float(value)
        except ValueError:
            raise InvalidRequestError(f"--published-top1 expects ID=PERCENT, got {item!r}") from None
    return out


def format_result(result) -> str:
    """One block per model: each figure with its interval and image count (user text made terminal-safe)."""
    lines = [f"{len(result.images)} image(s), labels: {result.label_set}, {len(result.classes)} classes, "
             f"{result.seconds:.1f} s ({result.executor}, {result.device}, {result.precision})"]
    for m in result.models:
        pub = f"  published ImageNet top-1: {m.published_top1:.1f} %" if m.published_top1 is not None else ""
        lines.append(f"\n{m.model_id}  weights: {m.weights}  task: {m.task}{pub}")
        for name, f in m.metrics.items():
            name = f"zero-shot {name}" if m.task == "zero-shot" and name in ZERO_SHOT_METRICS else name
            lines.append(f"  {name:24s} {f.value:9.4f}   95% CI {f.ci_low:.4f}–{f.ci_high:.4f}   n={f.n}")
        for c in m.confusions[:5]:
            lines.append(f"  confused: {terminal_text(c['true'])} -> {terminal_text(c['predicted'])} ({c['count']}x)")
        for p in m.invariance:
            acc = f"top-1 {p.top1.value:.3f} [{p.top1.ci_low:.3f}, {p.top1.ci_high:.3f}]  " if p.top1 else ""
            lines.append(f"  {p.family:11s} {p.magnitude:7g}  {acc}agreement {p.agreement.value:.3f}")
        lines += [f"  note: {terminal_text(n)}" for n in m.notes]
    return "\n".join(lines)


def zero_shot_options(args: argparse.Namespace):  # -> ZeroShotOptions
    """--class-names and --templates read and checked before anything runs."""
    from advisor.evaluate.zero_shot import ZeroShotOptions, parse_class_names, parse_templates

    return ZeroShotOptions(parse_class_names(args.class_names) if args.class_names else {},
                           parse_templates(args.templates) if args.templates else "")


def command(args: argparse.Namespace) -> int:
    from advisor.evaluate.files import check_output_path, write_output
    from advisor.evaluate.run import evaluate

    if args.out:
        check_output_path(args.out)  # before the run, not after it

    if args.download:
        from advisor.models.download import plan_download
        from advisor.models.registry import parse_model_id
        from advisor.models.weights import find_weights

        for mid in args.model:
            try:
                find_weights(parse_model_id(mid))
            except AdvisorError:
                print(f"will download {plan_download(mid).describe()}", file=sys.stderr)
    families = [f.strip() for item in args.family for f in item.split(",") if f.strip()]
    result = evaluate(args.data, args.model, families=families, published_top1=_published(args.published_top1),
                      precision=args.precision, device=args.device, zero_shot=zero_shot_options(args),
                      executor=args.executor, label_set=args.labels, download=args.download,
                      cache_root=None if not args.no_cache else "", show_bar=True)
    for msg in result.errors:
        print(terminal_text(msg if msg.startswith("note:") else f"error: {msg}"), file=sys.stderr)
    if args.out:
        write_output(args.out, result.to_json())
    print(result.to_json() if args.json else format_result(result))
    return 0 if result.models else 2
