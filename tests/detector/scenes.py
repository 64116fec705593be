"""Procedural pictures of vessels: the training data of the test detector and the demo museum.

    draw_object(kind, height, rng) -> RGBA image of one vase, cup, bowl or cake (transparent around)
    draw_distractor(size, rng)     -> RGBA image of something that is not a vessel
    background(size, busy, rng)    -> RGB backdrop: plain studio paper or a cluttered room
    make_scene(size, rng, kinds=…) -> (RGB image, [(kind, (x0, y0, x1, y1)), …])
    museum_photo(kind, size, busy, rng) -> (RGB image, box): one object, centred, like a museum shot

Everything is drawn with Pillow from a numpy Generator, so a seed gives the same pictures.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

KINDS = ("vase", "cup", "bowl", "cake")
GLAZES = [
    (46, 84, 140),
    (150, 60, 40),
    (60, 120, 90),
    (200, 180, 140),
    (30, 30, 35),
    (170, 140, 60),
    (220, 220, 210),
    (120, 70, 120),
]


def _colour(rng: np.random.Generator, palette=GLAZES) -> tuple[int, int, int]:
    base = np.array(palette[rng.integers(len(palette))])
    return tuple(int(v) for v in np.clip(base + rng.integers(-25, 26, 3), 0, 255))


def _shade(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A soft left-to-right light falloff, so objects look lit rather than flat."""
    w, h = image.size
    ramp = (
        np.linspace(1.15, 0.7, w)[None, :, None]
        if rng.random() < 0.5
        else np.linspace(0.7, 1.15, w)[None, :, None]
    )
    pixels = np.asarray(image).astype(np.float32)
    pixels[..., :3] = np.clip(pixels[..., :3] * ramp, 0, 255)
    return Image.fromarray(pixels.astype(np.uint8), "RGBA")


def _profile_vessel(
    width: int, height: int, profile: list[tuple[float, float]], colour, rng
) -> Image.Image:
    """A body of revolution: `profile` gives (y, half-width) pairs from top to bottom in 0..1."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    cx = width / 2
    right = [(cx + r * (width - 1), y * (height - 1)) for y, r in profile]
    left = [(cx - r * (width - 1), y * (height - 1)) for y, r in reversed(profile)]
    draw.polygon(right + left, fill=colour + (255,))
    # a painted band or two, as glazes often have
    for _ in range(rng.integers(0, 3)):
        y = rng.uniform(0.3, 0.8) * height
        band = _colour(rng)
        draw.line([(0, y), (width, y)], fill=band + (255,), width=max(2, height // 40))
    image.putalpha(
        Image.composite(
            image.getchannel("A"), Image.new("L", image.size, 0), _mask(right + left, image.size)
        )
    )
    return _shade(image, rng)


def _mask(points, size) -> Image.Image:
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).polygon(points, fill=255)
    return mask


def draw_object(kind: str, height: int, rng: np.random.Generator) -> Image.Image:
    """One object of `kind`, `height` pixels tall, on a transparent background (tight box)."""
    colour = _colour(rng)
    if kind == "vase":
        width = int(height * rng.uniform(0.45, 0.75))
        neck, belly, foot = rng.uniform(0.12, 0.25), rng.uniform(0.42, 0.5), rng.uniform(0.18, 0.3)
        profile = [
            (0.0, neck * 1.3),
            (0.08, neck),
            (0.25, neck * 1.1),
            (0.45, belly),
            (0.65, belly * 0.95),
            (0.88, foot * 1.1),
            (0.95, foot),
            (1.0, foot * 1.05),
        ]
        return _profile_vessel(width, height, profile, colour, rng)
    if kind == "bowl":
        width = int(height * rng.uniform(1.7, 2.4))
        profile = (
            [(0.0, 0.5), (0.15, 0.49)]
            + [(0.15 + 0.7 * t, 0.49 * math.cos(t * 1.2) ** 0.8) for t in np.linspace(0.1, 1, 8)]
            + [(0.88, 0.18), (1.0, 0.2)]
        )
        return _profile_vessel(width, height, profile, colour, rng)
    if kind == "cup":
        body_w = int(height * rng.uniform(0.7, 0.95))
        handle = int(body_w * 0.35)
        image = Image.new("RGBA", (body_w + handle, height), (0, 0, 0, 0))
        body = _profile_vessel(
            body_w, height, [(0.0, 0.5), (0.85, 0.42), (0.95, 0.38), (1.0, 0.4)], colour, rng
        )
        draw = ImageDraw.Draw(image)
        thickness = max(3, handle // 4)
        draw.ellipse(
            (body_w - handle, height * 0.2, body_w + handle - 1, height * 0.7),
            outline=colour + (255,),
            width=thickness,
        )
        image.alpha_composite(body, (0, 0))
        return image
    if kind == "cake":
        width = int(height * rng.uniform(1.1, 1.6))
        image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        sponge = _colour(rng, [(230, 200, 150), (120, 70, 40), (250, 230, 230)])
        icing = _colour(rng, [(255, 250, 245), (240, 170, 190), (110, 60, 30)])
        top = int(height * 0.3)
        draw.rectangle((0, top, width - 1, height - 1), fill=sponge + (255,))
        draw.ellipse((0, top - height * 0.12, width - 1, top + height * 0.12), fill=icing + (255,))
        for layer in range(1, rng.integers(2, 4)):
            y = top + (height - top) * layer / 3
            draw.rectangle((0, y - 3, width - 1, y + 3), fill=icing + (255,))
        for _ in range(rng.integers(0, 5)):  # candles or berries
            x = rng.uniform(0.15, 0.85) * width
            draw.rectangle(
                (x - 3, top - height * 0.28, x + 3, top - height * 0.02), fill=_colour(rng) + (255,)
            )
        return _shade(image, rng)
    raise ValueError(f"unknown kind {kind!r}; known kinds: {', '.join(KINDS)}")


def draw_distractor(size: int, rng: np.random.Generator) -> Image.Image:
    """Something that is not a vessel: a book, a frame, a ball, a stick."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    colour = _colour(rng) + (255,)
    shape = rng.integers(4)
    if shape == 0:  # book / box
        draw.rectangle((0, size * 0.3, size - 1, size - 1), fill=colour)
    elif shape == 1:  # picture frame
        draw.rectangle((0, 0, size - 1, size * 0.8), outline=colour, width=max(3, size // 10))
    elif shape == 2:  # ball
        draw.ellipse((size * 0.1, size * 0.1, size * 0.9, size * 0.9), fill=colour)
    else:  # stick
        draw.line((0, size - 1, size - 1, 0), fill=colour, width=max(3, size // 12))
    return image


def background(size: tuple[int, int], busy: bool, rng: np.random.Generator) -> Image.Image:
    """Studio paper (a smooth light gradient) or a busy room (texture and clutter)."""
    w, h = size
    if not busy:
        tone = np.array(
            _colour(rng, [(245, 245, 242), (225, 225, 222), (235, 228, 215), (200, 205, 210)]),
            dtype=np.float32,
        )
        ramp = np.linspace(1.0, rng.uniform(0.85, 0.97), h)[:, None, None]
        pixels = np.broadcast_to(tone, (h, w, 3)) * ramp
        return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    small = rng.integers(40, 200, (max(2, h // 32), max(2, w // 32), 3), dtype=np.uint8)
    image = Image.fromarray(small, "RGB").resize(size, Image.BILINEAR)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.integers(6, 14)):
        x, y = rng.integers(0, w), rng.integers(0, h)
        r = rng.integers(min(w, h) // 20, min(w, h) // 5)
        draw.rectangle((x, y, x + r * rng.uniform(0.5, 2), y + r), fill=_colour(rng))
    return image.filter(ImageFilter.GaussianBlur(1))


def place(
    canvas: Image.Image, sprite: Image.Image, xy: tuple[int, int]
) -> tuple[int, int, int, int]:
    """Paste `sprite` with its alpha; return its tight box (from the alpha) in canvas pixels."""
    canvas.paste(sprite, xy, sprite)
    x0, y0, x1, y1 = sprite.getchannel("A").getbbox()
    return (xy[0] + x0, xy[1] + y0, xy[0] + x1, xy[1] + y1)


def make_scene(
    size: int, rng: np.random.Generator, kinds: tuple[str, ...] = KINDS, max_objects: int = 2
) -> tuple[Image.Image, list[tuple[str, tuple[int, int, int, int]]]]:
    """A square scene with 1..max_objects vessels (non-overlapping) and up to two distractors."""
    canvas = background((size, size), bool(rng.random() < 0.4), rng)
    taken: list[tuple[int, int, int, int]] = []
    for _ in range(rng.integers(0, 3)):
        d = draw_distractor(int(size * rng.uniform(0.1, 0.25)), rng)
        canvas.paste(
            d, (int(rng.integers(0, size - d.width)), int(rng.integers(0, size - d.height))), d
        )
    labels = []
    for _ in range(rng.integers(1, max_objects + 1)):
        kind = kinds[rng.integers(len(kinds))]
        sprite = draw_object(kind, int(size * rng.uniform(0.25, 0.6)), rng)
        if sprite.width > size * 0.95:
            sprite = sprite.resize(
                (int(size * 0.9), max(8, int(sprite.height * size * 0.9 / sprite.width)))
            )
        for _attempt in range(10):
            x = int(rng.integers(0, size - sprite.width + 1))
            y = int(rng.integers(0, size - sprite.height + 1))
            box = (x, y, x + sprite.width, y + sprite.height)
            if all(
                box[2] <= t[0] or box[0] >= t[2] or box[3] <= t[1] or box[1] >= t[3] for t in taken
            ):
                taken.append(box)
                labels.append((kind, place(canvas, sprite, (x, y))))
                break
    return canvas, labels


def museum_photo(
    kind: str, size: tuple[int, int], busy: bool, rng: np.random.Generator
) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """One object roughly centred in a photo of `size`, as collections photograph them."""
    w, h = size
    canvas = background(size, busy, rng)
    sprite = draw_object(kind, int(h * rng.uniform(0.45, 0.75)), rng)
    if sprite.width > w * 0.85:
        scale = w * 0.85 / sprite.width
        sprite = sprite.resize((int(sprite.width * scale), max(8, int(sprite.height * scale))))
    x = int((w - sprite.width) / 2 + rng.uniform(-0.08, 0.08) * w)
    y = int((h - sprite.height) / 2 + rng.uniform(-0.05, 0.08) * h)
    x = min(max(x, 0), w - sprite.width)
    y = min(max(y, 0), h - sprite.height)
    return canvas, place(canvas, sprite, (x, y))
