"""Presets that encode the study's advice (Vishniakov et al. 2024) and QUBA's default score."""

from __future__ import annotations

from dataclasses import dataclass, field

from advisor.ids import find_named


@dataclass(frozen=True)
class Preset:
    name: str
    label: str
    rationale: str
    weights: dict[str, float] = field(default_factory=dict)
    limits: dict[str, object] = field(default_factory=dict)
    mode: str = "advisor"
    thin: tuple[str, ...] = ()  # weighted needs few candidates have data for; the rationale says so


PRESETS: tuple[Preset, ...] = (
    Preset("imagenet-like", "My data looks like ImageNet",
           "In-distribution accuracy first (ImageNet top-1 on the full val set, for nearly every model), then "
           "calibrated confidences (ECE from QUBA and the study, about 300 models), robustness to corruptions "
           "(ImageNet-C, about 400 models) and geometric invariance (the study's zoom/shift/resolution tests and "
           "anti-aliased CNNs' shift consistency, only about 50 models); for the rest these needs are predicted "
           "from top-1 and paradigm. The study's case for supervised ConvNeXt.",
           {"accuracy": 1.0, "calibration": 0.5, "corruption": 0.3, "invariance": 0.3}, thin=("invariance",)),
    Preset("distribution-shift", "I expect distribution shift",
           "Accuracy kept on shifted test sets relative to clean accuracy (ImageNet-V2/R/A/Sketch, ObjectNet: "
           "timm, imagenet-testbed, OpenCLIP; nearly every model), errors that do not pile up on ImageNet-X "
           "factors (only about 150 models, predicted for the rest) and shape-leaning decisions: where the study finds "
           "CLIP models strong. Transfer weighs little: only 16 models (none under 30 M parameters) have published "
           "linear probes.",
           {"natural_shift": 1.0, "mistakes": 0.5, "shape_bias": 0.25, "transfer": 0.1},
           thin=("transfer", "mistakes")),
    Preset("calibrated", "I need calibrated confidences",
           "Expected calibration error first (QUBA's calibration error and the study's ECE, about 300 models; "
           "predicted for the rest); accuracy second so a calibrated but weak model does not win.",
           {"calibration": 1.0, "accuracy": 0.25}),
    Preset("invariance", "I need zoom/crop-shift/resolution invariance",
           "Geometric invariance: the study's accuracy under zoom, crop shift and resolution changes (4 models) and "
           "the anti-aliased CNNs' shift consistency (46 models); every other model's invariance is predicted from "
           "its top-1 and paradigm, so probe your candidates live to measure it. Video-frame stability is the "
           "separate need video_stability.",
           {"invariance": 1.0, "accuracy": 0.25}, thin=("invariance",)),
    Preset("fine-tune", "I will fine-tune on my data",
           "Transferability (linear probes: CLIP_benchmark's best-of-sweep on 21 sets and the study's fixed-recipe "
           "VTAB, 16 models, mostly CLIP) is what counts when the head is retrained; every other model counts as "
           "the median until you measure it on your own images (Evaluate: k-NN and linear-probe accuracy). "
           "ImageNet accuracy is left out (for CLIP models it is zero-shot, not what you will get).",
           {"transfer": 1.0}, thin=("transfer",)),
    Preset("edge", "CPU / edge budget",
           "Efficiency first under a hard size cap (parameters, GMACs and timm's throughput benchmarks), then "
           "accuracy (ImageNet top-1).",
           {"efficiency": 1.0, "accuracy": 0.75}, {"max_params_m": 30.0}),
    Preset("quba", "QUBA default",
           "Reproduces the QUBA score: fixed normalisation constants and default weights (Hesse et al. 2025).",
           {}, {}, mode="quba"),
)


def list_presets() -> tuple[Preset, ...]:
    return PRESETS


def get_preset(name: str) -> Preset:
    """Look up a preset; unknown names raise with suggestions."""
    return find_named(PRESETS, name, "preset")
