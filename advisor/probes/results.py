"""Probe results as plain records: tidy rows, per-(model, family) summary, JSON round trip.

No torch here, so the report, the CLI and the ranking can read saved results without loading models.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import pandas as pd

from advisor.store.measured import MEASURED_SOURCE, empty_measured

ROW_COLUMNS = ("model_id", "image", "image_sha256", "family", "magnitude", "identity", "top1_agreement",
               "prob_kept", "kl", "cosine", "ref_class", "pred_class", "ref_prob")
SUMMARY_COLUMNS = ("model_id", "family", "invariance", "mean_prob_kept", "mean_kl", "mean_cosine",
                   "n_images", "n_variants")
JSON_VERSION = 1


@dataclass(frozen=True)
class ModelRun:
    """One probed model: its weights' provenance and how it was run."""

    model_id: str
    kind: str  # the model's backend (advisor.models.registry); named "kind" in saved JSON, so kept
    weights: str  # "pip:...", "hf-cache:...", "file:...", or "random" (never a real model's result)
    precision: str  # what was actually used: fp32 by default; bf16 only on request and if it kept fp32's top-1
    input_size: tuple[int, int]
    num_classes: int
    note: str = ""


@dataclass(frozen=True)
class ImageRun:
    """One accepted image and what intake did to it."""

    name: str
    sha256: str
    original_size: tuple[int, int]
    warnings: tuple[str, ...] = ()


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (model, family): the invariance score = mean top-1 agreement over the non-identity variants.

    Also the mean probability kept, KL and embedding cosine over the same variants. A family whose
    variants all failed for a model has no row (missing, not zero).
    """
    if rows.empty:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    moved = rows[~rows["identity"].astype(bool)]
    g = moved.groupby(["model_id", "family"], sort=False)
    out = g.agg(invariance=("top1_agreement", "mean"), mean_prob_kept=("prob_kept", "mean"),
                mean_kl=("kl", "mean"), mean_cosine=("cosine", "mean"),
                n_images=("image_sha256", "nunique"), n_variants=("top1_agreement", "size")).reset_index()
    return out[list(SUMMARY_COLUMNS)]


def per_magnitude(rows: pd.DataFrame, metric: str = "top1_agreement") -> pd.DataFrame:
    """Mean of a metric per (model, family, magnitude) over images: the curves the UI plots."""
    if rows.empty:
        return pd.DataFrame(columns=["model_id", "family", "magnitude", metric, "n_images"])
    g = rows.groupby(["model_id", "family", "magnitude"], sort=False)
    return g.agg(**{metric: (metric, "mean"), "n_images": ("image_sha256", "nunique")}).reset_index()


@dataclass(frozen=True, eq=False)
class ProbeResult:
    """Everything one probe run measured, with the provenance needed to label it honestly."""

    rows: pd.DataFrame = field(repr=False)
    models: tuple[ModelRun, ...] = ()
    images: tuple[ImageRun, ...] = ()
    families: tuple[tuple[str, tuple[float, ...]], ...] = ()
    errors: tuple[str, ...] = ()  # rejected images, models that could not be loaded
    skipped: tuple[str, ...] = ()  # variants a model cannot run (e.g. a fixed input size)
    seconds: float = 0.0

    @property
    def summary(self) -> pd.DataFrame:
        return summarise(self.rows)

    @property
    def weights(self) -> dict[str, str]:
        return {m.model_id: m.weights for m in self.models}

    def curve(self, metric: str = "top1_agreement") -> pd.DataFrame:
        return per_magnitude(self.rows, metric)

    def changes(self, top: int = 5) -> list[str]:
        """The most common prediction changes, by class name: 'chelsea.png: tiger cat -> Egyptian cat at scale
        1.25 (timm:...)', most frequent (model, from, to) first."""
        from advisor.probes.labels import class_name

        moved = self.rows[~self.rows["identity"].astype(bool) & (self.rows["ref_class"] != self.rows["pred_class"])]
        if moved.empty:
            return []
        n_cls = {m.model_id: m.num_classes for m in self.models}
        g = moved.groupby(["model_id", "ref_class", "pred_class"], sort=False)
        counts = g.size().sort_values(ascending=False, kind="stable").head(top)
        out = []
        for (mid, ref, pred), n in counts.items():
            first = g.get_group((mid, ref, pred)).iloc[0]
            k = n_cls.get(mid, 1000)
            out.append(f"{first['image']}: {class_name(int(ref), k)} -> {class_name(int(pred), k)} at "
                       f"{first['family']} {first['magnitude']:g} ({mid}" + (f", {n} variants)" if n > 1 else ")"))
        return out

    def measured_scores(self) -> pd.DataFrame:
        """Per (model, family) invariance as `measured_invariance` score rows for the ranking.

        Models run with random weights are left out: their numbers say nothing about the real model.
        """
        real = {m.model_id for m in self.models if not str(m.weights).startswith("random")}
        summ = self.summary
        summ = summ[summ["model_id"].isin(real) & summ["invariance"].notna()]
        if summ.empty:
            return empty_measured()
        return pd.DataFrame({
            "model_id": summ["model_id"].to_numpy(), "property_id": "measured_invariance",
            "item": summ["family"].to_numpy(), "value": summ["invariance"].astype(float).to_numpy(),
            "source_id": MEASURED_SOURCE,
            "precision": [f"measured here on {int(n)} image{'s' if n != 1 else ''}" for n in summ["n_images"]],
            "n_images": summ["n_images"].astype(int).to_numpy(),
        }).reindex(columns=list(empty_measured().columns))

    def to_json(self) -> str:
        """A self-contained JSON document (rows as records) that `from_json` reads back."""
        doc = {
            "version": JSON_VERSION,
            "models": [asdict(m) for m in self.models],
            "images": [asdict(i) for i in self.images],
            "families": [{"name": n, "magnitudes": list(g)} for n, g in self.families],
            "errors": list(self.errors),
            "skipped": list(self.skipped),
            "seconds": self.seconds,
            "rows": json.loads(self.rows[list(ROW_COLUMNS)].to_json(orient="records")),
        }
        return json.dumps(doc, indent=1)

    @classmethod
    def from_json(cls, text: str) -> ProbeResult:
        doc = json.loads(text)
        if doc.get("version") != JSON_VERSION:
            raise ValueError(f"unsupported probe result version {doc.get('version')!r}")
        rows = pd.DataFrame(doc["rows"], columns=list(ROW_COLUMNS))
        return cls(
            rows=coerce_rows(rows),
            models=tuple(ModelRun(**{**m, "input_size": tuple(m["input_size"])}) for m in doc["models"]),
            images=tuple(ImageRun(**{**i, "original_size": tuple(i["original_size"]),
                                     "warnings": tuple(i["warnings"])}) for i in doc["images"]),
            families=tuple((f["name"], tuple(float(v) for v in f["magnitudes"])) for f in doc["families"]),
            errors=tuple(doc["errors"]), skipped=tuple(doc["skipped"]), seconds=float(doc["seconds"]),
        )


def coerce_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Fix column order and dtypes, so built and reloaded results compare equal."""
    rows = rows.reindex(columns=list(ROW_COLUMNS))
    types = {"model_id": str, "image": str, "image_sha256": str, "family": str, "magnitude": float,
             "identity": bool, "top1_agreement": float, "prob_kept": float, "kl": float, "cosine": float,
             "ref_class": int, "pred_class": int, "ref_prob": float}
    return rows.astype(types).reset_index(drop=True)
