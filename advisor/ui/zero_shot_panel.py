"""The Evaluate page's run options: precision and device, and zero-shot on the user's own class names.

Widgets only: what they mean is `advisor.evaluate.run.evaluate`'s `precision`, `device` and `zero_shot`
(the CLI's --precision, --device, --class-names and --templates). fp32 is the default; a faster
precision is shown with each model's top-1 agreement with fp32 in the results.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from advisor.errors import AdvisorError
from advisor.textsafe import md_escape, visible_text

PRECISION = "eval_precision"
DEVICE = "eval_device"
ZS_NAMES = "eval_zs_names"  # "label = name" lines
ZS_NAMES_FOR = "_eval_zs_names_for"  # the labels the text area was filled from
ZS_SET = "eval_zs_templates"  # "simple", "openai" or "custom"
ZS_CUSTOM = "eval_zs_custom"  # the user's templates, one per line
PRECISION_HELP = {"fp32": "fp32 (exact, the default)", "bf16": "bf16 (faster on CPUs with bf16 units, GPUs)",
                  "fp16": "fp16 (GPUs)", "auto": "auto (bf16/fp16 where this hardware runs it faster)"}
TEMPLATE_SETS = {"simple": "open_clip's 7 prompts", "openai": "OpenAI's 80 ImageNet prompts",
                 "custom": "my own templates"}


def _labels(root: Path | None, within: str | None = None) -> tuple[str, ...]:
    """The data's own labels when they are not ImageNet classes (zero-shot needs names), else (); read
    inside `within` (the upload's folder) like the rest of the page."""
    if root is None:
        return ()
    from advisor.evaluate.data import load_labelled_cached

    try:
        labelled = load_labelled_cached(root, within=within)
    except AdvisorError:
        return ()
    return labelled.classes if labelled.imagenet is None else ()


def _zero_shot_models(models: list[str]) -> list[str]:
    from advisor.models.registry import can_zero_shot

    out = []
    for m in models:
        try:
            if can_zero_shot(m):
                out.append(m)
        except AdvisorError:
            continue
    return out


def render(root: Path | None, models: list[str], within: str | None = None) -> None:
    """Precision and device selects; for image-text models on own labels, class names and templates."""
    from advisor.evaluate.loader import AGREEMENT_SAMPLE
    from advisor.models.device import DEFAULT_DEVICE, DEVICES
    from advisor.models.precision import DEFAULT_PRECISION, PRECISIONS

    s = st.session_state
    s.setdefault(PRECISION, DEFAULT_PRECISION)
    s.setdefault(DEVICE, DEFAULT_DEVICE)
    with st.expander("Precision, device and zero-shot", icon=":material/speed:"):
        # One above the other: side by side in the left column (about 140 px each at 1,280 px) the chosen
        # option's text was cut.
        st.selectbox("Precision", list(PRECISIONS), key=PRECISION, format_func=PRECISION_HELP.get,
                       help="fp32 gives the same results on every machine. A faster precision is recorded with "
                            f"each model's top-1 agreement with fp32 on {AGREEMENT_SAMPLE} images spread over the "
                            "data.")
        st.selectbox("Device", list(DEVICES), key=DEVICE,
                        help="auto: a CUDA GPU, else Apple MPS, else the CPU. Results do not depend on it.")
        labels, clip = _labels(root, within), _zero_shot_models(models)
        if not clip:
            st.caption("Zero-shot on your class names needs an image-text model (CLIP) among the models.")
            return
        if not labels:
            st.caption("Zero-shot uses your own labels; these images are labelled with ImageNet classes, so "
                       f"{', '.join(clip)} classify them with their ImageNet head.")
            return
        if s.get(ZS_NAMES_FOR) != labels:  # new data: one "label = name" line per label, names = labels
            s[ZS_NAMES] = "\n".join(f"{lab} = {lab}" for lab in labels)
            s[ZS_NAMES_FOR] = labels
        st.text_area("Class names prompted for each label (label = name)", key=ZS_NAMES, height=140,
                     help="Rename labels such as folder ids into words a CLIP model knows.")
        s.setdefault(ZS_SET, "simple")
        st.radio("Prompt templates", list(TEMPLATE_SETS), key=ZS_SET, format_func=TEMPLATE_SETS.get,
                 horizontal=True)
        if s[ZS_SET] == "custom":
            s.setdefault(ZS_CUSTOM, "a photo of a {}.\na close-up photo of a {}.")
            st.text_area("Templates, one per line, {} for the class name", key=ZS_CUSTOM, height=100)
        try:
            run_options()
        except AdvisorError as exc:
            st.error(md_escape(visible_text(str(exc))), icon=":material/error:")


def run_options() -> dict:
    """The keyword arguments of `evaluate` these widgets set (InvalidRequestError for bad names/templates)."""
    from advisor.evaluate.zero_shot import ZeroShotOptions, parse_class_names, parse_templates

    s = st.session_state
    opts: dict = {"precision": s.get(PRECISION, "fp32"), "device": s.get(DEVICE, "auto")}
    if s.get(ZS_NAMES_FOR):
        templates = parse_templates(s.get(ZS_CUSTOM, "") + "\n") if s.get(ZS_SET) == "custom" else \
            s.get(ZS_SET, "simple")
        names = parse_class_names(s.get(ZS_NAMES, "") + "\n")
        opts["zero_shot"] = ZeroShotOptions(names, templates)
    return opts


def show_run(result) -> None:
    """Under the results: the precision and device used, and each model's agreement with fp32."""
    from advisor.evaluate.loader import AGREEMENT_METRIC

    text = f"Ran in **{md_escape(result.precision)}** on **{md_escape(result.device)}**."
    agree = [(m.model_id, m.metrics[AGREEMENT_METRIC]) for m in result.models if AGREEMENT_METRIC in m.metrics]
    if agree:
        text += " Top-1 agreement with fp32: " + "; ".join(
            f"{md_escape(mid)} {100 * f.value:.1f} % of {f.n} images [{100 * f.ci_low:.1f}–{100 * f.ci_high:.1f}]"
            for mid, f in agree) + "."
    st.caption(text)
