"""`advisor report`: the ranking plus reasons, charts, probe results and sources, as md / html / json / pdf."""

from __future__ import annotations

import argparse
from pathlib import Path

from advisor.ranking.cli import add_rank_options, resolve_request
from advisor.report.write import FORMATS


def cmd_report(args: argparse.Namespace) -> int:
    from advisor.cli import _store
    from advisor.report.build import build_report
    from advisor.report.write import write_report

    store = _store(args)
    request = resolve_request(args, store)
    probe = Path(args.probe_results) if args.probe_results else None
    images = [(Path(p).name, Path(p).read_bytes()) for p in args.image]
    report = build_report(store, request, probe_results=probe, notes=args.note or "", images=images,
                          title=args.title)
    written = write_report(report, args.format, Path(args.output))
    print(f"wrote {written[0]}" + (f" and {len(written) - 1} image files" if len(written) > 1 else ""))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write a recommendation report (Markdown, HTML, JSON or PDF)")
    add_rank_options(p)
    p.add_argument("--probe-results", metavar="FILE", help="probe results JSON (advisor probe --json output)")
    p.add_argument("--image", action="append", default=[], metavar="FILE", help="image to show as a thumbnail")
    p.add_argument("--note", help="free text shown at the top of the report")
    p.add_argument("--title", default="Vision model recommendation")
    p.add_argument("--format", choices=FORMATS, required=True)
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.set_defaults(func=cmd_report)


