"""`advisor report`: the ranking plus reasons, charts, probe results and sources, in every registered format."""

from __future__ import annotations

import argparse
from pathlib import Path

from advisor.cli.common import add_rank_options, open_store, ranking_data, resolve_request
from advisor.report.formats import FORMATS


def cmd_report(args: argparse.Namespace) -> int:
    from advisor.jsonio import load_json
    from advisor.probes.images import read_image_bytes
    from advisor.ranking.engine import rank
    from advisor.report.build import build_report
    from advisor.report.formats import write_report

    store = open_store(args)
    request = resolve_request(args, store)
    data = ranking_data(store, args)
    probe = load_json(args.probe_results, what="probe results") if args.probe_results else None
    images = [read_image_bytes(p) for p in args.image]
    report = build_report(store, probe_results=probe, notes=args.note or "", images=images, title=args.title,
                          ranking=rank(data, request), data=data)
    written = write_report(report, args.format, Path(args.output))
    print(f"wrote {written[0]}" + (f" and {len(written) - 1} image files" if len(written) > 1 else ""))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write a recommendation report (" + ", ".join(FORMATS) + ")")
    add_rank_options(p)
    p.add_argument("--probe-results", metavar="FILE", help="probe results JSON (advisor probe --json output)")
    p.add_argument("--image", action="append", default=[], metavar="FILE", help="image to show as a thumbnail")
    p.add_argument("--note", help="free text shown at the top of the report")
    p.add_argument("--title", default="Vision model recommendation")
    p.add_argument("--format", choices=tuple(FORMATS), required=True)
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.set_defaults(func=cmd_report)
