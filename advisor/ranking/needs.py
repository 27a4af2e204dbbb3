"""Declarative registry of user needs and the store properties that serve them."""

from __future__ import annotations

from dataclasses import dataclass

from advisor.errors import UnknownNameError
from advisor.ids import find_named

# Summary items (means over other items) are left out so nothing is counted twice.
SUMMARY_ITEMS = ("average", "average-7-shifts", "mean", "mean_all_19", "mean_natural", "mean_specialized",
                 "mean_structured", "vtab-mean", "average_7_shifts")


@dataclass(frozen=True)
class Feature:
    """One property serving a need, optionally restricted to some items."""

    property_id: str
    items: tuple[str, ...] | None = None  # None: every item except summaries
    exclude: tuple[str, ...] = ()
    flip: bool = False  # reverse the property's direction (texture-leaning)
    relative_to_clean: bool = False  # divide by the same source's ImageNet top-1 (effective robustness)

    def keeps(self, item: str) -> bool:
        if self.items is not None:
            return item in self.items
        return item not in SUMMARY_ITEMS and item not in self.exclude


@dataclass(frozen=True)
class Need:
    name: str
    label: str
    help: str
    features: tuple[Feature, ...]
    reference: str = ""


_F = Feature
IDENTITY = ("1", "1.0", "0", "224")
NEEDS: tuple[Need, ...] = (
    Need("accuracy", "ImageNet accuracy", "Top-1 on ImageNet val (and ReaL labels): matters when your data "
         "looks like ImageNet.", (_F("imagenet_top1", items=("",)), _F("imagenet_real_top1", items=("",)),
                                   _F("measured_top1"), _F("measured_top5")),
         "timm results; QUBA; the study"),
    Need("natural_shift", "Robustness to natural distribution shift",
         "Accuracy kept on shifted test sets (ImageNet-V2/A/R/Sketch, ObjectNet, ...) relative to clean "
         "accuracy (effective robustness), and QUBA's OOD ratio.",
         (_F("shift_top1", exclude=("imagenet-real", "real"), relative_to_clean=True),
          _F("ood_robustness_ratio")), "Taori et al. 2020; Hesse et al. 2025"),
    Need("corruption", "Robustness to corruptions", "ImageNet-C / 3DCC accuracy and QUBA's corruption ratio.",
         (_F("imagenet_c_top1", items=("",)), _F("imagenet_c_mce", items=("",)), _F("imagenet_3dcc_top1"),
          _F("corruption_robustness_ratio")), "Hendrycks & Dietterich 2019"),
    Need("adversarial", "Adversarial robustness", "Accuracy under PGD / AutoAttack and QUBA's adversarial ratio.",
         (_F("adversarial_robustness_ratio"), _F("pgd_top1"), _F("autoattack_top1")), "Croce et al. 2021"),
    Need("calibration", "Calibrated confidences", "Low expected calibration error: the confidence can be "
         "trusted as a probability.", (_F("calibration_error"), _F("ece_15bin"), _F("measured_ece"),
                                       _F("measured_nll")), "Guo et al. 2017"),
    Need("invariance", "Invariance to zoom, crop shift and resolution",
         "Geometric invariance: accuracy kept when zooming in, shifting the crop or changing the test resolution "
         "(the study; identity excluded), shift consistency: how often two randomly shifted crops of one image "
         "get the same class (anti-aliased CNNs), and scores measured here by live probes. Video-frame stability "
         "is a separate need.",
         (_F("invariance_scale_top1", exclude=IDENTITY), _F("invariance_shift_top1", exclude=IDENTITY),
          _F("invariance_resolution_top1", exclude=IDENTITY), _F("shift_consistency"),
          _F("measured_invariance"), _F("measured_invariance_top1")),
         "Vishniakov et al. 2024; Zhang 2019"),
    Need("video_stability", "Stable predictions across video frames",
         "Video-frame consistency: the share of anchor-frame accuracy kept when every nearly identical "
         "neighbouring video frame (within 10) must also be right (ImageNet-Vid-Robust, YTBB-Robust, pm-10 / pm-0). "
         "Small natural changes between frames, not a controlled zoom or shift.",
         (_F("frame_consistency_ratio"),), "Shankar et al. 2021"),
    Need("transfer", "Transferability", "Linear-probe accuracy on VTAB and other downstream sets: how well "
         "the features serve a new task when a head is trained on your data.",
         (_F("vtab_linear_probe_top1"), _F("linear_probe_top1"), _F("measured_linear_probe_top1"),
          _F("measured_knn_top1"), _F("measured_logme")), "Zhai et al. 2019"),
    Need("zero_shot", "Zero-shot transfer", "Zero-shot accuracy of image-text models on downstream sets "
         "(VTAB-like, WILDS, fairness sets): useful with no labelled data of your own.",
         (_F("zero_shot_top1"),), "OpenCLIP results; CLIP_benchmark"),
    Need("mistakes", "Few systematic mistakes (ImageNet-X)", "Low ImageNet-X error ratios: errors do not pile "
         "up on factors such as pose, texture or occlusion.", (_F("imagenet_x_error_ratio"),),
         "Idrissi et al. 2023"),
    Need("shape_bias", "Shape-leaning decisions", "High shape bias on cue-conflict images (human-like).",
         (_F("shape_bias", items=("",)),), "Geirhos et al. 2019"),
    Need("texture_bias", "Texture-leaning decisions", "Low shape bias: decisions lean on texture.",
         (_F("shape_bias", items=("",), flip=True),), "Geirhos et al. 2019"),
    Need("synthetic", "Accuracy on synthetic data", "Top-1 on PUG-ImageNet's photorealistic renders.",
         (_F("pug_imagenet_top1"),), "Bordes et al. 2023"),
    Need("class_balance", "Class balance", "Even accuracy and confidence across classes (QUBA).",
         (_F("class_balance"),), "Hesse et al. 2025"),
    Need("object_focus", "Object focus", "Decisions rest on the object, not the background (QUBA).",
         (_F("object_focus"),), "Hesse et al. 2025"),
    Need("efficiency", "Efficiency", "Few parameters and GMACs, high measured throughput; includes latency and "
         "throughput measured here by `advisor bench` (compared only among models measured in the same setting).",
         (_F("params_m", items=("",)), _F("gmacs"), _F("gflops"), _F("throughput_gpu"), _F("throughput_cpu"),
          _F("measured_latency_ms"), _F("measured_throughput")),
         "timm benchmark files"),
)
EXCLUSIVE = (("shape_bias", "texture_bias"),)


def list_needs() -> tuple[Need, ...]:
    return NEEDS


def need_label(name: str) -> str:
    """A need's user-facing label; other names (e.g. QUBA dimensions) read as words."""
    try:
        return get_need(str(name)).label
    except UnknownNameError:
        return str(name).replace("_", " ")


def get_need(name: str) -> Need:
    """Look up a need; unknown names raise with suggestions."""
    return find_named(NEEDS, name, "need")
