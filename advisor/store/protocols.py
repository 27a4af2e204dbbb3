"""Protocol identity: under which conditions each score was measured (test set and subset, labels, classifier,
resolution). One ranked item is one (property, item, protocol); two protocols never share an item.

A protocol is assigned per (source, property) by the PROTOCOL_RULES table below (first match wins), so a new
source is one rule. The `classifier` column says how the classifier was obtained for each row; for accuracy of a
model *as released* (its own head, or zero-shot for an image-text model) it is recorded but is not part of the
identity: the same test set gives the same quantity (what you get from that checkpoint).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Protocol:
    protocol_id: str
    test_set: str  # the test set and subset ("as the item names" where the item is the data set)
    label_set: str
    classifier: str  # how the classifier was obtained, where the protocol fixes it ("" = the model as released)
    resolution: str  # input resolution, where the source states it
    description: str


_P = Protocol
AS_RELEASED = "model as released"
PROTOCOLS: tuple[Protocol, ...] = (
    _P("full", "the full test set named by the item (ImageNet val: 50,000 images)", "the test set's own labels",
       "", "the model's own evaluation resolution",
       "Full test set, each model evaluated as released (its own head; zero-shot for image-text models)."),
    _P("robustbench-5000", "RobustBench's fixed 5,000-image subset of ImageNet val (ImageNet-C / 3DCC: of its "
       "corrupted copies)", "ImageNet-1k", "", "RobustBench's preprocessing (224 px for most entries)",
       "RobustBench leaderboard evaluation on a 5,000-image subset."),
    _P("zero-shot-openclip", "the data set in item", "the data set's class names", "zero-shot, OpenCLIP's "
       "prompt templates and class names", "the model's preprocessing", "OpenCLIP's zero-shot results table."),
    _P("zero-shot-clip-benchmark", "the data set in item", "the data set's class names", "zero-shot, "
       "CLIP_benchmark's prompt templates and class names", "the model's preprocessing",
       "CLIP_benchmark's zero-shot results."),
    _P("linear-probe-sweep", "the data set in item (full training set for the probe)", "the data set's labels",
       "logistic-regression probe on frozen features, regularisation chosen by a sweep (best of sweep)",
       "the model's preprocessing", "CLIP_benchmark's linear-probe results."),
    _P("linear-probe-vtab-fixed", "VTAB-1k task in item (1,000 training images)", "the task's labels",
       "linear probe with one fixed recipe (figure-read from the study)", "224 px",
       "The study's VTAB linear probes (Vishniakov et al. 2024)."),
    _P("imagenetx-224px", "ImageNet val images annotated by ImageNet-X", "ImageNet-X factor annotations", "",
       "224 px", "ImageNet-X error ratios computed from model-vs-human predictions at 224 px."),
    _P("imagenetx-testbed-res", "ImageNet val images annotated by ImageNet-X", "ImageNet-X factor annotations", "",
       "each model's imagenet-testbed resolution", "ImageNet-X error ratios from imagenet-testbed predictions."),
    _P("imagenetx-paper", "ImageNet val images annotated by ImageNet-X", "ImageNet-X factor annotations", "",
       "the ImageNet-X paper's evaluation", "ImageNet-X error ratios published with the data set."),
    _P("cue-conflict", "Geirhos et al.'s 1,280 cue-conflict images (16 classes)", "16 coarse classes", "",
       "224 px", "Shape bias on cue-conflict images."),
    _P("bvg-reevaluation", "the full test set named by the item, re-evaluated by the 'biases vs generalization' "
       "study", "the test set's own labels", "", "the study's preprocessing",
       "Shift and corruption accuracy as re-evaluated by that study; it departs from timm's and the testbed's "
       "figures for the same checkpoints by up to 7 points, so it is linked, not pooled raw."),
    _P("source-evaluation", "as the source states (item)", "as the source states", "", "as the source states",
       "A source's own evaluation where no other source measures the same item under another protocol."),
    _P("model-metadata", "-", "-", "", "-", "Size, compute and throughput: properties of the model, not a test."),
    _P("measured-here", "your labelled images", "your labels", "as the evaluation names it (ImageNet head, "
       "zero-shot on your class names, or probes on frozen features)", "the model's preprocessing",
       "Measured by this tool on your own images (session only)."),
)
BY_ID = {p.protocol_id: p for p in PROTOCOLS}

# (source_id, property_id or "*") -> protocol_id; first match wins.
PROTOCOL_RULES: tuple[tuple[str, str, str], ...] = (
    ("robustbench_linf", "*", "robustbench-5000"),
    ("robustbench_corruptions", "*", "robustbench-5000"),
    ("open_clip_results", "zero_shot_top1", "zero-shot-openclip"),
    ("clip_benchmark_zeroshot", "zero_shot_top1", "zero-shot-clip-benchmark"),
    ("clip_benchmark_linear_probe", "linear_probe_top1", "linear-probe-sweep"),
    ("study_paper", "vtab_linear_probe_top1", "linear-probe-vtab-fixed"),
    ("imagenetx_mvh", "imagenet_x_error_ratio", "imagenetx-224px"),
    ("imagenetx_testbed", "imagenet_x_error_ratio", "imagenetx-testbed-res"),
    ("imagenetx_base", "imagenet_x_error_ratio", "imagenetx-paper"),
    ("study_paper", "imagenet_x_error_ratio", "imagenetx-paper"),
    ("*", "shape_bias", "cue-conflict"),
    ("*", "params_m", "model-metadata"),
    ("*", "gmacs", "model-metadata"),
    ("*", "gflops", "model-metadata"),
    ("*", "throughput_cpu", "model-metadata"),
    ("*", "throughput_gpu", "model-metadata"),
    ("measured_here", "*", "measured-here"),
    ("biases_vs_generalization", "shift_top1", "bvg-reevaluation"),
    ("biases_vs_generalization", "imagenet_c_top1", "bvg-reevaluation"),
    ("*", "imagenet_top1", "full"),
    ("*", "imagenet_real_top1", "full"),
    ("*", "shift_top1", "full"),
    ("*", "imagenet_c_top1", "full"),
    ("*", "*", "source-evaluation"),
)
ZERO_SHOT_PARADIGMS = frozenset({"clip"})


def protocol_of(source_id: str, property_id: str) -> str:
    """The protocol id of a (source, property) by the first matching rule."""
    for src, prop, pid in PROTOCOL_RULES:
        if src in ("*", source_id) and prop in ("*", property_id):
            return pid
    raise KeyError((source_id, property_id))  # unreachable: the last rule matches everything


def classifier_of(protocol_id: str, paradigm: object) -> str:
    """How the classifier of one row was obtained: fixed by the protocol, or the model's own (as released)."""
    fixed = BY_ID[protocol_id].classifier
    if fixed:
        return fixed
    if protocol_id == "model-metadata":
        return ""
    if isinstance(paradigm, str) and paradigm in ZERO_SHOT_PARADIGMS:
        return f"{AS_RELEASED}: zero-shot (image-text model)"
    return f"{AS_RELEASED}: its own classification head"


def assign_protocols(scores: pd.DataFrame, paradigm: pd.Series | None = None) -> pd.DataFrame:
    """`scores` with `protocol` and `classifier` columns (paradigm: model_id -> training paradigm)."""
    pairs = scores[["source_id", "property_id"]].drop_duplicates()
    lookup = {(s, p): protocol_of(s, p) for s, p in pairs.itertuples(index=False)}
    proto = [lookup[k] for k in zip(scores["source_id"], scores["property_id"], strict=True)]
    par = scores["model_id"].map(paradigm) if paradigm is not None else pd.Series(None, index=scores.index)
    return scores.assign(protocol=proto, classifier=[classifier_of(p, q) for p, q in zip(proto, par, strict=True)])


def protocols_table() -> pd.DataFrame:
    """The PROTOCOLS registry as a table (stored, so every view can describe a row's protocol)."""
    return pd.DataFrame([p.__dict__ for p in PROTOCOLS])
