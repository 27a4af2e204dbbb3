"""Declarative registry of the properties (metrics) the store holds.

A property is one metric with one unit and one direction; the data set, factor or
magnitude it was measured on goes in the score's `item`. Ranking never mixes raw
values across properties or sources.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Property:
    property_id: str
    need: str  # the user need it serves (see advisor.ranking.needs)
    label: str
    unit: str  # '%', 'fraction', 'ratio', 'M', 'GMACs', 'img/s', ...
    higher_is_better: bool
    description: str
    reference: str


_P = Property
PROPERTIES: tuple[Property, ...] = (
    # accuracy
    _P("imagenet_top1", "accuracy", "ImageNet top-1", "%", True,
       "Top-1 accuracy on the ImageNet-1k validation set (zero-shot for CLIP models unless noted).",
       "Russakovsky et al. 2015"),
    _P("imagenet_real_top1", "accuracy", "ImageNet-ReaL top-1", "%", True,
       "Top-1 on ImageNet val with the ReaL re-assessed labels.", "Beyer et al. 2020"),
    # natural distribution shift
    _P("shift_top1", "natural_shift", "Top-1 under natural shift", "%", True,
       "Top-1 on a shifted ImageNet test set; item names the set (imagenet-v2, imagenet-a, imagenet-r, "
       "imagenet-sketch, objectnet, stylized-imagenet, imagenet-hard, ...).", "Taori et al. 2020"),
    _P("ood_robustness_ratio", "natural_shift", "OOD robustness (QUBA)", "ratio", True,
       "Geometric mean of shifted/clean accuracy on edge, silhouette, sketch, stylized and ImageNet-R.",
       "Hesse et al. 2025 (QUBA)"),
    # corruptions
    _P("imagenet_c_top1", "corruption", "ImageNet-C top-1", "%", True,
       "Top-1 on ImageNet-C; item '' is the mean over corruptions and severities, otherwise "
       "'<corruption>' or '<corruption>/<severity>'.", "Hendrycks & Dietterich 2019"),
    _P("imagenet_c_mce", "corruption", "ImageNet-C mCE", "%", False,
       "Mean corruption error relative to AlexNet (lower is better).", "Hendrycks & Dietterich 2019"),
    _P("imagenet_3dcc_top1", "corruption", "ImageNet-3DCC top-1", "%", True,
       "Top-1 on 3D common corruptions.", "Kar et al. 2022"),
    _P("corruption_robustness_ratio", "corruption", "Corruption robustness (QUBA)", "ratio", True,
       "ImageNet-C accuracy / clean accuracy, averaged over severities then corruptions.",
       "Hesse et al. 2025 (QUBA)"),
    # adversarial
    _P("adversarial_robustness_ratio", "adversarial", "Adversarial robustness (QUBA)", "ratio", True,
       "Geometric mean of PGD/clean and FGSM/clean accuracy (L-inf, eps 8/255).",
       "Hesse et al. 2025 (QUBA)"),
    _P("pgd_top1", "adversarial", "Top-1 under PGD", "%", True,
       "Top-1 under a PGD attack; item names norm and epsilon.", "Madry et al. 2018"),
    _P("autoattack_top1", "adversarial", "Top-1 under AutoAttack", "%", True,
       "RobustBench AutoAttack accuracy; item names norm and epsilon.", "Croce et al. 2021"),
    # calibration
    _P("calibration_error", "calibration", "Calibration error (QUBA)", "unitless", False,
       "Geometric mean of ACE and ECE (15 bins) on ImageNet val.", "Hesse et al. 2025 (QUBA)"),
    _P("ece_15bin", "calibration", "ECE (15 bins)", "fraction", False,
       "Expected calibration error, 15 equal-width bins, no temperature scaling; item names the data set.",
       "Guo et al. 2017"),
    # invariance (the study)
    _P("invariance_scale_top1", "invariance", "Top-1 under zoom-in", "%", True,
       "ImageNet top-1 when zooming in by the factor in item (1 = identity).", "Vishniakov et al. 2024"),
    _P("invariance_shift_top1", "invariance", "Top-1 under crop shift", "%", True,
       "ImageNet top-1 when the crop window is shifted by item pixels (0 = identity).",
       "Vishniakov et al. 2024"),
    _P("invariance_resolution_top1", "invariance", "Top-1 at test resolution", "%", True,
       "ImageNet top-1 at the test resolution in item (224 = identity).", "Vishniakov et al. 2024"),
    _P("shift_consistency", "invariance", "Shift consistency", "%", True,
       "Share of ImageNet val images whose top-1 class is the same for two random shifts of the 224 px crop "
       "(`main.py -es` of antialiased-cnns).", "Zhang 2019"),
    _P("frame_consistency_ratio", "video_stability", "Video-frame consistency", "ratio", True,
       "pm-10 / pm-0 accuracy on a video robustness set (item): the share of anchor-frame accuracy kept when "
       "every neighbouring frame within 10 must also be classified correctly (1 = perfectly stable).",
       "Shankar et al. 2021"),
    _P("frame_pm10_top1", "video_stability", "Top-1 over neighbouring frames (pm-10)", "%", True,
       "Accuracy when the anchor frame and every frame within 10 of it must all be right (item: data set).",
       "Shankar et al. 2021"),
    _P("measured_invariance", "invariance", "Invariance measured here", "fraction", True,
       "Invariance score measured by this tool's live probes on the user's own images (session only, "
       "never stored); item names the transform family.", "Vision Advisor live probes"),
    # transfer
    _P("vtab_linear_probe_top1", "transfer", "VTAB linear probe top-1", "%", True,
       "Linear-probe top-1 on VTAB tasks; item names the task or group mean.", "Zhai et al. 2019"),
    _P("linear_probe_top1", "transfer", "Linear probe top-1", "%", True,
       "Full-data linear-probe top-1 (CLIP_benchmark); item names the data set.", "LAION CLIP_benchmark"),
    _P("zero_shot_top1", "zero_shot", "Zero-shot top-1", "%", True,
       "Zero-shot classification top-1 / score on a downstream data set (item).", "OpenCLIP results"),
    # mistakes
    _P("imagenet_x_error_ratio", "mistakes", "ImageNet-X error ratio", "ratio", False,
       "Error on images with the factor in item / overall error (1 = average).", "Idrissi et al. 2023"),
    # shape bias
    _P("shape_bias", "shape_bias", "Shape bias", "fraction", True,
       "Shape decisions / (shape + texture decisions) on cue-conflict images (shape=texture dropped).",
       "Geirhos et al. 2019"),
    # synthetic data
    _P("pug_imagenet_top1", "synthetic", "PUG-ImageNet top-1", "%", True,
       "Top-1 on photorealistic synthetic PUG-ImageNet; item names the factor subset.",
       "Bordes et al. 2023"),
    # class balance, object focus
    _P("class_balance", "class_balance", "Class balance (QUBA)", "fraction", True,
       "Geometric mean of 1 - std of per-class accuracy and 1 - mean within-class prob. std.",
       "Hesse et al. 2025 (QUBA)"),
    _P("object_focus", "object_focus", "Object focus (QUBA)", "ratio", True,
       "1 - (Mixed-Same - Mixed-Rand accuracy) / clean accuracy on ImageNet-9 backgrounds.",
       "Hesse et al. 2025 (QUBA)"),
    # efficiency
    _P("params_m", "efficiency", "Parameters", "M", False,
       "Total parameters in millions (CLIP zero-shot: image + text towers unless noted).", ""),
    _P("gmacs", "efficiency", "GMACs", "GMACs", False,
       "Multiply-accumulates per image at the benchmark resolution.", "timm benchmark"),
    _P("gflops", "efficiency", "GFLOPs", "GFLOPs", False, "Floating-point operations per image.", ""),
    _P("throughput_gpu", "efficiency", "GPU throughput", "img/s", True,
       "Inference images per second on the named GPU benchmark file (item).", "timm benchmark"),
    _P("throughput_cpu", "efficiency", "CPU throughput", "img/s", True,
       "Inference images per second on the named CPU benchmark file (item).", "timm benchmark"),
    # measured here by `advisor evaluate` on the user's labelled images (session / --measured only)
    _P("measured_top1", "accuracy", "Top-1 measured here", "%", True,
       "Top-1 on your labelled images (ImageNet classes, or CLIP zero-shot on your class names).",
       "Vision Advisor evaluate"),
    _P("measured_top5", "accuracy", "Top-5 measured here", "%", True,
       "Top-5 on your labelled images.", "Vision Advisor evaluate"),
    _P("measured_ece", "calibration", "ECE measured here", "fraction", False,
       "15-bin expected calibration error on your labelled images (torchmetrics).", "Guo et al. 2017"),
    _P("measured_nll", "calibration", "NLL measured here", "nats", False,
       "Mean negative log-likelihood of the true class on your labelled images.", "Vision Advisor evaluate"),
    _P("measured_knn_top1", "transfer", "k-NN top-1 measured here", "%", True,
       "Out-of-fold k-NN accuracy of frozen features on your labels (stratified k-fold).",
       "Vision Advisor evaluate"),
    _P("measured_linear_probe_top1", "transfer", "Linear probe top-1 measured here", "%", True,
       "Out-of-fold logistic-regression accuracy of frozen features on your labels (stratified k-fold).",
       "Vision Advisor evaluate"),
    _P("measured_logme", "transfer", "LogME measured here", "unitless", True,
       "LogME evidence of frozen features for your labels (comparable within one data set only).",
       "You et al. 2021"),
    _P("measured_invariance_top1", "invariance", "Top-1 under transforms measured here", "%", True,
       "Top-1 on your labelled images under the transform family in item (mean over its non-identity "
       "magnitudes).", "Vision Advisor evaluate"),
    # measured here by `advisor bench` on the user's machine (session / --measured only; item = the setting)
    _P("measured_latency_ms", "efficiency", "Latency measured here", "ms", False,
       "Median time of one batch-1 forward pass on this machine; item names device, threads and precision.",
       "Vision Advisor bench"),
    _P("measured_throughput", "efficiency", "Throughput measured here", "img/s", True,
       "Median images per second at the batch size in item, on the device, threads and precision in item.",
       "Vision Advisor bench"),
)

PROPERTY_IDS = frozenset(p.property_id for p in PROPERTIES)


def get_property(property_id: str) -> Property:
    """Look up a property by id (KeyError if unknown)."""
    for p in PROPERTIES:
        if p.property_id == property_id:
            return p
    raise KeyError(property_id)
