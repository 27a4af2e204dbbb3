"""A small, hand-seeded property store for UI tests (schema from the package, rows made up here).

The values are synthetic test data, not published scores: they are shaped so that the ranking
flips when calibration outweighs accuracy, and so that the study's four models carry every detail view.
"""

from __future__ import annotations

from pathlib import Path

STUDY = ("timm:convnext_base.fb_in22k_ft_in1k", "timm:deit3_base_patch16_224.fb_in22k_ft_in1k",
         "open_clip:ViT-B-16.laion400m_e31", "open_clip:convnext_base.laion400m_s13b_b51k")
ACCURATE = "timm:acc_net.a1_in1k"  # best accuracy, worst calibration
CALIBRATED = "timm:cal_net.a1_in1k"  # best calibration, lower accuracy
FIGURE = "figure-pixel ±0.3"

# model_id: (paradigm, arch_type, params_m, gmacs, licence, top1, ece)
MODELS = {
    ACCURATE: ("supervised", "CNN", 60.0, 12.0, "apache-2.0", 88.0, 0.090),
    CALIBRATED: ("supervised", "Transformer", 22.0, 4.6, "apache-2.0", 84.0, 0.010),
    "timm:small_net.a1_in1k": ("supervised", "CNN", 5.0, 0.6, "apache-2.0", 77.0, 0.040),
    "timm:mid_net.a1_in1k": ("self-supervised", "Transformer", 30.0, 6.0, "cc-by-nc-4.0", 82.0, 0.050),
    "timm:big_net.a1_in1k": ("semi-supervised", "hybrid", 300.0, 60.0, "apache-2.0", 86.0, 0.060),
    STUDY[0]: ("supervised", "CNN", 89.0, 15.4, "apache-2.0", 85.5, 0.080),
    STUDY[1]: ("supervised", "Transformer", 87.0, 17.5, "apache-2.0", 85.0, 0.070),
    STUDY[2]: ("clip", "vision-language", 87.0, 17.5, "mit", 67.0, 0.045),
    STUDY[3]: ("clip", "vision-language", 89.0, 15.4, "mit", 66.0, 0.040),
}


def _rows() -> list[tuple]:
    rows = []
    for i, (mid, (_, _, params, gmacs, _, top1, ece)) in enumerate(MODELS.items()):
        rows += [(mid, "imagenet_top1", "", top1, "timm", "exact"), (mid, "params_m", "", params, "timm", "exact"),
                 (mid, "gmacs", "", gmacs, "timm", "exact"), (mid, "ece_15bin", "imagenet_1k", ece, "paper", "exact"),
                 (mid, "throughput_cpu", "cpu_bench", 400.0 / (1 + gmacs), "timm", "exact")]
        if mid in STUDY:
            k = STUDY.index(mid)
            clip = k >= 2
            for j, f in enumerate(("pose", "background", "texture", "color")):
                rows.append((mid, "imagenet_x_error_ratio", f, 0.8 + 0.1 * j + 0.05 * k, "imagenetx", FIGURE))
            for j, d in enumerate(("v2", "a", "r", "sketch")):
                rows.append((mid, "shift_top1", d, 40.0 + 5 * j + (15 if clip else 0) - k, "paper", "exact"))
            for j, g in enumerate(("mean_natural", "mean_specialized", "mean_structured", "dtd", "eurosat")):
                rows.append((mid, "vtab_linear_probe_top1", g, 60.0 + 8 * j + k, "paper", "figure-text exact"))
            for j, f in enumerate(("worlds", "camera_yaw", "object_scale")):
                rows.append((mid, "pug_imagenet_top1", f, 50.0 + 6 * j - 2 * k, "paper", FIGURE))
            for prop, grid in (("invariance_scale_top1", ("1", "1.5", "2")),
                               ("invariance_shift_top1", ("0", "5", "30")),
                               ("invariance_resolution_top1", ("112", "224", "336"))):
                for j, item in enumerate(grid):
                    rows.append((mid, prop, item, top1 - 4 * j * (1 + k / 4), "paper", FIGURE))
            rows.append((mid, "shape_bias", "", 0.2 + 0.15 * k, "paper", "exact"))
        elif i % 2 == 0:
            rows.append((mid, "shape_bias", "", 0.25 + 0.05 * i, "paper", "exact"))
    return rows


def make_store(path: Path) -> Path:
    """Write the fixture store at `path` and return it."""
    builder = load_helper(Path(__file__).parents[1] / "store_builder.py", "tests_store_builder")
    src = [("timm", "timm results", "timm", "x", "f.csv", "c", "Apache-2.0", False),
           ("paper", "the study", "study", "x", "f.csv", "c", "CC BY 4.0", False),
           ("imagenetx", "ImageNet-X", "imagenetx", "x", "f.csv", "c", "CC BY-NC 4.0", True)]
    models = [{"model_id": mid, "arch_type": arch, "paradigm": paradigm, "params_m": params, "gmacs": gmacs,
               "img_size": 224, "loader": mid.split(":", 1)[0], "load_name": mid.split(":", 1)[1],
               "weights_licence": lic, "meta_source_id": "timm", **_obtain(mid)}
              for mid, (paradigm, arch, params, gmacs, lic, _, _) in MODELS.items()]
    aliases = [("study", k, m) for k, m in zip(("convnext_sup", "vit_sup", "vit_clip", "convnext_clip"), STUDY,
                                               strict=True)]
    return builder.write_store(path, sources=src, models=models, scores=_rows(), aliases=aliases)


def _obtain(mid: str) -> dict:
    ns, name = mid.split(":", 1)
    if ns == "open_clip":
        arch, tag = name.split(".", 1)
        call = f'open_clip.create_model_and_transforms("{arch}", pretrained="{tag}")'
    else:
        call = f'timm.create_model("{name}", pretrained=True)'
    return {"obtainable": True, "weights_from": ns, "load_call": call, "obtain_note": f"public weights via {ns}"}


def load_helper(path: Path, name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
