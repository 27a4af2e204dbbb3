"""The open_clip path on a tiny CLIP config registered here: zero-shot head, disk cache, probing."""

from __future__ import annotations

import open_clip
import pytest
import torch

from advisor.probes import clip
from advisor.probes.backends import clear_model_cache, load_model
from advisor.probes.invariance import run_probe
from advisor.probes.transforms import reference_view
from advisor.probes.weights import WeightsSource, parse_model_id


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
    assert m.kind == "open_clip" and m.weights == "random" and m.num_classes == 1000
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
    spec = parse_model_id(tiny)
    with pytest.raises(ValueError, match="template set"):
        clip.zero_shot_head(spec, m.module, WeightsSource("random", "random"), "fancy")
