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


PRESETS: tuple[Preset, ...] = (
    Preset("imagenet-like", "My data looks like ImageNet",
           "In-distribution accuracy first, then calibrated confidences, robustness to corruptions, "
           "accuracy on synthetic renders and invariance: the study's case for supervised ConvNeXt.",
           {"accuracy": 1.0, "calibration": 0.5, "corruption": 0.3, "synthetic": 0.3, "invariance": 0.3}),
    Preset("distribution-shift", "I expect distribution shift",
           "Accuracy kept on shifted data relative to clean accuracy, transfer to other domains and errors "
           "that do not pile up on ImageNet-X factors: where the study finds CLIP models strong.",
           {"natural_shift": 1.0, "transfer": 0.5, "mistakes": 0.5, "shape_bias": 0.25}),
    Preset("calibrated", "I need calibrated confidences",
           "Expected calibration error first; accuracy second so a calibrated but weak model does not win.",
           {"calibration": 1.0, "accuracy": 0.25}),
    Preset("invariance", "I need scale/resolution invariance",
           "Accuracy kept under zoom, crop shift and resolution changes (the study's invariance tests).",
           {"invariance": 1.0, "accuracy": 0.25}),
    Preset("fine-tune", "I will fine-tune on my data",
           "Transferability (linear probes on VTAB and other sets) is what counts when the head is retrained; "
           "ImageNet accuracy is left out (for CLIP models it is zero-shot, not what you will get).",
           {"transfer": 1.0}),
    Preset("edge", "CPU / edge budget",
           "Efficiency first under a hard size cap, then accuracy.",
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
