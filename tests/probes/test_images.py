"""Every intake case goes through `load_image`, the function the UI, the CLI and run_probe use."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from advisor.errors import ImageIntakeError
from advisor.probes.images import bundled_image, bundled_images, load_image, load_image_file, load_images


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def two_tone(w: int = 40, h: int = 20) -> Image.Image:
    """Left half red, right half blue: shows where the image ends up after rotation."""
    arr = np.zeros((h, w, 3), np.uint8)
    arr[:, : w // 2] = (255, 0, 0)
    arr[:, w // 2:] = (0, 0, 255)
    return Image.fromarray(arr)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny valid PNG whose header claims width x height (a decompression bomb's signature)."""
    data = bytearray(encode(Image.new("L", (1, 1))))
    ihdr = bytearray(data[16:29])
    ihdr[0:8] = struct.pack(">II", width, height)
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)) & 0xFFFFFFFF)
    return bytes(data)


def test_plain_rgb_keeps_pixels_and_hashes_bytes():
    img = two_tone()
    data = encode(img)
    r = load_image(data, "uploads/two.png")
    assert r.name == "two.png" and r.image.mode == "RGB" and r.warnings == ()
    assert np.array_equal(np.asarray(r.image), np.asarray(img))
    assert r.sha256 == load_image(data, "other-name.png").sha256
    assert r.original_size == (40, 20) and r.format == "PNG"


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    r = load_image(encode(two_tone(), "JPEG", quality=95, exif=exif), "phone.jpg")
    assert r.image.size == (20, 40)
    top, bottom = np.asarray(r.image)[2, 10], np.asarray(r.image)[-3, 10]
    assert top[0] > 200 and top[2] < 60  # the red (left) half is now on top
    assert bottom[2] > 200 and bottom[0] < 60
    assert any("EXIF orientation" in w for w in r.warnings)


def test_grayscale_becomes_three_equal_channels():
    g = Image.fromarray(np.tile(np.arange(0, 250, 10, dtype=np.uint8), (5, 1)), "L")
    r = load_image(encode(g), "gray.png")
    arr = np.asarray(r.image)
    assert r.image.mode == "RGB" and r.original_mode == "L"
    assert np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 0], np.asarray(g))


def test_palette_image_keeps_its_colours():
    p = two_tone().quantize(colors=4)
    r = load_image(encode(p), "palette.png")
    assert r.original_mode == "P"
    assert tuple(np.asarray(r.image)[0, 0]) == (255, 0, 0) and tuple(np.asarray(r.image)[0, -1]) == (0, 0, 255)


def test_palette_with_transparency_is_flattened_on_white():
    p = Image.new("P", (4, 4), 0)
    p.putpalette([0, 255, 0] + [0, 0, 0] * 255)
    r = load_image(encode(p, transparency=0), "ptrans.png")
    assert tuple(np.asarray(r.image)[0, 0]) == (255, 255, 255)
    assert any("transparent" in w for w in r.warnings)


def test_alpha_is_composited_on_white_and_said():
    rgba = Image.new("RGBA", (4, 2), (255, 0, 0, 255))
    rgba.putpixel((0, 0), (255, 0, 0, 0))
    r = load_image(encode(rgba), "alpha.png")
    assert tuple(np.asarray(r.image)[0, 0]) == (255, 255, 255)
    assert tuple(np.asarray(r.image)[1, 1]) == (255, 0, 0)
    assert any("transparent" in w for w in r.warnings)
    opaque = load_image(encode(Image.new("RGBA", (4, 2), (0, 0, 255, 255))), "opaque.png")
    assert opaque.warnings == ()


def test_cmyk_is_converted_and_said():
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # pure red in CMYK
    r = load_image(encode(cmyk, "JPEG", quality=95), "print.jpg")
    assert r.original_mode == "CMYK" and r.image.mode == "RGB"
    px = np.asarray(r.image)[4, 4]
    assert px[0] > 200 and px[1] < 60 and px[2] < 60
    assert any("CMYK" in w for w in r.warnings)


def test_16_bit_is_scaled_not_clipped():
    arr = np.array([[0, 32896, 65535]], dtype=np.uint16)
    r = load_image(encode(Image.fromarray(arr)), "deep.png")
    assert tuple(np.asarray(r.image)[0, :, 0]) == (0, 128, 255)
    assert any("8 bits" in w for w in r.warnings)


def test_animated_uses_first_frame_and_says_so():
    frames = [Image.new("RGB", (6, 6), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    r = load_image(data, "anim.gif")
    assert tuple(np.asarray(r.image)[3, 3]) == (255, 0, 0)
    assert any("animated (3 frames)" in w and "first frame" in w for w in r.warnings)


@pytest.mark.parametrize(("case", "data", "expected"), [
    ("zero-byte", b"", "empty file"),
    ("non-image", b"%PDF-1.4 definitely not a picture" * 10, "not an image"),
    ("truncated-png", None, "truncated or corrupt"),
    ("truncated-jpeg", None, "truncated or corrupt"),
    ("bomb", None, "decompression bomb"),
])
def test_rejected_files_name_the_file(case, data, expected):
    if case == "truncated-png":
        full = encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)))
        data = full[: len(full) // 2]
    elif case == "truncated-jpeg":
        full = encode(Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), np.uint8)), "JPEG")
        data = full[: len(full) // 2]
    elif case == "bomb":
        data = png_claiming(100_000, 100_000)
    with pytest.raises(ImageIntakeError) as ei:
        load_image(data, f"{case}.bin")
    assert str(ei.value).startswith(f"{case}.bin: ") and expected in str(ei.value)


def test_too_many_pixels_and_too_many_bytes_are_refused():
    data = encode(Image.new("RGB", (300, 200)))
    with pytest.raises(ImageIntakeError, match=r"big\.png: too large: 300×200"):
        load_image(data, "big.png", max_pixels=10_000)
    with pytest.raises(ImageIntakeError, match=r"big\.png: file too large"):
        load_image(data, "big.png", max_bytes=100)


def test_large_photo_is_kept_as_a_bounded_working_copy():
    r = load_image(encode(Image.new("RGB", (3000, 2000), (10, 20, 30))), "huge.png")
    assert r.original_size == (3000, 2000) and min(r.image.size) == 1024 and r.image.size[0] == 1536


def test_one_bad_file_never_stops_the_others(tmp_path):
    good = tmp_path / "good.png"
    good.write_bytes(encode(two_tone()))
    (tmp_path / "bad.png").write_bytes(b"nope")
    ok, errors = load_images([tmp_path / "bad.png", good, ("empty.jpg", b""), tmp_path / "missing.png"])
    assert [r.name for r in ok] == ["good.png"]
    assert len(errors) == 3
    assert errors[0].startswith("bad.png:") and errors[1].startswith("empty.jpg:")
    assert errors[2].startswith("missing.png: cannot read file")


def test_bundled_photos_load_and_carry_their_licence_note():
    names = [p.name for p in bundled_images()]
    assert {"chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "horse.png"} <= set(names)
    note = (bundled_images()[0].parent / "SOURCE.md").read_text()
    assert all(n in note for n in names) and "CC0" in note
    for p in bundled_images():
        assert load_image_file(p).image.mode == "RGB"
    assert bundled_image("chelsea").name == "chelsea.png"
