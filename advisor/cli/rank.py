"""`advisor rank`: the ranking engine from the command line."""

from __future__ import annotations

import argparse
import json

import pandas as pd

from advisor.cli.bench import print_speed, speed_evidence
from advisor.cli.common import add_rank_options, open_store, ranking_data, resolve_request


def cmd_rank(args: argparse.Namespace) -> int:
    from advisor.ranking.engine import rank
    from advisor.ranking.explain import explain_top, head_to_head
    from advisor.ranking.records import ranking_to_records

    store = open_store(args)
    request = resolve_request(args, store)
    r = rank(ranking_data(store, args), request)
    speed = speed_evidence(args)  # model -> latency/throughput measured here by `advisor bench`, with the setting
    if args.json:
        print(json.dumps({"request": {"weights": dict(request.weights), "mode": request.mode},
                          "n_candidates": r.n_candidates, "n_ranked": len(r.table), "notes": list(r.notes),
                          "speed_measured_here": speed,
                          "models": ranking_to_records(r, args.top)}, indent=1))
        return 0
    cols = ["rank", "model_id", "weights_from", "score", "coverage", "top1_share", "topk_share", "params_m"]
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(r.table[cols].head(args.top).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\n{len(r.table)} ranked of {r.n_candidates} candidates passing the limits")
    for n in r.notes:
        print(f"note: {n}")
    print()
    ev = r.need_evidence()
    if len(ev):
        print("evidence per need:")
        for e in ev.itertuples(index=False):
            pred = f", {e.n_predicted} predicted" if e.n_predicted else ""
            print(f"  {e.need}: {e.n_models} ranked models with data{pred}; sources: {e.sources or 'none'}")
        print()
    for mid, text in explain_top(r, 3).items():
        print(f"- {mid}: {text}" + (f" Speed {speed[mid]}." if mid in speed else ""))
    print_speed(r, speed)
    if len(r.table) > 1:
        a, b = r.table["model_id"].iloc[:2]
        print("\n" + head_to_head(r, a, b)[0])
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rank", help="rank models for your needs")
    add_rank_options(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rank)
