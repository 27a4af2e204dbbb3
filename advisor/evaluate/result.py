"""An evaluation's result as plain data: JSON round trip and measured scores for the ranking.

No torch here: the report, the CLI and the ranking read saved results without loading models.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import pandas as pd

from advisor.evaluate.stats import Figure

KIND = "vision-advisor-evaluation"
VERSION = 1
SOURCE_ID = "measured_here"
SCORE_COLUMNS = ("model_id", "property_id", "item", "value", "source_id", "precision", "n_images", "ci_low",
                 "ci_high")
# metric -> (property id, scale to the property's unit)
MEASURED_PROPERTIES = {
    "top1": ("measured_top1", 100.0), "top5": ("measured_top5", 100.0), "ece": ("measured_ece", 1.0),
    "nll": ("measured_nll", 1.0), "knn_top1": ("measured_knn_top1", 100.0),
    "linear_probe_top1": ("measured_linear_probe_top1", 100.0), "logme": ("measured_logme", 1.0),
}


@dataclass(frozen=True)
class InvariancePoint:
    """Accuracy (when labels allow) and label-free agreement with the reference at one magnitude."""

    family: str
    magnitude: float
    identity: bool
    top1: Figure | None
    agreement: Figure


@dataclass(frozen=True)
class ModelEvaluation:
    model_id: str
    weights: str
    task: str  # "imagenet", "zero-shot" (CLIP on your class names) or "transfer" (features only)
    n_images: int
    published_top1: float | None = None  # the model's published ImageNet top-1 (%), shown alongside
    metrics: dict[str, Figure] = field(default_factory=dict)
    reliability: tuple[dict, ...] = ()
    per_class: tuple[dict, ...] = ()
    confusions: tuple[dict, ...] = ()
    invariance: tuple[InvariancePoint, ...] = ()
    correct: int | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvaluationResult:
    data: str
    label_set: str  # "imagenet" or "own"
    classes: tuple[str, ...]
    images: tuple[dict, ...]  # name, sha256, label
    models: tuple[ModelEvaluation, ...]
    families: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    seconds: float = 0.0
    executor: str = "local"
    precision: str = "fp32"  # what the forward passes ran in (fp32 unless asked; see loader.AGREEMENT_METRIC)
    device: str = "cpu"

    def model(self, model_id: str) -> ModelEvaluation:
        return next(m for m in self.models if m.model_id == model_id)

    def to_json(self) -> str:
        """A self-contained JSON document that `from_json` reads back."""
        doc = {"kind": KIND, "version": VERSION, **asdict(self)}
        return json.dumps(doc, indent=1, allow_nan=False, default=_nan_safe)

    @classmethod
    def from_json(cls, text: str) -> EvaluationResult:
        doc = json.loads(text)
        if doc.get("kind") != KIND or doc.get("version") != VERSION:
            raise ValueError(f"not a vision-advisor evaluation (kind {doc.get('kind')!r}, "
                             f"version {doc.get('version')!r})")
        models = tuple(_model_from(m) for m in doc["models"])
        return cls(doc["data"], doc["label_set"], tuple(doc["classes"]), tuple(doc["images"]), models,
                   tuple(doc["families"]), tuple(doc["errors"]), float(doc["seconds"]), doc["executor"],
                   doc.get("precision", "fp32"), doc.get("device", "cpu"))

    def measured_scores(self) -> pd.DataFrame:
        """Scores for the ranking: one row per (model, measured property, item), source 'measured_here'."""
        rows = []
        for m in self.models:
            for name, fig in m.metrics.items():
                if name not in MEASURED_PROPERTIES or fig is None or not math.isfinite(fig.value):
                    continue
                pid, scale = MEASURED_PROPERTIES[name]
                rows.append(_score(m.model_id, pid, "", fig, scale))
            by_family: dict[str, list[InvariancePoint]] = {}
            for p in m.invariance:
                if not p.identity and p.top1 is not None:
                    by_family.setdefault(p.family, []).append(p)
            for fam, pts in by_family.items():
                fig = family_top1(pts)
                rows.append(_score(m.model_id, "measured_invariance_top1", fam, fig, 100.0))
        return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))


def family_top1(points: list[InvariancePoint]) -> Figure:
    """Mean top-1 over a family's non-identity magnitudes; the interval is the mean of theirs (each
    magnitude is over the same images, so this is conservative rather than a joint bootstrap)."""
    n = len(points)
    return Figure(sum(p.top1.value for p in points) / n, sum(p.top1.ci_low for p in points) / n,
                  sum(p.top1.ci_high for p in points) / n, min(p.top1.n for p in points))


def _score(model_id: str, pid: str, item: str, fig: Figure, scale: float) -> dict:
    digits = 1 if scale == 100.0 else 3
    lo, hi = fig.ci_low * scale, fig.ci_high * scale
    text = f"measured here on {fig.n} images, 95% CI {lo:.{digits}f}–{hi:.{digits}f}"
    return {"model_id": model_id, "property_id": pid, "item": item, "value": fig.value * scale,
            "source_id": SOURCE_ID, "precision": text, "n_images": fig.n, "ci_low": lo, "ci_high": hi}


def _nan_safe(o):
    raise TypeError(f"cannot serialise {type(o).__name__}")


def _fig(d: dict | None) -> Figure | None:
    return None if d is None else Figure(float(d["value"]), float(d["ci_low"]), float(d["ci_high"]), int(d["n"]))


def _model_from(m: dict) -> ModelEvaluation:
    inv = tuple(InvariancePoint(p["family"], float(p["magnitude"]), bool(p["identity"]), _fig(p["top1"]),
                                _fig(p["agreement"])) for p in m["invariance"])
    return ModelEvaluation(m["model_id"], m["weights"], m["task"], int(m["n_images"]), m["published_top1"],
                           {k: _fig(v) for k, v in m["metrics"].items()}, tuple(m["reliability"]),
                           tuple(m["per_class"]), tuple(m["confusions"]), inv, m["correct"], tuple(m["notes"]))
