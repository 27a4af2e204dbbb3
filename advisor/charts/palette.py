"""One model -> colour rule for the app and the report: a model's colour follows from its id, not from the
order of the chart it is drawn in, so the same model looks the same on every page and in every report."""

from __future__ import annotations

import copy
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import altair as alt

# Tableau 10 then Vega's category20 darks: 20 colours that stay distinct on white.
MODEL_PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d",
                 "#bab0ac", "#eeca3b", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                 "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
# One marker per model too, so lines stay tellable apart where colours are close or lines overlap.
MODEL_SHAPES = ("circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "triangle-right",
                "triangle-left")


DISTINCT = 10  # the first ten (Tableau 10) are distinct hues; the second ten are near twins of them


def colour_slot(model_id: str) -> int:
    """The palette slot a model asks for: a checksum of its id (stable across runs and machines), one of the
    ten distinct hues."""
    return zlib.crc32(str(model_id).encode("utf-8")) % DISTINCT


def model_colours(model_ids: Iterable[str]) -> dict[str, str]:
    """model_id -> colour: each model gets its own hue; two models asking for one hue are told apart by giving
    the later id (in sorted order) the next free distinct hue (the twin colours only past ten models), so
    the mapping depends on the set of models drawn together, never on the order a chart lists them in."""
    ids = list(dict.fromkeys(str(m) for m in model_ids))
    taken: set[int] = set()
    slot: dict[str, int] = {}
    n = len(MODEL_PALETTE)
    for m in sorted(ids, key=lambda m: (colour_slot(m), m)):
        s = colour_slot(m)
        if len(taken) < n:
            free = [i for i in range(n) if i not in taken]
            # the nearest free distinct hue after the asked one, then the nearest free twin
            s = min(free, key=lambda i: (i >= DISTINCT, (i - s) % DISTINCT))
        taken.add(s)
        slot[m] = s
    return {m: MODEL_PALETTE[slot[m]] for m in ids}


def model_colour_scale(model_ids: Iterable[str]) -> alt.Scale:
    """An Altair colour scale with the fixed model -> colour mapping of `model_colours` (domain in the given
    order, which is the legend's order)."""
    colours = model_colours(model_ids)
    return alt.Scale(domain=list(colours), range=list(colours.values()))


def model_shape_scale(model_ids: Iterable[str]) -> alt.Scale:
    """Markers in the given order (the legend merges them with the colours of the same field)."""
    ids = list(dict.fromkeys(str(m) for m in model_ids))
    return alt.Scale(domain=ids, range=[MODEL_SHAPES[i % len(MODEL_SHAPES)] for i in range(len(ids))])


def _model_colour_encodings(node: Any) -> list[dict]:
    """Every `color` encoding keyed on model_id anywhere in a Vega-Lite spec (layers, facets, concats)."""
    found = []
    if isinstance(node, dict):
        enc = node.get("encoding")
        if isinstance(enc, dict) and isinstance(enc.get("color"), dict) and enc["color"].get("field") == "model_id":
            found.append(enc["color"])
        for v in node.values():
            found += _model_colour_encodings(v)
    elif isinstance(node, list):
        for v in node:
            found += _model_colour_encodings(v)
    return found


def _spec_models(spec: Any) -> list[str]:
    """model_id values in a spec's inline data (altair puts them under `datasets`)."""
    out: list[str] = []
    for rows in (spec.get("datasets") or {}).values() if isinstance(spec, dict) else ():
        for r in rows:
            m = r.get("model_id") if isinstance(r, dict) else None
            if m is not None and m not in out:
                out.append(str(m))
    return out


def recolour_specs(specs: Sequence[Mapping[str, Any] | None], order: Sequence[str] = ()
                   ) -> list[dict[str, Any] | None]:
    """Copies of Vega-Lite specs whose model colours all use one scale over every model drawn in any of them
    (legend order: `order` first, e.g. a shortlist's ranks); None stays None, the inputs are not changed."""
    drawn: list[str] = []
    for s in specs:
        if s is not None and _model_colour_encodings(s):
            drawn += [m for m in _spec_models(s) if m not in drawn]
    if not drawn:
        return [None if s is None else dict(s) for s in specs]
    domain = [m for m in order if m in drawn] + [m for m in drawn if m not in order]
    colours = model_colours(domain)
    scale = {"domain": domain, "range": [colours[m] for m in domain]}
    out: list[dict[str, Any] | None] = []
    for s in specs:
        if s is None:
            out.append(None)
            continue
        spec = copy.deepcopy(dict(s))
        for enc in _model_colour_encodings(spec):
            enc["scale"] = dict(scale)
        out.append(spec)
    return out
