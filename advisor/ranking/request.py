"""The rank request: needs, hard limits and options, their one spec, JSON form and validation.

Every consumer (engine, CLI, app widgets and URL, report labels and JSON) reads the LIMITS table, so a new
hard limit is one `LimitSpec` entry plus its `Limits` field (and the models column it filters on).
Every request, wherever it comes from, goes through `validate_request`, so the messages are the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd

from advisor.errors import InvalidRequestError
from advisor.ranking.limit_rules import LimitRule, rule_for
from advisor.ranking.limit_rules import finite as _finite
from advisor.ranking.limit_rules import number as _number
from advisor.ranking.needs import EXCLUSIVE, get_need

# Defaults shared by the CLI, the app and reports (defined once).
DEFAULT_TOP_K = 10
DEFAULT_DRAWS = 1000
DEFAULT_SEED = 0
NORMALIZATIONS = ("percentile", "zscore")
# Ranking modes (their rank functions: engine.MODES) and whether each ranks by the user's weights.
MODES = ("advisor", "quba")
MODE_USES_WEIGHTS = {"advisor": True, "quba": False}
# Caps so no request can ask for unbounded work.
MAX_TOP_K = 1000
MAX_DRAWS = 100_000
MAX_WEIGHT = 1e6  # weights are relative: only their ratios matter
MAX_SEED = 2**32 - 1
MAX_CONCENTRATION = 1e6


@dataclass(frozen=True)
class Limits:
    """Hard filters; a model whose value is unknown for an active limit is excluded (and counted)."""

    max_params_m: float | None = None
    max_gmacs: float | None = None
    min_throughput_cpu: float | None = None
    min_throughput_gpu: float | None = None
    max_img_size: int | None = None
    paradigms: tuple[str, ...] = ()
    arch_types: tuple[str, ...] = ()
    weights_licences: tuple[str, ...] = ()
    exclude_non_commercial: bool = False
    include_unobtainable: bool = False  # by default only models whose weights can be had are ranked
    only_model_ids: tuple[str, ...] = ()  # restrict the candidate set (e.g. the study's four)
    probe_ready_ids: frozenset[str] | None = None  # only models that can be loaded for live probing


@dataclass(frozen=True)
class LimitSpec:
    """One hard limit as every consumer sees it; its `rule` (by kind) says what it means.

    kind: 'max' / 'min' (a number compared with `column`), 'in' (column value in a list), 'flag' (a switch the
    engine reads itself), 'include' (a switch: off keeps only rows whose boolean `column` is true), 'ids' (a list
    of model ids), 'ready' (a switch the caller turns into model ids); see advisor.ranking.limit_rules.
    """

    name: str  # the Limits field
    label: str
    help: str
    kind: str
    column: str = ""  # the models column it filters on
    unit: str = ""
    cli: str = ""  # the CLI flag
    url: str = ""  # the app's query-string / session key
    integer: bool = False
    step: float = 1.0  # UI step for numbers
    noun: str = ""  # "parameter" in "12 models without parameter data excluded"

    @property
    def rule(self) -> LimitRule:
        """What this kind of limit means everywhere (advisor.ranking.limit_rules)."""
        return rule_for(self.kind)

    @property
    def numeric(self) -> bool:
        return self.rule.numeric

    @property
    def boolean(self) -> bool:
        """A true/false switch (in the CLI, the app and JSON alike)."""
        return self.rule.boolean

    def describe(self, value: Any) -> str:
        """Human-readable text of an active limit, for reports and notes."""
        return self.rule.describe(self, value)


LIMITS: tuple[LimitSpec, ...] = (
    LimitSpec("max_params_m", "Max parameters", "Largest model to consider, in millions of parameters.",
              "max", "params_m", "M", "--max-params", "max_params", step=5.0, noun="parameter"),
    LimitSpec("max_gmacs", "Max GMACs", "Compute per image: giga (10⁹) multiply-accumulate operations for one "
              "forward pass at the model's input size (timm's benchmark files).", "max", "gmacs", "GMACs",
              "--max-gmacs", "max_gmacs", noun="GMACs"),
    LimitSpec("min_throughput_cpu", "Min CPU throughput", "Images per second in timm's CPU inference benchmark "
              "(one reference machine; yours will differ, but the order holds).", "min", "throughput_cpu",
              "img/s", "--min-throughput-cpu", "min_tp_cpu", step=10.0, noun="CPU throughput"),
    LimitSpec("min_throughput_gpu", "Min GPU throughput", "Images per second in timm's GPU inference benchmark.",
              "min", "throughput_gpu", "img/s", "--min-throughput-gpu", "min_tp_gpu", step=100.0,
              noun="GPU throughput"),
    LimitSpec("max_img_size", "Max input size", "Largest input resolution (pixels per side) the model expects.",
              "max", "img_size", "px", "--max-img-size", "max_img_size", integer=True, step=16.0, noun="input size"),
    LimitSpec("paradigms", "Training paradigm", "Keep only these ways of training (supervised, CLIP, ...).",
              "in", "paradigm", cli="--paradigm", url="paradigm"),
    LimitSpec("arch_types", "Architecture", "Keep only these architecture types (CNN, Transformer, ...).",
              "in", "arch_type", cli="--arch-type", url="arch"),
    LimitSpec("weights_licences", "Weights licence", "Keep only models whose weights carry one of these licences.",
              "in", "weights_licence", cli="--weights-licence", url="licence"),
    LimitSpec("exclude_non_commercial", "Ignore non-commercial data",
              "Leave out scores from sources licensed for non-commercial use only (CC BY-NC, e.g. ImageNet-X).",
              "flag", cli="--exclude-non-commercial", url="exclude_nc"),
    LimitSpec("include_unobtainable", "Include models without public weights",
              "Also rank models whose weights are not public or have no known loader (e.g. trained by a paper's "
              "authors and not released); they are marked in the results. Off: only models you can download.",
              "include", "obtainable", cli="--include-unobtainable", url="unobtainable"),
    LimitSpec("only_model_ids", "Only these models", "Restrict the candidates to these model ids.", "ids",
              "model_id", cli="--model", url="only"),
    LimitSpec("probe_ready_ids", "Only models that can be probed live here",
              "timm / open_clip models whose real weights are on this machine (nothing is downloaded).",
              "ready", "model_id", cli="--probe-ready", url="probe_ready"),
)
LIMIT_BY_NAME = {s.name: s for s in LIMITS}


def limit_spec(name: str) -> LimitSpec:
    return LIMIT_BY_NAME[name]


@dataclass(frozen=True)
class RankRequest:
    weights: Mapping[str, float]
    limits: Limits = field(default_factory=Limits)
    normalization: str = "percentile"
    min_coverage: float = 0.0
    top_k: int = DEFAULT_TOP_K
    draws: int = DEFAULT_DRAWS
    concentration: float = 50.0  # Dirichlet concentration: higher = smaller perturbations
    seed: int = DEFAULT_SEED
    stable_share: float = 0.6  # a top pick is stable if it stays first in at least this share of draws
    mode: str = "advisor"  # or "quba": reproduce the QUBA score
    predict: bool = True  # predict needs without data (else they count as the median candidate)


def mode_uses_weights(mode: str) -> bool:
    """Whether a ranking mode ranks by the user's need weights (QUBA mode uses its own fixed weights)."""
    return MODE_USES_WEIGHTS.get(mode, True)


# --- validation ---------------------------------------------------------------------------------------------
def validate_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Known needs, finite weights in [0, MAX_WEIGHT], at least one positive, no contradictory pair."""
    if not isinstance(weights, Mapping):
        raise InvalidRequestError("weights must map need names to numbers")
    out: dict[str, float] = {}
    for name, w in weights.items():
        get_need(str(name))
        _finite(f"weight for '{name}'", w, 0.0, MAX_WEIGHT)
        if w > 0:
            out[name] = float(w)
    if not out:
        raise InvalidRequestError("all weights are zero: give at least one need a positive weight")
    for a, b in EXCLUSIVE:
        if a in out and b in out:
            raise InvalidRequestError(f"'{a}' and '{b}' pull in opposite directions: weight only one")
    return canonical_weights(out)


def canonical_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Weights in one order (by need id), whatever order they were given in.

    The stability draws perturb the weights as a vector, so the same needs given in another order (a preset
    then a --need flag, flags swapped, the app's sliders) would otherwise draw other samples from the same seed
    and report a slightly different "first in" share for the very same request.
    """
    return {k: weights[k] for k in sorted(weights)}


def validate_limits(limits: Limits) -> None:
    """Numbers finite and non-negative, lists of text, switches true/false; messages name the limit."""
    if not isinstance(limits, Limits):
        raise InvalidRequestError("limits must be a Limits record")
    for spec in LIMITS:
        spec.rule.check(spec, getattr(limits, spec.name), f"limit {spec.cli} ({spec.label})")


def validate_request(request: RankRequest) -> RankRequest:
    """Check every field against its declared bounds; returns the request unchanged or raises."""
    if not isinstance(request, RankRequest):
        raise InvalidRequestError("not a rank request")
    if request.mode not in MODES:
        raise InvalidRequestError(f"mode must be one of {', '.join(MODES)}")
    if request.normalization not in NORMALIZATIONS:
        raise InvalidRequestError(f"normalization must be one of {', '.join(NORMALIZATIONS)}")
    if mode_uses_weights(request.mode):
        validate_weights(request.weights)
    elif not isinstance(request.weights, Mapping):
        raise InvalidRequestError("weights must map need names to numbers")
    validate_limits(request.limits)
    _finite("minimum coverage", request.min_coverage, 0.0, 1.0)
    _finite("top (top_k)", request.top_k, 1, MAX_TOP_K, integer=True)
    _finite("draws", request.draws, 0, MAX_DRAWS, integer=True)
    _finite("seed", request.seed, 0, MAX_SEED, integer=True)
    _finite("concentration", request.concentration, 0.0, MAX_CONCENTRATION, lo_open=True)
    _finite("stable share", request.stable_share, 0.0, 1.0, lo_open=True)
    if not isinstance(request.predict, bool):
        raise InvalidRequestError("predict must be true or false")
    return request


# --- limits applied to the models table ----------------------------------------------------------------------
def apply_limits(models: pd.DataFrame, limits: Limits) -> tuple[pd.DataFrame, list[str]]:
    """Rows that pass every hard limit, plus notes on what was excluded and why."""
    keep = pd.Series(True, index=models.index)
    notes: list[str] = []
    # the obtainability switch first, so a missing-data note counts only models that could otherwise be ranked
    for spec in sorted(LIMITS, key=lambda s: not s.rule.first):
        v = getattr(limits, spec.name)
        if spec.rule.active(v):
            keep, note = spec.rule.keep(spec, models, v, keep)
            if note:
                notes.append(note)
    return models[keep], notes


# --- JSON form ----------------------------------------------------------------------------------------------
def _plain(v: Any) -> Any:
    """JSON-safe value: tuples/sets become sorted or ordered lists; NaN and inf become None."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (frozenset, set)):
        return sorted(v)
    if isinstance(v, tuple):
        return list(v)
    return v


def limits_to_dict(limits: Limits, active_only: bool = False) -> dict[str, Any]:
    default = Limits()
    out = {}
    for f in fields(Limits):
        v = getattr(limits, f.name)
        if active_only and v == getattr(default, f.name):
            continue
        out[f.name] = _plain(v)
    return out


def request_to_dict(request: RankRequest) -> dict[str, Any]:
    """Every knob of the request, so loading it back reproduces the ranking exactly."""
    out: dict[str, Any] = {"weights": {k: float(v) for k, v in request.weights.items()},
                           "limits": limits_to_dict(request.limits)}
    for f in fields(RankRequest):
        if f.name not in out:
            out[f.name] = _plain(getattr(request, f.name))
    return out


def limits_from_dict(d: Mapping[str, Any]) -> Limits:
    """Strict: an unknown limit is an error, since dropping it silently would change the ranking."""
    if not isinstance(d, Mapping):
        raise InvalidRequestError("'limits' must be an object")
    unknown = set(d) - set(LIMIT_BY_NAME)
    if unknown:
        raise InvalidRequestError(f"unknown limit(s) {sorted(map(str, unknown))[:5]}")
    kw: dict[str, Any] = {}
    for k, v in d.items():
        spec = LIMIT_BY_NAME[k]
        kw[k] = spec.rule.from_json(spec, v)
    limits = Limits(**kw)
    validate_limits(limits)
    return limits


_REQUEST_KIND = {"normalization": str, "min_coverage": float, "top_k": int, "draws": int, "concentration": float,
                 "seed": int, "stable_share": float, "mode": str, "predict": bool}


def request_from_dict(d: Mapping[str, Any]) -> RankRequest:
    """Inverse of request_to_dict; rejects unknown keys, wrong types and out-of-bounds values."""
    if not isinstance(d, Mapping):
        raise InvalidRequestError("the request must be an object")
    unknown = set(d) - {f.name for f in fields(RankRequest)}
    if unknown:
        raise InvalidRequestError(f"unknown request key(s) {sorted(map(str, unknown))[:5]}")
    w = d.get("weights", {})
    if not isinstance(w, Mapping) or not all(isinstance(k, str) for k in w):
        raise InvalidRequestError("'weights' must map need names to numbers")
    kw: dict[str, Any] = {"weights": {k: _number(f"weights.{k}", v) for k, v in w.items()},
                          "limits": limits_from_dict(d.get("limits", {}))}
    for k, kind in _REQUEST_KIND.items():
        if k not in d:
            continue
        if kind is str:
            if not isinstance(d[k], str):
                raise InvalidRequestError(f"'{k}' must be text")
            kw[k] = d[k]
        elif kind is bool:
            if not isinstance(d[k], bool):
                raise InvalidRequestError(f"'{k}' must be true or false")
            kw[k] = d[k]
        else:
            kw[k] = _number(k, d[k], kind is int)
            if kw[k] is None:
                raise InvalidRequestError(f"'{k}' must be a number, got null")
    return validate_request(RankRequest(**kw))
