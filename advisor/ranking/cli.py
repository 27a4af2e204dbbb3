"""`advisor rank`: the ranking engine from the command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from advisor.errors import InvalidRequestError
from advisor.ranking.engine import Limits, Ranking, RankRequest, rank
from advisor.ranking.explain import explain_top, head_to_head
from advisor.ranking.presets import get_preset, list_presets


def add_rank_options(p: argparse.ArgumentParser) -> None:
    """Options shared by `rank` and `report`."""
    p.add_argument("--preset", help="one of: " + ", ".join(x.name for x in list_presets()))
    p.add_argument("--need", action="append", default=[], metavar="NAME=WEIGHT",
                   help="weight for a need (repeatable); overrides the preset's")
    p.add_argument("--max-params", type=float, help="max parameters (millions)")
    p.add_argument("--max-gmacs", type=float)
    p.add_argument("--min-throughput-cpu", type=float, help="images/s on the timm CPU benchmark")
    p.add_argument("--min-throughput-gpu", type=float, help="images/s on the timm GPU benchmark")
    p.add_argument("--paradigm", action="append", default=[], help="keep only this paradigm (repeatable)")
    p.add_argument("--arch-type", action="append", default=[], help="CNN, Transformer, hybrid, vision-language")
    p.add_argument("--max-img-size", type=int)
    p.add_argument("--exclude-non-commercial", action="store_true", help="ignore CC BY-NC data (ImageNet-X)")
    p.add_argument("--model", action="append", default=[], help="restrict candidates to these ids (repeatable)")
    p.add_argument("--probe-ready", action="store_true",
                   help="only models whose real weights are present here for live probing")
    p.add_argument("--normalization", choices=("percentile", "zscore"), default="percentile")
    p.add_argument("--min-coverage", type=float, default=0.0)
    p.add_argument("--top", type=int, default=10, help="rows to show; also k for top-k stability")
    p.add_argument("--draws", type=int, default=1000, help="weight perturbations for stability")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--from", dest="from_report", help="restore needs and limits from a JSON report")


def request_from_args(args: argparse.Namespace, store=None) -> RankRequest:
    """Preset + explicit needs + limits -> RankRequest (explicit options win)."""
    weights: dict[str, float] = {}
    limits: dict[str, object] = {}
    mode = "advisor"
    if args.preset:
        pr = get_preset(args.preset)
        weights.update(pr.weights)
        limits.update(pr.limits)
        mode = pr.mode
    for spec in args.need:
        name, sep, val = spec.partition("=")
        if not sep:
            raise InvalidRequestError(f"--need takes NAME=WEIGHT, got {spec!r}")
        try:
            weights[name.strip()] = float(val)
        except ValueError:
            raise InvalidRequestError(f"weight for {name!r} is not a number: {val!r}") from None
    if not weights and mode == "advisor":
        raise InvalidRequestError("give --preset or at least one --need NAME=WEIGHT")
    for key, attr in (("max_params_m", "max_params"), ("max_gmacs", "max_gmacs"),
                      ("min_throughput_cpu", "min_throughput_cpu"), ("min_throughput_gpu", "min_throughput_gpu"),
                      ("max_img_size", "max_img_size")):
        if getattr(args, attr) is not None:
            limits[key] = getattr(args, attr)
    if args.paradigm:
        limits["paradigms"] = tuple(args.paradigm)
    if args.arch_type:
        limits["arch_types"] = tuple(args.arch_type)
    if args.exclude_non_commercial:
        limits["exclude_non_commercial"] = True
    if args.model:
        ids = tuple(store.resolve(m) for m in args.model) if store is not None else tuple(args.model)
        limits["only_model_ids"] = ids
    if args.probe_ready:
        from advisor.probes.weights import loadable_model_ids, ready_model_ids

        loadable = loadable_model_ids(store.models()) if store is not None else []
        limits["probe_ready_ids"] = ready_model_ids(loadable)
    if args.top < 1 or args.draws < 0:
        raise InvalidRequestError("--top must be >= 1 and --draws >= 0")
    return RankRequest(weights=weights, limits=Limits(**limits), normalization=args.normalization,
                       min_coverage=args.min_coverage, top_k=args.top, draws=args.draws, seed=args.seed, mode=mode)


def resolve_request(args: argparse.Namespace, store) -> RankRequest:
    """`--from report.json` restores a saved request; otherwise the options build one."""
    if args.from_report:
        from advisor.report.model import request_from_report

        return request_from_report(Path(args.from_report))
    return request_from_args(args, store)


def ranking_to_records(r: Ranking, top: int) -> list[dict]:
    """Per model: model_id, rank, score, coverage, per-need contributions, stability."""
    rows = r.table.head(top)
    c = r.contributions[r.contributions["model_id"].isin(rows["model_id"])]
    out = []
    for row in rows.itertuples(index=False):
        cc = c[c["model_id"] == row.model_id]
        out.append({
            "model_id": row.model_id, "rank": int(row.rank), "score": float(row.score),
            "score_covered": float(row.score_covered), "coverage": float(row.coverage),
            "params_m": None if pd.isna(row.params_m) else float(row.params_m),
            "contributions": {n: {"weight": float(w), "need_score": None if pd.isna(s) else float(s),
                                  "contribution": float(ct)}
                              for n, w, s, ct in zip(cc["need"], cc["weight"], cc["need_score"],
                                                     cc["contribution"], strict=True)},
            "stability": {"top1_share": float(row.top1_share), "topk_share": float(row.topk_share),
                          "k": r.request.top_k, "stable": bool(row.stable)},
        })
    return out


def cmd_rank(args: argparse.Namespace) -> int:
    from advisor.cli import _store
    from advisor.ranking.data import RankingData

    store = _store(args)
    request = resolve_request(args, store)
    r = rank(RankingData.from_store(store), request)
    if args.json:
        print(json.dumps({"request": {"weights": dict(request.weights), "mode": request.mode},
                          "n_candidates": r.n_candidates, "n_ranked": len(r.table), "notes": list(r.notes),
                          "models": ranking_to_records(r, args.top)}, indent=1))
        return 0
    cols = ["rank", "model_id", "score", "coverage", "top1_share", "topk_share", "params_m"]
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(r.table[cols].head(args.top).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\n{len(r.table)} ranked of {r.n_candidates} candidates passing the limits")
    for n in r.notes:
        print(f"note: {n}")
    print()
    for mid, text in explain_top(r, 3).items():
        print(f"- {mid}: {text}")
    if len(r.table) > 1:
        a, b = r.table["model_id"].iloc[:2]
        print("\n" + head_to_head(r, a, b)[0])
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rank", help="rank models for your needs")
    add_rank_options(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rank)

