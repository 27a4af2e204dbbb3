"""What several commands share: the store, the rank options (from the LIMITS spec), the request, measured files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from advisor.errors import InvalidRequestError
from advisor.ranking.presets import get_preset, list_presets
from advisor.ranking.request import (
    DEFAULT_DRAWS,
    DEFAULT_SEED,
    DEFAULT_TOP_K,
    LIMITS,
    NORMALIZATIONS,
    Limits,
    RankRequest,
    validate_request,
)


def open_store(args: argparse.Namespace):  # -> advisor.store.store.PropertyStore
    """The store the global --db / --sources options name (built on first use)."""
    from advisor.store.store import open_store as _open

    return _open(args.db, args.sources)


def _dest(spec) -> str:
    return "limit_" + spec.name


def add_limit_options(p: argparse.ArgumentParser) -> None:
    """One option per entry of the LIMITS spec."""
    for spec in LIMITS:
        spec.rule.add_option(p, spec, _dest(spec), f"{spec.help}" + (f" ({spec.unit})" if spec.unit else ""))


def add_rank_options(p: argparse.ArgumentParser) -> None:
    """Options shared by `rank` and `report`."""
    p.add_argument("--preset", help="one of: " + ", ".join(x.name for x in list_presets()))
    p.add_argument("--need", action="append", default=[], metavar="NAME=WEIGHT",
                   help="weight for a need (repeatable); overrides the preset's")
    add_limit_options(p)
    p.add_argument("--normalization", choices=NORMALIZATIONS, default="percentile")
    p.add_argument("--min-coverage", type=float, default=0.0)
    p.add_argument("--no-predict", dest="predict", action="store_false",
                   help="count needs without data as the median instead of predicting them")
    p.add_argument("--top", type=int, default=DEFAULT_TOP_K, help="rows to show; also k for top-k stability")
    p.add_argument("--draws", type=int, default=DEFAULT_DRAWS, help="weight perturbations for stability")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--from", dest="from_report", help="restore needs and limits from a JSON report")
    p.add_argument("--measured", action="append", default=[], metavar="FILE",
                   help="scores measured here: a probe or evaluation result JSON (repeatable)")


def limits_from_args(args: argparse.Namespace, store=None, preset_limits: dict | None = None) -> Limits:
    """Preset limits overridden by explicit options, read through the LIMITS spec."""
    kw: dict[str, object] = dict(preset_limits or {})
    def ready() -> frozenset[str]:  # --probe-ready: only looked up when given (it checks files on disk)
        from advisor.runnable import ready_here  # the app's rule too (one "can run here" rule)

        return ready_here(store.models()) if store is not None else frozenset()

    resolve = store.resolve if store is not None else None
    for spec in LIMITS:
        v = spec.rule.from_cli(spec, getattr(args, _dest(spec)), resolve, ready)
        if v is not None:
            kw[spec.name] = v
    return Limits(**kw)


def request_from_args(args: argparse.Namespace, store=None) -> RankRequest:
    """Preset + explicit needs + limits -> a validated RankRequest (explicit options win)."""
    weights: dict[str, float] = {}
    preset_limits: dict[str, object] = {}
    mode = "advisor"
    if args.preset:
        pr = get_preset(args.preset)
        weights.update(pr.weights)
        preset_limits.update(pr.limits)
        mode = pr.mode
    for item in args.need:
        name, sep, val = item.partition("=")
        if not sep:
            raise InvalidRequestError(f"--need takes NAME=WEIGHT, got {item!r}")
        try:
            weights[name.strip()] = float(val)
        except ValueError:
            raise InvalidRequestError(f"weight for {name!r} is not a number: {val!r}") from None
    if not weights and mode == "advisor":
        raise InvalidRequestError("give --preset or at least one --need NAME=WEIGHT")
    return validate_request(RankRequest(
        weights=weights, limits=limits_from_args(args, store, preset_limits), normalization=args.normalization,
        min_coverage=args.min_coverage, top_k=args.top, draws=args.draws, seed=args.seed, mode=mode,
        predict=getattr(args, "predict", True)))


def resolve_request(args: argparse.Namespace, store) -> RankRequest:
    """`--from report.json` restores a saved request; otherwise the options build one."""
    if args.from_report:
        from advisor.report.model import request_from_report

        return request_from_report(Path(args.from_report))
    return request_from_args(args, store)


def measured_from_args(args: argparse.Namespace) -> pd.DataFrame | None:
    """The --measured files as score rows (None when none were given)."""
    if not getattr(args, "measured", None):
        return None
    from advisor.measured import load_measured_files

    rows = load_measured_files([Path(p) for p in args.measured])
    for note in rows.attrs.get("ignored", []):
        print(f"note: {note}", file=sys.stderr)
    return rows


def ranking_data(store, args: argparse.Namespace):  # -> RankingData
    """The store's ranking input plus any --measured scores."""
    from advisor.ranking.data import RankingData

    return RankingData.from_store(store).with_extra_scores(measured_from_args(args))


def weights_from_args(items: list[str]) -> dict[str, str]:
    """`--weights ID=PATH` options -> {id: path}; a malformed one is a clear error."""
    out = {}
    for item in items:
        mid, sep, path = item.partition("=")
        if not sep or not path:
            raise InvalidRequestError(f"--weights expects ID=PATH, got {item!r}")
        out[mid] = path
    return out
