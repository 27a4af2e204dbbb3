"""Transform families, parametrised over the registry so a new family is tested automatically."""

from __future__ import annotations

import pytest
import torch

from advisor.errors import UnknownNameError
from advisor.probes.transforms import (
    Family,
    ViewConfig,
    get_family,
    list_families,
    make_variants,
    reference_view,
    register_family,
    render_view,
    resolution_size,
    to_tensor,
    transformed_strip,
)

FAMILIES = list_families()
CFG = ViewConfig(input_size=(96, 96), crop_pct=0.875, interpolation="bicubic")


def test_registry_has_the_study_families_and_the_extra_ones():
    names = [f.name for f in FAMILIES]
    assert names[:3] == ["scale", "shift", "resolution"]
    assert {"rotation", "brightness", "contrast", "blur", "noise", "jpeg", "perspective"} <= set(names)
    assert get_family("scale").magnitudes == (1.0, 1.25, 1.5, 2.0, 3.0)
    assert get_family("shift").magnitudes == (0.0, 5.0, 30.0, 75.0, 100.0)
    assert sorted(get_family("resolution").magnitudes) == [112.0, 224.0, 336.0, 512.0, 640.0]


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_first_magnitude_is_exactly_the_reference_and_others_change_it(family, cat):
    ref = reference_view(cat.image, CFG)
    variants = make_variants(cat.image, family, CFG, seed=3)
    assert len(variants) == len(family.magnitudes)
    assert torch.equal(variants[0], ref)
    for m, v in zip(family.magnitudes[1:], variants[1:], strict=True):
        assert v.shape[0] == 3 and float(v.min()) >= 0.0 and float(v.max()) <= 1.0
        assert v.shape != ref.shape or not torch.equal(v, ref), f"{family.name} {m} left the image unchanged"


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_variants_are_repeatable(family, cat):
    a = make_variants(cat.image, family, CFG, seed=7)
    b = make_variants(cat.image, family, CFG, seed=7)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_reference_view_is_timms_own_eval_transform(cat):
    from timm.data import create_transform

    for mode in ("center", "squash"):
        cfg = ViewConfig(input_size=(96, 96), crop_pct=0.9, crop_mode=mode, interpolation="bicubic",
                         mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
        timm_tf = create_transform(input_size=(3, 96, 96), crop_pct=0.9, crop_mode=mode,
                                   interpolation="bicubic", mean=cfg.mean, std=cfg.std)
        ours = (reference_view(cat.image, cfg) - 0.5) / 0.5
        assert torch.equal(ours, timm_tf(cat.image)), mode


def test_scale_zooms_into_the_centre(cat):
    zoomed = to_tensor(render_view(cat.image, CFG, zoom=2.0))
    # zoom 2 of the view equals the centre half of a view rendered at twice the size
    big = to_tensor(render_view(cat.image, CFG, size=(192, 192)))
    assert torch.allclose(zoomed, big[:, 48:144, 48:144], atol=2 / 255)


def test_shift_moves_the_window_along_the_long_side_and_pads_black(cat):
    base = to_tensor(render_view(cat.image, CFG))
    moved = to_tensor(render_view(cat.image, CFG, shift=5))
    assert torch.equal(moved[:, :, :-5], base[:, :, 5:])  # the chelsea photo is landscape
    far = to_tensor(render_view(cat.image, CFG, shift=100))
    assert float(far[:, :, -10:].abs().max()) == 0.0  # beyond the photo: black


def test_resolution_grid_is_scaled_to_the_native_size():
    assert [resolution_size(m, ViewConfig(input_size=(224, 224))) for m in (112, 224, 640)] == [
        (112, 112), (224, 224), (640, 640)]
    assert resolution_size(224, ViewConfig(input_size=(260, 260))) == (260, 260)
    assert resolution_size(112, ViewConfig(input_size=(260, 260))) == (130, 130)


def test_transformed_strip_shows_each_magnitude(cat):
    strip = transformed_strip(cat.image, "rotation", CFG)
    assert [m for m, _ in strip] == list(get_family("rotation").magnitudes)
    assert all(im.size == (96, 96) and im.mode == "RGB" for _, im in strip)
    sizes = [im.size for _, im in transformed_strip(cat.image, "resolution", CFG)]
    assert sizes[0] == (96, 96) and sizes[1] == (48, 48)


def test_unknown_family_suggests_a_close_name():
    with pytest.raises(UnknownNameError, match="scale"):
        get_family("scael")


def test_register_family_rejects_a_grid_without_distinct_points():
    with pytest.raises(ValueError):
        register_family(Family("dup", "Dup", "x", (1.0, 1.0), "", "pixel", lambda *a: []))
    assert "dup" not in [f.name for f in list_families()]
