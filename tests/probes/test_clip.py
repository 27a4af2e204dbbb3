"""The open_clip path on a tiny CLIP config registered here: zero-shot head, disk cache, probing."""

from __future__ import annotations

import open_clip
import pytest
import torch

from advisor.models.loaded import clear_model_cache, load_model
from advisor.probes.invariance import run_probe
from advisor.probes.transforms import reference_view


@pytest.fixture(scope="session")
def head_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("clip-heads")


@pytest.fixture
def tiny(tiny_clip_config, head_cache, monkeypatch):
    """The tiny CLIP, its zero-shot head built once per session (tests that check the build use tmp_path)."""
    monkeypatch.setenv("VISION_ADVISOR_CACHE", str(head_cache))
    clear_model_cache()
    yield tiny_clip_config
    clear_model_cache()


def test_tiny_clip_gets_a_zero_shot_imagenet_head_cached_on_disk(tiny, tmp_path, monkeypatch, cat):
    monkeypatch.setenv("VISION_ADVISOR_CACHE", str(tmp_path))
    m = load_model(tiny)
    assert m.backend == "open_clip" and m.weights == "random" and m.num_classes == 1000
    assert m.head.shape == (32, 1000)
    assert torch.allclose(m.head.norm(dim=0), torch.ones(1000), atol=1e-5)  # unit class embeddings
    files = list((tmp_path / "zeroshot").glob("*.pt"))
    assert len(files) == 1 and "-simple-" in files[0].name

    # The head is open_clip's own classifier for these class names and templates.
    tok = open_clip.get_tokenizer("test-tiny-clip")
    direct = open_clip.build_zero_shot_classifier(m.module, tok, open_clip.IMAGENET_CLASSNAMES[:3],
                                                  open_clip.SIMPLE_IMAGENET_TEMPLATES)
    assert torch.allclose(m.head[:, :3], direct, atol=1e-5)

    # A second load reads the file instead of running the text tower again.
    clear_model_cache()

    def must_not_build(*a, **k):
        raise AssertionError("rebuilt the zero-shot head")

    monkeypatch.setattr(open_clip, "build_zero_shot_classifier", must_not_build)
    again = load_model(tiny)
    assert torch.equal(again.head, m.head)

    logits, emb = again.forward(reference_view(cat.image, again.view).unsqueeze(0))
    assert logits.shape == (1, 1000) and emb.shape == (1, 32)
    assert float(emb.norm()) == pytest.approx(1.0, abs=1e-4)


def test_clip_view_follows_open_clips_own_preprocessing(tiny, cat):
    m = load_model(tiny)
    assert m.view.input_size == (64, 64) and m.view.crop_pct == 1.0
    _, _, preprocess = open_clip.create_model_and_transforms("test-tiny-clip")
    assert torch.allclose(
        (reference_view(cat.image, m.view) - torch.tensor(m.view.mean).view(3, 1, 1))
        / torch.tensor(m.view.std).view(3, 1, 1), preprocess(cat.image), atol=1e-6)


def test_run_probe_over_the_open_clip_path(tiny, cat):
    r = run_probe([cat], [tiny], ["scale", "brightness"])
    assert r.errors == ()
    assert r.models[0].kind == "open_clip" and r.models[0].weights == "random"
    ident = r.rows[r.rows.identity]
    assert (ident.top1_agreement == 1.0).all() and ident.cosine.min() == pytest.approx(1.0, abs=1e-6)
    assert len(r.rows) == 10 and set(r.summary.family) == {"scale", "brightness"}


def test_unknown_template_set_is_refused(tiny):
    m = load_model(tiny)
    with pytest.raises(ValueError, match="template set"):
        m.zero_shot_head(["cat", "dog"], "fancy")


def _own_class_folders(root, imagenet_samples, per_class: int = 3):
    """Two own classes ('fish', 'bird'), a few ImageNet sample photos each, as class subfolders."""
    import csv

    with (imagenet_samples / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    groups = {"fish": [r for r in rows if int(r["class_index"]) < 7][:per_class],
              "bird": [r for r in rows if 7 <= int(r["class_index"]) < 25][:per_class]}
    for label, rs in groups.items():
        (root / label).mkdir(parents=True)
        for r in rs:
            (root / label / r["file"]).symlink_to(imagenet_samples / "images" / r["file"])
    return root


def test_evaluate_zero_shot_on_own_class_names_is_open_clips_own_classifier(tiny, imagenet_samples, tmp_path):
    """Own class names reach the open_clip backend's zero-shot head: open_clip's classifier, its templates and
    the model's logit scale, exactly as computed by hand here.

    Mutant caught: evaluate not asking the registry whether the backend classifies by class names
    (`can_zero_shot` -> False: the task becomes 'transfer' and no top-1 is reported)."""
    from advisor.evaluate.run import evaluate
    from advisor.probes.images import load_image_file

    data = _own_class_folders(tmp_path / "data", imagenet_samples)
    result = evaluate(data, [tiny], label_set="own", cache_root=tmp_path / "cache")
    m = result.models[0]
    assert m.task == "zero-shot" and m.n_images == 6

    model = load_model(tiny)
    names = list(result.classes)
    head = open_clip.build_zero_shot_classifier(model.module, open_clip.get_tokenizer("test-tiny-clip"), names,
                                                open_clip.SIMPLE_IMAGENET_TEMPLATES)
    files = sorted((p for p in data.rglob("*.jpg")), key=lambda p: p.name)
    x = torch.stack([reference_view(load_image_file(p).image, model.view) for p in files])
    _, emb = model.forward(x)
    pred = (model.module.logit_scale.exp() * emb @ head).argmax(-1)
    truth = torch.tensor([names.index(p.parent.name) for p in files])
    assert m.correct == int((pred == truth).sum())
    assert m.metrics["top1"].value == pytest.approx(float((pred == truth).float().mean()))


def test_zero_shot_heads_are_cached_per_class_set_and_refused_for_timm(tiny, tmp_path, monkeypatch):
    """Mutant caught: the head cache keyed without the class names (the ImageNet head came back for 2 classes)."""
    monkeypatch.setenv("VISION_ADVISOR_CACHE", str(tmp_path))
    m = load_model(tiny)
    a = m.zero_shot_head(["cat", "dog"])
    b = m.zero_shot_head(["cat", "dog"], ["a photo of a {}.", "a drawing of a {}."])
    assert a.weights.shape == b.weights.shape == (32, 2) and not torch.equal(a.weights, b.weights)
    assert a.classnames == ("cat", "dog") and b.templates == ("a photo of a {}.", "a drawing of a {}.")
    assert len(list((tmp_path / "zeroshot").glob("*.pt"))) == 3  # ImageNet's, and one per (classes, templates)
    emb = torch.nn.functional.normalize(torch.randn(4, 32), dim=-1).double().numpy()
    assert a.logits(emb).shape == (4, 2)

    from advisor.errors import InvalidRequestError

    timm_model = load_model("timm:test_resnet")
    assert not timm_model.can_zero_shot and m.can_zero_shot
    with pytest.raises(InvalidRequestError, match="cannot classify by class names"):
        timm_model.zero_shot_head(["cat", "dog"])
