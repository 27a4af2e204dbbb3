"""Probe results for the report: read once with ProbeResult.from_json, shown as short readable tables.

The full per-variant rows (with image hashes) stay in the JSON report's `probe_results`; the printed
formats show a per-(model, transform) summary, the models' weights and the images, each row once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from advisor.errors import InvalidRequestError
from advisor.probes.results import ProbeResult
from advisor.report.model import ReportTable

CHANGES_TITLE = "Predictions that changed (most common first)"
SUMMARY_TITLE = "How much each model's prediction moves, per transform"
MODELS_TITLE = "Models probed"
IMAGES_TITLE = "Images probed"
ISSUES_TITLE = "Problems during the probe"

# Column -> plain-language help, shown under each table that has the column (and as a tooltip in HTML).
COLUMN_HELP = {
    "invariance": "share of transformed images on which the model's top-1 class stays the one it gave the "
                  "original image (1 = never changes; mean over the transform's non-identity steps)",
    "prob. kept": "probability the model gives, on the transformed image, to the class it picked for the original "
                  "(mean, 0 to 1; read it against the model's confidence on the original image)",
    "KL": "Kullback-Leibler divergence from the original image's class probabilities to the transformed "
          "one's (mean; 0 = identical predictions, larger = the prediction moved more)",
    "cosine": "cosine similarity between the model's embedding of the original and of the transformed image "
              "(mean; 1 = same direction, lower = the features moved)",
    "weights": "where the weights came from; 'random' means untrained weights, never a real model's result",
    "precision": "numeric precision actually used (bf16 only when it agreed with fp32)",
}


def read_probe(raw: Any) -> ProbeResult:
    """The probe results (`advisor probe --json` output, as JSON text or its parsed value) as a ProbeResult."""
    text = raw if isinstance(raw, str) else json.dumps(raw)
    try:
        return ProbeResult.from_json(text)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        what = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) else str(exc)
        raise InvalidRequestError("probe results are not the JSON that `advisor probe --json` writes "
                                  f"({what})") from None


def _size(v: Any) -> str:
    return "×".join(str(int(x)) for x in v) if isinstance(v, (list, tuple)) and v else ""


def probe_tables(probe: ProbeResult | Mapping[str, Any] | str) -> tuple[ReportTable, ...]:
    """Summary per model × transform, then models, images and problems: each fact once, no raw dump."""
    p = probe if isinstance(probe, ProbeResult) else read_probe(probe)
    out = []
    s = p.summary
    if len(s):
        out.append(ReportTable(SUMMARY_TITLE, ("model", "transform", "invariance", "prob. kept", "KL", "cosine",
                                               "images", "variants"),
                               tuple((r.model_id, r.family, _num(r.invariance), _num(r.mean_prob_kept),
                                      _num(r.mean_kl), _num(r.mean_cosine), int(r.n_images), int(r.n_variants))
                                     for r in s.itertuples(index=False))))
    changes = p.changes(top=10)
    if changes:
        out.append(ReportTable(CHANGES_TITLE, ("change",),
                               tuple((c,) for c in changes)))
    if p.models:
        out.append(ReportTable(MODELS_TITLE, ("model", "weights", "precision", "input size", "classes", "note"),
                               tuple((m.model_id, m.weights, m.precision, _size(m.input_size), int(m.num_classes),
                                      m.note) for m in p.models)))
    if p.images:
        out.append(ReportTable(IMAGES_TITLE, ("image", "size (px)", "sha256 (first 12)", "intake warnings"),
                               tuple((i.name, _size(i.original_size), i.sha256[:12], "; ".join(i.warnings))
                                     for i in p.images)))
    issues = [("error", e) for e in p.errors] + [("skipped", e) for e in p.skipped]
    if issues:
        out.append(ReportTable(ISSUES_TITLE, ("kind", "what"), tuple(issues)))
    return tuple(out)


def _num(v: Any) -> float | None:
    """A finite float, or None (missing stays missing: a failed metric is never shown as 0)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def help_for(columns: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    """(column, help text) for the columns of a table that have help."""
    return [(c, COLUMN_HELP[c]) for c in columns if c in COLUMN_HELP]
