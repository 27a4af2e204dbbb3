"""Hard-limit kinds as small rule objects: each knows its value type, its filter, its text and its controls.

A `LimitSpec` (request.py) names its rule by kind; the engine, the JSON form, the CLI and the app's widgets and
URL ask the rule instead of switching on the kind string, so a new kind of limit is one class here.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import pandas as pd

from advisor.errors import InvalidRequestError

MAX_IDS = 100_000  # longest list a list limit accepts


def _text_list(what: str, v: Any) -> None:
    if not isinstance(v, (tuple, list, set, frozenset)) or not all(isinstance(x, str) for x in v):
        raise InvalidRequestError(f"{what} must be a list of text values")
    if len(v) > MAX_IDS:
        raise InvalidRequestError(f"{what}: at most {MAX_IDS} values")


def strings(name: str, v: Any) -> tuple[str, ...]:
    """A JSON list of strings as a tuple, or a message naming the field."""
    if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v):
        raise InvalidRequestError(f"'{name}' must be a list of strings")
    return tuple(v)


def finite(name: str, v: Any, lo: float, hi: float, *, lo_open: bool = False, integer: bool = False) -> None:
    """Raise a message naming `name` unless `v` is a finite number in [lo, hi] (or (lo, hi])."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InvalidRequestError(f"{name} must be a number, got {v!r}")
    if not math.isfinite(float(v)):
        raise InvalidRequestError(f"{name} must be a finite number, got {v}")
    if integer and float(v) != int(v):
        raise InvalidRequestError(f"{name} must be a whole number, got {v}")
    if (v <= lo if lo_open else v < lo) or v > hi:
        left = "(" if lo_open else "["
        raise InvalidRequestError(f"{name} must be in {left}{lo:g}, {hi:g}], got {v:g}")


def number(name: str, v: Any, integer: bool = False) -> Any:
    """A JSON number (None stays None) as int or float, or a message naming the field."""
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InvalidRequestError(f"'{name}' must be a number, got {str(v)[:40]!r}")
    if integer:
        if not math.isfinite(float(v)) or float(v) != int(v):
            raise InvalidRequestError(f"'{name}' must be a whole number, got {v!r}")
        return int(v)
    return float(v)


class LimitRule:
    """What one kind of hard limit means everywhere. `spec` is the LimitSpec using the rule."""

    kind = ""
    numeric = False  # a number (CLI N, number box, JSON number)
    boolean = False  # a true/false switch in the CLI, the app and JSON alike
    widget = ""  # the app's control: "number", "multiselect", "checkbox", or "" (no control)
    first = False  # applied before the others (its notes count only models the others could rank)

    def active(self, v: Any) -> bool:
        return bool(v)

    def keep(self, spec: Any, models: pd.DataFrame, v: Any, keep: pd.Series) -> tuple[pd.Series, str]:
        """Rows passing this limit (given the rows kept so far) and a note on what it left out ('' if none)."""
        return keep, ""

    def describe(self, spec: Any, v: Any) -> str:
        return spec.label

    def check(self, spec: Any, v: Any, what: str) -> None:
        """Raise InvalidRequestError unless `v` is a valid value of this limit."""

    def from_json(self, spec: Any, v: Any) -> Any:
        return v

    def add_option(self, p: argparse.ArgumentParser, spec: Any, dest: str, help_: str) -> None:
        p.add_argument(spec.cli, dest=dest, action="store_true", help=help_)

    def from_cli(self, spec: Any, v: Any, resolve: Any = None, ready: Any = None) -> Any:
        """The Limits value for a parsed CLI option, or None when the option was not given."""
        return True if v else None

    def to_widget(self, v: Any) -> Any:
        """The app's control value (and URL value) for a Limits value."""
        return bool(v)

    def from_widget(self, spec: Any, v: Any, ready_ids: frozenset[str] | None = None) -> Any:
        return bool(v)


class _Compare(LimitRule):
    numeric = True
    widget = "number"
    symbol = ""

    def passes(self, col: pd.Series, v: float) -> pd.Series:
        raise NotImplementedError

    def active(self, v: Any) -> bool:
        return v is not None

    def keep(self, spec: Any, models: pd.DataFrame, v: Any, keep: pd.Series) -> tuple[pd.Series, str]:
        col = pd.to_numeric(models[spec.column], errors="coerce")
        unknown = col.isna() & keep
        note = (f"{int(unknown.sum())} models without {spec.noun} data excluded by the {spec.noun} limit"
                if unknown.any() else "")
        return keep & self.passes(col, v).fillna(False), note

    def describe(self, spec: Any, v: Any) -> str:
        return f"{spec.label} {self.symbol} {v:g}{(' ' + spec.unit) if spec.unit else ''}"

    def check(self, spec: Any, v: Any, what: str) -> None:
        if v is not None:
            finite(what, v, 0.0, 1e12, integer=spec.integer)

    def from_json(self, spec: Any, v: Any) -> Any:
        return number(spec.name, v, spec.integer)

    def add_option(self, p: argparse.ArgumentParser, spec: Any, dest: str, help_: str) -> None:
        p.add_argument(spec.cli, dest=dest, type=int if spec.integer else float, metavar="N", help=help_)

    def from_cli(self, spec: Any, v: Any, resolve: Any = None, ready: Any = None) -> Any:
        return v

    def to_widget(self, v: Any) -> Any:
        return None if v is None else float(v)

    def from_widget(self, spec: Any, v: Any, ready_ids: frozenset[str] | None = None) -> Any:
        return None if v is None else (int(v) if spec.integer else float(v))


class MaxRule(_Compare):
    """At most `v` in `column` (a model without the value is excluded, and counted)."""

    kind = "max"
    symbol = "≤"

    def passes(self, col: pd.Series, v: float) -> pd.Series:
        return col <= v


class MinRule(_Compare):
    """At least `v` in `column`."""

    kind = "min"
    symbol = "≥"

    def passes(self, col: pd.Series, v: float) -> pd.Series:
        return col >= v


class InRule(LimitRule):
    """`column` is one of the listed values (a model without the value is left out, and counted)."""

    kind = "in"
    widget = "multiselect"

    def keep(self, spec: Any, models: pd.DataFrame, v: Any, keep: pd.Series) -> tuple[pd.Series, str]:
        unknown = models[spec.column].isna() & keep
        what = spec.label.lower()
        note = f"{int(unknown.sum())} models without {what} data left out by the {what} limit" if unknown.any() else ""
        return keep & models[spec.column].isin(list(v)), note

    def describe(self, spec: Any, v: Any) -> str:
        vals = sorted(v) if isinstance(v, (set, frozenset)) else list(v)
        shown = ", ".join(str(x) for x in vals[:8]) + (f" (+{len(vals) - 8} more)" if len(vals) > 8 else "")
        return f"{spec.label}: {shown}"

    def check(self, spec: Any, v: Any, what: str) -> None:
        _text_list(what, v)

    def from_json(self, spec: Any, v: Any) -> Any:
        return strings(spec.name, v)

    def add_option(self, p: argparse.ArgumentParser, spec: Any, dest: str, help_: str) -> None:
        p.add_argument(spec.cli, dest=dest, action="append", default=[], metavar="VALUE", help=help_ + " (repeatable)")

    def from_cli(self, spec: Any, v: Any, resolve: Any = None, ready: Any = None) -> Any:
        return tuple(v) if v else None

    def to_widget(self, v: Any) -> Any:
        return list(v)

    def from_widget(self, spec: Any, v: Any, ready_ids: frozenset[str] | None = None) -> Any:
        return tuple(v or ())


class IdsRule(InRule):
    """Only these model ids (no control in the app: a candidate list comes from a report or the CLI)."""

    kind = "ids"
    widget = ""

    def keep(self, spec: Any, models: pd.DataFrame, v: Any, keep: pd.Series) -> tuple[pd.Series, str]:
        return keep & models[spec.column].isin(list(v)), ""

    def from_cli(self, spec: Any, v: Any, resolve: Any = None, ready: Any = None) -> Any:
        if not v:
            return None
        return tuple(resolve(m) for m in v) if resolve is not None else tuple(v)


class ReadyRule(LimitRule):
    """A switch the caller turns into the ids of the models that can be probed live on this machine."""

    kind = "ready"
    widget = "checkbox"

    def active(self, v: Any) -> bool:
        return v is not None

    def keep(self, spec: Any, models: pd.DataFrame, v: Any, keep: pd.Series) -> tuple[pd.Series, str]:
        return keep & models[spec.column].isin(list(v)), ""

    def describe(self, spec: Any, v: Any) -> str:
        return f"{spec.label} ({len(v)} models)"

    def check(self, spec: Any, v: Any, what: str) -> None:
        if v is not None:
            _text_list(what, v)

    def from_json(self, spec: Any, v: Any) -> Any:
        return None if v is None else frozenset(strings(spec.name, v))

    def from_cli(self, spec: Any, v: Any, resolve: Any = None, ready: Any = None) -> Any:
        return ready() if v and ready is not None else None

    def to_widget(self, v: Any) -> Any:
        return v is not None

    def from_widget(self, spec: Any, v: Any, ready_ids: frozenset[str] | None = None) -> Any:
        return (ready_ids or frozenset()) if v else None


class FlagRule(LimitRule):
    """A switch the engine reads itself (no rows filtered here)."""

    kind = "flag"
    boolean = True
    widget = "checkbox"

    def check(self, spec: Any, v: Any, what: str) -> None:
        if not isinstance(v, bool):
            raise InvalidRequestError(f"{what} must be true or false")

    def from_json(self, spec: Any, v: Any) -> Any:
        if not isinstance(v, bool):
            raise InvalidRequestError(f"'{spec.name}' must be true or false")
        return v


class IncludeRule(FlagRule):
    """A switch: off keeps only rows whose boolean `column` is true (by default, models you can get)."""

    kind = "include"
    first = True

    def active(self, v: Any) -> bool:
        return not v

    def keep(self, spec: Any, models: pd.DataFrame, v: Any, keep: pd.Series) -> tuple[pd.Series, str]:
        ok = models[spec.column].astype("boolean").fillna(False).astype(bool)
        dropped = int((keep & ~ok).sum())
        note = (f"{dropped} models without public weights or a known loader left out ({spec.cli} to include them)"
                if dropped else "")
        return keep & ok, note

    def describe(self, spec: Any, v: Any) -> str:
        return spec.label if v else f"only models with public weights ({spec.cli} to include the rest)"


RULES: dict[str, LimitRule] = {r.kind: r for r in (MaxRule(), MinRule(), InRule(), IdsRule(), ReadyRule(), FlagRule(),
                                                   IncludeRule())}


def rule_for(kind: str) -> LimitRule:
    try:
        return RULES[kind]
    except KeyError:
        raise ValueError(f"unknown limit kind {kind!r}; one of {', '.join(RULES)}") from None
