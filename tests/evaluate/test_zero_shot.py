"""Zero-shot on the user's own class names: names and templates read and checked, logits equal to open_clip's
own classifier on a small random-weight CLIP, figures next to k-NN / linear-probe ones, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from advisor.errors import InvalidRequestError
from advisor.evaluate.zero_shot import ZeroShotOptions, parse_class_names, parse_templates, zero_shot_logits

TINY = {  # a random-weight CLIP small enough for a test (registered with open_clip below)
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 1, "width": 64, "patch_size": 16},
    "text_cfg": {"context_length": 24, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}
TINY_ID = "open_clip:test-zs-clip"
LABELS = ("c_blue", "c_red")


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    import open_clip

    path = tmp_path_factory.mktemp("clipcfg") / "test-zs-clip.json"
    path.write_text(json.dumps(TINY))
    open_clip.add_model_config(path)
    return TINY_ID


@pytest.fixture
def clip_cache(tmp_path_factory, monkeypatch):
    """One head cache for the module (the ImageNet head of the tiny model is built once)."""
    root = tmp_path_factory.getbasetemp() / "zs-heads"
    monkeypatch.setenv("VISION_ADVISOR_CACHE", str(root))
    return root


def _photos(root, per_class: int = 5):
    """Own-label folders of tinted noise photos: blue-ish and red-ish (deterministic)."""
    rng = np.random.default_rng(0)
    for c, label in zip((2, 0), LABELS, strict=True):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            px = rng.integers(0, 110, (80, 96 + 4 * i, 3), dtype=np.uint8)
            px[..., c] += 140
            Image.fromarray(px).save(root / label / f"{label}_{i}.png")
    return root


# --- reading the user's names and templates ---------------------------------------------------------
def test_class_names_file_formats_and_errors(tmp_path):
    f = tmp_path / "names.csv"
    f.write_text('label,name\nc_blue,a blue thing\n"c_red","red, reddish"\n', encoding="utf-8")
    assert parse_class_names(f) == {"c_blue": "a blue thing", "c_red": "red, reddish"}
    assert parse_class_names("# mine\nc_blue = sky\n\nc_red\tfire\n") == {"c_blue": "sky", "c_red": "fire"}
    with pytest.raises(InvalidRequestError, match="line 1"):
        parse_class_names("just-a-label\n")
    with pytest.raises(InvalidRequestError, match="named twice"):
        parse_class_names("a=x\na=y\n")
    opts = ZeroShotOptions({"c_red": "fire"})
    assert opts.names_for(list(LABELS)) == ["c_blue", "fire"]  # a label without a name keeps its own
    with pytest.raises(InvalidRequestError, match="not in the data: c_green"):
        ZeroShotOptions({"c_green": "grass"}).names_for(list(LABELS))
    with pytest.raises(InvalidRequestError, match="share the class name"):
        ZeroShotOptions({"c_red": "c_blue"}).names_for(list(LABELS))


def test_templates_a_set_name_or_the_users_file(tmp_path):
    assert parse_templates("openai") == "openai" and parse_templates("simple") == "simple"
    f = tmp_path / "t.txt"
    f.write_text("a photo of a {}.\n# comment\n\nitap of a {}\na photo of a {}.\n", encoding="utf-8")
    assert parse_templates(f) == ("a photo of a {}.", "itap of a {}")
    f.write_text("a photo of a thing\n", encoding="utf-8")
    with pytest.raises(InvalidRequestError, match=r"exactly one \{\}"):
        parse_templates(f)
    with pytest.raises(InvalidRequestError, match="not a file"):
        parse_templates(tmp_path / "missing.txt")


# --- logits equal open_clip's own classifier --------------------------------------------------------
def test_zero_shot_logits_equal_open_clips_own_classifier(tiny_clip, clip_cache, tmp_path):
    """Mutant caught: the head built from the labels instead of the user's class names, or from the default
    templates instead of the user's (open_clip's classifier over the user's prompts then differs)."""
    import open_clip
    import torch

    from advisor.models.loaded import clear_model_cache, load_model
    from advisor.probes.images import load_image_file
    from advisor.probes.transforms import reference_view

    clear_model_cache()
    model = load_model(tiny_clip)
    names, templates = ["a blue square", "a red square"], ("a photo of {}.", "a blurry picture of {}")
    files = sorted(_photos(tmp_path / "data").rglob("*.png"))
    x = torch.stack([reference_view(load_image_file(p).image, model.view) for p in files])
    _, emb = model.forward(x)
    opts = ZeroShotOptions(dict(zip(LABELS, names, strict=True)), templates)
    ours, prompted, note = zero_shot_logits(tiny_clip, LABELS, emb.double().numpy(), opts)
    assert prompted == names and "2 renamed" in note and "2 prompt template(s)" in note

    with torch.inference_mode():
        clf = open_clip.build_zero_shot_classifier(model.module, open_clip.get_tokenizer("test-zs-clip"),
                                                   names, templates, device="cpu")
        img = model.module.encode_image((x - torch.tensor(model.view.mean).view(1, -1, 1, 1)) /
                                        torch.tensor(model.view.std).view(1, -1, 1, 1), normalize=True)
        ref = (model.module.logit_scale.exp() * img @ clf).double().numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4)
    assert (ours.argmax(1) == ref.argmax(1)).all()
    clear_model_cache()


def test_evaluate_reports_zero_shot_next_to_knn_and_linear_probe(tiny_clip, clip_cache, tmp_path):
    """top-1 / top-5 / ECE of the zero-shot head with intervals, and the same model's k-NN and linear-probe
    accuracy, in one result (JSON too); the prompts used are named in the notes."""
    from advisor.evaluate.result import EvaluationResult
    from advisor.evaluate.run import evaluate

    data = _photos(tmp_path / "data")
    opts = ZeroShotOptions({"c_blue": "blue", "c_red": "red"}, ("a {} photo.",))
    r = evaluate(data, [tiny_clip], label_set="own", cache_root=tmp_path / "cache", zero_shot=opts)
    m = r.models[0]
    assert m.task == "zero-shot" and m.n_images == 10
    for k in ("top1", "top5", "ece", "knn_top1", "linear_probe_top1"):
        f = m.metrics[k]
        assert f.n == 10 and f.ci_low <= f.value <= f.ci_high, k
    assert m.metrics["top5"].value == 1.0  # two classes: the truth is always in the top 5
    assert {c["class"] for c in m.per_class} == {"blue", "red"}
    assert any("1 prompt template(s) (1 template(s) of your own)" in n for n in m.notes)
    assert EvaluationResult.from_json(r.to_json()) == r


def test_cli_zero_shot_with_class_names_and_templates(tiny_clip, clip_cache, tmp_path, capsys):
    from advisor.cli import main

    data = _photos(tmp_path / "data")
    names = tmp_path / "names.csv"
    names.write_text("c_blue,blue\nc_red,red\n", encoding="utf-8")
    tpl = tmp_path / "templates.txt"
    tpl.write_text("a {} photo.\na photo that is {}.\n", encoding="utf-8")
    assert main(["evaluate", str(data), "-m", tiny_clip, "--labels", "own", "--class-names", str(names),
                 "--templates", str(tpl), "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert "task: zero-shot" in out and "zero-shot top1" in out and "knn_top1" in out
    assert "linear_probe_top1" in out and "2 prompt template(s)" in out
    tpl.write_text("no placeholder\n", encoding="utf-8")
    assert main(["evaluate", str(data), "-m", tiny_clip, "--templates", str(tpl)]) != 0
    err = capsys.readouterr().err
    assert "exactly one {}" in err and "Traceback" not in err

