"""Square crops with padding, odd inputs, provenance read back with Pillow and piexif."""

from __future__ import annotations

import io
import json

import numpy as np
import piexif
import pytest
from PIL import Image
from servers import garbage

from pipeline.config import CropSettings
from pipeline.imaging import ImageError, open_image, square_box, square_crop
from pipeline.metadata import read, save_with_provenance
from pipeline.stages.crop import Cropper


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_square_box_adds_margin_around_the_longer_side():
    assert square_box((10, 20, 30, 60), 0.1) == pytest.approx((-4, 16, 44, 64))


@pytest.mark.parametrize(
    ("pad", "corner"),
    [("white", (255, 255, 255)), ("background", (30, 60, 90)), ("edge", (200, 40, 40))],
)
def test_pad_modes_fill_what_lies_outside_the_picture(pad, corner):
    # A tall red object touching the left edge of a dark-blue backdrop: the square leaves the image.
    image = Image.new("RGB", (200, 100), (30, 60, 90))
    image.paste((200, 40, 40), (0, 0, 40, 100))
    out = square_crop(image, (0, 0, 40, 100), 64, margin=0.1, pad=pad)
    assert out.size == (64, 64) and out.mode == "RGB"
    left_middle = out.getpixel((0, 32))
    assert np.allclose(left_middle, corner, atol=12), left_middle
    assert np.allclose(out.getpixel((28, 32)), (200, 40, 40), atol=12)  # the object, centred


@pytest.mark.parametrize(
    ("name", "make", "mode", "size"),
    [
        ("cmyk.jpg", garbage.cmyk_jpeg, "RGB", (120, 90)),
        ("palette.png", garbage.palette_png_with_transparency, "RGBA", (80, 80)),
        ("sixteen.png", garbage.png_16bit, "RGB", (96, 64)),
        ("rotated.jpg", garbage.exif_rotated_jpeg, "RGB", (100, 200)),
        ("tiny.png", garbage.one_pixel, "RGB", (1, 1)),
        ("anim.gif", garbage.animated_gif, "RGB", (64, 64)),
    ],
)
def test_odd_inputs_decode_upright_as_rgb(tmp_path, name, make, mode, size):
    decoded = open_image(write(tmp_path, name, make()), max_pixels=10**8)
    assert decoded.image.mode == mode
    assert decoded.image.size == size == decoded.size
    out = square_crop(decoded.image, (0, 0, *decoded.image.size), 32)
    assert out.size == (32, 32) and out.mode == "RGB"


def test_sixteen_bit_keeps_its_contrast(tmp_path):
    decoded = open_image(write(tmp_path, "a.png", garbage.png_16bit()), max_pixels=10**8)
    low, high = decoded.image.convert("L").getextrema()
    assert high - low > 200


def test_transparency_is_composited_on_the_pad_colour(tmp_path):
    decoded = open_image(
        write(tmp_path, "p.png", garbage.palette_png_with_transparency()), max_pixels=10**8
    )
    out = square_crop(decoded.image, (0, 0, 80, 80), 40, margin=0)
    assert out.getpixel((1, 1)) == (255, 255, 255)  # transparent corner → white
    assert np.allclose(out.getpixel((20, 20)), (200, 50, 50), atol=10)


def test_bombs_and_broken_files_are_reasons_not_crashes(tmp_path):
    with pytest.raises(ImageError) as bomb:
        open_image(write(tmp_path, "b.png", garbage.png_bomb()), max_pixels=10**8)
    assert bomb.value.reason == "decompression_bomb"
    with pytest.raises(ImageError) as broken:
        open_image(write(tmp_path, "t.jpg", garbage.truncated_jpeg()), max_pixels=10**8)
    assert broken.value.reason == "corrupt"


def test_big_jpeg_is_decoded_at_reduced_size_when_lossless_for_the_output(tmp_path):
    image = Image.new("RGB", (1600, 1200), "white")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    decoded = open_image(write(tmp_path, "big.jpg", buffer.getvalue()), 10**8, min_side=256)
    assert decoded.image.size == (400, 300) and decoded.scale == 0.25
    assert decoded.size == (1600, 1200)


PROVENANCE = {
    "source": "met",
    "object_id": "42",
    "url": "https://images.example.org/42.jpg",
    "page_url": "https://www.example.org/art/42",
    "title": "Amphora — Attic, «black-figure»",
    "license": "CC0",
    "sha256": "ab" * 32,
    "box": [1.0, 2.0, 30.0, 40.0],
    "class": "vase",
    "confidence": 0.91,
}


def test_provenance_in_jpeg_reads_back_with_pillow_and_piexif(tmp_path):
    path = tmp_path / "crop.jpg"
    save_with_provenance(Image.new("RGB", (32, 32), "grey"), path, PROVENANCE)
    assert read(path) == PROVENANCE
    exif = piexif.load(str(path))
    assert exif["0th"][piexif.ImageIFD.Artist] == b"met"
    assert exif["0th"][piexif.ImageIFD.Copyright] == b"CC0"
    assert exif["0th"][piexif.ImageIFD.ImageDescription].decode("utf-8") == PROVENANCE["title"]
    with Image.open(path) as image:
        comment = image.getexif().get_ifd(0x8769)[0x9286]
    assert json.loads(comment[8:]) == PROVENANCE


def test_provenance_in_png_text_chunks(tmp_path):
    path = tmp_path / "crop.png"
    save_with_provenance(Image.new("RGB", (32, 32), "grey"), path, PROVENANCE)
    with Image.open(path) as image:
        assert image.text["Title"] == PROVENANCE["title"]
        assert json.loads(image.text["provenance"]) == PROVENANCE
    assert read(path) == PROVENANCE


def test_cropper_writes_files_and_reports_failures(tmp_path):
    Image.new("RGB", (300, 200), "white").save(tmp_path / "a.jpg")
    (tmp_path / "b.jpg").write_bytes(garbage.truncated_jpeg())
    base = {
        "class_name": "vase",
        "confidence": 0.9,
        "x0": 100,
        "y0": 50,
        "x1": 160,
        "y1": 150,
        "width": 300,
        "height": 200,
    }
    items = [
        {**base, "id": 1, "item_id": 1, "path": "a.jpg", "source": "met", "title": "A"},
        {**base, "id": 2, "item_id": 1, "path": "a.jpg", "source": "met", "title": "A", "x0": 0},
        {**base, "id": 3, "item_id": 2, "path": "b.jpg", "source": "met", "title": "B"},
    ]
    stage = Cropper(CropSettings(format="png", grayscale=True), 64, tmp_path, 10**8)
    results = list(stage.process(items))
    assert [(r.status, r.reason) for r in results] == [
        ("ok", None),
        ("ok", None),
        ("failed", "corrupt"),
    ]
    with Image.open(tmp_path / results[0].data["path"]) as image:
        assert image.size == (64, 64) and image.mode == "L"
    assert read(tmp_path / "crops/64/1.png")["class"] == "vase"
