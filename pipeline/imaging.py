"""Pixels: safe decoding of whatever the web served, and the square crop with padding.

`open_image` is the one way the pipeline decodes an original: it refuses decompression bombs,
applies the EXIF orientation, can decode big JPEGs at reduced size (Pillow's draft mode: the
JPEG decoder itself skips detail we would throw away), and normalises every mode (CMYK, palette,
16-bit, with or without alpha) to RGB or RGBA. `square_crop` cuts a square around a box, pads
where the square leaves the picture, and resizes with a high-quality filter.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

PAD_WHITE = (255, 255, 255)


class ImageError(Exception):
    """An original that cannot be used; `reason` is short and machine-friendly."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass
class Decoded:
    image: Image.Image  # RGB or RGBA, upright
    scale: float  # decoded size / original upright size (< 1 when draft mode shrank it)
    size: tuple[int, int]  # the original upright size in pixels


def open_image(path: Path, max_pixels: int, min_side: int | None = None) -> Decoded:
    """Decode `path` upright as RGB/RGBA. With `min_side`, a JPEG may be decoded smaller, never
    below `min_side` pixels on its shorter side (so the output loses nothing)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
            width, height = image.size
            if width * height > max_pixels:
                raise ImageError("decompression_bomb", f"{width}x{height} pixels")
            if image.format == "JPEG" and min_side:
                shrink = max(1, min(width, height) // min_side)
                image.draft("RGB", (width // shrink, height // shrink))
            image.load()
            orientation = image.getexif().get(0x0112, 1)
            image = ImageOps.exif_transpose(image)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError("decompression_bomb", str(exc)) from None
    except FileNotFoundError:
        raise ImageError("missing_file", str(path)) from None
    except Exception as exc:  # Pillow raises many types for damaged data
        raise ImageError("corrupt", str(exc)) from None
    upright = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    image = normalise_mode(image)
    return Decoded(image, image.width / upright[0], upright)


def normalise_mode(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the picture has transparency; 16-bit and CMYK brought to 8-bit RGB."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array * 255.0 / peak, 0, 255).astype(np.uint8), "L")
    if image.mode == "F":
        image = Image.fromarray(np.clip(np.asarray(image), 0, 255).astype(np.uint8), "L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("LA", "PA", "La", "RGBa"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        return image if image.getchannel("A").getextrema()[0] < 255 else image.convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def border_colour(image: Image.Image) -> tuple[int, int, int]:
    """The median colour of the outermost pixels: the backdrop of a typical museum shot."""
    array = np.asarray(image.convert("RGB"))
    border = np.concatenate([array[0], array[-1], array[:, 0], array[:, -1]])
    return tuple(int(v) for v in np.median(border, axis=0))


def square_box(
    box: tuple[float, float, float, float], margin: float
) -> tuple[float, float, float, float]:
    """The square centred on `box` whose side is its longer side plus `margin` of it on each side."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


def square_crop(
    image: Image.Image,
    box: tuple[float, float, float, float],
    resolution: int,
    margin: float = 0.1,
    pad: str = "white",
    background: tuple[int, int, int] | None = None,
) -> Image.Image:
    """Cut the square around `box` (in `image` pixels), pad what falls outside, resize to
    `resolution`². Pads: white, background (the border's median colour), edge (repeat the edge)."""
    sx0, sy0, sx1, sy1 = square_box(box, margin)
    side = max(sx1 - sx0, 1e-6)
    scale = resolution / side
    # The part of the square that lies inside the picture, in picture pixels…
    ix0, iy0 = max(0, int(np.floor(sx0))), max(0, int(np.floor(sy0)))
    ix1, iy1 = min(image.width, int(np.ceil(sx1))), min(image.height, int(np.ceil(sy1)))
    if ix1 <= ix0 or iy1 <= iy0:
        ix0, iy0, ix1, iy1 = 0, 0, image.width, image.height
    # …and where it lands in the output square.
    ox0, oy0 = round((ix0 - sx0) * scale), round((iy0 - sy0) * scale)
    ow = max(1, min(resolution - ox0, round((ix1 - ix0) * scale)))
    oh = max(1, min(resolution - oy0, round((iy1 - iy0) * scale)))
    inside = image.crop((ix0, iy0, ix1, iy1)).resize((ow, oh), Image.LANCZOS, reducing_gap=3.0)
    if pad == "edge":
        array = np.asarray(inside.convert("RGBA") if inside.mode == "RGBA" else inside)
        widths = ((oy0, resolution - oy0 - oh), (ox0, resolution - ox0 - ow)) + ((0, 0),) * (
            array.ndim - 2
        )
        out = Image.fromarray(np.pad(array, widths, mode="edge"), inside.mode)
        return flatten(out, PAD_WHITE)
    colour = (background or border_colour(image)) if pad == "background" else PAD_WHITE
    canvas = Image.new("RGB", (resolution, resolution), colour)
    if inside.mode == "RGBA":
        canvas.paste(inside, (ox0, oy0), inside)  # alpha composited on the pad colour
    else:
        canvas.paste(inside, (ox0, oy0))
    return canvas


def flatten(image: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    if image.mode != "RGBA":
        return image.convert("RGB")
    canvas = Image.new("RGB", image.size, colour)
    canvas.paste(image, (0, 0), image)
    return canvas
