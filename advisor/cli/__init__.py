"""`advisor` command line: every feature without the UI (the top layer: it may import every package)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from advisor.cli import bench as bench_cli
from advisor.cli import evaluate as evaluate_cli
from advisor.cli import probe as probe_cli
from advisor.cli import rank as rank_cli
from advisor.cli import report as report_cli
from advisor.cli.common import open_store
from advisor.errors import AdvisorError, InvalidRequestError
from advisor.store.build import DEFAULT_DB, DEFAULT_SOURCES
from advisor.textsafe import terminal_text


def _print_table(df: pd.DataFrame, limit: int | None = None) -> None:
    with pd.option_context("display.max_rows", limit or len(df) + 1, "display.max_columns", 20,
                           "display.width", 200, "display.max_colwidth", 60):
        print(df.to_string(index=False) if len(df) else "(none)")


def cmd_build(args: argparse.Namespace) -> int:
    from advisor.store.build import build_store

    stats = build_store(Path(args.db), Path(args.sources))
    print(json.dumps(stats) if args.json else
          "built {db}: {models} models, {scores} scores, {sources} sources, {aliases} aliases, "
          "{conflicts} conflicts in {seconds} s".format(db=args.db, **stats))
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise InvalidRequestError(f"--limit must be at least 1, got {args.limit}")
    df = open_store(args).models(search=args.search, paradigm=args.paradigm)
    if args.json:
        print(df.to_json(orient="records", indent=1))
        return 0
    cols = ["model_id", "arch_type", "paradigm", "params_m", "n_properties", "n_scores"]
    _print_table(df[cols], args.limit)
    print(f"{len(df)} models")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    store = open_store(args)
    mid, note = store.resolve_name(args.model_id)
    if note:
        print(f"note: {note}", file=sys.stderr)
    model = store.model(mid)
    scores = store.scores([mid])
    from advisor.models.registry import backend_line

    backend = backend_line(mid, bool(model.get("obtainable")), str(model.get("obtain_note") or ""))
    if args.json:
        out = {"model": {k: (None if pd.isna(v) else v) for k, v in model.items()}, "backend": backend,
               "scores": json.loads(scores.to_json(orient="records")),
               "aliases": json.loads(store.aliases(mid).to_json(orient="records")),
               "conflicts": json.loads(store.conflicts(mid).to_json(orient="records")),
               "links": json.loads(store.model_links(mid).to_json(orient="records"))}
        print(json.dumps(out, indent=1))
        return 0
    print(f"{mid}  ({model['display_name']})")
    for k in ("arch_type", "paradigm", "pretrain_data", "finetune_data", "params_m", "gmacs", "img_size",
              "weights_from", "load_call", "weights_url", "weights_sha256", "weights_licence", "obtain_note",
              "metadata_note"):
        if not pd.isna(model.get(k)):
            src = model.get(f"{k}_source")  # where the value comes from (published source or computed here)
            print(f"  {k}: {model[k]}" + ("" if src is None or pd.isna(src) else f"  [{src}]"))
        if k == "weights_sha256":  # which of this tool's model backends builds it (probe / evaluate)
            print(f"  backend: {backend}")
    cols = ["property_id", "item", "value", "unit", "source_id", "protocol", "licence", "precision"]
    _print_table(scores[cols])
    links = store.model_links(mid)
    if len(links):
        print("\nlinks onto a reference protocol (shared models, map, residual spread, 80 % interval half-width "
              "and held-out Spearman; 'unlinked': its own pool, the note says why):")
        _print_table(links[["property_id", "item", "protocol", "reference_protocol", "n_shared", "method", "slope",
                            "intercept", "residual_sd", "half80", "heldout_spearman"]])
    conf = store.conflicts(mid)
    if len(conf):
        print("\nconflicting sources:")
        _print_table(conf)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="advisor", description="Pick a pretrained vision model by more than "
                                "ImageNet accuracy.")
    p.add_argument("--db", default=str(DEFAULT_DB), help="DuckDB store (built on first use)")
    p.add_argument("--sources", default=str(DEFAULT_SOURCES), help="curated sources folder")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build the property store from the curated sources")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_build)

    m = sub.add_parser("models", help="list models")
    m.add_argument("--search", help="text in id, name or any source alias")
    m.add_argument("--paradigm", help="e.g. supervised, clip, self-supervised, adversarial")
    m.add_argument("--limit", type=int, default=None, help="rows to print (table output)")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_models)

    s = sub.add_parser("show", help="every score of one model, with source, licence and precision")
    s.add_argument("model_id")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_show)

    for module in FEATURE_CLIS:
        module.register(sub)
    return p


# Feature commands: each module's `register(subparsers)` adds its options only; heavy imports happen when it runs.
FEATURE_CLIS = (rank_cli, report_cli, probe_cli, evaluate_cli, bench_cli)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; user errors print a message and return their exit code, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except AdvisorError as exc:
        print(terminal_text(f"error: {exc}"), file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
